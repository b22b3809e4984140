/*
 * sync.h - applying a pushed commit, per app: one sync at a time per app,
 * apps in parallel, the newest commit wins.
 *
 * A sync of app A at commit C, every step a child process watched from
 * the event loop (child.h), every step with a deadline:
 *   0. when the app's repo is a repository on this host (an absolute path
 *      or file:// URL) that has C (a loose object, else `git cat-file -e`),
 *      the apply reads C from it in place and steps 1-2 are skipped;
 *   1. `git init --bare` state_dir/mirrors/<sha256 of the repo key>.git, once;
 *   2. `git fetch --no-tags REPO +C:refs/tidegate/apps/A` from the app's
 *      configured repo (never from a URL in a payload); if the server will
 *      not give a commit by id, fetch the pushed ref and check that C came
 *      with it; retry a few times, with backoff, when C is not there yet;
 *   3. `tidegate apply --git-dir REPO-OR-MIRROR --rev C --applyset A --force-conflicts
 *      --format json --kubeconfig F [--context X] [-n NS] [--prune] PATH`;
 *   4. its JSON result -> state_dir/apps/A.json, a line in state_dir/audit.log,
 *      the metrics, the log.
 * Fetch credentials never reach argv or the log: an https token file
 * becomes an `http.extraHeader` passed through GIT_CONFIG_COUNT/KEY/VALUE
 * in the child's environment; an ssh key becomes GIT_SSH_COMMAND.
 *
 * A job submitted while its app is busy waits; a newer one replaces it
 * (the replaced event's journal reference is dropped). Each job holds one
 * journal reference on its event until its sync ends.
 *
 * A failed sync is tried again (limits.apply_retries times, after
 * limits.apply_retry_delay, doubling up to 10 minutes; counted in
 * tidegated_sync_retries_total) unless a newer push replaces it or the
 * commit has lint errors; a retry keeps its journal reference while it
 * waits, so a restart tries it at once.
 *
 * Step 3 goes to the warm applier of the app's cluster (applier.h: a
 * long-lived `tidegate apply --serve` that keeps its connection,
 * discovery and what it applied between syncs), one job at a time, with
 * the sync's deadline. When it is busy or the program does not serve, a
 * `tidegate apply --args-from-stdin` started ahead of need (waiting for
 * its arguments) takes the job, else a process started for it.
 */
#ifndef TIDEGATED_SYNC_H
#define TIDEGATED_SYNC_H

#include <stddef.h>

#include "config.h"

struct event_base;
struct journal;
struct metrics;
struct status_reporter;
struct syncer;

struct sync_job {
	unsigned long long seq;		/* the journal event */
	const char *ref;
	const char *commit;
	const char *delivery;		/* may be NULL */
	const char *provider;
	const char *pusher;		/* may be NULL */
	const char *repo_url;		/* as the payload named it, for the audit log */
};

struct syncer *syncer_new(struct event_base *base, const struct config *cfg,
			  struct journal *j, struct metrics *m);
void syncer_free(struct syncer *s);
/* Points the apps at a new configuration (after SIGHUP); running syncs finish as they began. */
void syncer_set_config(struct syncer *s, const struct config *cfg);

/* Commit statuses for apps that configure them go through r (may be NULL). */
void syncer_set_status(struct syncer *s, struct status_reporter *r);

/* Queues a sync of app (copied); takes a journal reference on job->seq. */
int syncer_submit(struct syncer *s, const char *app, const struct sync_job *job);

/* Starts no more syncs; calls done(arg) once the running ones have ended. */
void syncer_drain(struct syncer *s, void (*done)(void *arg), void *arg);

size_t syncer_running(const struct syncer *s);
size_t syncer_queue_depth(const struct syncer *s);

#endif
