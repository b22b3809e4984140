#include "status.h"
#include "buf.h"
#include "config.h"
#include "hmac.h"
#include "log.h"
#include "xalloc.h"

#include <stdlib.h>
#include <string.h>

#include <curl/curl.h>
#include <event2/event.h>
#include <openssl/crypto.h>

#define STATUS_TIMEOUT_MS 10000L
#define STATUS_MAX_IN_FLIGHT 256

/* One request. */
struct sreq {
	struct sreq *prev, *next;
	CURL *easy;
	struct curl_slist *headers;
	char *body;
	char *what;		/* "app@sha state", for the log */
	char *app;		/* statuses of one app are sent one after another */
	int started;		/* handed to curl (else parked behind the app's previous one) */
	struct buf answer;
	char errbuf[CURL_ERROR_SIZE];
};

struct status_reporter {
	struct event_base *base;
	CURLM *multi;
	struct event *timer;
	size_t in_flight;
	struct sreq *reqs;
};

/* Detaches r from the multi handle and frees it, wiping the token header. */
static void sreq_free(struct status_reporter *s, struct sreq *r)
{
	struct curl_slist *h;

	if (r->prev)
		r->prev->next = r->next;
	else
		s->reqs = r->next;
	if (r->next)
		r->next->prev = r->prev;
	curl_multi_remove_handle(s->multi, r->easy);
	curl_easy_cleanup(r->easy);
	for (h = r->headers; h; h = h->next)
		OPENSSL_cleanse(h->data, strlen(h->data));
	curl_slist_free_all(r->headers);
	free(r->body);
	free(r->what);
	free(r->app);
	buf_release(&r->answer);
	free(r);
	s->in_flight--;
}

/* One socket curl asked us to watch. */
struct ssock {
	struct event *ev;
	curl_socket_t fd;
};

/*
 * A provider keeps the status it received last: "pending" arriving after
 * "success" would leave the commit pending. So an app's statuses go out
 * in order, each after the one before it has been answered.
 */
static void sreq_start(struct status_reporter *s, struct sreq *r)
{
	r->started = 1;
	if (curl_multi_add_handle(s->multi, r->easy) != CURLM_OK)
		sreq_free(s, r);
}

static int app_busy(const struct status_reporter *s, const char *app)
{
	const struct sreq *r;

	for (r = s->reqs; r; r = r->next)
		if (r->started && !strcmp(r->app, app))
			return 1;
	return 0;
}

/* Starts the oldest parked status of app (the list holds the newest first). */
static void start_parked(struct status_reporter *s, const char *app)
{
	struct sreq *r, *oldest = NULL;

	for (r = s->reqs; r; r = r->next)
		if (!r->started && !strcmp(r->app, app))
			oldest = r;
	if (oldest)
		sreq_start(s, oldest);
}

static void check_done(struct status_reporter *s)
{
	CURLMsg *msg;
	int left;

	while ((msg = curl_multi_info_read(s->multi, &left))) {
		struct sreq *r = NULL;
		long code = 0;

		if (msg->msg != CURLMSG_DONE)
			continue;
		curl_easy_getinfo(msg->easy_handle, CURLINFO_PRIVATE, (char **)&r);
		curl_easy_getinfo(msg->easy_handle, CURLINFO_RESPONSE_CODE, &code);
		if (msg->data.result != CURLE_OK)
			log_fields(LOGL_WARN, "commit status not sent", "status", r->what,
				   "error", r->errbuf[0] ? r->errbuf :
				   curl_easy_strerror(msg->data.result), NULL);
		else if (code < 200 || code > 299) {
			char c[16];

			snprintf(c, sizeof(c), "%ld", code);
			log_fields(LOGL_WARN, "commit status refused", "status", r->what,
				   "http_status", c, NULL);
		} else {
			log_fields(LOGL_DEBUG, "commit status sent", "status", r->what, NULL);
		}
		{
			char *app = xstrdup(r->app);

			sreq_free(s, r);
			start_parked(s, app);
			free(app);
		}
	}
}

static void on_socket_event(evutil_socket_t fd, short what, void *arg)
{
	struct status_reporter *s = arg;
	int running, flags = 0;

	if (what & EV_READ)
		flags |= CURL_CSELECT_IN;
	if (what & EV_WRITE)
		flags |= CURL_CSELECT_OUT;
	curl_multi_socket_action(s->multi, fd, flags, &running);
	check_done(s);
}

static void on_timer(evutil_socket_t fd, short what, void *arg)
{
	struct status_reporter *s = arg;
	int running;

	(void)fd;
	(void)what;
	curl_multi_socket_action(s->multi, CURL_SOCKET_TIMEOUT, 0, &running);
	check_done(s);
}

static int socket_cb(CURL *easy, curl_socket_t fd, int what, void *userp, void *socketp)
{
	struct status_reporter *s = userp;
	struct ssock *sk = socketp;
	short kind;

	(void)easy;
	if (what == CURL_POLL_REMOVE) {
		if (sk) {
			event_free(sk->ev);
			free(sk);
		}
		curl_multi_assign(s->multi, fd, NULL);
		return 0;
	}
	kind = EV_PERSIST | ((what & CURL_POLL_IN) ? EV_READ : 0) |
	       ((what & CURL_POLL_OUT) ? EV_WRITE : 0);
	if (!sk) {
		sk = xcalloc(1, sizeof(*sk));
		sk->fd = fd;
		curl_multi_assign(s->multi, fd, sk);
	} else {
		event_free(sk->ev);
	}
	sk->ev = event_new(s->base, fd, kind, on_socket_event, s);
	event_add(sk->ev, NULL);
	return 0;
}

static int timer_cb(CURLM *multi, long timeout_ms, void *userp)
{
	struct status_reporter *s = userp;
	struct timeval tv;

	(void)multi;
	if (timeout_ms < 0) {
		evtimer_del(s->timer);
		return 0;
	}
	tv.tv_sec = timeout_ms / 1000;
	tv.tv_usec = (timeout_ms % 1000) * 1000;
	evtimer_add(s->timer, &tv);
	return 0;
}

static size_t write_cb(char *ptr, size_t size, size_t nmemb, void *userp)
{
	struct sreq *r = userp;

	/* The answer is only kept for debugging; past the cap it is dropped. */
	buf_add(&r->answer, ptr, size * nmemb);
	return size * nmemb;
}

struct status_reporter *status_new(struct event_base *base)
{
	struct status_reporter *s = xcalloc(1, sizeof(*s));

	s->base = base;
	s->multi = curl_multi_init();
	s->timer = evtimer_new(base, on_timer, s);
	curl_multi_setopt(s->multi, CURLMOPT_SOCKETFUNCTION, socket_cb);
	curl_multi_setopt(s->multi, CURLMOPT_SOCKETDATA, s);
	curl_multi_setopt(s->multi, CURLMOPT_TIMERFUNCTION, timer_cb);
	curl_multi_setopt(s->multi, CURLMOPT_TIMERDATA, s);
	return s;
}

void status_free(struct status_reporter *s)
{
	if (!s)
		return;
	/* Requests still in flight are abandoned. */
	while (s->reqs)
		sreq_free(s, s->reqs);
	curl_multi_cleanup(s->multi);
	event_free(s->timer);
	free(s);
}

size_t status_in_flight(const struct status_reporter *s)
{
	return s->in_flight;
}

static const char *state_word(enum provider p, enum commit_state st)
{
	if (p == PROV_BITBUCKET)
		return st == STATE_PENDING ? "INPROGRESS" : st == STATE_SUCCESS ? "SUCCESSFUL"
									: "FAILED";
	switch (st) {
	case STATE_PENDING:
		return p == PROV_GITLAB ? "running" : "pending";
	case STATE_SUCCESS:
		return "success";
	default:
		return p == PROV_GITLAB ? "failed" : "failure";
	}
}

static char *escape(CURL *easy, const char *s)
{
	char *e = curl_easy_escape(easy, s, 0);
	char *copy = xstrdup(e ? e : "");

	curl_free(e);
	return copy;
}

void status_post(struct status_reporter *s, const struct status_conf *conf, const char *app,
		 const char *sha, enum commit_state state, const char *description)
{
	struct secret tok = SECRET_INIT;
	struct buf url = BUF_INIT(8192), body = BUF_INIT(8192), auth = BUF_INIT(8192);
	char context[128], desc[141];
	struct sreq *r;
	CURL *easy;

	if (!conf || s->in_flight >= STATUS_MAX_IN_FLIGHT)
		return;
	if (secret_read_file(&tok, conf->token_file) < 0) {
		log_fields(LOGL_WARN, "commit status not sent: cannot read its token_file", "app",
			   app, NULL);
		return;
	}
	easy = curl_easy_init();
	if (!easy) {
		secret_release(&tok);
		return;
	}
	r = xcalloc(1, sizeof(*r));
	buf_init(&r->answer, 64 * 1024);
	r->easy = easy;
	r->what = xstrfmt("%s@%.12s %s", app, sha, state_word(conf->provider, state));
	r->app = xstrdup(app);
	snprintf(context, sizeof(context), "tidegate/%s", app);
	/* Providers cap descriptions at 140 characters. */
	snprintf(desc, sizeof(desc), "%s", description ? description : "");

	switch (conf->provider) {
	case PROV_GITLAB: {
		char *proj = escape(easy, conf->repo), *name = escape(easy, context);
		char *d = escape(easy, desc);

		buf_addf(&url, "%s/api/v4/projects/%s/statuses/%s?state=%s&name=%s&description=%s",
			 conf->api_url, proj, sha, state_word(conf->provider, state), name, d);
		if (conf->target_url) {
			char *t = escape(easy, conf->target_url);

			buf_addf(&url, "&target_url=%s", t);
			free(t);
		}
		free(proj);
		free(name);
		free(d);
		buf_addstr(&auth, "PRIVATE-TOKEN: ");
		break;
	}
	case PROV_BITBUCKET:
		buf_addf(&url, "%s/2.0/repositories/%s/commit/%s/statuses/build", conf->api_url,
			 conf->repo, sha);
		buf_addstr(&auth, "Authorization: Bearer ");
		break;
	case PROV_GITEA:
		buf_addf(&url, "%s/api/v1/repos/%s/statuses/%s", conf->api_url, conf->repo, sha);
		buf_addstr(&auth, "Authorization: token ");
		break;
	default:
		buf_addf(&url, "%s/repos/%s/statuses/%s", conf->api_url, conf->repo, sha);
		buf_addstr(&auth, "Authorization: Bearer ");
		break;
	}
	buf_add(&auth, tok.data, tok.len);
	secret_release(&tok);
	if (conf->provider != PROV_GITLAB) {
		/* Bitbucket: the key names the status (one with the same key replaces it) */
		int bb = conf->provider == PROV_BITBUCKET;

		buf_addstr(&body, "{\"state\":");
		buf_add_json_str(&body, state_word(conf->provider, state));
		buf_addstr(&body, bb ? ",\"key\":" : ",\"context\":");
		buf_add_json_str(&body, context);
		if (bb) {
			buf_addstr(&body, ",\"name\":");
			buf_add_json_str(&body, context);
		}
		buf_addstr(&body, ",\"description\":");
		buf_add_json_str(&body, desc);
		if (conf->target_url) {	/* always there for Bitbucket (config.c) */
			buf_addstr(&body, bb ? ",\"url\":" : ",\"target_url\":");
			buf_add_json_str(&body, conf->target_url);
		}
		buf_addstr(&body, "}");
	}
	r->body = buf_detach(&body, NULL);
	r->headers = curl_slist_append(NULL, auth.data);
	OPENSSL_cleanse(auth.data, auth.len);
	buf_release(&auth);
	r->headers = curl_slist_append(r->headers, "Content-Type: application/json");
	r->headers = curl_slist_append(r->headers, "Accept: application/json");
	if (conf->provider == PROV_GITHUB)
		r->headers = curl_slist_append(r->headers, "X-GitHub-Api-Version: 2022-11-28");

	curl_easy_setopt(easy, CURLOPT_URL, url.data);
	curl_easy_setopt(easy, CURLOPT_POST, 1L);
	curl_easy_setopt(easy, CURLOPT_POSTFIELDS, r->body);
	curl_easy_setopt(easy, CURLOPT_HTTPHEADER, r->headers);
	curl_easy_setopt(easy, CURLOPT_USERAGENT, "tidegated/" TIDEGATE_VERSION);
	curl_easy_setopt(easy, CURLOPT_TIMEOUT_MS, STATUS_TIMEOUT_MS);
	curl_easy_setopt(easy, CURLOPT_CONNECTTIMEOUT_MS, 5000L);
	curl_easy_setopt(easy, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(easy, CURLOPT_PROTOCOLS_STR, "http,https");
	curl_easy_setopt(easy, CURLOPT_FOLLOWLOCATION, 0L);
	curl_easy_setopt(easy, CURLOPT_WRITEFUNCTION, write_cb);
	curl_easy_setopt(easy, CURLOPT_WRITEDATA, r);
	curl_easy_setopt(easy, CURLOPT_ERRORBUFFER, r->errbuf);
	curl_easy_setopt(easy, CURLOPT_PRIVATE, r);
	buf_release(&url);
	r->next = s->reqs;
	if (s->reqs)
		s->reqs->prev = r;
	s->reqs = r;
	s->in_flight++;
	if (!app_busy(s, app))
		sreq_start(s, r);
}
