#include "kube.h"
#include "log.h"
#include "spawn.h"
#include "xalloc.h"

#include <cjson/cJSON.h>
#include <curl/curl.h>
#include <openssl/crypto.h>
#include <stdlib.h>
#include <string.h>

#define DEFAULT_CONCURRENCY 32
#define DEFAULT_TIMEOUT_MS 30000
#define DEFAULT_CONNECT_TIMEOUT_MS 10000
#define DEFAULT_ATTEMPTS 6
#define DEFAULT_MAX_RESPONSE (64u << 20)
#define BACKOFF_BASE_MS 250
#define BACKOFF_MAX_MS 4000
#define RETRY_AFTER_MAX_S 30
#define POLL_MAX_MS 5

enum req_state {
	RS_NEW,
	RS_RUNNING,
	RS_WAITING,	/* waiting to be retried */
	RS_DONE,
};

struct kube_request_priv {
	CURL *easy;
	struct curl_slist *hdrs;
	char *url;
	long long not_before;
	long long started_ms;		/* of this attempt, for TIDEGATE_HTTP_TRACE */
	enum req_state state;
	int retried_401;
	char errbuf[CURL_ERROR_SIZE];
};

struct kube_client {
	struct kubeconfig *kc;
	CURLM *multi;
	struct kube_client_options o;
	char *ua;
	char *url_base;		/* server, or https://tls-server-name:port */
	struct curl_slist *connect_to;
	void (*progress)(void *arg, size_t done, size_t n);
	void *progress_arg;
	int trace;		/* TIDEGATE_HTTP_TRACE set: each answer's time on stderr */
};

/* ------------------------------------------------------------- requests */

struct kube_request *kube_request_new(const char *method, const char *path)
{
	struct kube_request *r = xcalloc(1, sizeof(*r));

	r->method = xstrdup(method);
	r->path = xstrdup(path);
	buf_init(&r->resp, DEFAULT_MAX_RESPONSE);
	r->priv = xcalloc(1, sizeof(*r->priv));
	return r;
}

void kube_request_set_body(struct kube_request *r, char *body, size_t len, const char *content_type)
{
	free(r->body);
	r->body = body;
	r->body_len = len;
	r->content_type = content_type;
}

static void request_drop_easy(struct kube_request *r)
{
	if (r->priv->easy)
		curl_easy_cleanup(r->priv->easy);
	r->priv->easy = NULL;
	curl_slist_free_all(r->priv->hdrs);
	r->priv->hdrs = NULL;
	free(r->priv->url);
	r->priv->url = NULL;
}

void kube_request_reset(struct kube_request *r)
{
	request_drop_easy(r);
	r->status = 0;
	buf_release(&r->resp);
	free(r->etag);
	r->etag = NULL;
	free(r->error);
	r->error = NULL;
	r->attempts = 0;
	r->priv->state = RS_NEW;
	r->priv->not_before = 0;
	r->priv->retried_401 = 0;
}

void kube_request_free(struct kube_request *r)
{
	if (!r)
		return;
	request_drop_easy(r);
	free(r->method);
	free(r->path);
	free(r->body);
	free(r->if_none_match);
	buf_release(&r->resp);
	free(r->etag);
	free(r->error);
	free(r->priv);
	free(r);
}

void buf_add_urlenc(struct buf *b, const char *s)
{
	static const char hex[] = "0123456789ABCDEF";

	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;

		if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
		    c == '-' || c == '.' || c == '_' || c == '~') {
			buf_addch(b, c);
		} else {
			buf_addch(b, '%');
			buf_addch(b, hex[c >> 4]);
			buf_addch(b, hex[c & 15]);
		}
	}
}

static char *status_field(const struct kube_request *r, const char *field)
{
	cJSON *doc;
	const char *kind, *v;
	char *out = NULL;

	if (!r->resp.len)
		return NULL;
	doc = cJSON_ParseWithLength(r->resp.data, r->resp.len);
	if (!doc)
		return NULL;
	kind = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(doc, "kind"));
	v = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(doc, field));
	if (kind && !strcmp(kind, "Status") && v && *v)
		out = xstrdup(v);
	cJSON_Delete(doc);
	return out;
}

char *kube_request_message(const struct kube_request *r)
{
	char *m;

	if (!r->status)
		return xstrdup(r->error ? r->error : "no answer from the server");
	m = status_field(r, "message");
	if (m)
		return m;
	if (r->resp.len) {
		size_t n = r->resp.len > 200 ? 200 : r->resp.len;
		char *s = xstrndup(r->resp.data, n), *p;

		for (p = s; *p; p++)
			if (*p == '\n' || *p == '\r')
				*p = ' ';
		m = xstrfmt("HTTP %ld: %s", r->status, s);
		free(s);
		return m;
	}
	return xstrfmt("HTTP %ld", r->status);
}

char *kube_request_reason(const struct kube_request *r)
{
	return status_field(r, "reason");
}

/* --------------------------------------------------------------- client */

struct kube_client *kube_client_new(struct kubeconfig *kc, const struct kube_client_options *opts)
{
	struct kube_client *c;
	static const struct kube_client_options defaults = KUBE_CLIENT_OPTIONS_INIT;

	if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
		error("cannot initialize libcurl");
		return NULL;
	}
	c = xcalloc(1, sizeof(*c));
	c->trace = getenv("TIDEGATE_HTTP_TRACE") != NULL;
	c->kc = kc;
	c->o = opts ? *opts : defaults;
	if (c->o.concurrency <= 0)
		c->o.concurrency = DEFAULT_CONCURRENCY;
	if (c->o.timeout_ms <= 0)
		c->o.timeout_ms = DEFAULT_TIMEOUT_MS;
	if (c->o.connect_timeout_ms <= 0)
		c->o.connect_timeout_ms = DEFAULT_CONNECT_TIMEOUT_MS;
	if (c->o.max_attempts <= 0)
		c->o.max_attempts = DEFAULT_ATTEMPTS;
	if (!c->o.max_response)
		c->o.max_response = DEFAULT_MAX_RESPONSE;
	c->ua = xstrdup(c->o.user_agent ? c->o.user_agent : "tidegate/" TIDEGATE_VERSION);
	c->multi = curl_multi_init();
	if (!c->multi) {
		kube_client_free(c);
		error("cannot create a libcurl multi handle");
		return NULL;
	}
	curl_multi_setopt(c->multi, CURLMOPT_PIPELINING, (long)CURLPIPE_MULTIPLEX);
	curl_multi_setopt(c->multi, CURLMOPT_MAX_HOST_CONNECTIONS, 4L);

	/*
	 * tls-server-name: the URL carries the name to verify (and to send
	 * as SNI); CONNECT_TO sends the bytes to the real host.
	 */
	if (kc->tls_server_name && !strncmp(kc->server, "https://", 8)) {
		const char *hp = kc->server + 8, *port = strrchr(hp, ':');
		const char *rb = strchr(hp, ']');
		char *host, *entry;
		const char *portnum = "443";

		if (port && (!rb || port > rb))
			portnum = port + 1;
		else
			port = hp + strlen(hp);
		host = xstrndup(hp, (size_t)(port - hp));
		c->url_base = xstrfmt("https://%s:%s", kc->tls_server_name, portnum);
		entry = xstrfmt("%s:%s:%s:%s", kc->tls_server_name, portnum, host, portnum);
		c->connect_to = curl_slist_append(NULL, entry);
		free(entry);
		free(host);
	} else {
		c->url_base = xstrdup(kc->server);
	}
	return c;
}

void kube_client_free(struct kube_client *c)
{
	if (!c)
		return;
	if (c->multi)
		curl_multi_cleanup(c->multi);
	curl_slist_free_all(c->connect_to);
	free(c->url_base);
	free(c->ua);
	free(c);
	curl_global_cleanup();
}

const char *kube_client_server(const struct kube_client *c)
{
	return c->kc->server;
}

void kube_client_set_deadline(struct kube_client *c, long long deadline_ms)
{
	c->o.deadline_ms = deadline_ms;
}

void kube_client_set_progress(struct kube_client *c, void (*fn)(void *arg, size_t done, size_t n),
			      void *arg)
{
	c->progress = fn;
	c->progress_arg = arg;
}

static size_t on_body(char *ptr, size_t size, size_t nmemb, void *ud)
{
	struct kube_request *r = ud;
	size_t n = size * nmemb;

	if (buf_add(&r->resp, ptr, n) < 0)
		return 0;
	return n;
}

static struct curl_slist *add_header(struct curl_slist *l, const char *name, const char *val)
{
	char *h = xstrfmt("%s: %s", name, val);
	struct curl_slist *n = curl_slist_append(l, h);

	OPENSSL_cleanse(h, strlen(h));
	free(h);
	return n;
}

/* Sets up r's easy handle for one attempt. Returns 0 or -1 (r->error set). */
static int request_prepare(struct kube_client *c, struct kube_request *r)
{
	struct kubeconfig *kc = c->kc;
	struct kube_request_priv *p = r->priv;
	const struct kube_creds *cr = NULL;
	struct curl_blob blob;
	CURL *e;
	long long left;
	long timeout = c->o.timeout_ms;
	size_t i;

	if (kubeconfig_credentials(kc, &cr) < 0) {
		r->error = xstrdup("could not get credentials (see above)");
		return -1;
	}
	e = p->easy = curl_easy_init();
	if (!e) {
		r->error = xstrdup("cannot create a libcurl handle");
		return -1;
	}
	if (c->o.deadline_ms) {
		left = c->o.deadline_ms - monotonic_ms();
		if (left <= 0) {
			r->error = xstrdup("deadline passed");
			return -1;
		}
		if (left < timeout)
			timeout = (long)left;
	}
	buf_init(&r->resp, c->o.max_response);
	p->url = xstrfmt("%s%s", c->url_base, r->path);
	p->errbuf[0] = '\0';
	curl_easy_setopt(e, CURLOPT_URL, p->url);
	curl_easy_setopt(e, CURLOPT_PRIVATE, r);
	curl_easy_setopt(e, CURLOPT_ERRORBUFFER, p->errbuf);
	curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(e, CURLOPT_HTTP_VERSION, (long)CURL_HTTP_VERSION_2TLS);
	curl_easy_setopt(e, CURLOPT_PIPEWAIT, 1L);
	curl_easy_setopt(e, CURLOPT_TIMEOUT_MS, timeout);
	curl_easy_setopt(e, CURLOPT_CONNECTTIMEOUT_MS, (long)c->o.connect_timeout_ms);
	curl_easy_setopt(e, CURLOPT_USERAGENT, c->ua);
	curl_easy_setopt(e, CURLOPT_ACCEPT_ENCODING, "");
	curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, on_body);
	curl_easy_setopt(e, CURLOPT_WRITEDATA, r);
	curl_easy_setopt(e, CURLOPT_PROTOCOLS_STR, "http,https");
	curl_easy_setopt(e, CURLOPT_FOLLOWLOCATION, 0L);
	if (c->connect_to)
		curl_easy_setopt(e, CURLOPT_CONNECT_TO, c->connect_to);
	if (strcmp(r->method, "GET"))
		curl_easy_setopt(e, CURLOPT_CUSTOMREQUEST, r->method);
	if (r->body) {
		curl_easy_setopt(e, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)r->body_len);
		curl_easy_setopt(e, CURLOPT_POSTFIELDS, r->body);
	}

	if (kc->ca_pem) {
		blob.data = kc->ca_pem;
		blob.len = kc->ca_len;
		blob.flags = CURL_BLOB_COPY;
		curl_easy_setopt(e, CURLOPT_CAINFO_BLOB, &blob);
		curl_easy_setopt(e, CURLOPT_CAPATH, NULL);
		curl_easy_setopt(e, CURLOPT_CAINFO, NULL);
	}
	if (kc->insecure) {
		curl_easy_setopt(e, CURLOPT_SSL_VERIFYPEER, 0L);
		curl_easy_setopt(e, CURLOPT_SSL_VERIFYHOST, 0L);
	}
	{
		const char *cert = kc->cert_pem, *key = kc->key_pem;
		size_t cert_len = kc->cert_len, key_len = kc->key_len;

		if (cr && cr->cert_pem) {
			cert = cr->cert_pem;
			cert_len = cr->cert_len;
			key = cr->key_pem;
			key_len = cr->key_len;
		}
		if (cert && key) {
			blob.data = (void *)cert;
			blob.len = cert_len;
			blob.flags = CURL_BLOB_COPY;
			curl_easy_setopt(e, CURLOPT_SSLCERT_BLOB, &blob);
			curl_easy_setopt(e, CURLOPT_SSLCERTTYPE, "PEM");
			blob.data = (void *)key;
			blob.len = key_len;
			curl_easy_setopt(e, CURLOPT_SSLKEY_BLOB, &blob);
			curl_easy_setopt(e, CURLOPT_SSLKEYTYPE, "PEM");
		}
	}
	if (kc->proxy_url)
		curl_easy_setopt(e, CURLOPT_PROXY, kc->proxy_url);
	if (kc->username && kc->password) {
		curl_easy_setopt(e, CURLOPT_USERNAME, kc->username);
		curl_easy_setopt(e, CURLOPT_PASSWORD, kc->password);
	}

	p->hdrs = add_header(p->hdrs, "Accept", r->accept ? r->accept : "application/json");
	if (r->content_type)
		p->hdrs = add_header(p->hdrs, "Content-Type", r->content_type);
	if (r->if_none_match)
		p->hdrs = add_header(p->hdrs, "If-None-Match", r->if_none_match);
	if (cr && cr->token) {
		char *v = xstrfmt("Bearer %s", cr->token);

		p->hdrs = add_header(p->hdrs, "Authorization", v);
		OPENSSL_cleanse(v, strlen(v));
		free(v);
	}
	if (kc->impersonate)
		p->hdrs = add_header(p->hdrs, "Impersonate-User", kc->impersonate);
	for (i = 0; kc->impersonate_groups && kc->impersonate_groups[i]; i++)
		p->hdrs = add_header(p->hdrs, "Impersonate-Group", kc->impersonate_groups[i]);
	p->hdrs = curl_slist_append(p->hdrs, "Expect:");
	curl_easy_setopt(e, CURLOPT_HTTPHEADER, p->hdrs);
	return 0;
}

static int transport_retryable(CURLcode rc)
{
	switch (rc) {
	case CURLE_COULDNT_CONNECT:
	case CURLE_OPERATION_TIMEDOUT:
	case CURLE_SEND_ERROR:
	case CURLE_RECV_ERROR:
	case CURLE_GOT_NOTHING:
	case CURLE_HTTP2:
	case CURLE_HTTP2_STREAM:
	case CURLE_PARTIAL_FILE:
	case CURLE_SSL_CONNECT_ERROR:
		return 1;
	default:
		return 0;
	}
}

static long long backoff_ms(int attempts)
{
	long long d = BACKOFF_BASE_MS;
	int i;

	for (i = 1; i < attempts && d < BACKOFF_MAX_MS; i++)
		d *= 2;
	return d > BACKOFF_MAX_MS ? BACKOFF_MAX_MS : d;
}

/* Schedules r for another attempt after delay; 0, or -1 when it may not retry. */
static int request_retry(struct kube_client *c, struct kube_request *r, long long delay)
{
	long long now = monotonic_ms();

	if (r->attempts >= (r->max_attempts > 0 ? r->max_attempts : c->o.max_attempts))
		return -1;
	if (c->o.deadline_ms && now + delay >= c->o.deadline_ms)
		return -1;
	request_drop_easy(r);
	buf_release(&r->resp);
	free(r->etag);
	r->etag = NULL;
	r->status = 0;
	r->priv->not_before = now + delay;
	r->priv->state = RS_WAITING;
	return 0;
}

/* Handles a finished transfer: done, or scheduled again. Returns 1 when done. */
static int request_finished(struct kube_client *c, struct kube_request *r, CURLcode rc)
{
	struct kube_request_priv *p = r->priv;
	struct curl_header *h;
	long status = 0;

	curl_multi_remove_handle(c->multi, p->easy);
	if (rc == CURLE_OK)
		curl_easy_getinfo(p->easy, CURLINFO_RESPONSE_CODE, &status);
	if (c->trace)
		fprintf(stderr, "tidegate: http %s %s: %ld%s%s, %lld ms\n", r->method, r->path,
			status, rc == CURLE_OK ? "" : ", ", rc == CURLE_OK ? "" : curl_easy_strerror(rc),
			monotonic_ms() - p->started_ms);
	if (rc == CURLE_OK) {
		r->status = status;
		if (curl_easy_header(p->easy, "ETag", 0, CURLH_HEADER, -1, &h) == CURLHE_OK)
			r->etag = xstrdup(h->value);
		if (status == 429) {
			curl_off_t ra = 0;
			long long delay;

			curl_easy_getinfo(p->easy, CURLINFO_RETRY_AFTER, &ra);
			delay = ra > 0 ? (long long)(ra > RETRY_AFTER_MAX_S ? RETRY_AFTER_MAX_S : ra) * 1000
				: backoff_ms(r->attempts);
			if (!request_retry(c, r, delay))
				return 0;
		} else if (status == 502 || status == 503 || status == 504) {
			if (!request_retry(c, r, backoff_ms(r->attempts)))
				return 0;
		} else if (status == 401 && !p->retried_401 &&
			   (c->kc->exec || c->kc->token_file)) {
			p->retried_401 = 1;
			kubeconfig_invalidate(c->kc);
			if (!request_retry(c, r, 0))
				return 0;
		}
	} else {
		const char *why = p->errbuf[0] ? p->errbuf : curl_easy_strerror(rc);

		if (rc == CURLE_WRITE_ERROR && r->resp.toobig) {
			free(r->error);
			r->error = xstrfmt("response larger than %zu bytes", r->resp.max);
		} else {
			free(r->error);
			r->error = xstrdup(why);
			if (transport_retryable(rc) && !request_retry(c, r, backoff_ms(r->attempts)))
				return 0;
		}
	}
	if (r->status && r->error) {
		free(r->error);
		r->error = NULL;
	}
	request_drop_easy(r);
	p->state = RS_DONE;
	return 1;
}

static int request_start(struct kube_client *c, struct kube_request *r)
{
	r->attempts++;
	r->priv->started_ms = monotonic_ms();
	if (request_prepare(c, r) < 0 ||
	    curl_multi_add_handle(c->multi, r->priv->easy) != CURLM_OK) {
		if (!r->error)
			r->error = xstrdup("cannot start the request");
		request_drop_easy(r);
		r->priv->state = RS_DONE;
		return -1;
	}
	free(r->error);
	r->error = NULL;
	r->priv->state = RS_RUNNING;
	return 0;
}

int kube_client_run(struct kube_client *c, struct kube_request **reqs, size_t n)
{
	size_t fresh = 0, done = 0, i;
	int running = 0, failed = 0, progressed;
	struct kube_request **waiting = NULL;
	size_t nwait = 0, walloc = 0;

	for (i = 0; i < n; i++)
		if (reqs[i]->priv->state != RS_NEW)
			kube_request_reset(reqs[i]);

	while (done < n) {
		long long now = monotonic_ms(), next_wake = -1;
		int still, msgs;
		CURLMsg *m;

		/* start retries whose time came, then fresh requests */
		for (i = 0; i < nwait && running < c->o.concurrency; ) {
			if (waiting[i]->priv->not_before <= now) {
				struct kube_request *r = waiting[i];

				waiting[i] = waiting[--nwait];
				if (request_start(c, r) < 0)
					done++;
				else
					running++;
				continue;
			}
			if (next_wake < 0 || waiting[i]->priv->not_before < next_wake)
				next_wake = waiting[i]->priv->not_before;
			i++;
		}
		while (fresh < n && running < c->o.concurrency) {
			if (request_start(c, reqs[fresh++]) < 0)
				done++;
			else
				running++;
		}
		if (done >= n)
			break;

		curl_multi_perform(c->multi, &still);
		progressed = 0;
		while ((m = curl_multi_info_read(c->multi, &msgs))) {
			struct kube_request *r = NULL;

			if (m->msg != CURLMSG_DONE)
				continue;
			progressed = 1;
			curl_easy_getinfo(m->easy_handle, CURLINFO_PRIVATE, (char **)&r);
			running--;
			if (request_finished(c, r, m->data.result)) {
				done++;
				if (c->progress)
					c->progress(c->progress_arg, done, n);
			} else {
				XGROW(waiting, nwait + 1, walloc);
				waiting[nwait++] = r;
			}
		}
		if (done >= n)
			break;
		if (running > 0) {
			/*
			 * Several streams' answers can arrive in one read while
			 * libcurl (7.88) finishes only one transfer and then
			 * waits for the socket, which stays quiet: the other
			 * transfer would sit there until the poll times out.
			 * So after a transfer ended, look again at once, and
			 * never sleep long while streams are in flight.
			 */
			int ms = progressed ? 0 : POLL_MAX_MS;

			if (next_wake >= 0 && next_wake - now < ms)
				ms = next_wake - now > 0 ? (int)(next_wake - now) : 0;
			curl_multi_poll(c->multi, NULL, 0, ms, NULL);
		} else if (nwait > 0) {
			long long w = -1, t;

			for (i = 0; i < nwait; i++)
				if (w < 0 || waiting[i]->priv->not_before < w)
					w = waiting[i]->priv->not_before;
			t = w - monotonic_ms();
			if (t > 0)
				curl_multi_poll(c->multi, NULL, 0, (int)(t > 5000 ? 5000 : t), NULL);
		}
	}
	free(waiting);
	for (i = 0; i < n; i++)
		if (!reqs[i]->status)
			failed = 1;
	return failed ? -1 : 0;
}
