/*
 * finding.c - the list of findings every part of the engine appends to.
 */
#include "finding.h"
#include "xalloc.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define FINDINGS_DEFAULT_MAX 10000

const char *severity_name(enum severity sev)
{
	switch (sev) {
	case SEV_OFF:
		return "off";
	case SEV_INFO:
		return "info";
	case SEV_WARNING:
		return "warning";
	case SEV_ERROR:
		return "error";
	}
	return "unknown";
}

int severity_parse(const char *name, enum severity *out)
{
	if (!name)
		return -1;
	if (!strcasecmp(name, "off") || !strcasecmp(name, "none") ||
	    !strcasecmp(name, "disabled") || !strcasecmp(name, "false"))
		*out = SEV_OFF;
	else if (!strcasecmp(name, "info"))
		*out = SEV_INFO;
	else if (!strcasecmp(name, "warning") || !strcasecmp(name, "warn"))
		*out = SEV_WARNING;
	else if (!strcasecmp(name, "error"))
		*out = SEV_ERROR;
	else
		return -1;
	return 0;
}

static void count(struct findings *fs, enum severity sev, int delta)
{
	size_t *c = NULL;

	switch (sev) {
	case SEV_ERROR:
		c = &fs->nerr;
		break;
	case SEV_WARNING:
		c = &fs->nwarn;
		break;
	case SEV_INFO:
		c = &fs->ninfo;
		break;
	case SEV_OFF:
		return;
	}
	if (delta > 0)
		(*c)++;
	else if (*c)
		(*c)--;
}

static char *dup_or_null(const char *s)
{
	return s ? xstrdup(s) : NULL;
}

struct finding *findings_add(struct findings *fs, const char *path,
			     unsigned line, unsigned col, enum severity sev,
			     const char *rule, const char *hint, const char *fmt, ...)
{
	size_t max;
	struct finding *f;
	va_list ap;
	char *msg;
	int n;

	if (!fs || sev == SEV_OFF)
		return NULL;
	max = fs->max ? fs->max : FINDINGS_DEFAULT_MAX;
	if (fs->n >= max) {
		fs->dropped++;
		count(fs, sev, 1);	/* the verdict must not change with the cap */
		return NULL;
	}
	va_start(ap, fmt);
	n = vasprintf(&msg, fmt, ap);
	va_end(ap);
	if (n < 0)
		msg = xstrdup("(message lost: out of memory)");
	XGROW(fs->v, fs->n + 1, fs->alloc);
	f = &fs->v[fs->n++];
	memset(f, 0, sizeof(*f));
	f->path = xstrdup(path ? path : "<unknown>");
	f->line = line;
	f->col = col;
	f->sev = sev;
	f->rule = dup_or_null(rule);
	f->msg = msg;
	f->hint = dup_or_null(hint);
	count(fs, sev, 1);
	return f;
}

void finding_ignore(struct findings *fs, struct finding *f, const char *reason)
{
	if (!f)
		return;
	if (!f->ignored) {
		f->ignored = 1;
		count(fs, f->sev, -1);
	}
	if (reason) {
		free(f->ignore_reason);
		f->ignore_reason = xstrdup(reason);
	}
}

static int cmp_str(const char *a, const char *b)
{
	if (!a || !b)
		return a ? 1 : b ? -1 : 0;
	return strcmp(a, b);
}

static int cmp_finding(const void *va, const void *vb)
{
	const struct finding *a = va, *b = vb;
	int c;

	if ((c = cmp_str(a->path, b->path)))
		return c;
	if (a->line != b->line)
		return a->line < b->line ? -1 : 1;
	if (a->col != b->col)
		return a->col < b->col ? -1 : 1;
	if ((c = cmp_str(a->rule, b->rule)))
		return c;
	if ((c = cmp_str(a->msg, b->msg)))
		return c;
	return cmp_str(a->jpath, b->jpath);
}

void findings_sort(struct findings *fs)
{
	if (fs->n > 1)
		qsort(fs->v, fs->n, sizeof(*fs->v), cmp_finding);
}

static void finding_free(struct finding *f)
{
	free(f->path);
	free(f->rule);
	free(f->msg);
	free(f->hint);
	free(f->jpath);
	free(f->object);
	free(f->ignore_reason);
}

void findings_move(struct findings *dst, struct findings *src)
{
	size_t max = dst->max ? dst->max : FINDINGS_DEFAULT_MAX, i;

	for (i = 0; i < src->n; i++) {
		struct finding *f = &src->v[i];

		if (f->sev == SEV_OFF) {
			finding_free(f);
			continue;
		}
		if (!f->ignored)
			count(dst, f->sev, 1);
		if (dst->n >= max) {
			dst->dropped++;
			finding_free(f);
			continue;
		}
		XGROW(dst->v, dst->n + 1, dst->alloc);
		dst->v[dst->n++] = *f;
	}
	dst->dropped += src->dropped;
	free(src->v);
	src->v = NULL;
	src->n = src->alloc = 0;
	src->nerr = src->nwarn = src->ninfo = 0;
	src->dropped = 0;
}

void findings_release(struct findings *fs)
{
	size_t i;

	for (i = 0; i < fs->n; i++)
		finding_free(&fs->v[i]);
	free(fs->v);
	fs->v = NULL;
	fs->n = fs->alloc = 0;
	fs->nerr = fs->nwarn = fs->ninfo = 0;
	fs->dropped = 0;
}
