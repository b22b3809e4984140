/*
 * tidegate-post-receive - tells tidegated that branches moved.
 *
 * After git has updated the refs, sends one generic event per updated
 * branch (docs/INTERFACES.md) to tidegate.webhookUrl, signed with the
 * secret in tidegate.webhookSecretFile. The push is never held up more
 * than about two seconds: each request has a 1 s connect and 2 s total
 * timeout inside one 2 s budget (tidegate.webhookTimeout changes both
 * the request timeout and the budget). An event that cannot be delivered is
 * spooled (one file per event, written atomically) to tidegate.spoolDir
 * and sent, oldest first, before the next push's events or by
 *
 *	tidegate-post-receive --flush [--git-dir DIR]
 *
 * post-receive cannot refuse a push; this program only prints notes.
 */
#include "git.h"
#include "hmac.h"
#include "hook.h"
#include "log.h"
#include "spawn.h"
#include "changes.h"
#include "xalloc.h"

#include <curl/curl.h>	/* types only: libcurl is opened with dlopen() for https */
#include <dlfcn.h>
#include <limits.h>
#include <netdb.h>
#include <poll.h>
#include <sys/socket.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define PROG "tidegate-post-receive"
#define CONNECT_TIMEOUT_MS 1000L
#define REQUEST_TIMEOUT_MS 2000L
#define PUSH_BUDGET_MS 2000L
#define FLUSH_BUDGET_MS 60000L
#define EVENT_MAX (64u << 10)
#define MAX_SPOOLED 10000

enum send_result {
	SEND_OK = 0,		/* 2xx */
	SEND_RETRY,		/* unreachable, timeout, 5xx, 408, 429: keep it */
	SEND_REJECTED,		/* another 4xx: resending the same bytes cannot help */
};

struct sender {
	const char *url;
	struct secret secret;
	char *spool_dir;
	long long deadline;	/* monotonic ms; no request starts or runs past it */
	long request_ms;	/* one request's total timeout (tidegate.webhookTimeout) */
	int down;		/* a request failed: spool everything else */
	char why[256];		/* what went wrong last, for the pusher's note */
	int plain;		/* an http:// URL: sent without libcurl */
	struct curl_fns *cf;	/* https: libcurl, loaded when first needed */
	CURL *curl;
};

/*
 * libcurl, opened only for an https:// URL. An http:// URL (tidegated on
 * the same host or network, the usual set-up) is sent by http_post()
 * below, so the hook does not map libcurl, OpenSSL and the thirty
 * libraries they bring on every push: that alone took tens of
 * milliseconds of each push.
 */
struct curl_fns {
	void *lib;
	CURLcode (*global_init)(long);
	void (*global_cleanup)(void);
	CURL *(*easy_init)(void);
	void (*easy_cleanup)(CURL *);
	void (*easy_reset)(CURL *);
	CURLcode (*easy_setopt)(CURL *, CURLoption, ...);
	CURLcode (*easy_perform)(CURL *);
	CURLcode (*easy_getinfo)(CURL *, CURLINFO, ...);
	const char *(*easy_strerror)(CURLcode);
	struct curl_slist *(*slist_append)(struct curl_slist *, const char *);
	void (*slist_free_all)(struct curl_slist *);
};

static struct curl_fns *curl_open(char *why, size_t whylen)
{
	struct curl_fns *f = xcalloc(1, sizeof(*f));

	f->lib = dlopen("libcurl.so.4", RTLD_NOW | RTLD_LOCAL);
	if (!f->lib) {
		snprintf(why, whylen, "cannot load libcurl for https: %s", dlerror());
		free(f);
		return NULL;
	}
#define SYM(field, name) (*(void **)&f->field = dlsym(f->lib, name))
	if (!SYM(global_init, "curl_global_init") || !SYM(global_cleanup, "curl_global_cleanup") ||
	    !SYM(easy_init, "curl_easy_init") || !SYM(easy_cleanup, "curl_easy_cleanup") ||
	    !SYM(easy_reset, "curl_easy_reset") || !SYM(easy_setopt, "curl_easy_setopt") ||
	    !SYM(easy_perform, "curl_easy_perform") || !SYM(easy_getinfo, "curl_easy_getinfo") ||
	    !SYM(easy_strerror, "curl_easy_strerror") || !SYM(slist_append, "curl_slist_append") ||
	    !SYM(slist_free_all, "curl_slist_free_all") ||
	    f->global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
		snprintf(why, whylen, "libcurl for https is unusable");
		dlclose(f->lib);
		free(f);
		return NULL;
	}
#undef SYM
	return f;
}

static void curl_close(struct curl_fns *f)
{
	if (!f)
		return;
	f->global_cleanup();
	dlclose(f->lib);
	free(f);
}

/* ---- one request ----------------------------------------------------- */

static size_t discard_body(char *p, size_t size, size_t n, void *data)
{
	(void)p;
	(void)data;
	return size * n;
}

/* Waits for fd to be ready for events until deadline (monotonic ms): 1, 0 on timeout, -1. */
static int wait_fd(int fd, short events, long long deadline)
{
	for (;;) {
		struct pollfd p = { fd, events, 0 };
		long long left = deadline - monotonic_ms();
		int r;

		if (left <= 0)
			return 0;
		r = poll(&p, 1, left > INT_MAX ? INT_MAX : (int)left);
		if (r < 0 && errno == EINTR)
			continue;
		return r < 0 ? -1 : r;
	}
}

/*
 * POST over plain HTTP/1.1 to an http:// URL, with the same timeouts as
 * the libcurl path. Returns the status code, or 0 with s->why set.
 */
static long http_post(struct sender *s, const char *headers, const char *body, size_t len,
		      long timeout_ms)
{
	const char *hp = s->url + 7, *slash = strchr(hp, '/');
	char host[256], port[8] = "80", *colon;
	struct addrinfo hints, *ai = NULL, *a;
	struct buf req = BUF_INIT(EVENT_MAX + 4096);
	long long deadline = monotonic_ms() + timeout_ms;
	long long conn_deadline = monotonic_ms() +
		(timeout_ms < CONNECT_TIMEOUT_MS ? timeout_ms : CONNECT_TIMEOUT_MS);
	size_t hlen = slash ? (size_t)(slash - hp) : strlen(hp), off;
	char resp[512];
	size_t got = 0;
	long code = 0;
	int fd = -1, r;

	if (!hlen || hlen >= sizeof(host) || strchr(hp, '@')) {
		snprintf(s->why, sizeof(s->why), "bad webhook URL");
		return 0;
	}
	memcpy(host, hp, hlen);
	host[hlen] = '\0';
	if (host[0] == '[') {		/* [v6]:port */
		char *end = strchr(host, ']');

		if (!end) {
			snprintf(s->why, sizeof(s->why), "bad webhook URL");
			return 0;
		}
		*end = '\0';
		if (end[1] == ':')
			snprintf(port, sizeof(port), "%.7s", end + 2);
		memmove(host, host + 1, strlen(host + 1) + 1);
	} else if ((colon = strrchr(host, ':'))) {
		*colon = '\0';
		snprintf(port, sizeof(port), "%.7s", colon + 1);
	}
	memset(&hints, 0, sizeof(hints));
	hints.ai_socktype = SOCK_STREAM;
	if ((r = getaddrinfo(host, port, &hints, &ai)) != 0) {
		snprintf(s->why, sizeof(s->why), "cannot resolve '%.100s': %s", host, gai_strerror(r));
		return 0;
	}
	for (a = ai; a && fd < 0; a = a->ai_next) {
		fd = socket(a->ai_family, a->ai_socktype | SOCK_NONBLOCK | SOCK_CLOEXEC, a->ai_protocol);
		if (fd < 0)
			continue;
		if (connect(fd, a->ai_addr, a->ai_addrlen) < 0 && errno != EINPROGRESS) {
			close(fd);
			fd = -1;
			continue;
		}
		if (wait_fd(fd, POLLOUT, conn_deadline) <= 0) {
			close(fd);
			fd = -1;
			errno = ETIMEDOUT;
			continue;
		} else {
			int err = 0;
			socklen_t el = sizeof(err);

			if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &el) < 0 || err) {
				errno = err ? err : errno;
				close(fd);
				fd = -1;
			}
		}
	}
	freeaddrinfo(ai);
	if (fd < 0) {
		snprintf(s->why, sizeof(s->why), "cannot connect to %.100s:%s: %s", host, port,
			 strerror(errno));
		return 0;
	}
	buf_addf(&req, "POST %s HTTP/1.1\r\nHost: %.*s\r\nUser-Agent: " PROG "/" TIDEGATE_VERSION
		 "\r\nContent-Length: %zu\r\nConnection: close\r\n%s\r\n",
		 slash ? slash : "/", (int)hlen, hp, len, headers);
	buf_add(&req, body, len);
	for (off = 0; off < req.len && !req.toobig;) {
		ssize_t w;

		if (wait_fd(fd, POLLOUT, deadline) <= 0)
			break;
		w = send(fd, req.data + off, req.len - off, MSG_NOSIGNAL);
		if (w < 0 && (errno == EINTR || errno == EAGAIN))
			continue;
		if (w <= 0)
			break;
		off += (size_t)w;
	}
	if (off < req.len || req.toobig) {
		snprintf(s->why, sizeof(s->why), "sending to %.100s:%s failed or timed out", host, port);
		goto out;
	}
	/* the status line is all the hook needs: "HTTP/1.1 202 Accepted" */
	while (got < sizeof(resp) - 1 && !memchr(resp, '\n', got)) {
		ssize_t n;

		if (wait_fd(fd, POLLIN, deadline) <= 0)
			break;
		n = recv(fd, resp + got, sizeof(resp) - 1 - got, 0);
		if (n < 0 && (errno == EINTR || errno == EAGAIN))
			continue;
		if (n <= 0)
			break;
		got += (size_t)n;
	}
	resp[got] = '\0';
	if (strncmp(resp, "HTTP/1.", 7) || !memchr(resp, '\n', got) ||
	    sscanf(resp + 8, " %3ld", &code) != 1 || code < 100) {
		snprintf(s->why, sizeof(s->why), "no HTTP answer from %.100s:%s in time", host, port);
		code = 0;
	}
out:
	close(fd);
	buf_release(&req);
	return code;
}

static enum send_result post_once(struct sender *s, const char *delivery, const char *body,
				  size_t len, long timeout_ms)
{
	struct curl_fns *f = s->cf;
	struct curl_slist *h = NULL;
	char sig[HMAC_GENERIC_SIG_SIZE], line[160];
	char headers[512];
	long long ts = (long long)time(NULL);
	long code = 0;
	CURLcode rc;

	if (hmac_sign_generic(&s->secret, ts, body, len, sig) < 0)
		return SEND_RETRY;
	if (s->plain) {
		snprintf(headers, sizeof(headers),
			 "Content-Type: application/json\r\nX-Tidegate-Event: push\r\n"
			 "X-Tidegate-Delivery: %s\r\nX-Tidegate-Timestamp: %lld\r\n"
			 "X-Tidegate-Signature: %s\r\n", delivery, ts, sig);
		code = http_post(s, headers, body, len, timeout_ms);
		explicit_bzero(sig, sizeof(sig));
		explicit_bzero(headers, sizeof(headers));
		if (!code)
			return SEND_RETRY;
		goto judge;
	}
	h = f->slist_append(h, "Content-Type: application/json");
	h = f->slist_append(h, "X-Tidegate-Event: push");
	snprintf(line, sizeof(line), "X-Tidegate-Delivery: %s", delivery);
	h = f->slist_append(h, line);
	snprintf(line, sizeof(line), "X-Tidegate-Timestamp: %lld", ts);
	h = f->slist_append(h, line);
	snprintf(line, sizeof(line), "X-Tidegate-Signature: %s", sig);
	h = f->slist_append(h, line);
	h = f->slist_append(h, "Expect:");
	f->easy_reset(s->curl);
	f->easy_setopt(s->curl, CURLOPT_URL, s->url);
	f->easy_setopt(s->curl, CURLOPT_PROTOCOLS_STR, "http,https");
	f->easy_setopt(s->curl, CURLOPT_NOSIGNAL, 1L);
	f->easy_setopt(s->curl, CURLOPT_HTTPHEADER, h);
	f->easy_setopt(s->curl, CURLOPT_POSTFIELDS, body);
	f->easy_setopt(s->curl, CURLOPT_POSTFIELDSIZE, (long)len);
	f->easy_setopt(s->curl, CURLOPT_CONNECTTIMEOUT_MS,
		       timeout_ms < CONNECT_TIMEOUT_MS ? timeout_ms : CONNECT_TIMEOUT_MS);
	f->easy_setopt(s->curl, CURLOPT_TIMEOUT_MS, timeout_ms);
	f->easy_setopt(s->curl, CURLOPT_WRITEFUNCTION, discard_body);
	f->easy_setopt(s->curl, CURLOPT_USERAGENT, PROG "/" TIDEGATE_VERSION);
	rc = f->easy_perform(s->curl);
	f->slist_free_all(h);
	explicit_bzero(sig, sizeof(sig));
	if (rc != CURLE_OK) {
		snprintf(s->why, sizeof(s->why), "%s", f->easy_strerror(rc));
		return SEND_RETRY;
	}
	f->easy_getinfo(s->curl, CURLINFO_RESPONSE_CODE, &code);
judge:
	if (code >= 200 && code < 300)
		return SEND_OK;
	snprintf(s->why, sizeof(s->why), "HTTP status %ld", code);
	if (code >= 400 && code < 500 && code != 408 && code != 429)
		return SEND_REJECTED;
	return SEND_RETRY;
}

/* Sends with one retry, within the sender's deadline. */
static enum send_result post_event(struct sender *s, const char *delivery, const char *body,
				   size_t len)
{
	enum send_result r = SEND_RETRY;

	for (int attempt = 0; attempt < 2 && !s->down; attempt++) {
		long long left = s->deadline - monotonic_ms();

		if (left < 100)
			break;
		r = post_once(s, delivery, body, len,
			      left < s->request_ms ? (long)left : s->request_ms);
		if (r != SEND_RETRY)
			return r;
	}
	s->down = 1;
	return r;
}

/* ---- the spool ------------------------------------------------------- */

static int mkdir_p(const char *path)
{
	char *p = xstrdup(path);
	int ret = 0;

	for (char *s = strchr(p + 1, '/'); ; s = strchr(s + 1, '/')) {
		if (s)
			*s = '\0';
		if (mkdir(p, 0750) < 0 && errno != EEXIST) {
			ret = error_errno("cannot create '%s'", p);
			break;
		}
		if (!s)
			break;
		*s = '/';
	}
	free(p);
	return ret;
}

/*
 * Spool file: "<delivery id>\n<body>", named "<ns since epoch>-<id>.event"
 * so that name order is age order. Written to a temporary name, synced,
 * then renamed: a reader never sees half an event.
 */
static int spool_event(struct sender *s, const char *delivery, const char *body, size_t len)
{
	struct timespec now;
	char *tmp, *final;
	int fd, ret = -1;

	if (mkdir_p(s->spool_dir) < 0)
		return -1;
	clock_gettime(CLOCK_REALTIME, &now);
	tmp = xstrfmt("%s/.tmp-%s", s->spool_dir, delivery);
	final = xstrfmt("%s/%020lld-%s.event", s->spool_dir,
			(long long)now.tv_sec * 1000000000LL + now.tv_nsec, delivery);
	fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0640);
	if (fd < 0) {
		error_errno("cannot create '%s'", tmp);
		goto done;
	}
	if (write_all(fd, delivery, strlen(delivery)) < 0 ||
	    write_all(fd, "\n", 1) < 0 || write_all(fd, body, len) < 0 || fsync(fd) < 0) {
		error_errno("cannot write '%s'", tmp);
		close(fd);
		unlink(tmp);
		goto done;
	}
	close(fd);
	if (rename(tmp, final) < 0) {
		error_errno("cannot rename '%s'", tmp);
		unlink(tmp);
		goto done;
	}
	fd = open(s->spool_dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd >= 0) {
		fsync(fd);
		close(fd);
	}
	ret = 0;
done:
	free(tmp);
	free(final);
	return ret;
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Lists the spooled event files, oldest first. */
static char **spool_list(const char *dir, size_t *n)
{
	DIR *d = opendir(dir);
	struct dirent *de;
	char **v = NULL;
	size_t alloc = 0;

	*n = 0;
	if (!d)
		return NULL;
	while ((de = readdir(d)) && *n < MAX_SPOOLED) {
		size_t len = strlen(de->d_name);

		if (de->d_name[0] == '.' || len < 7 || strcmp(de->d_name + len - 6, ".event"))
			continue;
		XGROW(v, *n + 1, alloc);
		v[(*n)++] = xstrdup(de->d_name);
	}
	closedir(d);
	if (*n)
		qsort(v, *n, sizeof(*v), cmp_str);
	return v;
}

static void set_aside(const char *dir, const char *name)
{
	char *rej = xstrfmt("%s/rejected", dir);
	char *from = xstrfmt("%s/%s", dir, name);
	char *to = xstrfmt("%s/%s", rej, name);

	if (mkdir(rej, 0750) == 0 || errno == EEXIST)
		rename(from, to);
	free(rej);
	free(from);
	free(to);
}

/*
 * Sends spooled events oldest first, stopping at the first that cannot
 * be delivered. Returns how many remain spooled.
 */
static size_t spool_flush(struct sender *s, int verbose)
{
	size_t n, i, left = 0;
	char **names = spool_list(s->spool_dir, &n);

	for (i = 0; i < n; i++) {
		char *path = xstrfmt("%s/%s", s->spool_dir, names[i]);
		struct buf b = BUF_INIT(EVENT_MAX + 64);
		char *nl;

		if (s->down) {
			left++;
		} else if (buf_read_file(&b, path) < 0 || !(nl = memchr(b.data, '\n', b.len)) ||
			   nl - b.data != 32) {
			log_warnx("spooled event '%s' is unreadable; set aside", names[i]);
			set_aside(s->spool_dir, names[i]);
		} else {
			enum send_result r;

			*nl = '\0';
			r = post_event(s, b.data, nl + 1, b.len - (size_t)(nl + 1 - b.data));
			if (r == SEND_OK) {
				unlink(path);
				if (verbose)
					printf("sent %s\n", names[i]);
			} else if (r == SEND_REJECTED) {
				hook_say(0, "tidegate: the webhook refused spooled event %s (%s); "
					 "set aside in %s/rejected", names[i], s->why, s->spool_dir);
				set_aside(s->spool_dir, names[i]);
			} else {
				left++;
			}
		}
		buf_release(&b);
		free(path);
		free(names[i]);
	}
	free(names);
	return left;
}

/* ---- events ---------------------------------------------------------- */

static int new_delivery_id(char out[33])
{
	unsigned char r[16];

	if (getrandom(r, sizeof(r), 0) != (ssize_t)sizeof(r))
		return error_errno("getrandom");
	hex_encode(r, sizeof(r), out);
	return 0;
}

/* The changed paths of an update, as a JSON array, while they stay few. */
#define FILES_MAX 2000
#define FILES_BYTES (48u << 10)

struct files_list {
	struct buf json;
	size_t n;
	int over;
};

static int add_path(const char *path, void *data)
{
	struct files_list *fl = data;

	if (++fl->n > FILES_MAX || fl->json.len + strlen(path) + 8 > FILES_BYTES) {
		fl->over = 1;
		return 1;	/* stop: tidegated then counts every path as changed */
	}
	buf_addch(&fl->json, fl->n == 1 ? '[' : ',');
	buf_add_json_str(&fl->json, path);
	return 0;
}

static int add_changed(const struct git_change *c, void *data)
{
	return add_path(c->path, data);
}

/*
 * The "files" member: every path the update changed (so tidegated skips
 * apps whose path saw no change), or nothing when they cannot all be
 * listed: a new branch, a deleted one, more than FILES_MAX, an error.
 */
static void changed_files(struct git_repo *repo, const struct hook_update *u, struct buf *out)
{
	struct files_list fl = { BUF_INIT(FILES_BYTES + 64), 0, 0 };

	if (git_is_zero_oid(u->old_oid) || git_is_zero_oid(u->new_oid))
		return;
	/* the gate's list when it left one, else git's */
	if ((changes_take(git_repo_dir(repo), u->old_oid, u->new_oid, add_path, &fl) != 0 &&
	     git_changed_paths(repo, u->old_oid, u->new_oid, add_changed, &fl) < 0) || fl.over ||
	    fl.json.toobig) {
		buf_release(&fl.json);
		return;
	}
	buf_addstr(out, ",\"files\":");
	if (fl.n)
		buf_addch(&fl.json, ']');
	buf_addstr(out, fl.n ? fl.json.data : "[]");
	buf_release(&fl.json);
}

static void event_body(struct buf *b, struct git_repo *repo, const char *repo_url,
		       const struct hook_update *u, const char *pusher)
{
	buf_addstr(b, "{\"repository\":{\"url\":");
	buf_add_json_str(b, repo_url);
	buf_addstr(b, "},\"ref\":");
	buf_add_json_str(b, u->ref);
	buf_addf(b, ",\"before\":\"%s\",\"after\":\"%s\",\"pusher\":", u->old_oid, u->new_oid);
	buf_add_json_str(b, pusher);
	changed_files(repo, u, b);
	buf_addch(b, '}');
}

static int sender_init(struct sender *s, struct git_repo *repo, long budget_ms)
{
	const char *secret_file = git_config_get(repo, "tidegate.webhookSecretFile");
	const char *spool = git_config_get(repo, "tidegate.spoolDir");
	const char *timeout = git_config_get(repo, "tidegate.webhookTimeout");

	memset(s, 0, sizeof(*s));
	s->request_ms = REQUEST_TIMEOUT_MS;
	if (timeout && (hook_parse_duration(timeout, &s->request_ms) < 0 || s->request_ms < 100)) {
		log_warnx("tidegate.webhookTimeout: bad duration '%s'; using %ld ms", timeout,
			  REQUEST_TIMEOUT_MS);
		s->request_ms = REQUEST_TIMEOUT_MS;
	}
	/* the push waits for at most one request's time in all */
	if (budget_ms == PUSH_BUDGET_MS)
		budget_ms = s->request_ms;
	s->url = git_config_get(repo, "tidegate.webhookUrl");
	s->spool_dir = spool && *spool ? xstrdup(spool) :
		       xstrfmt("%s/tidegate/spool", git_repo_dir(repo));
	s->deadline = monotonic_ms() + budget_ms;
	if (!s->url || !*s->url)
		return 1;	/* not configured: nothing to do */
	if (!secret_file || !*secret_file)
		return error("tidegate.webhookSecretFile is not set; events are not signed or sent");
	if (secret_read_file(&s->secret, secret_file) < 0)
		return -1;
	s->plain = !strncmp(s->url, "http://", 7);
	if (s->plain)
		return 0;
	s->cf = curl_open(s->why, sizeof(s->why));
	if (!s->cf)
		return error("%s", s->why);
	s->curl = s->cf->easy_init();
	if (!s->curl)
		return error("cannot start libcurl");
	return 0;
}

static void sender_release(struct sender *s)
{
	if (s->curl)
		s->cf->easy_cleanup(s->curl);
	curl_close(s->cf);
	secret_release(&s->secret);
	free(s->spool_dir);
}

static int post_receive(struct git_repo *repo, const struct hook_updates *u)
{
	struct sender s;
	char *pusher = hook_user();
	const char *url = git_config_get(repo, "tidegate.repoUrl");
	const char *repo_url = url && *url ? url : git_repo_dir(repo);
	size_t spooled = 0, left, nevents = 0;
	int r = sender_init(&s, repo, PUSH_BUDGET_MS);

	for (size_t i = 0; i < u->n; i++)
		if (!strncmp(u->v[i].ref, "refs/heads/", 11))
			nevents++;
	if (r != 0 || !nevents) {
		if (r < 0 && nevents)
			hook_log_replay(0);
		goto out;
	}
	/* older events first, so tidegated sees pushes in order */
	left = spool_flush(&s, 0);
	if (left)
		s.down = 1;
	for (size_t i = 0; i < u->n; i++) {
		struct buf body = BUF_INIT(EVENT_MAX);
		char id[33];

		if (strncmp(u->v[i].ref, "refs/heads/", 11))
			continue;
		event_body(&body, repo, repo_url, &u->v[i], pusher);
		if (body.toobig || new_delivery_id(id) < 0) {
			error("cannot build the event for %s", u->v[i].ref);
		} else if (s.down || (r = post_event(&s, id, body.data, body.len)) == SEND_RETRY) {
			if (spool_event(&s, id, body.data, body.len) == 0)
				spooled++;
			else
				hook_say(0, "tidegate: could not deliver or spool the event for %s",
					 u->v[i].ref);
		} else if (r == SEND_REJECTED) {
			hook_say(0, "tidegate: the webhook refused the event for %s (%s)",
				 u->v[i].ref, s.why);
		}
		buf_release(&body);
	}
	changes_prune(git_repo_dir(repo), CHANGES_MAX_AGE);
	hook_log_replay(0);
	if (spooled || left)
		hook_say(0, "tidegate: tidegated not reachable (%s); %zu event%s spooled, sent on "
			 "the next push or by `tidegate-post-receive --flush`",
			 s.why[0] ? s.why : "earlier events still spooled", spooled + left,
			 spooled + left == 1 ? "" : "s");
out:
	sender_release(&s);
	free(pusher);
	return 0;
}

static int flush_only(struct git_repo *repo)
{
	struct sender s;
	size_t left;
	int r = sender_init(&s, repo, FLUSH_BUDGET_MS);

	if (r != 0) {
		sender_release(&s);
		if (r > 0)
			error("tidegate.webhookUrl is not set");
		hook_log_replay(1);
		return 1;
	}
	left = spool_flush(&s, 1);
	hook_log_replay(0);
	if (left)
		fprintf(stderr, "%zu event%s still spooled in %s (%s)\n", left, left == 1 ? "" : "s",
			s.spool_dir, s.why);
	sender_release(&s);
	return left ? 1 : 0;
}

int main(int argc, char **argv)
{
	const char *git_dir = NULL;
	struct git_repo *repo;
	struct buf input = BUF_INIT(0);
	struct hook_updates u = HOOK_UPDATES_INIT;
	int flush = 0, ran, ret = 0;

	signal(SIGPIPE, SIG_IGN);
	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--version")) {
			printf("%s %s\n", PROG, TIDEGATE_VERSION);
			return 0;
		} else if (!strcmp(argv[i], "--flush")) {
			flush = 1;
		} else if (!strcmp(argv[i], "--git-dir") && i + 1 < argc) {
			git_dir = argv[++i];
		} else if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h")) {
			printf("usage: %s                  (as a git post-receive hook)\n"
			       "       %s --flush [--git-dir DIR]\n", PROG, PROG);
			return 0;
		} else {
			fprintf(stderr, "%s: unknown argument '%s'\n", PROG, argv[i]);
			return 2;
		}
	}
	hook_log_capture(PROG);
	if (!flush) {
		if (hook_read_input(&input) < 0)
			goto out;
		hook_run_chain(argv[0], "post-receive", &input, &ran);
	}
	if (git_dir) {
		repo = git_repo_open(git_dir);
		if (repo && git_config_load(repo, "tidegate.") < 0) {
			git_repo_free(repo);
			repo = NULL;
		}
	} else {
		repo = git_repo_open_hook("tidegate.");
	}
	if (!repo) {
		ret = 1;
	} else if (flush) {
		ret = flush_only(repo);
	} else if (hook_parse_updates(&input, git_oid_hexsz(repo), &u) == 0) {
		post_receive(repo, &u);
	}
	git_repo_free(repo);
out:
	hook_log_replay(0);
	hook_updates_release(&u);
	buf_release(&input);
	return flush ? ret : 0;
}
