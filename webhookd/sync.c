#include "sync.h"
#include "applier.h"
#include "buf.h"
#include "child.h"
#include "hmac.h"
#include "journal.h"
#include "log.h"
#include "metrics.h"
#include "spawn.h"
#include "status.h"
#include "xalloc.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#include <cjson/cJSON.h>
#include <event2/event.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>

extern char **environ;

#define OUT_MAX (8u * 1024 * 1024)
#define ERR_MAX (64u * 1024)

enum step {
	STEP_IDLE,
	STEP_LOCAL,
	STEP_INIT,
	STEP_FETCH,
	STEP_FETCH_REF,
	STEP_CHECK,
	STEP_APPLY,
};

struct job {
	unsigned long long seq;
	char *ref, *commit, *delivery, *provider, *pusher, *repo_url;
	int retries;			/* times this job was tried again after failing */
};

struct app_rt {
	struct syncer *s;
	char *name;
	const struct app_conf *conf;	/* NULL once removed from the configuration */
	struct job *pending, *current;
	enum step step;
	int attempt;
	long long started_ms;
	char *mirror;
	char *local;			/* the app's repository when it is on this host, else NULL */
	const char *gitdir;		/* where the apply reads the commit: local or mirror */
	char **env;			/* for git children; may hold a token */
	struct event *retry_ev;
	struct job *later;		/* a failed job waiting to be tried again */
	struct event *later_ev;
	struct app_rt *next;
};

struct syncer {
	const struct config *cfg;
	struct journal *journal;
	struct metrics *metrics;
	struct event_base *base;
	struct app_rt *apps;
	size_t running;
	int draining;
	void (*drained)(void *arg);
	void *drained_arg;
	int audit_fd;
	struct status_reporter *status;
	struct child *spare;		/* a prepared apply waiting for its arguments */
	char *spare_prog;		/* the program it runs */
	int spare_broken;		/* one ended unused: make no more until a reload */
	struct applier **warm;		/* one warm applier per cluster (applier.h) */
	size_t nwarm, warm_alloc;
};

static const char *const step_names[] = {
	"idle", "local check", "init", "fetch", "fetch ref", "check", "apply",
};

static void step_run(struct app_rt *a);
static void start_next(struct app_rt *a);
static void spare_start(struct syncer *s);
static void spare_stop(struct syncer *s);
static void start_mirror(struct app_rt *a);
static void stop_orphan(const struct syncer *s, const char *app);
static void warm_start(struct syncer *s);

/* Every warm applier ends once its job, if any, is answered. */
static void warm_retire(struct syncer *s)
{
	size_t i;

	for (i = 0; i < s->nwarm; i++)
		applier_retire(s->warm[i]);
}

static void job_free(struct job *j)
{
	if (!j)
		return;
	free(j->ref);
	free(j->commit);
	free(j->delivery);
	free(j->provider);
	free(j->pusher);
	free(j->repo_url);
	free(j);
}

static char *dup_or_null(const char *s)
{
	return s ? xstrdup(s) : NULL;
}

static void env_free(char **env)
{
	size_t i;

	if (!env)
		return;
	for (i = 0; env[i]; i++) {
		OPENSSL_cleanse(env[i], strlen(env[i]));
		free(env[i]);
	}
	free(env);
}

static struct app_rt *find_app(struct syncer *s, const char *name)
{
	struct app_rt *a;

	for (a = s->apps; a; a = a->next)
		if (!strcmp(a->name, name))
			return a;
	return NULL;
}

struct syncer *syncer_new(struct event_base *base, const struct config *cfg,
			  struct journal *j, struct metrics *m)
{
	struct syncer *s = xcalloc(1, sizeof(*s));
	char *audit = xstrfmt("%s/audit.log", cfg->state_dir);

	s->base = base;
	s->journal = j;
	s->metrics = m;
	s->audit_fd = open(audit, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0640);
	if (s->audit_fd < 0)
		log_warn("cannot open audit log '%s'", audit);
	free(audit);
	syncer_set_config(s, cfg);
	{
		size_t i;

		for (i = 0; i < cfg->napps; i++)
			stop_orphan(s, cfg->apps[i].name);
	}
	spare_start(s);
	return s;
}

void syncer_set_config(struct syncer *s, const struct config *cfg)
{
	struct app_rt *a;
	size_t i;

	s->cfg = cfg;
	s->spare_broken = 0;
	if (s->spare && strcmp(s->spare_prog, cfg->tidegate))
		spare_stop(s);
	/* the warm appliers start again: the program, kubeconfigs or clusters may have changed */
	warm_retire(s);
	for (a = s->apps; a; a = a->next)
		a->conf = NULL;
	for (i = 0; i < cfg->napps; i++) {
		a = find_app(s, cfg->apps[i].name);
		if (!a) {
			a = xcalloc(1, sizeof(*a));
			a->s = s;
			a->name = xstrdup(cfg->apps[i].name);
			a->next = s->apps;
			s->apps = a;
		}
		a->conf = &cfg->apps[i];
	}
	warm_start(s);
}

void syncer_free(struct syncer *s)
{
	struct app_rt *a, *next;

	if (!s)
		return;
	spare_stop(s);
	{
		size_t i;

		for (i = 0; i < s->nwarm; i++)
			applier_free(s->warm[i]);
		free(s->warm);
	}
	for (a = s->apps; a; a = next) {
		next = a->next;
		job_free(a->pending);
		job_free(a->current);
		job_free(a->later);	/* its journal event stays: replayed at the next start */
		if (a->retry_ev)
			event_free(a->retry_ev);
		if (a->later_ev)
			event_free(a->later_ev);
		env_free(a->env);
		free(a->mirror);
		free(a->local);
		free(a->name);
		free(a);
	}
	if (s->audit_fd >= 0)
		close(s->audit_fd);
	free(s->spare_prog);
	free(s);
}

void syncer_set_status(struct syncer *s, struct status_reporter *r)
{
	s->status = r;
}

size_t syncer_running(const struct syncer *s)
{
	return s->running;
}

size_t syncer_queue_depth(const struct syncer *s)
{
	const struct app_rt *a;
	size_t n = 0;

	for (a = s->apps; a; a = a->next)
		if (a->pending || a->current || a->later)
			n++;
	return n;
}

int syncer_submit(struct syncer *s, const char *app, const struct sync_job *job)
{
	struct app_rt *a = find_app(s, app);
	struct job *j;

	if (!a || !a->conf)
		return error("no app '%s' in the configuration", app);
	j = xcalloc(1, sizeof(*j));
	j->seq = job->seq;
	j->ref = xstrdup(job->ref);
	j->commit = xstrdup(job->commit);
	j->delivery = dup_or_null(job->delivery);
	j->provider = xstrdup(job->provider);
	j->pusher = dup_or_null(job->pusher);
	j->repo_url = dup_or_null(job->repo_url);
	journal_ref(s->journal, j->seq);
	if (a->later) {
		log_fields(LOGL_INFO, "newer push replaces a failed sync waiting to be tried again",
			   "app", a->name, "replaced", a->later->commit, "commit", j->commit, NULL);
		evtimer_del(a->later_ev);
		journal_unref(s->journal, a->later->seq);
		job_free(a->later);
		a->later = NULL;
	}
	if (a->pending) {
		log_fields(LOGL_INFO, "newer push replaces a waiting one", "app", a->name,
			   "replaced", a->pending->commit, "commit", j->commit, NULL);
		journal_unref(s->journal, a->pending->seq);
		job_free(a->pending);
	}
	a->pending = j;
	if (!a->current && !s->draining)
		start_next(a);
	return 0;
}

void syncer_drain(struct syncer *s, void (*done)(void *arg), void *arg)
{
	s->draining = 1;
	spare_stop(s);
	warm_retire(s);
	{
		struct app_rt *a;

		/* retries wait for the next start: their events stay in the journal */
		for (a = s->apps; a; a = a->next)
			if (a->later_ev)
				evtimer_del(a->later_ev);
	}
	s->drained = done;
	s->drained_arg = arg;
	if (!s->running && done)
		done(arg);
}

/* ------------------------------------------------------------ results -- */

static void iso_time(char *out, size_t len)
{
	struct timeval tv;
	struct tm tm;

	gettimeofday(&tv, NULL);
	gmtime_r(&tv.tv_sec, &tm);
	strftime(out, len, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

static void add_field(struct buf *b, const char *key, const char *val, int first)
{
	if (!first)
		buf_addch(b, ',');
	buf_add_json_str(b, key);
	buf_addch(b, ':');
	if (val)
		buf_add_json_str(b, val);
	else
		buf_addstr(b, "null");
}

struct outcome {
	int ok;
	int final;		/* trying again cannot help (the commit does not lint, or
				 * it was applied and a workload is not ready) */
	const char *message;
	long long counts[5];	/* created, configured, unchanged, pruned, failed */
	int have_counts;
};

static const char *const count_names[5] = {
	"created", "configured", "unchanged", "pruned", "failed",
};

static void write_state(struct app_rt *a, const struct outcome *o, long long ms)
{
	const struct job *j = a->current;
	struct buf b = BUF_INIT(BUF_NOCAP);
	char when[32], *dir, *path, *tmp;
	int fd, i;

	iso_time(when, sizeof(when));
	buf_addch(&b, '{');
	add_field(&b, "app", a->name, 1);
	add_field(&b, "commit", j->commit, 0);
	add_field(&b, "ref", j->ref, 0);
	add_field(&b, "result", o->ok ? "success" : "failed", 0);
	add_field(&b, "message", o->message, 0);
	add_field(&b, "time", when, 0);
	add_field(&b, "delivery", j->delivery, 0);
	add_field(&b, "provider", j->provider, 0);
	add_field(&b, "pusher", j->pusher, 0);
	add_field(&b, "cluster", a->conf ? a->conf->cluster->name : NULL, 0);
	buf_addf(&b, ",\"duration_ms\":%lld,\"counts\":{", ms);
	for (i = 0; i < 5; i++)
		buf_addf(&b, "%s\"%s\":%lld", i ? "," : "", count_names[i], o->counts[i]);
	buf_addstr(&b, "}}\n");

	/* The audit log gets the same record, one line per sync. */
	if (a->s->audit_fd >= 0) {
		struct buf line = BUF_INIT(BUF_NOCAP);

		buf_add(&line, b.data, b.len - 2);
		buf_addstr(&line, ",\"repo\":");
		buf_add_json_str(&line, j->repo_url ? j->repo_url : "");
		buf_addstr(&line, "}\n");
		if (write(a->s->audit_fd, line.data, line.len) < 0)
			log_warn("cannot write the audit log");
		buf_release(&line);
	}

	dir = xstrfmt("%s/apps", a->s->cfg->state_dir);
	mkdir(dir, 0750);
	path = xstrfmt("%s/%s.json", dir, a->name);
	tmp = xstrfmt("%s.tmp", path);
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0640);
	if (fd < 0 || write(fd, b.data, b.len) != (ssize_t)b.len || rename(tmp, path) < 0)
		log_warn("cannot write app state '%s'", path);
	if (fd >= 0)
		close(fd);
	free(dir);
	free(path);
	free(tmp);
	buf_release(&b);
}

static void later_cb(evutil_socket_t fd, short what, void *arg)
{
	struct app_rt *a = arg;
	struct syncer *s = a->s;
	struct job *j = a->later;
	char n[16];

	(void)fd;
	(void)what;
	a->later = NULL;
	if (!j)
		return;
	if (a->pending || a->current || !a->conf || s->draining) {
		journal_unref(s->journal, j->seq);
		job_free(j);
		return;
	}
	j->retries++;
	snprintf(n, sizeof(n), "%d", j->retries);
	log_fields(LOGL_INFO, "trying a failed sync again", "app", a->name, "commit", j->commit,
		   "retry", n, NULL);
	metrics_sync_retry(s->metrics, a->name);
	a->pending = j;
	start_next(a);
}

/*
 * A failed sync is tried again after apply_retry_delay, doubling each
 * time up to 10 minutes, at most apply_retries times, unless a newer
 * push comes first (it replaces the retry).
 */
static void try_later(struct app_rt *a)
{
	const struct config *cfg = a->s->cfg;
	long long ms = cfg->apply_retry_ms;
	struct timeval tv;
	char secs[32], n[32];
	int i;

	for (i = 0; i < a->current->retries && ms < 600000; i++)
		ms *= 2;
	if (ms > 600000)
		ms = 600000;
	tv.tv_sec = (time_t)(ms / 1000);
	tv.tv_usec = (suseconds_t)(ms % 1000) * 1000;
	snprintf(secs, sizeof(secs), "%lld", ms / 1000);
	snprintf(n, sizeof(n), "%d of %d", a->current->retries + 1, cfg->apply_retries);
	log_fields(LOGL_INFO, "sync failed; trying again later", "app", a->name, "commit",
		   a->current->commit, "in_seconds", secs, "retry", n, NULL);
	a->later = a->current;
	if (!a->later_ev)
		a->later_ev = evtimer_new(a->s->base, later_cb, a);
	evtimer_add(a->later_ev, &tv);
}

static void finish(struct app_rt *a, const struct outcome *o)
{
	struct syncer *s = a->s;
	long long ms = monotonic_ms() - a->started_ms;
	char dur[32], counts[160];

	snprintf(dur, sizeof(dur), "%lld", ms);
	snprintf(counts, sizeof(counts), "created=%lld configured=%lld unchanged=%lld "
		 "pruned=%lld failed=%lld", o->counts[0], o->counts[1], o->counts[2],
		 o->counts[3], o->counts[4]);
	log_fields(o->ok ? LOGL_INFO : LOGL_WARN, o->ok ? "sync done" : "sync failed",
		   "app", a->name, "commit", a->current->commit, "ref", a->current->ref,
		   "delivery", a->current->delivery ? a->current->delivery : "",
		   "counts", counts, "duration_ms", dur,
		   "message", o->message ? o->message : "", NULL);
	write_state(a, o, ms);
	if (s->status && a->conf && a->conf->status) {
		char desc[300];

		if (o->ok)
			snprintf(desc, sizeof(desc), "applied to %s: %s", a->conf->cluster->name, counts);
		else
			snprintf(desc, sizeof(desc), "%s", o->message ? o->message : "failed");
		status_post(s->status, a->conf->status, a->name, a->current->commit,
			    o->ok ? STATE_SUCCESS : STATE_FAILURE, desc);
	}
	metrics_sync(s->metrics, a->name, o->ok ? "success" : "failed", (double)ms / 1000.0);
	if (!o->ok && !o->final && !a->pending && !s->draining && a->conf &&
	    a->current->retries < s->cfg->apply_retries) {
		try_later(a);	/* keeps the job and its journal reference */
	} else {
		journal_unref(s->journal, a->current->seq);
		job_free(a->current);
	}
	a->current = NULL;
	a->step = STEP_IDLE;
	env_free(a->env);
	a->env = NULL;
	s->running--;
	if (s->draining) {
		if (!s->running && s->drained)
			s->drained(s->drained_arg);
		return;
	}
	if (a->pending)
		start_next(a);
	warm_start(s);
	spare_start(s);
}

static void fail(struct app_rt *a, const char *msg)
{
	struct outcome o;

	memset(&o, 0, sizeof(o));
	o.message = msg;
	finish(a, &o);
}

/* The last non-empty line of a child's stderr, for messages. */
static void last_line(const struct buf *err, char *out, size_t len)
{
	const char *end = err->data + err->len, *start;

	while (end > err->data && (end[-1] == '\n' || end[-1] == '\r' || end[-1] == ' '))
		end--;
	start = end;
	while (start > err->data && start[-1] != '\n')
		start--;
	snprintf(out, len, "%.*s", (int)(end - start), start);
}

/* ---------------------------------------------------------- the steps -- */

/*
 * One mirror per app and repository: apps that follow one repository sync
 * in parallel, and two git processes must never init or fetch into the
 * same directory at once.
 */
static char *mirror_path(const struct config *cfg, const char *repo_key, const char *app)
{
	unsigned char md[32];
	unsigned int mdlen = 0;
	char hex[65];
	char *key = xstrfmt("%s\n%s", repo_key, app);

	EVP_Digest(key, strlen(key), md, &mdlen, EVP_sha256(), NULL);
	free(key);
	hex_encode(md, 16, hex);
	return xstrfmt("%s/mirrors/%s.git", cfg->state_dir, hex);
}

static int env_skip(const char *e)
{
	static const char *const drop[] = {
		"GIT_CONFIG_COUNT=", "GIT_CONFIG_KEY_", "GIT_CONFIG_VALUE_", "GIT_DIR=",
		"GIT_WORK_TREE=", "GIT_SSH_COMMAND=", "GIT_TERMINAL_PROMPT=", "GIT_INDEX_FILE=",
		"GIT_OBJECT_DIRECTORY=", "GIT_ALTERNATE_OBJECT_DIRECTORIES=", "GIT_QUARANTINE_PATH=",
		NULL,
	};
	size_t i;

	for (i = 0; drop[i]; i++)
		if (!strncmp(e, drop[i], strlen(drop[i])))
			return 1;
	return 0;
}

/*
 * The environment for git children: ours without git's per-repository
 * variables, never a terminal prompt, and the fetch credentials.
 */
static int build_git_env(struct app_rt *a)
{
	const struct app_conf *c = a->conf;
	size_t n = 0, i, alloc = 0;
	char **env = NULL;

	for (i = 0; environ[i]; i++) {
		if (env_skip(environ[i]))
			continue;
		XGROW(env, n + 1, alloc);
		env[n++] = xstrdup(environ[i]);
	}
	XGROW(env, n + 8, alloc);
	env[n++] = xstrdup("GIT_TERMINAL_PROMPT=0");
	if (c->token_file) {
		struct secret tok = SECRET_INIT;
		struct buf cred = BUF_INIT(SECRET_MAX_SIZE + 256);
		char *b64;

		if (secret_read_file(&tok, c->token_file) < 0) {
			env[n] = NULL;
			env_free(env);
			return -1;
		}
		buf_addstr(&cred, c->token_user);
		buf_addch(&cred, ':');
		buf_add(&cred, tok.data, tok.len);
		b64 = xmalloc(4 * ((cred.len + 2) / 3) + 1);
		base64_encode((const unsigned char *)cred.data, cred.len, b64);
		env[n++] = xstrdup("GIT_CONFIG_COUNT=1");
		env[n++] = xstrdup("GIT_CONFIG_KEY_0=http.extraHeader");
		env[n++] = xstrfmt("GIT_CONFIG_VALUE_0=Authorization: Basic %s", b64);
		OPENSSL_cleanse(b64, strlen(b64));
		OPENSSL_cleanse(cred.data, cred.len);
		free(b64);
		buf_release(&cred);
		secret_release(&tok);
	}
	if (c->ssh_key)
		env[n++] = xstrfmt("GIT_SSH_COMMAND=ssh -i '%s' -o IdentitiesOnly=yes "
				   "-o BatchMode=yes", c->ssh_key);
	env[n] = NULL;
	a->env = env;
	return 0;
}

/*
 * The app's repository as a directory on this host: an absolute path or
 * a file:// URL naming a bare repository or a work tree's .git. A push
 * there has its commit there already, so a sync reads it in place and
 * saves a fetch (upload-pack, pack-objects, index-pack, a connectivity
 * check) into the mirror. NULL for anything else, which is fetched.
 */
static char *local_repo(const char *repo)
{
	static const char *const layouts[] = { "", "/.git" };
	struct stat st;
	size_t i;

	if (!strncmp(repo, "file://", 7))
		repo += 7;
	if (repo[0] != '/' || strchr(repo, '%'))
		return NULL;
	for (i = 0; i < 2; i++) {
		char *head = xstrfmt("%s%s/HEAD", repo, layouts[i]);
		int ok = stat(head, &st) == 0 && S_ISREG(st.st_mode);

		free(head);
		if (ok)
			return xstrfmt("%s%s", repo, layouts[i]);
	}
	return NULL;
}

/*
 * 1 when gitdir has commit as a loose object: what a push of fewer than
 * receive.unpackLimit objects leaves. Else `git cat-file -e` decides
 * (packs, alternates).
 */
static int has_loose_object(const char *gitdir, const char *commit)
{
	size_t n = strlen(commit), i;
	struct stat st;
	char *path;
	int ok;

	if (n != 40 && n != 64)
		return 0;
	for (i = 0; i < n; i++)
		if (!((commit[i] >= '0' && commit[i] <= '9') || (commit[i] >= 'a' && commit[i] <= 'f')))
			return 0;
	path = xstrfmt("%s/objects/%.2s/%s", gitdir, commit, commit + 2);
	ok = stat(path, &st) == 0 && S_ISREG(st.st_mode);
	free(path);
	return ok;
}

static void on_child(struct child_result *res, void *arg);

static char *child_file(const struct syncer *s, const char *app)
{
	return xstrfmt("%s/apps/%s.child", s->cfg->state_dir, app);
}

/* When process pid started (field 22 of /proc/PID/stat), or 0 when it is gone. */
static unsigned long long proc_starttime(long pid)
{
	char *path = xstrfmt("/proc/%ld/stat", pid), *p;
	struct buf b = BUF_INIT(4096);
	unsigned long long t = 0;
	int field;

	if (buf_read_file(&b, path) == 0 && (p = strrchr(b.data, ')'))) {
		/* after "pid (comm)" comes field 3, the state */
		for (field = 2; *p && field < 22; p++)
			if (*p == ' ')
				field++;
		if (field == 22)
			t = strtoull(p, NULL, 10);
	}
	buf_release(&b);
	free(path);
	return t;
}

/*
 * Every child of a sync (git or the apply) leads its own process group;
 * while it runs, state_dir/apps/A.child holds "PID STARTTIME STEP". After
 * a kill -9 of tidegated, the next start kills the group of a child that
 * outlived it (the same pid and start time: not a process that reused
 * the pid) before syncing the app again.
 */
static void record_child(struct app_rt *a, int pid)
{
	char *path = child_file(a->s, a->name), *dir = xstrfmt("%s/apps", a->s->cfg->state_dir);
	char line[128];
	int fd, n;

	mkdir(dir, 0750);
	n = snprintf(line, sizeof(line), "%d %llu %s\n", pid, proc_starttime(pid),
		     a->step == STEP_APPLY ? "apply" : "git");
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0640);
	if (fd < 0 || write(fd, line, (size_t)n) != n)
		log_warn("cannot write '%s'", path);
	if (fd >= 0)
		close(fd);
	free(path);
	free(dir);
}

static void forget_child(struct app_rt *a)
{
	char *path = child_file(a->s, a->name);

	unlink(path);
	free(path);
}

/* Stops a child of app's sync left running by a previous tidegated. */
static void stop_orphan(const struct syncer *s, const char *app)
{
	char *path = child_file(s, app), *end;
	struct buf b = BUF_INIT(128);
	unsigned long long start;
	long pid;

	if (buf_read_file(&b, path) < 0 || (pid = strtol(b.data, &end, 10)) <= 1)
		goto out;
	start = strtoull(end, &end, 10);
	if (start && proc_starttime(pid) == start) {
		int apply = !strcmp(end, " apply\n");

		log_fields(LOGL_WARN, apply ? "stopping an apply left by a previous run"
				  : "stopping a git child left by a previous run", "app", app, NULL);
		kill(-(pid_t)pid, SIGKILL);
	}
	unlink(path);
out:
	buf_release(&b);
	free(path);
}

/* ------------------------------------------------- the prepared apply -- */

/*
 * Starting `tidegate apply` costs tens of milliseconds before it does
 * anything (exec, then loading and linking libcurl, OpenSSL and theirs).
 * So one is started ahead, `tidegate apply --args-from-stdin`, and waits;
 * the next sync to apply hands it its arguments on stdin (child_feed) and
 * a new one is prepared once that sync has finished. Each apply still
 * runs in a fresh process of its own.
 */
static void spare_gone(struct child_result *res, void *arg)
{
	struct syncer *s = arg;
	char line[300];

	s->spare = NULL;
	if (!res->exited) {
		log_fields(LOGL_DEBUG, "the prepared apply was killed", NULL);
		return;
	}
	last_line(&res->err, line, sizeof(line));
	log_fields(LOGL_WARN, "the prepared apply ended before it had work; applies start "
		   "from scratch until the configuration is reloaded", "program", s->spare_prog,
		   "error", line, NULL);
	s->spare_broken = 1;
}

static void spare_start(struct syncer *s)
{
	const char *argv[] = { s->cfg->tidegate, "apply", "--args-from-stdin", NULL };

	if (s->spare || s->spare_broken || s->draining || !s->cfg->napps)
		return;
	{
		size_t i;
		int all_warm = s->nwarm > 0;

		/* while every cluster has a warm applier, a spare would only idle */
		for (i = 0; i < s->nwarm; i++)
			if (applier_broken(s->warm[i]))
				all_warm = 0;
		if (all_warm)
			return;
	}
	s->spare = child_start_waiting(argv, NULL, OUT_MAX, ERR_MAX, spare_gone, s);
	if (!s->spare) {
		s->spare_broken = 1;
		return;
	}
	free(s->spare_prog);
	s->spare_prog = xstrdup(s->cfg->tidegate);
}

static void spare_stop(struct syncer *s)
{
	if (s->spare)
		child_discard(s->spare);
	s->spare = NULL;
}

/*
 * Hands argv (argv[0] is the program) to the prepared apply. Returns the
 * child, or NULL when there is none for this program or it cannot take
 * them (the caller starts one).
 */
static struct child *spare_take(struct app_rt *a, const char *const *argv, int timeout_ms)
{
	struct syncer *s = a->s;
	struct buf b = BUF_INIT(CHILD_FEED_MAX);
	struct child *c = s->spare;
	size_t i;

	if (!c || strcmp(s->spare_prog, argv[0]))
		return NULL;
	for (i = 2; argv[i]; i++)	/* after the program and "apply" */
		buf_add(&b, argv[i], strlen(argv[i]) + 1);
	if (b.toobig || child_feed(c, b.data, b.len, timeout_ms, on_child, a) < 0) {
		buf_release(&b);
		return NULL;
	}
	buf_release(&b);
	s->spare = NULL;
	return c;
}

/* ------------------------------------------------ the warm appliers -- */

/* The warm applier of cluster name, made when missing (never during a drain). */
static struct applier *warm_for(struct syncer *s, const char *name)
{
	struct applier *ap;
	size_t i;

	for (i = 0; i < s->nwarm; i++) {
		if (strcmp(applier_name(s->warm[i]), name))
			continue;
		return s->warm[i];
	}
	if (s->draining)
		return NULL;
	ap = applier_new(s->base, s->cfg->tidegate, name);
	XGROW(s->warm, s->nwarm + 1, s->warm_alloc);
	s->warm[s->nwarm++] = ap;
	return ap;
}

/*
 * Every cluster an app syncs to has a warm applier running (after a
 * reload, of the configured program); the ones a reload retired start
 * again once their job is answered.
 */
static void warm_start(struct syncer *s)
{
	size_t i;

	if (s->draining)
		return;
	for (i = 0; i < s->cfg->napps; i++) {
		struct applier *ap = warm_for(s, s->cfg->apps[i].cluster->name);

		if (ap && applier_retired(ap))
			applier_restart(ap, s->cfg->tidegate);
		else if (ap)
			applier_prepare(ap);
	}
}

static void run(struct app_rt *a, const char *const *argv, int timeout_ms, int git)
{
	struct child *c = NULL;

	if (a->step == STEP_APPLY && a->conf) {
		struct applier *ap = warm_for(a->s, a->conf->cluster->name);
		int pid = ap ? applier_submit(ap, argv, timeout_ms, on_child, a) : -1;

		if (pid > 0) {
			record_child(a, pid);
			return;
		}
	}
	if (a->step == STEP_APPLY)
		c = spare_take(a, argv, timeout_ms);
	if (!c)
		c = child_run(argv, git ? (const char *const *)a->env : NULL, NULL, timeout_ms,
			      OUT_MAX, ERR_MAX, on_child, a);
	if (!c) {
		char msg[256];

		snprintf(msg, sizeof(msg), "cannot run '%s'", argv[0]);
		fail(a, msg);
		return;
	}
	record_child(a, child_pid(c));
}

static void retry_cb(evutil_socket_t fd, short what, void *arg)
{
	struct app_rt *a = arg;

	(void)fd;
	(void)what;
	a->step = STEP_FETCH;
	step_run(a);
}

static void step_run(struct app_rt *a)
{
	const struct config *cfg = a->s->cfg;
	const struct app_conf *c = a->conf;
	char gitdir[4200], refspec[1200];

	snprintf(gitdir, sizeof(gitdir), "--git-dir=%s", a->mirror);
	switch (a->step) {
	case STEP_LOCAL: {
		char obj[200], localdir[4200];
		const char *argv[] = { cfg->git, localdir, "cat-file", "-e", obj, NULL };

		snprintf(localdir, sizeof(localdir), "--git-dir=%s", a->local);
		snprintf(obj, sizeof(obj), "%s^{commit}", a->current->commit);
		run(a, argv, 30000, 1);
		break;
	}
	case STEP_INIT: {
		const char *argv[] = { cfg->git, "init", "--bare", "-q", a->mirror, NULL };

		run(a, argv, cfg->fetch_timeout_ms, 1);
		break;
	}
	case STEP_FETCH: {
		const char *argv[] = {
			cfg->git, gitdir, "fetch", "--no-tags", "-q", "--no-write-fetch-head",
			c->repo, refspec, NULL,
		};

		snprintf(refspec, sizeof(refspec), "+%s:refs/tidegate/apps/%s",
			 a->current->commit, a->name);
		run(a, argv, cfg->fetch_timeout_ms, 1);
		break;
	}
	case STEP_FETCH_REF: {
		const char *argv[] = {
			cfg->git, gitdir, "fetch", "--no-tags", "-q", "--no-write-fetch-head",
			c->repo, refspec, NULL,
		};

		snprintf(refspec, sizeof(refspec), "+%s:refs/tidegate/pushed/%s",
			 a->current->ref, a->name);
		run(a, argv, cfg->fetch_timeout_ms, 1);
		break;
	}
	case STEP_CHECK: {
		char obj[200];
		const char *argv[] = { cfg->git, gitdir, "cat-file", "-e", obj, NULL };

		snprintf(obj, sizeof(obj), "%s^{commit}", a->current->commit);
		run(a, argv, 30000, 1);
		break;
	}
	case STEP_APPLY: {
		const char *argv[32];
		char wait_s[16];
		size_t n = 0;

		argv[n++] = cfg->tidegate;
		argv[n++] = "apply";
		argv[n++] = "--git-dir";
		argv[n++] = a->gitdir;
		argv[n++] = "--rev";
		argv[n++] = a->current->commit;
		argv[n++] = "--applyset";
		argv[n++] = a->name;
		argv[n++] = "--force-conflicts";
		argv[n++] = "--format";
		argv[n++] = "json";
		if (c->cluster->kubeconfig) {
			argv[n++] = "--kubeconfig";
			argv[n++] = c->cluster->kubeconfig;
		} else {
			argv[n++] = "--in-cluster";
		}
		if (c->cluster->context) {
			argv[n++] = "--context";
			argv[n++] = c->cluster->context;
		}
		if (c->namespace) {
			argv[n++] = "-n";
			argv[n++] = c->namespace;
		}
		if (c->prune)
			argv[n++] = "--prune";
		if (c->wait) {
			snprintf(wait_s, sizeof(wait_s), "%d", c->wait_timeout_ms / 1000);
			argv[n++] = "--wait";
			argv[n++] = "--wait-timeout";
			argv[n++] = wait_s;
		}
		argv[n++] = c->path[0] ? c->path : ".";
		argv[n] = NULL;
		/* the apply waits after it has applied: its deadline grows by the wait */
		run(a, (const char *const *)argv,
		    cfg->sync_timeout_ms + (c->wait ? c->wait_timeout_ms : 0), 0);
		break;
	}
	default:
		break;
	}
}

/*
 * Everything was applied but a workload is not ready (`--wait`): the
 * first such object and why, into msg; msg untouched when there is none.
 */
static void not_ready_message(const cJSON *objects, char *msg, size_t msglen)
{
	const cJSON *obj;

	cJSON_ArrayForEach(obj, objects) {
		const char *h = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(obj, "health"));
		const char *id = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(obj, "id"));
		const char *why = cJSON_GetStringValue(
			cJSON_GetObjectItemCaseSensitive(obj, "health_message"));

		if (h && !strcmp(h, "not ready")) {
			snprintf(msg, msglen, "applied; not ready: %s: %s", id ? id : "?",
				 why && *why ? why : "not ready");
			return;
		}
	}
}

static void read_apply_result(const struct child_result *res, struct outcome *o, char *msg,
			      size_t msglen)
{
	cJSON *root = cJSON_ParseWithLength(res->out.data, res->out.len);
	const cJSON *counts = cJSON_GetObjectItemCaseSensitive(root, "counts");
	const cJSON *objects = cJSON_GetObjectItemCaseSensitive(root, "objects"), *obj;
	int i;

	msg[0] = '\0';	/* a success says nothing more */
	o->ok = child_ok(res);
	{
		const cJSON *lint = cJSON_GetObjectItemCaseSensitive(root, "lint");
		const cJSON *errs = cJSON_GetObjectItemCaseSensitive(lint, "errors");

		o->final = cJSON_IsNumber(errs) && errs->valuedouble > 0;
	}
	if (cJSON_IsObject(counts)) {
		o->have_counts = 1;
		for (i = 0; i < 5; i++) {
			const cJSON *v = cJSON_GetObjectItemCaseSensitive(counts, count_names[i]);

			if (cJSON_IsNumber(v))
				o->counts[i] = (long long)v->valuedouble;
		}
	}
	if (o->ok && !o->have_counts) {
		o->ok = 0;
		snprintf(msg, msglen, "tidegate apply printed no JSON result");
	} else if (!o->ok) {
		/* The first failed object says most; else the command's last words. */
		msg[0] = '\0';
		cJSON_ArrayForEach(obj, objects) {
			const cJSON *r = cJSON_GetObjectItemCaseSensitive(obj, "result");
			const cJSON *id = cJSON_GetObjectItemCaseSensitive(obj, "id");
			const cJSON *m = cJSON_GetObjectItemCaseSensitive(obj, "message");

			if (cJSON_IsString(r) && !strcmp(r->valuestring, "failed")) {
				snprintf(msg, msglen, "%s: %s",
					 cJSON_IsString(id) ? id->valuestring : "?",
					 cJSON_IsString(m) ? m->valuestring : "failed");
				break;
			}
		}
		if (!msg[0]) {
			not_ready_message(objects, msg, msglen);
			/* all of it applied: applying it again makes nothing readier */
			if (msg[0])
				o->final = 1;
		}
		if (!msg[0]) {
			char line[300];

			last_line(&res->err, line, sizeof(line));
			if (res->timed_out)
				snprintf(msg, msglen, "tidegate apply timed out");
			else if (res->exited)
				snprintf(msg, msglen, "tidegate apply exited with %d%s%s", res->code,
					 line[0] ? ": " : "", line);
			else
				snprintf(msg, msglen, "tidegate apply died of signal %d", res->signo);
		}
	}
	o->message = msg;
	cJSON_Delete(root);
}

static void on_child(struct child_result *res, void *arg)
{
	struct app_rt *a = arg;
	char msg[600], line[300];
	struct outcome o;

	memset(&o, 0, sizeof(o));
	forget_child(a);
	if (log_get_level() >= LOGL_DEBUG) {
		char dur[32];

		snprintf(dur, sizeof(dur), "%lld", res->duration_ms);
		log_fields(LOGL_DEBUG, "sync step done", "app", a->name, "step",
			   step_names[a->step], "ok", child_ok(res) ? "yes" : "no",
			   "duration_ms", dur, NULL);
	}
	if (!a->conf && a->step != STEP_APPLY) {
		fail(a, "the app was removed from the configuration");
		return;
	}
	switch (a->step) {
	case STEP_LOCAL:
		if (child_ok(res)) {
			a->gitdir = a->local;
			a->step = STEP_APPLY;
			break;
		}
		last_line(&res->err, line, sizeof(line));
		log_fields(LOGL_DEBUG, "commit not in the local repository; fetching it", "app",
			   a->name, "error", line, NULL);
		start_mirror(a);
		return;
	case STEP_INIT:
		if (!child_ok(res)) {
			last_line(&res->err, line, sizeof(line));
			snprintf(msg, sizeof(msg), "cannot create the mirror: %s", line);
			fail(a, msg);
			return;
		}
		a->step = STEP_FETCH;
		break;
	case STEP_FETCH:
		if (child_ok(res)) {
			a->gitdir = a->mirror;
			a->step = STEP_APPLY;
		} else {
			last_line(&res->err, line, sizeof(line));
			log_fields(LOGL_DEBUG, "fetch by commit id failed; fetching the ref",
				   "app", a->name, "error", line, NULL);
			a->step = STEP_FETCH_REF;
		}
		break;
	case STEP_FETCH_REF:
	case STEP_CHECK:
		if (a->step == STEP_FETCH_REF && child_ok(res)) {
			a->step = STEP_CHECK;
			break;
		}
		if (child_ok(res)) {
			a->gitdir = a->mirror;
			a->step = STEP_APPLY;
			break;
		}
		last_line(&res->err, line, sizeof(line));
		if (a->attempt < a->s->cfg->fetch_retries) {
			struct timeval tv = { 1 << a->attempt, 0 };

			a->attempt++;
			log_fields(LOGL_INFO, "commit not fetchable yet; retrying", "app", a->name,
				   "commit", a->current->commit, "error", line, NULL);
			if (!a->retry_ev)
				a->retry_ev = evtimer_new(a->s->base, retry_cb, a);
			evtimer_add(a->retry_ev, &tv);
			return;
		}
		snprintf(msg, sizeof(msg), "cannot fetch %s from the app's repository%s%s",
			 a->current->commit, line[0] ? ": " : "", line);
		fail(a, msg);
		return;
	case STEP_APPLY:
		read_apply_result(res, &o, msg, sizeof(msg));
		finish(a, &o);
		return;
	default:
		return;
	}
	step_run(a);
}

/* Fetches into the app's mirror (created first when missing). */
static void start_mirror(struct app_rt *a)
{
	char head[4300];
	struct stat st;

	snprintf(head, sizeof(head), "%s/HEAD", a->mirror);
	if (stat(head, &st) < 0) {
		char *dir = xstrfmt("%s/mirrors", a->s->cfg->state_dir);

		mkdir(dir, 0750);
		free(dir);
		a->step = STEP_INIT;
	} else {
		a->step = STEP_FETCH;
	}
	step_run(a);
}

static void start_next(struct app_rt *a)
{
	struct syncer *s = a->s;

	if (!a->pending || a->current)
		return;
	a->current = a->pending;
	a->pending = NULL;
	a->attempt = 0;
	a->started_ms = monotonic_ms();
	s->running++;
	log_fields(LOGL_INFO, "sync started", "app", a->name, "commit", a->current->commit,
		   "ref", a->current->ref, NULL);
	if (s->status && a->conf->status)
		status_post(s->status, a->conf->status, a->name, a->current->commit,
			    STATE_PENDING, "applying");
	free(a->mirror);
	a->mirror = mirror_path(s->cfg, a->conf->repo_key, a->name);
	free(a->local);
	a->local = local_repo(a->conf->repo);
	a->gitdir = a->mirror;
	if (build_git_env(a) < 0) {
		fail(a, "cannot read the app's token_file");
		return;
	}
	if (a->local && has_loose_object(a->local, a->current->commit)) {
		a->gitdir = a->local;
		a->step = STEP_APPLY;
		step_run(a);
	} else if (a->local) {
		a->step = STEP_LOCAL;
		step_run(a);
	} else {
		start_mirror(a);
	}
}
