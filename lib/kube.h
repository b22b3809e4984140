/*
 * kube.h - HTTP requests to a Kubernetes API server.
 *
 * A struct kube_client wraps one libcurl multi handle: every request
 * goes over one HTTP/2 connection (streams multiplexed, TLS set up from
 * the kubeconfig: CA, client certificate and key from memory, bearer
 * tokens, impersonation headers). Requests are run in batches:
 *
 *	struct kube_request *r = kube_request_new("GET", "/api/v1/namespaces");
 *	if (kube_client_run(c, &r, 1) < 0)	// transport failure after retries
 *		...
 *	if (r->status == 200) ... r->resp.data ...
 *	kube_request_free(r);
 *
 * kube_client_run() keeps at most `concurrency` requests in flight and
 * retries on its own: 429 after Retry-After, 502/503/504 and transport
 * errors (refused, reset, timeout) with exponential backoff, a 401 once
 * after dropping cached exec/tokenFile credentials. Nothing outlives
 * the run's deadline.
 */
#ifndef TIDEGATE_KUBE_H
#define TIDEGATE_KUBE_H

#include <stddef.h>

#include "buf.h"
#include "kubeconfig.h"

struct kube_client;

struct kube_client_options {
	int concurrency;		/* requests in flight; default 32 */
	int timeout_ms;			/* one attempt; default 30000 */
	int connect_timeout_ms;		/* default 10000 */
	int max_attempts;		/* per request; default 6 */
	long long deadline_ms;		/* monotonic_ms() limit for everything; 0 = none */
	size_t max_response;		/* cap on one response body; default 64 MiB */
	const char *user_agent;		/* default "tidegate/VERSION" */
};
#define KUBE_CLIENT_OPTIONS_INIT { 0, 0, 0, 0, 0, 0, NULL }

/*
 * A client for kc, which must outlive it (credentials are read from it
 * as requests go out). Returns NULL (reported) when curl cannot start.
 */
struct kube_client *kube_client_new(struct kubeconfig *kc, const struct kube_client_options *opts);
void kube_client_free(struct kube_client *c);
/* The server URL ("https://host:port"). */
const char *kube_client_server(const struct kube_client *c);
void kube_client_set_deadline(struct kube_client *c, long long deadline_ms);
/* Calls fn(arg, done, n) as requests of a run complete (for progress displays); NULL stops it. */
void kube_client_set_progress(struct kube_client *c, void (*fn)(void *arg, size_t done, size_t n),
			      void *arg);

struct kube_request_priv;

struct kube_request {
	/* set by the caller (kube_request_new sets method and path) */
	char *method;
	char *path;			/* "/apis/apps/v1/namespaces/x/deployments/y?..." */
	const char *content_type;	/* for the body */
	const char *accept;		/* default "application/json" */
	char *body;			/* owned; freed with the request */
	size_t body_len;
	char *if_none_match;		/* owned ETag, or NULL */
	int max_attempts;		/* tries before giving up; 0: the client's */
	void *data;			/* the caller's */

	/* results */
	long status;			/* HTTP status; 0 when no answer came */
	struct buf resp;		/* response body (capped) */
	char *etag;			/* ETag response header, or NULL */
	char *error;			/* why there was no answer, or NULL */
	int attempts;

	struct kube_request_priv *priv;
};

/* A new request for method and path (copied). */
struct kube_request *kube_request_new(const char *method, const char *path);
/* Takes ownership of body (malloc'd), sets the content type. */
void kube_request_set_body(struct kube_request *r, char *body, size_t len, const char *content_type);
void kube_request_free(struct kube_request *r);
/* Clears the results so the request can be run again. */
void kube_request_reset(struct kube_request *r);

/*
 * Runs the n requests to completion (an HTTP status or a final
 * transport error each). Returns 0 when every request got an HTTP
 * answer, -1 when at least one did not (see its error field); the
 * failure is not logged here.
 */
int kube_client_run(struct kube_client *c, struct kube_request **reqs, size_t n);

/*
 * The message of an error answer: Status.message when the body is a
 * Kubernetes Status, else the first bytes of the body, else the
 * transport error. Caller frees.
 */
char *kube_request_message(const struct kube_request *r);
/* Status.reason ("Conflict", "NotFound", ...) or NULL; caller frees. */
char *kube_request_reason(const struct kube_request *r);

/* Appends s percent-encoded for a URL path segment or query value. */
void buf_add_urlenc(struct buf *b, const char *s);

#endif
