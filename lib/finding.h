/*
 * finding.h - what the engine reports: one finding per problem, with
 * the place (path:line:col and the JSON path inside the object), a
 * severity, a stable rule id, a one-line message and a remediation hint.
 *
 * A struct findings owns everything in it (strings are copied in).
 * Release it with findings_release().
 */
#ifndef TIDEGATE_FINDING_H
#define TIDEGATE_FINDING_H

#include <stddef.h>

enum severity {
	SEV_OFF = -1,		/* a rule switched off by configuration */
	SEV_INFO = 0,
	SEV_WARNING = 1,
	SEV_ERROR = 2,
};

const char *severity_name(enum severity sev);		/* "info", "warning", "error", "off" */
int severity_parse(const char *name, enum severity *out);	/* also "warn"; -1 when unknown */

struct finding {
	char *path;		/* file as given (or "<stdin>", or the path in the commit) */
	unsigned line, col;	/* 1-based; 0 when the finding is about the whole file */
	enum severity sev;
	char *rule;		/* stable id, e.g. "schema-unknown-field", "latest-tag" */
	char *msg;		/* one line, no trailing period */
	char *hint;		/* remediation, or NULL */
	char *jpath;		/* JSON path inside the object (".spec.replicas"), or NULL */
	char *object;		/* "Kind/namespace/name" or "Kind/name", or NULL */
	int ignored;		/* suppressed by an annotation; kept for JSON reports */
	char *ignore_reason;	/* the reason given with the ignore, or NULL */
};

struct findings {
	struct finding *v;
	size_t n, alloc;
	size_t nerr, nwarn, ninfo;	/* counts of findings not ignored */
	size_t max;			/* stop recording past this many (0 = 10000) */
	size_t dropped;			/* findings not recorded for the cap */
};
#define FINDINGS_INIT { NULL, 0, 0, 0, 0, 0, 0, 0 }

/*
 * Adds a finding; every string is copied. rule, hint, jpath and object
 * may be NULL. Returns the new finding (valid until the next add), or
 * NULL when the cap dropped it.
 */
struct finding *findings_add(struct findings *fs, const char *path,
			     unsigned line, unsigned col, enum severity sev,
			     const char *rule, const char *hint, const char *fmt, ...)
	__attribute__((format(printf, 8, 9)));
/* Marks f ignored (adjusting the counts) with an optional reason. */
void finding_ignore(struct findings *fs, struct finding *f, const char *reason);
/* Sorts by path, line, col, rule: the order every report uses. */
void findings_sort(struct findings *fs);
void findings_release(struct findings *fs);
/*
 * Moves every finding of src to the end of dst (src is left empty),
 * counting each by its current sev and ignored flag; findings whose sev
 * was set to SEV_OFF are dropped. dst's cap applies.
 */
void findings_move(struct findings *dst, struct findings *src);

#endif
