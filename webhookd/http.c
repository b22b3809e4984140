#include "http.h"
#include "buf.h"
#include "log.h"
#include "xalloc.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <unistd.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/bufferevent_ssl.h>
#include <event2/event.h>
#include <event2/listener.h>
#include <openssl/ssl.h>

#define MAX_HEADER_COUNT 100

enum conn_state {
	C_HEAD,		/* reading the request line and headers */
	C_BODY,		/* reading need bytes of body */
	C_BUSY,		/* the handler has the request */
	C_WRITE,	/* sending the answer */
};

struct http_conn {
	struct http_server *srv;
	struct bufferevent *bev;
	struct event *timer;
	struct http_conn *prev, *next;
	enum conn_state state;
	struct http_request *req;
	size_t need;
	int keepalive;
	int close_after;
	int gone;		/* the client left while the handler had the request */
	int tls;
	char peer[64];
	struct http_limits lim;
};

struct http_server {
	struct event_base *base;
	struct evconnlistener *listener;
	struct http_limits lim;
	SSL_CTX *tls;
	http_handler_fn fn;
	void *arg;
	struct http_conn *conns;
	size_t nconns, busy;
	int port;
};

static void conn_process(struct http_conn *c);

static void request_free(struct http_request *r)
{
	size_t i;

	if (!r)
		return;
	for (i = 0; i < r->nheaders; i++) {
		free(r->headers[i].name);
		free(r->headers[i].value);
	}
	free(r->headers);
	free(r->method);
	free(r->path);
	free(r->query);
	free(r->body);
	free(r);
}

static void conn_free(struct http_conn *c)
{
	struct http_server *s = c->srv;

	if (c->prev)
		c->prev->next = c->next;
	else
		s->conns = c->next;
	if (c->next)
		c->next->prev = c->prev;
	s->nconns--;
	if (c->state == C_BUSY && s->busy)
		s->busy--;
	event_free(c->timer);
	bufferevent_free(c->bev);
	request_free(c->req);
	free(c);
}

static void conn_arm(struct http_conn *c)
{
	struct timeval tv;

	tv.tv_sec = c->lim.request_timeout_ms / 1000;
	tv.tv_usec = (c->lim.request_timeout_ms % 1000) * 1000;
	evtimer_add(c->timer, &tv);
}

static const char *status_text(int status)
{
	switch (status) {
	case 100: return "Continue";
	case 200: return "OK";
	case 202: return "Accepted";
	case 400: return "Bad Request";
	case 401: return "Unauthorized";
	case 403: return "Forbidden";
	case 404: return "Not Found";
	case 405: return "Method Not Allowed";
	case 408: return "Request Timeout";
	case 409: return "Conflict";
	case 411: return "Length Required";
	case 413: return "Content Too Large";
	case 415: return "Unsupported Media Type";
	case 422: return "Unprocessable Content";
	case 429: return "Too Many Requests";
	case 431: return "Request Header Fields Too Large";
	case 500: return "Internal Server Error";
	case 503: return "Service Unavailable";
	case 505: return "HTTP Version Not Supported";
	default: return "Unknown";
	}
}

static void answer_sent(struct http_conn *c);

/* Nonzero when out was written to the socket whole without waiting. */
static int write_now(struct http_conn *c, struct evbuffer *out)
{
	evutil_socket_t fd = bufferevent_getfd(c->bev);

	/* TLS goes through the bufferevent's own filter. */
	int ok = 1;

	if (c->tls || fd < 0)
		return 0;
	/* The bufferevent keeps its output's start frozen but while it writes. */
	evbuffer_unfreeze(out, 1);
	while (ok && evbuffer_get_length(out))
		ok = evbuffer_write(out, fd) > 0;
	evbuffer_freeze(out, 1);
	return ok;
}

/*
 * Queues the answer and, on a plain socket, writes it at once: the usual
 * answer fits the socket buffer, and writing it here spares a turn of the
 * loop and two epoll_ctl calls (enable and disable EV_WRITE) per request.
 * What the socket does not take now is sent by the bufferevent. May free
 * c (an answer that closes the connection).
 */
static void send_answer(struct http_conn *c, int status, const char *ctype,
			const char *body, size_t len)
{
	struct evbuffer *out = bufferevent_get_output(c->bev);
	char head[256];
	int n;

	c->state = C_WRITE;
	if (!c->keepalive)
		c->close_after = 1;
	n = snprintf(head, sizeof(head), "HTTP/1.1 %d %s\r\nContent-Type: %s\r\n"
		     "Content-Length: %zu\r\nConnection: %s\r\n\r\n",
		     status, status_text(status), ctype ? ctype : "text/plain",
		     len, c->close_after ? "close" : "keep-alive");
	if (n < 0 || (size_t)n >= sizeof(head))
		evbuffer_add_printf(out, "HTTP/1.1 %d %s\r\nContent-Type: text/plain\r\n"
				    "Content-Length: %zu\r\nConnection: %s\r\n\r\n",
				    status, status_text(status), len,
				    c->close_after ? "close" : "keep-alive");
	else
		evbuffer_add(out, head, (size_t)n);
	if (len)
		evbuffer_add(out, body, len);
	if (write_now(c, out)) {
		answer_sent(c);
		return;
	}
	/* A client that does not read its answer is cut off like a slow one. */
	conn_arm(c);
	bufferevent_enable(c->bev, EV_WRITE);
}

/* An answer from the server itself (limits, parse errors); closes after. */
static void conn_refuse(struct http_conn *c, int status, const char *msg)
{
	struct buf b = BUF_INIT(1024);

	log_debug("refusing a request from %s: %d %s", c->peer, status, msg);
	buf_addf(&b, "{\"status\":\"error\",\"message\":");
	buf_add_json_str(&b, msg);
	buf_addstr(&b, "}\n");
	c->close_after = 1;
	bufferevent_disable(c->bev, EV_READ);
	send_answer(c, status, "application/json", b.data, b.len);
	buf_release(&b);
}

void http_reply(struct http_request *req, int status, const char *content_type,
		const char *body, size_t len)
{
	struct http_conn *c = req->conn;

	if (c->gone) {
		conn_free(c);
		return;
	}
	if (c->srv->busy)
		c->srv->busy--;
	request_free(c->req);
	c->req = NULL;
	send_answer(c, status, content_type, body, len);
}

void http_reply_json(struct http_request *req, int status, const char *word, const char *msg)
{
	struct buf b = BUF_INIT(4096);

	buf_addstr(&b, "{\"status\":");
	buf_add_json_str(&b, word);
	if (msg) {
		buf_addstr(&b, ",\"message\":");
		buf_add_json_str(&b, msg);
	}
	buf_addstr(&b, "}\n");
	http_reply(req, status, "application/json", b.data, b.len);
	buf_release(&b);
}

const char *http_header(const struct http_request *req, const char *name)
{
	size_t i;

	for (i = 0; i < req->nheaders; i++)
		if (!strcasecmp(req->headers[i].name, name))
			return req->headers[i].value;
	return NULL;
}

static int is_tchar(int c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
	       (c && strchr("!#$%&'*+-.^_`|~", c));
}

/* Parses the head (NUL-terminated, ending in CRLF CRLF) into c->req. */
static int parse_head(struct http_conn *c, char *head, int *status, const char **why)
{
	struct http_request *r = xcalloc(1, sizeof(*r));
	char *line = head, *eol, *sp1, *sp2, *q;
	size_t alloc = 0;

	c->req = r;
	r->conn = c;
	snprintf(r->peer, sizeof(r->peer), "%s", c->peer);
	*status = 400;
	eol = strstr(line, "\r\n");
	*eol = '\0';
	sp1 = strchr(line, ' ');
	sp2 = sp1 ? strchr(sp1 + 1, ' ') : NULL;
	if (!sp1 || !sp2 || strchr(sp2 + 1, ' ') || sp1 == line || sp2 == sp1 + 1) {
		*why = "malformed request line";
		return -1;
	}
	*sp1 = *sp2 = '\0';
	for (q = line; *q; q++)
		if (!is_tchar((unsigned char)*q)) {
			*why = "malformed method";
			return -1;
		}
	if (!strcmp(sp2 + 1, "HTTP/1.1")) {
		c->keepalive = 1;
	} else if (!strcmp(sp2 + 1, "HTTP/1.0")) {
		c->keepalive = 0;
	} else {
		*status = 505;
		*why = "only HTTP/1.0 and HTTP/1.1 are spoken here";
		return -1;
	}
	for (q = sp1 + 1; *q; q++)
		if ((unsigned char)*q <= ' ' || *q == 0x7f) {
			*why = "malformed request target";
			return -1;
		}
	r->method = xstrdup(line);
	q = strchr(sp1 + 1, '?');
	if (q) {
		r->query = xstrdup(q + 1);
		*q = '\0';
	}
	r->path = xstrdup(sp1 + 1);

	for (line = eol + 2; *line && strncmp(line, "\r\n", 2); line = eol + 2) {
		char *colon, *v, *end;

		eol = strstr(line, "\r\n");
		*eol = '\0';
		if (*line == ' ' || *line == '\t') {
			*why = "folded header lines are not accepted";
			return -1;
		}
		colon = strchr(line, ':');
		if (!colon || colon == line) {
			*why = "malformed header line";
			return -1;
		}
		for (q = line; q < colon; q++)
			if (!is_tchar((unsigned char)*q)) {
				*why = "malformed header name";
				return -1;
			}
		for (v = colon + 1; *v == ' ' || *v == '\t'; v++)
			;
		for (end = v + strlen(v); end > v && (end[-1] == ' ' || end[-1] == '\t'); end--)
			;
		for (q = v; q < end; q++)
			if (*q == '\r' || *q == '\n' || *q == '\0') {
				*why = "malformed header value";
				return -1;
			}
		if (r->nheaders >= MAX_HEADER_COUNT) {
			*status = 431;
			*why = "too many header fields";
			return -1;
		}
		XGROW(r->headers, r->nheaders + 1, alloc);
		r->headers[r->nheaders].name = xstrndup(line, (size_t)(colon - line));
		r->headers[r->nheaders].value = xstrndup(v, (size_t)(end - v));
		r->nheaders++;
	}
	return 0;
}

/* Decides the body length and keep-alive from the headers. */
static int check_head(struct http_conn *c, int *status, const char **why)
{
	struct http_request *r = c->req;
	const char *cl = NULL, *conn;
	size_t i;

	for (i = 0; i < r->nheaders; i++) {
		if (!strcasecmp(r->headers[i].name, "Content-Length")) {
			if (cl && strcmp(cl, r->headers[i].value)) {
				*status = 400;
				*why = "conflicting Content-Length headers";
				return -1;
			}
			cl = r->headers[i].value;
		}
	}
	if (http_header(r, "Transfer-Encoding")) {
		*status = 411;
		*why = "chunked request bodies are not accepted; send Content-Length";
		return -1;
	}
	conn = http_header(r, "Connection");
	if (conn && strcasestr(conn, "close"))
		c->keepalive = 0;
	else if (conn && strcasestr(conn, "keep-alive"))
		c->keepalive = 1;
	c->need = 0;
	if (cl) {
		unsigned long long n = 0;
		const char *p;

		if (!*cl) {
			*status = 400;
			*why = "empty Content-Length";
			return -1;
		}
		for (p = cl; *p; p++) {
			if (*p < '0' || *p > '9' || n > (1ULL << 50)) {
				*status = 400;
				*why = "malformed Content-Length";
				return -1;
			}
			n = n * 10 + (unsigned)(*p - '0');
		}
		if (n > c->lim.max_body) {
			*status = 413;
			*why = "request body too large";
			return -1;
		}
		c->need = (size_t)n;
	}
	return 0;
}

/* Returns 1 when a head was read, 0 when more bytes are needed, -1 when refused. */
static int read_head(struct http_conn *c)
{
	struct evbuffer *in = bufferevent_get_input(c->bev);
	struct evbuffer_ptr end;
	size_t len = evbuffer_get_length(in), headlen;
	const char *why = NULL, *expect;
	char *head;
	int status;

	/* RFC 9112: a server should ignore empty lines before a request line. */
	while (len >= 2) {
		unsigned char two[2];

		evbuffer_copyout(in, two, 2);
		if (two[0] != '\r' || two[1] != '\n')
			break;
		evbuffer_drain(in, 2);
		len -= 2;
	}
	if (!len)
		return 0;
	end = evbuffer_search(in, "\r\n\r\n", 4, NULL);
	if (end.pos < 0) {
		if (len > c->lim.max_headers) {
			conn_refuse(c, 431, "request headers too large");
			return -1;
		}
		return 0;
	}
	headlen = (size_t)end.pos + 4;
	if (headlen > c->lim.max_headers + 4) {
		conn_refuse(c, 431, "request headers too large");
		return -1;
	}
	head = xmalloc(headlen + 1);
	evbuffer_remove(in, head, headlen);
	head[headlen] = '\0';
	if (memchr(head, '\0', headlen)) {
		free(head);
		conn_refuse(c, 400, "NUL byte in the request head");
		return -1;
	}
	if (parse_head(c, head, &status, &why) < 0 || check_head(c, &status, &why) < 0) {
		free(head);
		conn_refuse(c, status, why);
		return -1;
	}
	free(head);
	expect = http_header(c->req, "Expect");
	if (expect && !strcasecmp(expect, "100-continue") && c->need &&
	    evbuffer_get_length(in) < c->need) {
		struct evbuffer *out = bufferevent_get_output(c->bev);

		evbuffer_add_printf(out, "HTTP/1.1 100 Continue\r\n\r\n");
	}
	c->state = C_BODY;
	return 1;
}

static void conn_process(struct http_conn *c)
{
	struct evbuffer *in = bufferevent_get_input(c->bev);

	if (c->state == C_HEAD && read_head(c) <= 0)
		return;
	if (c->state != C_BODY)
		return;
	if (evbuffer_get_length(in) < c->need)
		return;
	c->req->body = xmalloc(c->need + 1);
	evbuffer_remove(in, c->req->body, c->need);
	c->req->body[c->need] = '\0';
	c->req->body_len = c->need;
	c->state = C_BUSY;
	c->srv->busy++;
	evtimer_del(c->timer);
	bufferevent_disable(c->bev, EV_READ);
	c->srv->fn(c->req, c->srv->arg);
}

static void on_read(struct bufferevent *bev, void *arg)
{
	struct http_conn *c = arg;

	(void)bev;
	conn_process(c);
}

/* The answer is out: close, or wait for the next request on this connection. */
static void answer_sent(struct http_conn *c)
{
	if (c->close_after) {
		conn_free(c);
		return;
	}
	c->state = C_HEAD;
	c->need = 0;
	request_free(c->req);
	c->req = NULL;
	conn_arm(c);
	/* EV_WRITE stays off until an answer does not fit the socket at once. */
	if (!c->tls)
		bufferevent_disable(c->bev, EV_WRITE);
	bufferevent_enable(c->bev, EV_READ);
	/*
	 * A pipelined request already read waits for the read callback,
	 * deferred to the next turn of the loop: processing it from here
	 * would nest one handler call per pipelined request.
	 */
	if (evbuffer_get_length(bufferevent_get_input(c->bev)))
		bufferevent_trigger(c->bev, EV_READ,
				    BEV_TRIG_IGNORE_WATERMARKS | BEV_TRIG_DEFER_CALLBACKS);
}

static void on_write(struct bufferevent *bev, void *arg)
{
	struct http_conn *c = arg;

	(void)bev;
	if (c->state != C_WRITE)
		return;
	answer_sent(c);
}

static void on_event(struct bufferevent *bev, short what, void *arg)
{
	struct http_conn *c = arg;

	(void)bev;
	if (!(what & (BEV_EVENT_EOF | BEV_EVENT_ERROR)))
		return;
	if (c->state == C_BUSY) {
		/* The handler still holds the request; http_reply() frees us. */
		c->gone = 1;
		bufferevent_disable(c->bev, EV_READ | EV_WRITE);
		return;
	}
	conn_free(c);
}

static void on_timeout(evutil_socket_t fd, short what, void *arg)
{
	struct http_conn *c = arg;

	(void)fd;
	(void)what;
	if (c->state == C_BUSY)
		return;
	if (c->state == C_HEAD && !evbuffer_get_length(bufferevent_get_input(c->bev)))
		log_debug("closing idle connection from %s", c->peer);
	else
		log_info("closing connection from %s: request not complete within %d ms",
			 c->peer, c->lim.request_timeout_ms);
	conn_free(c);
}

static void on_accept(struct evconnlistener *l, evutil_socket_t fd, struct sockaddr *sa,
		      int salen, void *arg)
{
	struct http_server *s = arg;
	struct http_conn *c;
	char host[INET6_ADDRSTRLEN] = "?";
	int one = 1;

	(void)l;
	(void)salen;
	if (s->nconns >= (size_t)s->lim.max_connections) {
		static const char busy[] = "HTTP/1.1 503 Service Unavailable\r\n"
			"Content-Length: 0\r\nConnection: close\r\n\r\n";

		/* Best effort: the socket buffer takes this without blocking. */
		(void)!send(fd, busy, sizeof(busy) - 1, MSG_NOSIGNAL | MSG_DONTWAIT);
		close(fd);
		log_warnx("refusing a connection: %d connections open", s->lim.max_connections);
		return;
	}
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	c = xcalloc(1, sizeof(*c));
	c->srv = s;
	c->lim = s->lim;
	c->state = C_HEAD;
	if (sa->sa_family == AF_INET)
		inet_ntop(AF_INET, &((struct sockaddr_in *)sa)->sin_addr, host, sizeof(host));
	else if (sa->sa_family == AF_INET6)
		inet_ntop(AF_INET6, &((struct sockaddr_in6 *)sa)->sin6_addr, host, sizeof(host));
	snprintf(c->peer, sizeof(c->peer), "%s", host);
	if (s->tls) {
		SSL *ssl = SSL_new(s->tls);

		c->tls = 1;
		c->bev = ssl ? bufferevent_openssl_socket_new(s->base, fd, ssl,
							      BUFFEREVENT_SSL_ACCEPTING,
							      BEV_OPT_CLOSE_ON_FREE) : NULL;
		if (!c->bev && ssl)
			SSL_free(ssl);
	} else {
		c->bev = bufferevent_socket_new(s->base, fd, BEV_OPT_CLOSE_ON_FREE);
	}
	if (!c->bev) {
		close(fd);
		free(c);
		log_warnx("cannot set up a connection from %s", host);
		return;
	}
	c->timer = evtimer_new(s->base, on_timeout, c);
	c->next = s->conns;
	if (s->conns)
		s->conns->prev = c;
	s->conns = c;
	s->nconns++;
	bufferevent_setcb(c->bev, on_read, on_write, on_event, c);
	/* A new bufferevent has EV_WRITE on; answers turn it on when they must wait. */
	if (!c->tls)
		bufferevent_disable(c->bev, EV_WRITE);
	bufferevent_enable(c->bev, EV_READ);
	conn_arm(c);
}

struct http_server *http_server_new(struct event_base *base, const struct http_limits *lim,
				    struct ssl_ctx_st *tls, http_handler_fn fn, void *arg)
{
	struct http_server *s = xcalloc(1, sizeof(*s));

	s->base = base;
	s->lim = *lim;
	s->fn = fn;
	s->arg = arg;
	http_server_set_tls(s, tls);
	return s;
}

void http_server_set_limits(struct http_server *s, const struct http_limits *lim)
{
	s->lim = *lim;
}

void http_server_set_tls(struct http_server *s, struct ssl_ctx_st *tls)
{
	if (tls)
		SSL_CTX_up_ref(tls);
	if (s->tls)
		SSL_CTX_free(s->tls);
	s->tls = tls;
}

int http_server_listen(struct http_server *s, const char *host, int port)
{
	struct addrinfo hints, *ai = NULL;
	char portstr[16];
	int rc;

	memset(&hints, 0, sizeof(hints));
	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = SOCK_STREAM;
	hints.ai_flags = AI_PASSIVE | AI_NUMERICSERV;
	snprintf(portstr, sizeof(portstr), "%d", port);
	rc = getaddrinfo(host, portstr, &hints, &ai);
	if (rc)
		return error("cannot resolve listen address '%s': %s", host, gai_strerror(rc));
	s->listener = evconnlistener_new_bind(s->base, on_accept, s,
					      LEV_OPT_REUSEABLE | LEV_OPT_CLOSE_ON_FREE |
					      LEV_OPT_CLOSE_ON_EXEC, 1024,
					      ai->ai_addr, (int)ai->ai_addrlen);
	freeaddrinfo(ai);
	if (!s->listener)
		return error_errno("cannot listen on %s:%d", host, port);
	{
		struct sockaddr_storage ss;
		socklen_t len = sizeof(ss);

		if (!getsockname(evconnlistener_get_fd(s->listener), (struct sockaddr *)&ss, &len))
			s->port = ntohs(ss.ss_family == AF_INET6 ?
					((struct sockaddr_in6 *)&ss)->sin6_port :
					((struct sockaddr_in *)&ss)->sin_port);
	}
	return 0;
}

int http_server_port(struct http_server *s)
{
	return s->port;
}

void http_server_stop_accepting(struct http_server *s)
{
	if (s->listener)
		evconnlistener_free(s->listener);
	s->listener = NULL;
}

size_t http_server_connections(const struct http_server *s)
{
	return s->nconns;
}

size_t http_server_busy(const struct http_server *s)
{
	return s->busy;
}

void http_server_free(struct http_server *s)
{
	if (!s)
		return;
	http_server_stop_accepting(s);
	while (s->conns)
		conn_free(s->conns);
	if (s->tls)
		SSL_CTX_free(s->tls);
	free(s);
}
