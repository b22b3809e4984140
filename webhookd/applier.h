/*
 * applier.h - a warm `tidegate apply --serve` per cluster.
 *
 * Starting `tidegate apply` for each sync costs more than the apply of a
 * small app: exec and dynamic linking, two git children, loading the
 * kubeconfig, a TLS handshake, discovery. An applier keeps one
 * `tidegate apply --serve` child running, which keeps those between
 * jobs, and hands it one job at a time (the arguments of one apply, each
 * ending in NUL, then one more NUL); it answers "tidegate-result CODE
 * LEN\n" and LEN bytes of JSON on stdout. Every job has a deadline: a
 * child that passes it is killed (its whole process group) and the job
 * fails as timed out. A child that dies is started again before the next
 * job; one that ends before answering any job is not (the program does
 * not serve: the caller falls back to a process per apply) until
 * applier_restart(). A busy applier takes no second job: the caller
 * starts a process of its own for it.
 */
#ifndef TIDEGATED_APPLIER_H
#define TIDEGATED_APPLIER_H

#include "child.h"

struct event_base;
struct applier;

/* An applier named name (for logs) running prog; nothing starts yet. */
struct applier *applier_new(struct event_base *base, const char *prog, const char *name);
/* Kills its child at once; a job in flight gets no answer (shutdown). */
void applier_free(struct applier *ap);

/* Starts the child ahead of need, unless it runs, is broken or retired. */
void applier_prepare(struct applier *ap);

/*
 * Hands the job argv (argv[0] the program, argv[1] "apply", then the
 * arguments) to the warm child. Returns the child's pid (it leads its
 * process group) once the job is on its way, or -1 when the applier
 * cannot take it (busy, broken, retired, another program, the child not
 * ready); then fn is never called. Else fn(res, arg) runs once, from the
 * event loop: res->exited and res->code from the answer, res->out the
 * JSON, res->err what the child wrote to stderr during the job; or how
 * the child ended (timed_out, signo) when it did not answer.
 */
int applier_submit(struct applier *ap, const char *const *argv, int timeout_ms,
		   child_done_fn fn, void *arg);

/* Stops the child (now, or once its job is answered) and starts no more. */
void applier_retire(struct applier *ap);
/* Clears retired and broken, and replaces the child (once idle) by one of prog. */
void applier_restart(struct applier *ap, const char *prog);

int applier_busy(const struct applier *ap);
int applier_retired(const struct applier *ap);
/* 1 when it will not serve (its program ended before answering a job). */
int applier_broken(const struct applier *ap);
const char *applier_name(const struct applier *ap);

#endif
