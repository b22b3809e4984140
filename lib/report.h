/*
 * report.h - findings as text for people, JSON for scripts, SARIF 2.1.0
 * for code-scanning services (GitHub, GitLab).
 *
 *	struct report_summary sum = { objects, files, skipped };
 *	struct buf out = BUF_INIT(BUF_NOCAP);
 *	report_write(&out, REPORT_TEXT, &findings, &sum);
 *	fwrite(out.data, 1, out.len, stdout);
 *
 * The JSON shape is documented in docs/lint-output.md and kept stable:
 * fields are added, never renamed or removed.
 */
#ifndef TIDEGATE_REPORT_H
#define TIDEGATE_REPORT_H

#include <stddef.h>

#include "buf.h"
#include "finding.h"

enum report_format {
	REPORT_TEXT,
	REPORT_JSON,
	REPORT_SARIF,
};

/* "text", "json", "sarif"; -1 when unknown. */
int report_format_parse(const char *name, enum report_format *out);

struct report_summary {
	size_t objects;		/* Kubernetes objects checked */
	size_t files;		/* files read */
	size_t skipped;		/* documents or files skipped (not objects, templates) */
};

/*
 * Appends the report of fs (sorted by the caller) to out. Text leaves
 * out ignored findings; JSON and SARIF keep them, marked. Returns 0, or
 * -1 when out's cap was reached.
 */
int report_write(struct buf *out, enum report_format fmt, const struct findings *fs,
		 const struct report_summary *sum);

/*
 * What a rule id means, for the engine's own checks (yaml-*, schema-*,
 * object-*, ...) as well as the lint rules: one-line summary, hint and
 * default severity. Returns 0, or -1 for an id nobody defines.
 */
int report_rule_info(const char *id, const char **summary, const char **hint,
		     enum severity *sev);

struct engine_rule {
	const char *id;
	enum severity sev;
	const char *summary;
	const char *hint;
};
/* The engine's own checks (not in rules_all()), sorted by id. */
const struct engine_rule *engine_rules(size_t *n);

#endif
