/*
 * child.h - child processes watched from the event loop.
 *
 * child_run() starts argv (lib/spawn.h: no shell, closed fds, its own
 * process group) and returns at once; its stdout and stderr are read
 * into capped buffers as they come, SIGCHLD reaps it, and a timer kills
 * its whole group at the deadline. When the child has exited and both
 * pipes are closed, fn runs with the result; the struct child is freed
 * after fn returns. The loop never waits for a child.
 */
#ifndef TIDEGATED_CHILD_H
#define TIDEGATED_CHILD_H

#include <stddef.h>

#include "buf.h"

struct event_base;
struct child;

struct child_result {
	int exited;		/* exited normally */
	int code;		/* its exit code */
	int signo;		/* the signal that ended it */
	int timed_out;		/* killed at the deadline */
	int killed;		/* killed by child_kill() */
	long long duration_ms;
	struct buf out, err;
};

typedef void (*child_done_fn)(struct child_result *res, void *arg);

/* Installs the SIGCHLD watcher on base; once per process. */
int child_init(struct event_base *base);
void child_shutdown(void);

/*
 * Starts argv with env (NULL: ours) in dir (NULL: ours). Returns the
 * child, or NULL when it cannot start (logged; fn is not called).
 */
struct child *child_run(const char *const *argv, const char *const *env, const char *dir,
			int timeout_ms, size_t out_max, size_t err_max,
			child_done_fn fn, void *arg);
/*
 * Starts argv like child_run(), but with its stdin a pipe left open and
 * no deadline: a program that loads, then waits for its input. fn runs
 * if it ends before child_feed().
 */
struct child *child_start_waiting(const char *const *argv, const char *const *env,
				  size_t out_max, size_t err_max, child_done_fn fn, void *arg);

#define CHILD_FEED_MAX (16u * 1024)

/*
 * Writes data (at most CHILD_FEED_MAX bytes) to a waiting child's stdin
 * and closes it; from then on the child has timeout_ms to finish, and
 * fn(arg) is what runs when it ends. Returns 0, or -1 when the child has
 * gone or cannot take the input (nothing changes; its first fn still runs).
 */
int child_feed(struct child *c, const void *data, size_t len, int timeout_ms,
	       child_done_fn fn, void *arg);

/*
 * Starts argv like child_start_waiting(), for a child that serves one
 * request after another on its stdin (child_send) and answers on its
 * stdout: on_out(c, out_arg) runs each time new stdout bytes have been
 * read into child_output(c)->out, which the caller consumes (it must not
 * free c from on_out). fn runs once the child has ended.
 */
struct child *child_start_serving(const char *const *argv, const char *const *env,
				  size_t out_max, size_t err_max, child_done_fn fn, void *arg,
				  void (*on_out)(struct child *c, void *arg), void *out_arg);
/* Writes data (at most CHILD_FEED_MAX bytes) to the child's stdin, left open. 0 or -1. */
int child_send(struct child *c, const void *data, size_t len);
/* The buffers stdout and stderr are read into, so far; the caller may consume them. */
struct child_result *child_output(struct child *c);
/* Reads what stderr holds now into child_output(c)->err (what was written before stdout's). */
void child_read_err(struct child *c);
/* Kills the child's group timeout_ms from now (> 0), or cancels that (0). */
void child_set_deadline(struct child *c, int timeout_ms);

/* Kills the child's group and forgets it at once: fn never runs (shutdown). */
void child_discard(struct child *c);

/* Kills the child's group; fn still runs once it is reaped. */
void child_kill(struct child *c);
size_t child_count(void);
/* The child's pid (it leads its own process group). */
int child_pid(const struct child *c);

/* 1 when res says exit code 0 in time. */
int child_ok(const struct child_result *res);

#endif
