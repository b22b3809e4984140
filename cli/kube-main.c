/*
 * tidegate-kube - the `tidegate` commands that talk to clusters: apply,
 * diff, schema. `tidegate apply ...` execs this program with the same
 * arguments (cli/main.c); it can also be run directly. Kept apart so
 * that the lint command never loads libcurl and OpenSSL.
 */
#include "cli.h"
#include "log.h"

#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

static const struct cli_command commands[] = {
	{ "apply", cmd_apply, NULL },
	{ "diff", cmd_diff, NULL },
	{ "schema", cmd_schema, NULL },
};

int main(int argc, char **argv)
{
	size_t i;

	signal(SIGPIPE, SIG_IGN);
	log_init("tidegate", LOGL_WARN, isatty(2) ? LOG_FORMAT_TEXT : LOG_FORMAT_AUTO);
	if (argc >= 2)
		for (i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
			if (!strcmp(argv[1], commands[i].name))
				return commands[i].fn(argc - 1, argv + 1);
	fprintf(stderr, "usage: tidegate-kube apply|diff|schema [options] [args]\n"
		"(the cluster commands of tidegate; see 'tidegate --help')\n");
	return 2;
}
