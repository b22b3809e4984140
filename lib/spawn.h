/*
 * spawn.h - run child processes from argv vectors, never through a shell.
 *
 * A child gets exactly the environment it is given (or the parent's when
 * env is NULL), the working directory asked for, and no file descriptor
 * beyond 0, 1 and 2: every other fd is closed before exec. A program
 * that cannot be started is reported by spawn_start() itself (the exec
 * error travels back over a close-on-exec pipe), not as exit code 127.
 *
 * Two ways to use it:
 *   - spawn_run(): start, feed stdin, capture stdout and stderr into
 *     capped buffers, wait, all under one deadline. A child still running
 *     at the deadline is killed (its whole process group) and reaped.
 *   - spawn_start() / spawn_finish(): a long-lived child with pipes the
 *     caller drives itself (for example `git cat-file --batch`).
 */
#ifndef TIDEGATE_SPAWN_H
#define TIDEGATE_SPAWN_H

#include <stddef.h>
#include <sys/types.h>

#include "buf.h"

enum {
	SPAWN_PIPE_IN = 1 << 0,		/* sp->in is a pipe to the child's stdin */
	SPAWN_PIPE_OUT = 1 << 1,	/* sp->out reads the child's stdout */
	SPAWN_PIPE_ERR = 1 << 2,	/* sp->err reads the child's stderr */
	SPAWN_NULL_IN = 1 << 3,		/* stdin from /dev/null (default: inherit) */
	SPAWN_NULL_OUT = 1 << 4,	/* stdout to /dev/null */
	SPAWN_NULL_ERR = 1 << 5,	/* stderr to /dev/null */
	SPAWN_ERR_TO_OUT = 1 << 6,	/* stderr joins stdout */
	SPAWN_NEW_PGRP = 1 << 7,	/* child leads its own process group */
};

struct spawn {
	/* set by the caller */
	const char *const *argv;	/* argv[0] is searched in PATH unless it has a '/' */
	const char *const *env;		/* complete environment; NULL = the parent's */
	const char *dir;		/* working directory, or NULL */
	unsigned flags;
	/* set by spawn_start() */
	pid_t pid;
	int in, out, err;		/* -1 unless piped */
};
#define SPAWN_INIT { NULL, NULL, NULL, 0, -1, -1, -1, -1 }

/* Starts the child. Returns 0, or -1 (error logged) when it cannot run. */
int spawn_start(struct spawn *sp);
/*
 * Closes the caller's ends of any pipes and waits for the child.
 * Returns its wait status (use WIFEXITED etc.), or -1 on a wait error.
 */
int spawn_finish(struct spawn *sp);
/* Sends sig to the child (to its group with SPAWN_NEW_PGRP). */
void spawn_kill(struct spawn *sp, int sig);

struct spawn_result {
	int exited;		/* 1 when the child exited normally */
	int code;		/* its exit code when exited */
	int signo;		/* the signal that ended it, when not exited */
	int timed_out;		/* 1 when the deadline killed it */
	struct buf out;		/* captured stdout (cap set by the caller) */
	struct buf err;		/* captured stderr (cap set by the caller) */
};
/* Caps for the captured output; output past a cap is read and dropped. */
#define SPAWN_RESULT_INIT(out_max, err_max) \
	{ 0, 0, 0, 0, BUF_INIT(out_max), BUF_INIT(err_max) }

/*
 * Runs sp to completion: writes in[0..inlen) to its stdin (then closes
 * it; no stdin data means /dev/null), captures stdout and stderr into
 * res, and kills it when timeout_ms (> 0) passes. With stdin data it
 * sets SIGPIPE to SIG_IGN for the process (a child may stop reading). Returns 0 when the
 * child ran (look at res for how it ended), -1 when it could not be
 * started or waited for. Release res with spawn_result_release().
 */
int spawn_run(struct spawn *sp, const void *in, size_t inlen, int timeout_ms,
	      struct spawn_result *res);
/* 1 when res says the child exited with code 0 in time. */
int spawn_result_ok(const struct spawn_result *res);
void spawn_result_release(struct spawn_result *res);

/*
 * The program spawn_start() would run for prog: prog itself when it has a
 * '/', else the first executable regular file of that name in env's PATH
 * (NULL env: the parent's). Allocated; NULL when there is none.
 */
char *spawn_find_program(const char *prog, const char *const *env);

/* Milliseconds on the monotonic clock; for deadlines. */
long long monotonic_ms(void);

#endif
