/*
 * tidegate-pre-receive - git server hook. Fails closed until the gate is built:
 * a hook that cannot check a push refuses it.
 */
#include "log.h"

#include <stdio.h>
#include <string.h>

int main(int argc, char **argv)
{
	log_init("tidegate-pre-receive", LOGL_INFO, LOG_FORMAT_TEXT);
	if (argc > 1 && !strcmp(argv[1], "--version")) {
		printf("tidegate-pre-receive %s\n", TIDEGATE_VERSION);
		return 0;
	}
	return error("tidegate-pre-receive is not built yet") ? 1 : 0;
}
