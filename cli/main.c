/*
 * tidegate - the command: lint, apply, diff, schema, install-hooks.
 * Thin: parses the subcommand and hands over to cli/cmd-*.c.
 */
#include "cli.h"
#include "log.h"

#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

/* Keep sorted by name; each line is one subcommand. */
static const struct cli_command commands[] = {
	{ "apply", cmd_apply, "server-side apply manifests to a cluster, prune with an ApplySet" },
	{ "diff", cmd_diff, "show what apply would change (a server-side dry run)" },
	{ "install-hooks", cmd_install_hooks, "install the gate and notifier hooks into server repositories" },
	{ "lint", cmd_lint, "check Kubernetes manifests (schemas, rules, duplicates)" },
	{ "schema", cmd_schema, "make schema directories (pull from a cluster, compact)" },
	{ "version", cmd_version, "print the version" },
};

int cmd_version(int argc, char **argv)
{
	(void)argc;
	(void)argv;
	printf("tidegate %s\n", TIDEGATE_VERSION);
	return 0;
}

static void usage(FILE *f)
{
	size_t i;

	fprintf(f, "usage: tidegate <command> [options] [args]\n\ncommands:\n");
	for (i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
		fprintf(f, "  %-14s %s\n", commands[i].name, commands[i].summary);
	fprintf(f, "\n'tidegate <command> --help' describes a command.\n");
}

int main(int argc, char **argv)
{
	size_t i;

	signal(SIGPIPE, SIG_IGN);
	log_init("tidegate", LOGL_WARN, isatty(2) ? LOG_FORMAT_TEXT : LOG_FORMAT_AUTO);
	if (argc < 2) {
		usage(stderr);
		return 2;
	}
	if (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h") || !strcmp(argv[1], "help")) {
		usage(stdout);
		return 0;
	}
	if (!strcmp(argv[1], "--version"))
		return cmd_version(argc - 1, argv + 1);
	for (i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
		if (!strcmp(argv[1], commands[i].name))
			return commands[i].fn(argc - 1, argv + 1);
	fprintf(stderr, "tidegate: unknown command '%s'\n\n", argv[1]);
	usage(stderr);
	return 2;
}
