/*
 * tidegate-pre-receive - the gate: a git pre-receive hook that checks the
 * Kubernetes manifests a push changes and refuses the push when any
 * selected ref has an error. Warnings are shown and let through.
 *
 * It fails closed: a check that cannot finish in time (tidegate.deadline)
 * refuses the push unless tidegate.failOpen is set, and any internal
 * error refuses it. See docs/hooks.md.
 */
#include "gate.h"
#include "git.h"
#include "hook.h"
#include "log.h"
#include "spawn.h"
#include "xalloc.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <unistd.h>

#define PROG "tidegate-pre-receive"
#define MAX_LINES_PER_REF 100
#define SKIP_OPTION "tidegate.skip"

/* ---- the deadline backstop ------------------------------------------- */

/*
 * git children are killed at the deadline by lib/git; this alarm covers
 * the work done in this process (parsing, rules). The message is built
 * before the timer is armed: the handler only writes and exits.
 */
static char alarm_msg[512];
static size_t alarm_len;
static int alarm_code = 1;

static void on_alarm(int sig)
{
	(void)sig;
	(void)!write(2, alarm_msg, alarm_len);
	_exit(alarm_code);
}

static int deadline_message(char *out, size_t n, long ms, int fail_open)
{
	if (fail_open)
		return snprintf(out, n, "tidegate: warning: the manifest check did not finish "
				"within %ld ms; push accepted unchecked (tidegate.failOpen)\n", ms);
	return snprintf(out, n, "%stidegate: push refused: the manifest check did not finish "
			"within %ld ms (tidegate.deadline); try again, or ask an admin\n",
			hook_is_gitlab() ? "GL-HOOK-ERR: " : "", ms);
}

static void arm_deadline(long ms, int fail_open)
{
	struct sigaction sa;
	struct itimerval it;
	/* a little after lib/git's own deadline, so a git child's timeout reports first */
	long backstop = ms + 50;

	int len = deadline_message(alarm_msg, sizeof(alarm_msg), ms, fail_open);

	alarm_len = len < 0 ? 0 : (size_t)len < sizeof(alarm_msg) ? (size_t)len :
		    sizeof(alarm_msg) - 1;
	alarm_code = fail_open ? 0 : 1;
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_alarm;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGALRM, &sa, NULL);
	memset(&it, 0, sizeof(it));
	it.it_value.tv_sec = backstop / 1000;
	it.it_value.tv_usec = (backstop % 1000) * 1000;
	setitimer(ITIMER_REAL, &it, NULL);
}

static void disarm_deadline(void)
{
	struct itimerval it;

	memset(&it, 0, sizeof(it));
	setitimer(ITIMER_REAL, &it, NULL);
}

/* ---- break-glass ----------------------------------------------------- */

/*
 * Finds the push option tidegate.skip[=reason]. Returns 1 with *reason
 * (owned by the environment, may be "") when present, else 0.
 */
static int find_skip_option(const char **reason)
{
	const char *cnt = getenv("GIT_PUSH_OPTION_COUNT");
	long n;

	if (!cnt)
		return 0;
	n = strtol(cnt, NULL, 10);
	for (long i = 0; i < n && i < 1000; i++) {
		char name[40];
		const char *v;

		snprintf(name, sizeof(name), "GIT_PUSH_OPTION_%ld", i);
		v = getenv(name);
		if (!v || strncmp(v, SKIP_OPTION, strlen(SKIP_OPTION)))
			continue;
		v += strlen(SKIP_OPTION);
		if (*v == '=') {
			*reason = v + 1;
			return 1;
		}
		if (!*v) {
			*reason = "";
			return 1;
		}
	}
	return 0;
}

static int mkdir_parent(const char *path)
{
	char *dir = xstrdup(path);
	char *slash = strrchr(dir, '/');
	int ret = 0;

	if (slash && slash != dir) {
		*slash = '\0';
		if (mkdir(dir, 0750) < 0 && errno != EEXIST)
			ret = error_errno("cannot create '%s'", dir);
	}
	free(dir);
	return ret;
}

/* Appends one JSON line per update to the audit log, in one write. */
static int audit_bypass(struct gate *g, const struct hook_updates *u, const char *reason)
{
	struct buf b = BUF_INIT(64u << 20);
	char now[24], *user = hook_user();
	int fd, ret = -1;
	size_t off = 0;

	hook_utc_now(now);
	for (size_t i = 0; i < u->n; i++) {
		buf_addf(&b, "{\"time\":\"%s\",\"event\":\"bypass\",\"user\":", now);
		buf_add_json_str(&b, user);
		buf_addstr(&b, ",\"repo\":");
		buf_add_json_str(&b, git_repo_dir(g->repo));
		buf_addstr(&b, ",\"ref\":");
		buf_add_json_str(&b, u->v[i].ref);
		buf_addf(&b, ",\"old\":\"%s\",\"new\":\"%s\",\"reason\":", u->v[i].old_oid,
			 u->v[i].new_oid);
		buf_add_json_str(&b, reason);
		buf_addstr(&b, "}\n");
	}
	if (b.toobig) {
		error("audit record too large");
		goto done;
	}
	if (mkdir_parent(g->pol.audit_log) < 0)
		goto done;
	fd = open(g->pol.audit_log, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0640);
	if (fd < 0) {
		error_errno("cannot open the audit log '%s'", g->pol.audit_log);
		goto done;
	}
	while (off < b.len) {
		ssize_t w = write(fd, b.data + off, b.len - off);

		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			break;
		off += (size_t)w;
	}
	if (off < b.len || fsync(fd) < 0)
		error_errno("cannot write the audit log '%s'", g->pol.audit_log);
	else
		ret = 0;
	close(fd);
done:
	free(user);
	buf_release(&b);
	return ret;
}

/* ---- output ---------------------------------------------------------- */

static void plural(struct buf *b, size_t n, const char *what)
{
	buf_addf(b, "%s%zu %s%s", b->len ? ", " : "", n, what, n == 1 ? "" : "s");
}

/* Prints a ref's findings; refused refs get error-marked lines. */
static void print_ref(const char *ref, const char *new, const struct findings *fs)
{
	int refused = fs->nerr > 0;
	struct buf counts = BUF_INIT(256);
	size_t shown = 0, hidden = 0;

	if (fs->nerr)
		plural(&counts, fs->nerr, "error");
	if (fs->nwarn)
		plural(&counts, fs->nwarn, "warning");
	hook_say(refused, "tidegate: %s (%.7s): %s", ref, new, counts.data);
	buf_release(&counts);
	for (size_t i = 0; i < fs->n; i++) {
		const struct finding *f = &fs->v[i];

		if (f->ignored || f->sev < SEV_WARNING)
			continue;
		if (shown >= MAX_LINES_PER_REF) {
			hidden++;
			continue;
		}
		shown++;
		hook_say(refused, "%s:%u:%u: %s: %s [%s]", f->path, f->line, f->col,
			 severity_name(f->sev), f->msg, f->rule ? f->rule : "error");
	}
	if (hidden)
		hook_say(refused, "... and %zu more", hidden + fs->dropped);
}

static int refuse_internal(const char *why)
{
	hook_log_replay(1);
	hook_say(1, "tidegate: push refused: %s", why);
	return 1;
}

/* ---- main ------------------------------------------------------------ */

static int check_updates(struct gate *g, const struct hook_updates *u, long long start)
{
	size_t refused = 0, files = 0;

	for (size_t i = 0; i < u->n; i++) {
		const struct hook_update *up = &u->v[i];
		struct findings fs = FINDINGS_INIT;
		struct gate_stats st;

		if (!gate_ref_selected(g, up->ref) || git_is_zero_oid(up->new_oid))
			continue;
		if (gate_check_ref(g, up->old_oid, up->new_oid, &fs, &st) < 0) {
			findings_release(&fs);
			if (git_repo_timed_out(g->repo)) {
				char msg[512];

				disarm_deadline();
				deadline_message(msg, sizeof(msg), g->pol.deadline_ms, g->pol.fail_open);
				msg[strcspn(msg, "\n")] = '\0';
				hook_say(!g->pol.fail_open, "%s", msg);
				return g->pol.fail_open ? 0 : 1;
			}
			return refuse_internal("the manifest check failed");
		}
		files += st.changed;
		if (fs.nerr || fs.nwarn)
			print_ref(up->ref, up->new_oid, &fs);
		if (fs.nerr)
			refused++;
		findings_release(&fs);
	}
	disarm_deadline();
	hook_log_replay(0);	/* warnings the library logged (unknown locked rule, ...) */
	if (refused) {
		hook_say(1, "tidegate: push refused: %zu ref%s failed the manifest checks; "
			 "see the rules with `tidegate lint --list-rules`",
			 refused, refused == 1 ? "" : "s");
		return 1;
	}
	if (files)
		log_debug("checked %zu manifests in %lld ms", files, monotonic_ms() - start);
	return 0;
}

static int run(const char *argv0)
{
	struct buf input;
	struct hook_updates u = HOOK_UPDATES_INIT;
	struct git_repo *repo = NULL;
	struct gate g = GATE_INIT;
	const char *reason = NULL;
	long long start = monotonic_ms();
	int ran, ret = 1;

	if (hook_read_input(&input) < 0)
		return refuse_internal("cannot read the ref updates");
	if (hook_run_chain(argv0, "pre-receive", &input, &ran) < 0) {
		ret = refuse_internal("another pre-receive hook refused it");
		goto out;
	}
	repo = git_repo_open_hook("tidegate.");
	if (!repo) {
		ret = refuse_internal("cannot open the repository");
		goto out;
	}
	if (gate_load_policy(&g, repo) < 0) {
		ret = refuse_internal("bad tidegate configuration on the server");
		goto out;
	}
	/* tidegate-post-receive will send webhooks: spare it listing the paths again */
	{
		const char *url = git_config_get(repo, "tidegate.webhookUrl");

		g.save_changes = url && *url;
	}
	if (hook_parse_updates(&input, git_oid_hexsz(repo), &u) < 0) {
		ret = refuse_internal("cannot parse the ref updates");
		goto out;
	}
	if (find_skip_option(&reason)) {
		if (!g.pol.allow_bypass) {
			hook_say(1, "tidegate: push refused: the push option %s is not allowed on "
				 "this repository (tidegate.allowBypass is off)", SKIP_OPTION);
			goto out;
		}
		if (!*reason) {
			hook_say(1, "tidegate: push refused: say why you skip the checks: "
				 "git push -o %s=\"reason\"", SKIP_OPTION);
			goto out;
		}
		if (audit_bypass(&g, &u, reason) < 0) {
			ret = refuse_internal("cannot record the bypass in the audit log");
			goto out;
		}
		hook_say(0, "tidegate: checks skipped on request (%s); recorded in the audit log",
			 reason);
		ret = 0;
		goto out;
	}
	start = monotonic_ms();
	git_repo_set_deadline(repo, start + g.pol.deadline_ms);
	arm_deadline(g.pol.deadline_ms, g.pol.fail_open);
	ret = check_updates(&g, &u, start);
out:
	disarm_deadline();
	gate_release(&g);
	git_repo_free(repo);
	hook_updates_release(&u);
	buf_release(&input);
	return ret;
}

int main(int argc, char **argv)
{
	signal(SIGPIPE, SIG_IGN);
	if (argc > 1 && !strcmp(argv[1], "--version")) {
		printf("%s %s\n", PROG, TIDEGATE_VERSION);
		return 0;
	}
	if (argc > 1 && (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h"))) {
		printf("usage: %s < \"<old> <new> <ref>\" lines\n"
		       "git pre-receive hook: refuses pushes whose Kubernetes manifests have errors.\n"
		       "Settings: git config tidegate.* (see docs/hooks.md).\n", PROG);
		return 0;
	}
	hook_log_capture(PROG);
	return run(argv[0]) ? 1 : 0;
}
