/*
 * tidegated - receives push webhooks and applies the pushed commit.
 *
 *	tidegated -c FILE        run
 *	tidegated -n -c FILE     check the configuration and exit (0 ok, 1 not)
 *
 * The accept path is cheap and never waits on anything but the journal's
 * fsync: verify the signature, parse, route to apps, journal, answer 202.
 * Syncs (sync.h) run afterwards as child processes watched from the loop.
 * SIGHUP reloads the configuration and TLS certificate; SIGTERM stops
 * accepting, lets running syncs finish, and exits.
 */
#include "child.h"
#include "config.h"
#include "http.h"
#include "journal.h"
#include "log.h"
#include "metrics.h"
#include "provider.h"
#include "status.h"
#include "sync.h"
#include "url.h"
#include "xalloc.h"

#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <cjson/cJSON.h>
#include <curl/curl.h>
#include <event2/event.h>
#include <openssl/err.h>
#include <openssl/ssl.h>

struct old_config {
	struct config *cfg;
	struct old_config *next;
};

struct daemon {
	struct event_base *base;
	struct config *cfg;
	struct old_config *old;		/* replaced configs; running syncs may point into them */
	struct http_server *http;
	struct journal *journal;
	struct syncer *syncer;
	struct metrics *metrics;
	struct status_reporter *status;
	SSL_CTX *tls;
	char *config_path;
	char *default_tidegate;
	int ready, draining;
	int lock_fd;
	struct event *sig_term, *sig_int, *sig_hup;
};

/* A delivery waiting for its journal fsync. */
struct accepted {
	struct daemon *d;
	struct http_request *req;
	struct push_event ev;
	char ***apps;			/* per update: NULL-terminated app names */
	unsigned long long seq;
};

/* ------------------------------------------------------------ routing -- */

/* How logs and the journal name the repository of an event. */
static const char *ev_repo(const struct push_event *ev)
{
	if (ev->nrepo_urls)
		return ev->repo_urls[0];
	return ev->repo_name ? ev->repo_name : "";
}

/*
 * The keys (url_normalize) of the event's repository URLs, worked out once
 * for all apps; NULL-terminated, caller frees with free_keys().
 */
static char **repo_keys(const struct push_event *ev)
{
	char **keys = xcalloc(ev->nrepo_urls + 1, sizeof(*keys));
	struct buf key = BUF_INIT(16384);
	size_t i, n = 0;

	for (i = 0; i < ev->nrepo_urls; i++) {
		buf_reset(&key);
		if (!url_normalize(ev->repo_urls[i], &key))
			keys[n++] = xstrdup(key.data);
	}
	buf_release(&key);
	return keys;
}

static void free_keys(char **keys)
{
	char **k;

	for (k = keys; *k; k++)
		free(*k);
	free(keys);
}

static int repo_matches(const struct app_conf *a, const struct push_event *ev,
			char *const *keys)
{
	if (a->repo_name && ev->repo_name && !strcmp(a->repo_name, ev->repo_name))
		return 1;
	for (; *keys; keys++)
		if (!strcmp(*keys, a->repo_key))
			return 1;
	return 0;
}

static int ref_matches(const struct app_conf *a, const char *ref)
{
	if (!strncmp(ref, "refs/heads/", 11))
		return !strcmp(ref + 11, a->branch);
	if (!strncmp(ref, "refs/tags/", 10))
		return a->tags;
	return 0;
}

static int path_changed(const struct app_conf *a, const struct push_event *ev)
{
	size_t i, plen = strlen(a->path);

	if (!ev->files_known || !plen)
		return 1;
	for (i = 0; i < ev->nfiles; i++) {
		const char *f = ev->files[i];

		if (!strncmp(f, a->path, plen) && (f[plen] == '/' || f[plen] == '\0'))
			return 1;
	}
	return 0;
}

/* The apps update u concerns; NULL-terminated, caller frees the array. */
static char **route(const struct config *cfg, const struct push_event *ev,
		    char *const *keys, const struct ref_update *u)
{
	char **apps = xcalloc(cfg->napps + 1, sizeof(char *));
	size_t i, n = 0;

	for (i = 0; i < cfg->napps; i++) {
		const struct app_conf *a = &cfg->apps[i];

		if (!repo_matches(a, ev, keys) || !ref_matches(a, u->ref))
			continue;
		if (u->deleted) {
			log_fields(LOGL_INFO, "ref deleted; nothing to apply", "app", a->name,
				   "ref", u->ref, NULL);
			continue;
		}
		if (ev->nupdates == 1 && !path_changed(a, ev)) {
			log_fields(LOGL_INFO, "push changed nothing under the app's path; skipped",
				   "app", a->name, "ref", u->ref, "commit", u->after,
				   "path", a->path, NULL);
			continue;
		}
		apps[n++] = a->name;
	}
	return apps;
}

/* ------------------------------------------------------------- hooks -- */

static void event_json(const struct accepted *acc, struct buf *b)
{
	const struct push_event *ev = &acc->ev;
	size_t i, k;

	buf_addstr(b, "{\"provider\":");
	buf_add_json_str(b, provider_name(ev->provider));
	buf_addstr(b, ",\"delivery\":");
	if (ev->delivery)
		buf_add_json_str(b, ev->delivery);
	else
		buf_addstr(b, "null");
	buf_addstr(b, ",\"pusher\":");
	if (ev->pusher)
		buf_add_json_str(b, ev->pusher);
	else
		buf_addstr(b, "null");
	buf_addstr(b, ",\"repo\":");
	buf_add_json_str(b, ev_repo(ev));
	buf_addf(b, ",\"time\":%lld,\"updates\":[", (long long)time(NULL));
	for (i = 0; i < ev->nupdates; i++) {
		if (!acc->apps[i][0])
			continue;
		if (b->data[b->len - 1] != '[')
			buf_addch(b, ',');
		buf_addstr(b, "{\"ref\":");
		buf_add_json_str(b, ev->updates[i].ref);
		buf_addstr(b, ",\"before\":");
		buf_add_json_str(b, ev->updates[i].before);
		buf_addstr(b, ",\"after\":");
		buf_add_json_str(b, ev->updates[i].after);
		buf_addstr(b, ",\"apps\":[");
		for (k = 0; acc->apps[i][k]; k++) {
			if (k)
				buf_addch(b, ',');
			buf_add_json_str(b, acc->apps[i][k]);
		}
		buf_addstr(b, "]}");
	}
	buf_addstr(b, "]}");
}

static void accepted_free(struct accepted *acc)
{
	size_t i;

	if (acc->apps) {
		for (i = 0; i < acc->ev.nupdates; i++)
			free(acc->apps[i]);
		free(acc->apps);
	}
	push_event_release(&acc->ev);
	free(acc);
}

static void submit(struct daemon *d, unsigned long long seq, const char *app,
		   const char *provider, const char *delivery, const char *pusher,
		   const char *repo, const char *ref, const char *commit)
{
	struct sync_job job;

	job.seq = seq;
	job.ref = ref;
	job.commit = commit;
	job.delivery = delivery;
	job.provider = provider;
	job.pusher = pusher;
	job.repo_url = repo;
	syncer_submit(d->syncer, app, &job);
}

static void on_journaled(void *arg, int ok)
{
	struct accepted *acc = arg;
	struct daemon *d = acc->d;
	struct push_event *ev = &acc->ev;
	struct buf b = BUF_INIT(BUF_NOCAP);
	size_t i, k, napps = 0;

	if (!ok) {
		metrics_delivery(d->metrics, ev->provider, "error");
		http_reply_json(acc->req, 503, "error", "cannot record the event; try again");
		accepted_free(acc);
		return;
	}
	log_fields(LOGL_INFO, "push accepted", "provider", provider_name(ev->provider),
		   "delivery", ev->delivery ? ev->delivery : "", "repo", ev_repo(ev),
		   "ref", ev->updates[0].ref, "commit", ev->updates[0].after,
		   "pusher", ev->pusher ? ev->pusher : "", NULL);
	buf_addstr(&b, "{\"status\":\"accepted\",\"apps\":[");
	for (i = 0; i < ev->nupdates; i++) {
		for (k = 0; acc->apps[i][k]; k++) {
			submit(d, acc->seq, acc->apps[i][k], provider_name(ev->provider),
			       ev->delivery, ev->pusher, ev_repo(ev), ev->updates[i].ref,
			       ev->updates[i].after);
			if (napps++)
				buf_addch(&b, ',');
			buf_add_json_str(&b, acc->apps[i][k]);
		}
	}
	buf_addstr(&b, "]}\n");
	/* The syncs hold their own references now. */
	journal_unref(d->journal, acc->seq);
	metrics_delivery(d->metrics, ev->provider, "accepted");
	http_reply(acc->req, 202, "application/json", b.data, b.len);
	buf_release(&b);
	accepted_free(acc);
}

/* A redelivery is answered once the first copy is on disk, never before. */
static void on_duplicate(void *arg, int ok)
{
	struct accepted *acc = arg;
	enum provider p = acc->ev.provider;

	if (ok) {
		metrics_delivery(acc->d->metrics, p, "duplicate");
		log_fields(LOGL_INFO, "redelivery recognised; not applied again",
			   "provider", provider_name(p), "delivery", acc->ev.delivery, NULL);
		http_reply_json(acc->req, 200, "duplicate", "this delivery was accepted before");
	} else {
		metrics_delivery(acc->d->metrics, p, "error");
		http_reply_json(acc->req, 503, "error", "cannot record the event; try again");
	}
	accepted_free(acc);
}

static void handle_hook(struct daemon *d, struct http_request *req, enum provider p)
{
	const struct receiver *r = &d->cfg->receivers[p];
	const char *why = NULL;
	struct accepted *acc;
	char key[200], **keys;
	struct buf json = BUF_INIT(BUF_NOCAP);
	size_t i, matched = 0;

	if (!r->configured) {
		http_reply_json(req, 404, "error", "no receiver is configured for this provider");
		return;
	}
	if (d->draining) {
		http_reply_json(req, 503, "error", "shutting down; send again later");
		return;
	}
	switch (provider_verify(r, req, time(NULL), &why)) {
	case VERIFY_OK:
		break;
	default:
		metrics_delivery(d->metrics, p, "unauthorized");
		log_fields(LOGL_WARN, "delivery refused", "provider", provider_name(p),
			   "peer", req->peer, "reason", why, NULL);
		http_reply_json(req, 401, "unauthorized", why);
		return;
	}
	acc = xcalloc(1, sizeof(*acc));
	acc->d = d;
	acc->req = req;
	if (provider_parse(p, req, &acc->ev, &why) < 0) {
		metrics_delivery(d->metrics, p, "bad_request");
		log_fields(LOGL_WARN, "delivery not understood", "provider", provider_name(p),
			   "peer", req->peer, "reason", why, NULL);
		http_reply_json(req, 400, "bad_request", why);
		accepted_free(acc);
		return;
	}
	if (acc->ev.kind == EVENT_PING) {
		metrics_delivery(d->metrics, p, "ping");
		http_reply_json(req, 200, "pong", NULL);
		accepted_free(acc);
		return;
	}
	if (acc->ev.kind == EVENT_OTHER) {
		metrics_delivery(d->metrics, p, "ignored");
		http_reply_json(req, 200, "ignored", "not a push event");
		accepted_free(acc);
		return;
	}
	key[0] = '\0';
	if (acc->ev.delivery) {
		snprintf(key, sizeof(key), "%s:%s", provider_name(p), acc->ev.delivery);
		switch (journal_seen_wait(d->journal, key, on_duplicate, acc)) {
		case JOURNAL_UNSEEN:
			break;
		case JOURNAL_DURABLE:
			on_duplicate(acc, 1);
			return;
		case JOURNAL_WRITING:
			return;		/* on_duplicate() answers */
		}
	}
	acc->apps = xcalloc(acc->ev.nupdates, sizeof(char **));
	keys = repo_keys(&acc->ev);
	for (i = 0; i < acc->ev.nupdates; i++) {
		size_t k;

		/* App names point into the config, which outlives a reload (d->old). */
		acc->apps[i] = route(d->cfg, &acc->ev, keys, &acc->ev.updates[i]);
		for (k = 0; acc->apps[i][k]; k++)
			matched++;
	}
	free_keys(keys);
	if (!matched) {
		metrics_delivery(d->metrics, p, "ignored");
		log_fields(LOGL_INFO, "push concerns no app", "provider", provider_name(p),
			   "repo", ev_repo(&acc->ev), "ref", acc->ev.updates[0].ref, NULL);
		http_reply_json(req, 200, "ignored", "no app follows this repository and ref");
		accepted_free(acc);
		return;
	}
	event_json(acc, &json);
	acc->seq = journal_append(d->journal, key[0] ? key : NULL, json.data, on_journaled, acc);
	buf_release(&json);
}

/* ----------------------------------------------------------- requests -- */

static void reply_metrics(struct daemon *d, struct http_request *req)
{
	struct buf b = BUF_INIT(BUF_NOCAP);
	struct metrics_gauges g;

	g.queue_depth = syncer_queue_depth(d->syncer);
	g.journal_pending = journal_pending(d->journal);
	g.connections = http_server_connections(d->http);
	g.syncs_running = syncer_running(d->syncer);
	metrics_render(d->metrics, &g, &b);
	http_reply(req, 200, "text/plain; version=0.0.4", b.data, b.len);
	buf_release(&b);
}

static void on_request(struct http_request *req, void *arg)
{
	struct daemon *d = arg;
	enum provider p;

	if (!strncmp(req->path, "/hooks/", 7)) {
		if (provider_parse_name(req->path + 7, &p) < 0) {
			http_reply_json(req, 404, "error", "unknown provider");
			return;
		}
		if (strcmp(req->method, "POST")) {
			http_reply_json(req, 405, "error", "webhooks are POSTed");
			return;
		}
		handle_hook(d, req, p);
		return;
	}
	if (strcmp(req->method, "GET") && strcmp(req->method, "HEAD")) {
		http_reply_json(req, 405, "error", "method not allowed");
		return;
	}
	if (!strcmp(req->path, "/healthz")) {
		http_reply(req, 200, "text/plain", "ok\n", 3);
	} else if (!strcmp(req->path, "/readyz")) {
		if (d->ready && !d->draining)
			http_reply(req, 200, "text/plain", "ready\n", 6);
		else
			http_reply(req, 503, "text/plain", "not ready\n", 10);
	} else if (!strcmp(req->path, "/metrics")) {
		reply_metrics(d, req);
	} else {
		http_reply_json(req, 404, "error", "not found");
	}
}

/* ------------------------------------------------------------- replay -- */

static void replay_event(unsigned long long seq, const cJSON *ev, void *arg)
{
	struct daemon *d = arg;
	const cJSON *updates = cJSON_GetObjectItemCaseSensitive(ev, "updates"), *u, *app;
	const cJSON *prov = cJSON_GetObjectItemCaseSensitive(ev, "provider");
	const cJSON *deliv = cJSON_GetObjectItemCaseSensitive(ev, "delivery");
	const cJSON *pusher = cJSON_GetObjectItemCaseSensitive(ev, "pusher");
	const cJSON *repo = cJSON_GetObjectItemCaseSensitive(ev, "repo");

	cJSON_ArrayForEach(u, updates) {
		const cJSON *ref = cJSON_GetObjectItemCaseSensitive(u, "ref");
		const cJSON *after = cJSON_GetObjectItemCaseSensitive(u, "after");

		if (!cJSON_IsString(ref) || !cJSON_IsString(after))
			continue;
		cJSON_ArrayForEach(app, cJSON_GetObjectItemCaseSensitive(u, "apps")) {
			if (!cJSON_IsString(app))
				continue;
			if (!config_find_app(d->cfg, app->valuestring)) {
				log_fields(LOGL_WARN, "journaled push for an app no longer configured",
					   "app", app->valuestring, NULL);
				continue;
			}
			log_fields(LOGL_INFO, "resuming a journaled push", "app", app->valuestring,
				   "commit", after->valuestring, NULL);
			submit(d, seq, app->valuestring,
			       cJSON_IsString(prov) ? prov->valuestring : "unknown",
			       cJSON_IsString(deliv) ? deliv->valuestring : NULL,
			       cJSON_IsString(pusher) ? pusher->valuestring : NULL,
			       cJSON_IsString(repo) ? repo->valuestring : NULL,
			       ref->valuestring, after->valuestring);
		}
	}
}

/* --------------------------------------------------------------- TLS -- */

static SSL_CTX *tls_load(const char *cert, const char *key)
{
	SSL_CTX *ctx = SSL_CTX_new(TLS_server_method());
	char err[256];

	if (!ctx) {
		error("cannot create a TLS context");
		return NULL;
	}
	SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION);
	SSL_CTX_set_options(ctx, SSL_OP_NO_RENEGOTIATION | SSL_OP_CIPHER_SERVER_PREFERENCE);
	if (SSL_CTX_use_certificate_chain_file(ctx, cert) != 1) {
		ERR_error_string_n(ERR_get_error(), err, sizeof(err));
		error("tls.cert: cannot load '%s': %s", cert, err);
		SSL_CTX_free(ctx);
		return NULL;
	}
	if (SSL_CTX_use_PrivateKey_file(ctx, key, SSL_FILETYPE_PEM) != 1 ||
	    SSL_CTX_check_private_key(ctx) != 1) {
		ERR_error_string_n(ERR_get_error(), err, sizeof(err));
		error("tls.key: cannot use '%s': %s", key, err);
		SSL_CTX_free(ctx);
		return NULL;
	}
	return ctx;
}

/* ------------------------------------------------------------ signals -- */

static void http_limits_from(const struct config *c, struct http_limits *lim)
{
	lim->max_body = c->max_body;
	lim->max_headers = c->max_headers;
	lim->request_timeout_ms = c->request_timeout_ms;
	lim->max_connections = c->max_connections;
}

static void reload(struct daemon *d)
{
	struct config *c = xcalloc(1, sizeof(*c));
	struct old_config *o;
	struct http_limits lim;
	SSL_CTX *tls = NULL;

	log_info("reloading the configuration from '%s'", d->config_path);
	if (config_load(c, d->config_path, d->default_tidegate) < 0) {
		log_warnx("reload failed; keeping the running configuration");
		config_release(c);
		free(c);
		return;
	}
	if (c->tls_cert && !(tls = tls_load(c->tls_cert, c->tls_key))) {
		log_warnx("reload failed; keeping the running configuration");
		config_release(c);
		free(c);
		return;
	}
	if (strcmp(c->listen, d->cfg->listen) || !!c->tls_cert != !!d->cfg->tls_cert)
		log_warnx("listen and tls on/off take effect at the next start");
	if (strcmp(c->state_dir, d->cfg->state_dir))
		log_warnx("state_dir takes effect at the next start");
	if (tls || d->tls) {
		http_server_set_tls(d->http, tls ? tls : d->tls);
		if (tls) {
			if (d->tls)
				SSL_CTX_free(d->tls);
			d->tls = tls;
		}
	}
	http_limits_from(c, &lim);
	http_server_set_limits(d->http, &lim);
	log_set_level((enum log_level)c->log_level);
	/* Running syncs may still point into the old configuration: keep it. */
	o = xcalloc(1, sizeof(*o));
	o->cfg = d->cfg;
	o->next = d->old;
	d->old = o;
	d->cfg = c;
	syncer_set_config(d->syncer, c);
	log_info("configuration reloaded: %zu receivers' secrets, %zu apps", (size_t)PROV__COUNT,
		 c->napps);
}

static void drained_check(evutil_socket_t fd, short what, void *arg)
{
	struct daemon *d = arg;
	static int waited;

	(void)fd;
	(void)what;
	/* Commit statuses still on their way get up to their own 10 s deadline. */
	if (status_in_flight(d->status) && waited++ < 110) {
		struct timeval tv = { 0, 100000 };

		event_base_once(d->base, -1, EV_TIMEOUT, drained_check, d, &tv);
		return;
	}
	log_info("running syncs finished; exiting");
	event_base_loopexit(d->base, NULL);
}

static void drained(void *arg)
{
	drained_check(-1, 0, arg);
}

static void on_signal(evutil_socket_t sig, short what, void *arg)
{
	struct daemon *d = arg;

	(void)what;
	if (sig == SIGHUP) {
		reload(d);
		return;
	}
	if (d->draining) {
		log_warnx("second signal; exiting now (journaled pushes resume at the next start)");
		event_base_loopexit(d->base, NULL);
		return;
	}
	log_info("stopping: no new connections; waiting for %zu running syncs",
		 syncer_running(d->syncer));
	d->draining = 1;
	http_server_stop_accepting(d->http);
	journal_flush(d->journal);
	syncer_drain(d->syncer, drained, d);
}

/* --------------------------------------------------------------- main -- */

static char *default_tidegate_path(void)
{
	char self[PATH_MAX];
	ssize_t n = readlink("/proc/self/exe", self, sizeof(self) - 1);
	char *slash;

	if (n <= 0)
		return xstrdup("tidegate");
	self[n] = '\0';
	slash = strrchr(self, '/');
	if (!slash)
		return xstrdup("tidegate");
	*slash = '\0';
	return xstrfmt("%s/tidegate", self);
}

static int mkdir_p(const char *path)
{
	char *p = xstrdup(path), *s;
	int ret = 0;

	for (s = p + 1; *s; s++) {
		if (*s != '/')
			continue;
		*s = '\0';
		if (mkdir(p, 0750) < 0 && errno != EEXIST)
			ret = -1;
		*s = '/';
	}
	if (mkdir(p, 0750) < 0 && errno != EEXIST)
		ret = -1;
	free(p);
	return ret;
}

/* One tidegated per state_dir: two would interleave one journal. */
static int lock_state_dir(struct daemon *d)
{
	char *path = xstrfmt("%s/lock", d->cfg->state_dir);

	d->lock_fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0640);
	if (d->lock_fd < 0) {
		error_errno("cannot open '%s'", path);
		free(path);
		return -1;
	}
	if (flock(d->lock_fd, LOCK_EX | LOCK_NB) < 0) {
		error("another tidegated is using state_dir '%s'", d->cfg->state_dir);
		free(path);
		return -1;
	}
	free(path);
	return 0;
}

static void usage(FILE *f)
{
	fprintf(f, "usage: tidegated -c FILE [-n] [-d]\n"
		"  -c FILE   configuration (YAML; see docs/webhooks.md)\n"
		"  -n        check the configuration and exit\n"
		"  -d        debug logging\n");
}

static int run_daemon(struct daemon *d)
{
	struct http_limits lim;
	int ret = 1;

	signal(SIGPIPE, SIG_IGN);
	d->base = event_base_new();
	if (!d->base)
		return error("cannot create the event loop");
	if (child_init(d->base) < 0)
		goto out;
	if (mkdir_p(d->cfg->state_dir) < 0) {
		error_errno("cannot create state_dir '%s'", d->cfg->state_dir);
		goto out;
	}
	if (d->cfg->tls_cert && !(d->tls = tls_load(d->cfg->tls_cert, d->cfg->tls_key)))
		goto out;
	if (lock_state_dir(d) < 0)
		goto out;
	d->journal = journal_open(d->base, d->cfg->state_dir, d->cfg->dedup_max);
	if (!d->journal)
		goto out;
	d->metrics = metrics_new();
	d->syncer = syncer_new(d->base, d->cfg, d->journal, d->metrics);
	d->status = status_new(d->base);
	syncer_set_status(d->syncer, d->status);
	http_limits_from(d->cfg, &lim);
	d->http = http_server_new(d->base, &lim, d->tls, on_request, d);
	if (http_server_listen(d->http, d->cfg->listen_host, d->cfg->listen_port) < 0)
		goto out;
	d->sig_term = evsignal_new(d->base, SIGTERM, on_signal, d);
	d->sig_int = evsignal_new(d->base, SIGINT, on_signal, d);
	d->sig_hup = evsignal_new(d->base, SIGHUP, on_signal, d);
	evsignal_add(d->sig_term, NULL);
	evsignal_add(d->sig_int, NULL);
	evsignal_add(d->sig_hup, NULL);
	{
		char port[16];

		snprintf(port, sizeof(port), "%d", http_server_port(d->http));
		log_fields(LOGL_INFO, "listening", "address", d->cfg->listen_host, "port", port,
			   "tls", d->tls ? "on" : "off", NULL);
	}
	journal_replay(d->journal, replay_event, d);
	d->ready = 1;
	event_base_dispatch(d->base);
	ret = 0;
out:
	if (d->journal)
		journal_flush(d->journal);
	http_server_free(d->http);
	syncer_free(d->syncer);
	status_free(d->status);
	journal_free(d->journal);
	metrics_free(d->metrics);
	if (d->tls)
		SSL_CTX_free(d->tls);
	if (d->sig_term)
		event_free(d->sig_term);
	if (d->sig_int)
		event_free(d->sig_int);
	if (d->sig_hup)
		event_free(d->sig_hup);
	child_shutdown();
	event_base_free(d->base);
	if (d->lock_fd > 0)
		close(d->lock_fd);
	return ret;
}

int main(int argc, char **argv)
{
	struct daemon d;
	const char *config = NULL;
	int check = 0, debug = 0, opt, ret;

	log_init("tidegated", LOGL_INFO, LOG_FORMAT_AUTO);
	if (argc > 1 && !strcmp(argv[1], "--version")) {
		printf("tidegated %s\n", TIDEGATE_VERSION);
		return 0;
	}
	if (argc > 1 && (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h"))) {
		usage(stdout);
		return 0;
	}
	while ((opt = getopt(argc, argv, "c:nd")) != -1) {
		switch (opt) {
		case 'c':
			config = optarg;
			break;
		case 'n':
			check = 1;
			break;
		case 'd':
			debug = 1;
			break;
		default:
			usage(stderr);
			return 2;
		}
	}
	if (!config || optind != argc) {
		usage(stderr);
		return 2;
	}
	memset(&d, 0, sizeof(d));
	d.config_path = xstrdup(config);
	d.default_tidegate = default_tidegate_path();
	d.cfg = xcalloc(1, sizeof(*d.cfg));
	if (config_load(d.cfg, config, d.default_tidegate) < 0) {
		ret = 1;
		goto out;
	}
	log_set_level(debug ? LOGL_DEBUG : (enum log_level)d.cfg->log_level);
	if (check) {
		SSL_CTX *tls = NULL;

		if (d.cfg->tls_cert && !(tls = tls_load(d.cfg->tls_cert, d.cfg->tls_key))) {
			ret = 1;
			goto out;
		}
		if (tls)
			SSL_CTX_free(tls);
		printf("%s: configuration OK (%zu apps)\n", config, d.cfg->napps);
		ret = 0;
		goto out;
	}
	curl_global_init(CURL_GLOBAL_DEFAULT);
	ret = run_daemon(&d);
	curl_global_cleanup();
out:
	config_release(d.cfg);
	free(d.cfg);
	while (d.old) {
		struct old_config *o = d.old;

		d.old = o->next;
		config_release(o->cfg);
		free(o->cfg);
		free(o);
	}
	free(d.config_path);
	free(d.default_tidegate);
	return ret;
}
