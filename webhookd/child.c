#include "child.h"
#include "log.h"
#include "spawn.h"
#include "xalloc.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <event2/event.h>

struct child {
	struct spawn sp;
	struct event *out_ev, *err_ev, *timer;
	int reaped;
	char name[64];
	long long started;
	struct child_result res;
	child_done_fn fn;
	void *arg;
	void (*on_out)(struct child *c, void *arg);	/* serving: stdout has new bytes */
	void *out_arg;
	struct child *next;
};

static struct event_base *child_base;
static struct event *sigchld_ev, *sweep_ev;
static struct child *children;
static size_t nchildren;

static void unlink_child(struct child *c)
{
	struct child **p;

	for (p = &children; *p; p = &(*p)->next) {
		if (*p == c) {
			*p = c->next;
			nchildren--;
			return;
		}
	}
}

static void maybe_finish(struct child *c)
{
	if (!c->reaped || c->sp.out >= 0 || c->sp.err >= 0)
		return;
	unlink_child(c);
	if (c->timer)
		event_free(c->timer);
	c->res.duration_ms = monotonic_ms() - c->started;
	c->fn(&c->res, c->arg);
	buf_release(&c->res.out);
	buf_release(&c->res.err);
	free(c);
}

static void close_pipe(struct child *c, int is_err)
{
	struct event **ev = is_err ? &c->err_ev : &c->out_ev;
	int *fd = is_err ? &c->sp.err : &c->sp.out;

	if (*ev)
		event_free(*ev);
	*ev = NULL;
	if (*fd >= 0)
		close(*fd);
	*fd = -1;
}

static void on_pipe(evutil_socket_t fd, short what, void *arg)
{
	struct child *c = arg;
	int is_err = fd == c->sp.err;
	struct buf *b = is_err ? &c->res.err : &c->res.out;
	char chunk[16384];
	ssize_t n;

	(void)what;
	for (;;) {
		n = read(fd, chunk, sizeof(chunk));
		if (n > 0) {
			/* Past the cap the output is read and dropped. */
			buf_add(b, chunk, (size_t)n);
			continue;
		}
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
			if (!is_err && c->on_out)
				c->on_out(c, c->out_arg);	/* must not free c */
			return;
		}
		break;
	}
	/* the last bytes before EOF (an answer, then exit) are an answer too */
	if (!is_err && c->on_out)
		c->on_out(c, c->out_arg);
	close_pipe(c, is_err);
	maybe_finish(c);
}

static void reap(void)
{
	struct child *c, *next;

	for (c = children; c; c = next) {
		int st;
		pid_t r;

		next = c->next;
		if (c->reaped)
			continue;
		r = waitpid(c->sp.pid, &st, WNOHANG);
		if (r == 0 || (r < 0 && errno == EINTR))
			continue;
		c->reaped = 1;
		if (r > 0 && WIFEXITED(st)) {
			c->res.exited = 1;
			c->res.code = WEXITSTATUS(st);
		} else if (r > 0 && WIFSIGNALED(st)) {
			c->res.signo = WTERMSIG(st);
		}
		maybe_finish(c);
	}
}

static void on_sigchld(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	(void)arg;
	reap();
}

static void on_timeout(evutil_socket_t fd, short what, void *arg)
{
	struct child *c = arg;

	(void)fd;
	(void)what;
	c->res.timed_out = 1;
	log_warnx("child %d (%s) passed its deadline; killing it", (int)c->sp.pid, c->name);
	spawn_kill(&c->sp, SIGKILL);
}

int child_init(struct event_base *base)
{
	struct timeval tv = { 1, 0 };

	child_base = base;
	sigchld_ev = evsignal_new(base, SIGCHLD, on_sigchld, NULL);
	if (!sigchld_ev || evsignal_add(sigchld_ev, NULL) < 0)
		return error("cannot watch SIGCHLD");
	/* A safety net in case a SIGCHLD is merged with another. */
	sweep_ev = event_new(base, -1, EV_PERSIST, on_sigchld, NULL);
	event_add(sweep_ev, &tv);
	return 0;
}

void child_shutdown(void)
{
	if (sigchld_ev)
		event_free(sigchld_ev);
	if (sweep_ev)
		event_free(sweep_ev);
	sigchld_ev = sweep_ev = NULL;
}

static void set_deadline(struct child *c, int timeout_ms)
{
	struct timeval tv = { timeout_ms / 1000, (timeout_ms % 1000) * 1000 };

	if (timeout_ms <= 0)
		return;
	if (!c->timer)
		c->timer = evtimer_new(child_base, on_timeout, c);
	evtimer_add(c->timer, &tv);
}

static struct child *start(const char *const *argv, const char *const *env, const char *dir,
			   int waiting, int timeout_ms, size_t out_max, size_t err_max,
			   child_done_fn fn, void *arg)
{
	struct child *c = xcalloc(1, sizeof(*c));
	struct spawn sp = SPAWN_INIT;
	struct child_result init = { 0, 0, 0, 0, 0, 0, BUF_INIT(out_max), BUF_INIT(err_max) };

	c->sp = sp;
	c->sp.argv = argv;
	c->sp.env = env;
	c->sp.dir = dir;
	c->sp.flags = (waiting ? SPAWN_PIPE_IN : SPAWN_NULL_IN) | SPAWN_PIPE_OUT | SPAWN_PIPE_ERR |
		      SPAWN_NEW_PGRP;
	c->res = init;
	c->fn = fn;
	c->arg = arg;
	if (spawn_start(&c->sp) < 0) {
		free(c);
		return NULL;
	}
	/* argv may not outlive this call; keep only what logs need. */
	snprintf(c->name, sizeof(c->name), "%s", argv[0]);
	c->sp.argv = NULL;
	c->started = monotonic_ms();
	fcntl(c->sp.out, F_SETFL, fcntl(c->sp.out, F_GETFL) | O_NONBLOCK);
	fcntl(c->sp.err, F_SETFL, fcntl(c->sp.err, F_GETFL) | O_NONBLOCK);
	c->out_ev = event_new(child_base, c->sp.out, EV_READ | EV_PERSIST, on_pipe, c);
	c->err_ev = event_new(child_base, c->sp.err, EV_READ | EV_PERSIST, on_pipe, c);
	event_add(c->out_ev, NULL);
	event_add(c->err_ev, NULL);
	set_deadline(c, timeout_ms);
	c->next = children;
	children = c;
	nchildren++;
	return c;
}

struct child *child_run(const char *const *argv, const char *const *env, const char *dir,
			int timeout_ms, size_t out_max, size_t err_max,
			child_done_fn fn, void *arg)
{
	return start(argv, env, dir, 0, timeout_ms, out_max, err_max, fn, arg);
}

struct child *child_start_waiting(const char *const *argv, const char *const *env,
				  size_t out_max, size_t err_max, child_done_fn fn, void *arg)
{
	return start(argv, env, NULL, 1, 0, out_max, err_max, fn, arg);
}

int child_feed(struct child *c, const void *data, size_t len, int timeout_ms,
	       child_done_fn fn, void *arg)
{
	/*
	 * Less than a pipe's buffer into an empty pipe: the write does not
	 * block. On EPIPE (it went away) its old fn still runs.
	 */
	if (child_send(c, data, len) < 0)
		return -1;
	close(c->sp.in);
	c->sp.in = -1;
	c->fn = fn;
	c->arg = arg;
	c->started = monotonic_ms();
	set_deadline(c, timeout_ms);
	return 0;
}

struct child *child_start_serving(const char *const *argv, const char *const *env,
				  size_t out_max, size_t err_max, child_done_fn fn, void *arg,
				  void (*on_out)(struct child *c, void *arg), void *out_arg)
{
	struct child *c = start(argv, env, NULL, 1, 0, out_max, err_max, fn, arg);

	if (c) {
		c->on_out = on_out;
		c->out_arg = out_arg;
	}
	return c;
}

int child_send(struct child *c, const void *data, size_t len)
{
	const char *p = data;
	size_t off = 0;

	if (c->sp.in < 0 || c->reaped || len > CHILD_FEED_MAX)
		return -1;
	while (off < len) {
		ssize_t n = write(c->sp.in, p + off, len - off);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return -1;
		off += (size_t)n;
	}
	return 0;
}

struct child_result *child_output(struct child *c)
{
	return &c->res;
}

void child_read_err(struct child *c)
{
	char chunk[16384];
	ssize_t n;

	while (c->sp.err >= 0 && (n = read(c->sp.err, chunk, sizeof(chunk))) != 0) {
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			break;	/* EAGAIN: all there is; the end is left to on_pipe */
		buf_add(&c->res.err, chunk, (size_t)n);
	}
}

void child_set_deadline(struct child *c, int timeout_ms)
{
	if (timeout_ms > 0)
		set_deadline(c, timeout_ms);
	else if (c->timer)
		evtimer_del(c->timer);
}

void child_discard(struct child *c)
{
	int st;

	spawn_kill(&c->sp, SIGKILL);
	close_pipe(c, 0);
	close_pipe(c, 1);
	if (c->sp.in >= 0)
		close(c->sp.in);
	if (!c->reaped)
		while (waitpid(c->sp.pid, &st, 0) < 0 && errno == EINTR)
			;
	unlink_child(c);
	if (c->timer)
		event_free(c->timer);
	buf_release(&c->res.out);
	buf_release(&c->res.err);
	free(c);
}

void child_kill(struct child *c)
{
	c->res.killed = 1;
	spawn_kill(&c->sp, SIGKILL);
}

int child_pid(const struct child *c)
{
	return (int)c->sp.pid;
}

size_t child_count(void)
{
	return nchildren;
}

int child_ok(const struct child_result *res)
{
	return res->exited && res->code == 0 && !res->timed_out;
}
