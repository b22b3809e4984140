#include "applier.h"
#include "buf.h"
#include "log.h"
#include "spawn.h"
#include "xalloc.h"

#include <stdlib.h>
#include <string.h>

#include <event2/event.h>

#define OUT_MAX (8u * 1024 * 1024)
#define ERR_MAX (64u * 1024)
#define HEAD_MAX 64
#define RESULT_TAG "tidegate-result "

struct applier {
	struct event_base *base;
	char *prog, *name;
	struct child *c;
	int busy;		/* a job is out, or its answer not yet handed over */
	int answered;		/* the answer is in res, waiting for deliver */
	int broken, retired, replace;
	unsigned jobs;		/* answered by the current child */
	long long job_start;
	child_done_fn fn;
	void *arg;
	struct child_result res;
	struct event *deliver;	/* hands answers over, restarts children: outside child.c */
};

static void result_init(struct child_result *r)
{
	memset(r, 0, sizeof(*r));
	buf_init(&r->out, OUT_MAX);
	buf_init(&r->err, ERR_MAX);
}

static void schedule(struct applier *ap)
{
	event_active(ap->deliver, EV_TIMEOUT, 0);
}

static void stop_child(struct applier *ap)
{
	if (ap->c)
		child_discard(ap->c);
	ap->c = NULL;
}

static void deliver_cb(evutil_socket_t fd, short what, void *arg)
{
	struct applier *ap = arg;

	(void)fd;
	(void)what;
	if (ap->answered) {
		child_done_fn fn = ap->fn;
		void *fn_arg = ap->arg;
		struct child_result res = ap->res;

		ap->answered = 0;
		ap->busy = 0;
		ap->fn = NULL;
		result_init(&ap->res);
		res.duration_ms = monotonic_ms() - ap->job_start;
		fn(&res, fn_arg);	/* may submit the next job */
		buf_release(&res.out);
		buf_release(&res.err);
	}
	if (!ap->busy && (ap->retired || ap->replace))
		stop_child(ap);
	ap->replace = 0;
	if (!ap->busy)
		applier_prepare(ap);
}

/* The child ended (child.c frees it after this returns). */
static void on_gone(struct child_result *res, void *arg)
{
	struct applier *ap = arg;
	char line[300] = "";

	ap->c = NULL;
	if (ap->busy && !ap->answered) {
		ap->res.exited = res->exited;
		ap->res.code = res->code;
		ap->res.signo = res->signo;
		ap->res.timed_out = res->timed_out;
		ap->res.killed = res->killed;
		buf_add(&ap->res.out, res->out.data, res->out.len);
		buf_add(&ap->res.err, res->err.data, res->err.len);
		ap->answered = 1;
		log_fields(LOGL_INFO, "the warm applier ended during a job; starting another",
			   "applier", ap->name, NULL);
	} else if (!ap->jobs && !ap->retired) {
		const char *e = res->err.data + res->err.len, *s;

		while (e > res->err.data && (e[-1] == '\n' || e[-1] == ' '))
			e--;
		for (s = e; s > res->err.data && s[-1] != '\n'; s--)
			;
		snprintf(line, sizeof(line), "%.*s", (int)(e - s), s);
		log_fields(LOGL_WARN, "the warm applier ended before it had work; each apply is "
			   "a process of its own until the configuration is reloaded",
			   "applier", ap->name, "program", ap->prog, "error", line, NULL);
		ap->broken = 1;
	}
	ap->jobs = 0;
	schedule(ap);
}

/* New bytes on the child's stdout: an answer, whole or in part. */
static void on_out(struct child *c, void *arg)
{
	struct applier *ap = arg;
	struct child_result *r = child_output(c);
	const char *nl;
	char *end;
	long code;
	unsigned long long len;
	size_t head;

	if (!r->out.len)
		return;
	if (!ap->busy || ap->answered)
		goto bad;
	nl = memchr(r->out.data, '\n', r->out.len < HEAD_MAX ? r->out.len : HEAD_MAX);
	if (!nl) {
		if (r->out.len >= HEAD_MAX ||
		    strncmp(r->out.data, RESULT_TAG, r->out.len < 16 ? r->out.len : 16))
			goto bad;
		return;
	}
	if (strncmp(r->out.data, RESULT_TAG, strlen(RESULT_TAG)))
		goto bad;
	code = strtol(r->out.data + strlen(RESULT_TAG), &end, 10);
	if (*end != ' ' || code < 0 || code > 255)
		goto bad;
	len = strtoull(end + 1, &end, 10);
	if (end != nl || len > OUT_MAX)
		goto bad;
	head = (size_t)(nl - r->out.data) + 1;
	if (r->out.len < head + len)
		return;		/* more to come */
	child_read_err(c);	/* what it said before answering */
	ap->res.exited = 1;
	ap->res.code = (int)code;
	buf_add(&ap->res.out, r->out.data + head, (size_t)len);
	buf_add(&ap->res.err, r->err.data, r->err.len);
	buf_reset(&r->err);
	memmove(r->out.data, r->out.data + head + len, r->out.len - head - (size_t)len);
	buf_setlen(&r->out, r->out.len - head - (size_t)len);
	if (r->out.len)
		goto bad;	/* nothing may follow an answer */
	child_set_deadline(c, 0);
	ap->jobs++;
	ap->answered = 1;
	schedule(ap);
	return;
bad:
	log_fields(LOGL_WARN, "the warm applier wrote something that is not an answer; "
		   "stopping it", "applier", ap->name, NULL);
	buf_reset(&r->out);
	child_kill(c);
}

struct applier *applier_new(struct event_base *base, const char *prog, const char *name)
{
	struct applier *ap = xcalloc(1, sizeof(*ap));

	ap->base = base;
	ap->prog = xstrdup(prog);
	ap->name = xstrdup(name);
	ap->deliver = event_new(base, -1, 0, deliver_cb, ap);
	result_init(&ap->res);
	return ap;
}

void applier_free(struct applier *ap)
{
	if (!ap)
		return;
	stop_child(ap);
	event_free(ap->deliver);
	buf_release(&ap->res.out);
	buf_release(&ap->res.err);
	free(ap->prog);
	free(ap->name);
	free(ap);
}

void applier_prepare(struct applier *ap)
{
	const char *argv[] = { ap->prog, "apply", "--serve", NULL };

	if (ap->c || ap->broken || ap->retired)
		return;
	ap->jobs = 0;
	ap->c = child_start_serving(argv, NULL, OUT_MAX, ERR_MAX, on_gone, ap, on_out, ap);
	if (!ap->c)
		ap->broken = 1;
}

int applier_submit(struct applier *ap, const char *const *argv, int timeout_ms,
		   child_done_fn fn, void *arg)
{
	struct buf b = BUF_INIT(CHILD_FEED_MAX);
	size_t i;

	if (ap->busy || ap->broken || ap->retired || ap->replace || !ap->c ||
	    strcmp(ap->prog, argv[0]))
		return -1;
	for (i = 2; argv[i]; i++)	/* after the program and "apply" */
		buf_add(&b, argv[i], strlen(argv[i]) + 1);
	buf_addch(&b, '\0');
	buf_reset(&child_output(ap->c)->err);
	if (b.toobig || child_send(ap->c, b.data, b.len) < 0) {
		buf_release(&b);
		return -1;
	}
	buf_release(&b);
	ap->busy = 1;
	ap->fn = fn;
	ap->arg = arg;
	ap->job_start = monotonic_ms();
	child_set_deadline(ap->c, timeout_ms);
	return child_pid(ap->c);
}

void applier_retire(struct applier *ap)
{
	ap->retired = 1;
	if (!ap->busy)
		stop_child(ap);
}

void applier_restart(struct applier *ap, const char *prog)
{
	free(ap->prog);
	ap->prog = xstrdup(prog);
	ap->broken = 0;
	ap->retired = 0;
	if (ap->busy) {
		ap->replace = 1;
		return;
	}
	stop_child(ap);
	applier_prepare(ap);
}

int applier_busy(const struct applier *ap)
{
	return ap->busy;
}

int applier_retired(const struct applier *ap)
{
	return ap->retired;
}

int applier_broken(const struct applier *ap)
{
	return ap->broken;
}

const char *applier_name(const struct applier *ap)
{
	return ap->name;
}
