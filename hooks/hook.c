#include "hook.h"
#include "log.h"
#include "spawn.h"
#include "xalloc.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <fnmatch.h>
#include <pwd.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

/* The hook input: one line per ref; 16 MiB is far past any real push. */
#define HOOK_INPUT_MAX (16u << 20)
#define HOOK_MAX_UPDATES 100000
#define HOOK_MAX_CHAIN 64

static int log_mem_fd = -1;

int hook_is_gitlab(void)
{
	return getenv("GL_ID") || getenv("GL_REPOSITORY");
}

void hook_say(int is_error, const char *fmt, ...)
{
	struct buf b = BUF_INIT(64 * 1024);
	va_list ap;

	if (is_error && hook_is_gitlab())
		buf_addstr(&b, "GL-HOOK-ERR: ");
	va_start(ap, fmt);
	buf_vaddf(&b, fmt, ap);
	va_end(ap);
	if (b.toobig)
		buf_addstr(&b, "...");
	/* one line per call: no stray newlines from messages */
	for (size_t i = 0; i < b.len; i++)
		if (b.data[i] == '\n' || b.data[i] == '\r')
			b.data[i] = ' ';
	b.max = b.len + 1;
	buf_addch(&b, '\n');
	write_all(2, b.data, b.len);
	buf_release(&b);
}

void hook_log_capture(const char *prog)
{
	log_init(prog, LOGL_WARN, LOG_FORMAT_TEXT);
	log_mem_fd = memfd_create("tidegate-log", MFD_CLOEXEC);
	if (log_mem_fd >= 0)
		log_set_fd(log_mem_fd);
}

void hook_log_replay(int is_error)
{
	struct buf b = BUF_INIT(1u << 20);
	char *p, *line;

	if (log_mem_fd < 0)
		return;
	if (lseek(log_mem_fd, 0, SEEK_SET) == 0)
		buf_read_fd(&b, log_mem_fd);
	for (p = b.data; *p; p = line) {
		char *nl = strchr(p, '\n'), *msg;

		line = nl ? nl + 1 : p + strlen(p);
		if (nl)
			*nl = '\0';
		/* "<time> <prog>: <level>: <message>" -> "<message>" */
		msg = strstr(p, ": error: ");
		if (msg)
			msg += 9;
		else if ((msg = strstr(p, ": warn: ")))
			msg += 8;
		else
			msg = p;
		if (*msg)
			hook_say(is_error, "tidegate: %s", msg);
	}
	buf_release(&b);
	if (ftruncate(log_mem_fd, 0) == 0)
		lseek(log_mem_fd, 0, SEEK_SET);
}

char *hook_user(void)
{
	static const char *const vars[] = { "GL_USERNAME", "GITHUB_USER_LOGIN", "REMOTE_USER" };
	struct passwd pw, *res = NULL;
	char pwbuf[4096];
	size_t i;

	for (i = 0; i < sizeof(vars) / sizeof(vars[0]); i++) {
		const char *v = getenv(vars[i]);

		if (v && *v)
			return xstrdup(v);
	}
	if (!getpwuid_r(geteuid(), &pw, pwbuf, sizeof(pwbuf), &res) && res && res->pw_name)
		return xstrdup(res->pw_name);
	return xstrfmt("uid:%lu", (unsigned long)geteuid());
}

int hook_read_input(struct buf *out)
{
	buf_init(out, HOOK_INPUT_MAX);
	if (buf_read_fd(out, 0) < 0) {
		if (out->toobig)
			return error("hook input over %u bytes", HOOK_INPUT_MAX);
		return error_errno("cannot read the hook input");
	}
	return 0;
}

static int is_hex(const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f')))
			return 0;
	return 1;
}

int hook_parse_updates(const struct buf *in, size_t hexsz, struct hook_updates *out)
{
	const char *p = in->data, *end = in->data + in->len;
	size_t lineno = 0;

	while (p < end) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		const char *le = nl ? nl : end;
		size_t len = (size_t)(le - p);
		struct hook_update u;

		lineno++;
		if (len && p[len - 1] == '\r')
			len--;
		if (!len) {
			p = le + 1;
			continue;
		}
		if (out->n >= HOOK_MAX_UPDATES)
			return error("more than %d ref updates", HOOK_MAX_UPDATES);
		if (len < 2 * hexsz + 3 || p[hexsz] != ' ' || p[2 * hexsz + 1] != ' ' ||
		    !is_hex(p, hexsz) || !is_hex(p + hexsz + 1, hexsz) ||
		    memchr(p, '\0', len) || strncmp(p + 2 * hexsz + 2, "refs/", 5))
			return error("malformed hook input line %zu", lineno);
		u.old_oid = xstrndup(p, hexsz);
		u.new_oid = xstrndup(p + hexsz + 1, hexsz);
		u.ref = xstrndup(p + 2 * hexsz + 2, len - 2 * hexsz - 2);
		XGROW(out->v, out->n + 1, out->alloc);
		out->v[out->n++] = u;
		p = le + 1;
	}
	return 0;
}

void hook_updates_release(struct hook_updates *u)
{
	for (size_t i = 0; i < u->n; i++) {
		free(u->v[i].old_oid);
		free(u->v[i].new_oid);
		free(u->v[i].ref);
	}
	free(u->v);
	u->v = NULL;
	u->n = u->alloc = 0;
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Runs one chained hook with input on its stdin; 0 when it exited 0. */
static int run_one(const char *path, const struct buf *input)
{
	const char *argv[] = { path, NULL };
	struct spawn sp = SPAWN_INIT;
	size_t off = 0;
	int st;

	sp.argv = argv;
	sp.flags = SPAWN_PIPE_IN;
	if (spawn_start(&sp) < 0)
		return -1;
	while (off < input->len) {
		ssize_t w = write(sp.in, input->data + off, input->len - off);

		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			break;	/* it stopped reading; its exit status decides */
		off += (size_t)w;
	}
	st = spawn_finish(&sp);
	if (st < 0)
		return -1;
	if (WIFSIGNALED(st))
		return error("hook '%s' killed by signal %d", path, WTERMSIG(st));
	if (!WIFEXITED(st) || WEXITSTATUS(st))
		return error("hook '%s' refused the push (exit %d)", path,
			     WIFEXITED(st) ? WEXITSTATUS(st) : -1);
	return 0;
}

int hook_run_chain(const char *argv0, const char *name, const struct buf *input, int *ran)
{
	const char *base = strrchr(argv0, '/');
	char *dir, **names = NULL;
	size_t n = 0, alloc = 0, i;
	DIR *d;
	struct dirent *de;
	int ret = 0;

	*ran = 0;
	base = base ? base + 1 : argv0;
	if (strcmp(base, name))
		return 0;
	dir = xstrfmt("%.*s%s.d", (int)(base - argv0), argv0, name);
	d = opendir(dir);
	if (!d) {
		free(dir);
		return 0;
	}
	signal(SIGPIPE, SIG_IGN);
	while ((de = readdir(d))) {
		if (de->d_name[0] == '.' || n >= HOOK_MAX_CHAIN)
			continue;
		XGROW(names, n + 1, alloc);
		names[n++] = xstrdup(de->d_name);
	}
	closedir(d);
	if (n)
		qsort(names, n, sizeof(*names), cmp_str);
	for (i = 0; i < n && !ret; i++) {
		char *path = xstrfmt("%s/%s", dir, names[i]);
		struct stat st;

		if (!stat(path, &st) && S_ISREG(st.st_mode) && !access(path, X_OK)) {
			(*ran)++;
			ret = run_one(path, input);
		}
		free(path);
	}
	for (i = 0; i < n; i++)
		free(names[i]);
	free(names);
	free(dir);
	return ret;
}

int hook_parse_duration(const char *s, long *ms)
{
	char *end;
	double v;

	if (!s || !*s)
		return -1;
	errno = 0;
	v = strtod(s, &end);
	if (errno || end == s || v < 0)
		return -1;
	if (!strcmp(end, "s"))
		v *= 1000;
	else if (*end && strcmp(end, "ms"))
		return -1;
	if (v > 3600 * 1000.0)
		return -1;
	*ms = (long)v;
	return 0;
}

int hook_path_match(const char *pattern, const char *path)
{
	size_t n;

	if (!fnmatch(pattern, path, 0))
		return 1;
	if (strpbrk(pattern, "*?["))
		return 0;
	n = strlen(pattern);
	while (n && pattern[n - 1] == '/')
		n--;
	return n && !strncmp(pattern, path, n) && path[n] == '/';
}

void hook_utc_now(char out[24])
{
	time_t t = time(NULL);
	struct tm tm;

	gmtime_r(&t, &tm);
	strftime(out, 24, "%Y-%m-%dT%H:%M:%SZ", &tm);
}
