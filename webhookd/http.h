/*
 * http.h - the small HTTP/1.1 server tidegated answers webhooks with.
 *
 * Built on libevent bufferevents (plain or OpenSSL), with every limit
 * enforced before memory is spent on a request:
 *   - the request line and headers must fit max_headers bytes (else 431);
 *   - a body over max_body is refused from its Content-Length (413)
 *     without reading it; chunked request bodies are refused (411);
 *   - a whole request (headers and body) must arrive within
 *     request_timeout_ms of its first byte, and an idle keep-alive
 *     connection is closed after the same time: a client that trickles
 *     bytes cannot hold a connection (slowloris);
 *   - at most max_connections are open; more are closed at accept.
 * Keep-alive and pipelining work; "Expect: 100-continue" is answered.
 *
 * The handler receives a complete request and answers it, then or later
 * (after an fsync, say), with http_reply(). The request stays valid until
 * that reply; if the client went away meanwhile the reply is dropped.
 */
#ifndef TIDEGATED_HTTP_H
#define TIDEGATED_HTTP_H

#include <stddef.h>

struct event_base;
struct ssl_ctx_st;

struct http_header {
	char *name;
	char *value;
};

struct http_request {
	char *method;
	char *path;			/* without the query */
	char *query;			/* after '?', or NULL */
	struct http_header *headers;
	size_t nheaders;
	char *body;			/* NUL-terminated; may contain NULs */
	size_t body_len;
	char peer[64];			/* client address for logs */
	struct http_conn *conn;		/* private */
};

struct http_limits {
	size_t max_body;
	size_t max_headers;
	int request_timeout_ms;
	int max_connections;
};

typedef void (*http_handler_fn)(struct http_request *req, void *arg);

struct http_server;

/* tls may be NULL for plain HTTP; the server takes a reference to it. */
struct http_server *http_server_new(struct event_base *base, const struct http_limits *lim,
				    struct ssl_ctx_st *tls, http_handler_fn fn, void *arg);
/* Binds host:port (port 0 picks one; see http_server_port). Returns 0 or -1. */
int http_server_listen(struct http_server *s, const char *host, int port);
int http_server_port(struct http_server *s);
/* New limits and TLS context for connections accepted from now on. */
void http_server_set_limits(struct http_server *s, const struct http_limits *lim);
void http_server_set_tls(struct http_server *s, struct ssl_ctx_st *tls);
/* Closes the listening socket; open connections finish their requests. */
void http_server_stop_accepting(struct http_server *s);
size_t http_server_connections(const struct http_server *s);
/* Requests handed to the handler and not yet answered. */
size_t http_server_busy(const struct http_server *s);
/* Closes everything; pending requests are freed without an answer. */
void http_server_free(struct http_server *s);

/* The value of header name (any case), or NULL. */
const char *http_header(const struct http_request *req, const char *name);

/*
 * Answers req with status and body (copied) and frees req. Adds
 * Content-Type, Content-Length and Connection headers.
 */
void http_reply(struct http_request *req, int status, const char *content_type,
		const char *body, size_t len);
/* http_reply with a short JSON body {"status": ..., "message": ...}. */
void http_reply_json(struct http_request *req, int status, const char *word, const char *msg);

#endif
