/*
 * tidegated - receives push webhooks and applies the pushed commit.
 * (The server is being built; until then this program only reports its version.)
 */
#include "log.h"

#include <stdio.h>
#include <string.h>

int main(int argc, char **argv)
{
	log_init("tidegated", LOGL_INFO, LOG_FORMAT_AUTO);
	if (argc > 1 && !strcmp(argv[1], "--version")) {
		printf("tidegated %s\n", TIDEGATE_VERSION);
		return 0;
	}
	return error("the webhook server is not built yet");
}
