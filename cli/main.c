/*
 * tidegate - the command: lint, apply, diff, schema, install-hooks.
 * Thin: parses the subcommand and hands over to cli/cmd-*.c.
 *
 * The commands that talk to clusters (apply, diff, schema) live in a
 * second program, tidegate-kube (cli/kube-main.c), installed beside this
 * one: `tidegate apply ...` execs `tidegate-kube apply ...`. That keeps
 * libcurl, OpenSSL and everything they load out of `tidegate lint`, which
 * starts in a few milliseconds.
 */
#include "cli.h"
#include "log.h"

#include <errno.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define KUBE_PROGRAM "tidegate-kube"

static int run_kube(int argc, char **argv);

/* Keep sorted by name; each line is one subcommand. */
static const struct cli_command commands[] = {
	{ "apply", run_kube, "server-side apply manifests to a cluster, prune with an ApplySet" },
	{ "diff", run_kube, "show what apply would change (a server-side dry run)" },
	{ "install-hooks", cmd_install_hooks, "install the gate and notifier hooks into server repositories" },
	{ "lint", cmd_lint, "check Kubernetes manifests (schemas, rules, duplicates)" },
	{ "schema", run_kube, "make schema directories (pull from a cluster, compact)" },
	{ "version", cmd_version, "print the version" },
};

int cmd_version(int argc, char **argv)
{
	(void)argc;
	(void)argv;
	printf("tidegate %s\n", TIDEGATE_VERSION);
	return 0;
}

/*
 * Runs tidegate-kube from this program's directory (TIDEGATE_KUBE names
 * another one) with the same arguments; returns only when it cannot.
 */
static int run_kube(int argc, char **argv)
{
	const char *env = getenv("TIDEGATE_KUBE");
	char path[PATH_MAX];
	char **args;
	ssize_t n;
	int i;

	if (env && *env) {
		if (snprintf(path, sizeof(path), "%s", env) >= (int)sizeof(path))
			goto toolong;
	} else {
		char *slash;

		n = readlink("/proc/self/exe", path, sizeof(path) - 1);
		if (n <= 0) {
			fprintf(stderr, "tidegate: cannot find my own program: %s\n", strerror(errno));
			return 2;
		}
		path[n] = '\0';
		slash = strrchr(path, '/');
		if (!slash || (size_t)(slash - path) + sizeof("/" KUBE_PROGRAM) > sizeof(path))
			goto toolong;
		memcpy(slash + 1, KUBE_PROGRAM, sizeof(KUBE_PROGRAM));
	}
	args = calloc((size_t)argc + 2, sizeof(*args));
	if (!args) {
		fprintf(stderr, "tidegate: out of memory\n");
		return 2;
	}
	args[0] = path;
	for (i = 0; i < argc; i++)
		args[i + 1] = argv[i];
	fflush(NULL);
	execv(path, args);
	fprintf(stderr, "tidegate: cannot run '%s' for '%s': %s\n", path, argv[0], strerror(errno));
	free(args);
	return 2;
toolong:
	fprintf(stderr, "tidegate: the path of %s is too long\n", KUBE_PROGRAM);
	return 2;
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
