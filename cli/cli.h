/*
 * cli.h - the `tidegate` command's subcommands.
 *
 * Each cmd_*() takes the arguments after the subcommand name (argv[0] is
 * the subcommand) and returns the process exit status: 0 success, 1 the
 * command's own failure (findings, failed objects), 2 usage or I/O error.
 */
#ifndef TIDEGATE_CLI_H
#define TIDEGATE_CLI_H

struct cli_command {
	const char *name;
	int (*fn)(int argc, char **argv);
	const char *summary;
};

int cmd_apply(int argc, char **argv);
int cmd_diff(int argc, char **argv);
int cmd_install_hooks(int argc, char **argv);
int cmd_lint(int argc, char **argv);
int cmd_schema(int argc, char **argv);
int cmd_version(int argc, char **argv);

#endif
