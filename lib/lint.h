/*
 * lint.h - the validation engine: one entry point for the pre-receive
 * hook, `tidegate lint` and tidegated.
 *
 *	struct lint_options opts = LINT_OPTIONS_INIT;
 *	struct linter *l = linter_new(&opts);
 *	linter_add(l, "k8s/web.yaml", data, len);	// as many as there are
 *	linter_run(l, &findings);			// schema, rules, cross-object
 *	linter_free(l);
 *
 * The engine reads no files itself except schemas: callers hand it bytes
 * (from disk, git blobs or stdin), so the same code checks a working
 * tree and a pushed commit.
 */
#ifndef TIDEGATE_LINT_H
#define TIDEGATE_LINT_H

#include <stddef.h>

#include "finding.h"
#include "manifest.h"

struct lint_config;	/* rules on/off and severities, paths, from .tidegate.yaml (lintconf.h) */

struct lint_options {
	const char *schema_dir;		/* --schema-dir, or NULL for the bundled schemas only */
	const char *kube_version;	/* target Kubernetes version "1.33", or NULL for the bundled one */
	int strict;			/* skips become errors; kinds with no schema are errors */
	const struct lint_config *config;	/* NULL for defaults */
	struct yaml_limits limits;
	/*
	 * 1 (lint, hooks): each object is checked as its file is added and
	 * only what the whole-set checks read is kept, so memory does not grow
	 * with the size of the files. 0 (apply): every tree is kept whole for
	 * linter_objects().
	 */
	int shrink;
	/*
	 * A schema store to use instead of opening one (shrink 0 only):
	 * one opened for the same schema_dir with schema_store_new() and
	 * kept by the caller, so a process that lints again and again (the
	 * warm applier) reads and compiles each schema once. It is left as
	 * it was: an input holding a CRD, which adds to the store, gets a
	 * store of its own for that run.
	 */
	struct schema_store *schemas;
};
#define LINT_OPTIONS_INIT { NULL, NULL, 0, NULL, { 0, 0, 0, 0, 0 }, 0, NULL }

struct linter;

struct linter *linter_new(const struct lint_options *opts);
/* Adds a file's bytes (copied as needed). Returns 0, or -1 when it did not parse. */
int linter_add(struct linter *l, const char *path, const char *data, size_t len);
/*
 * Validates everything added: schemas (bundled, --schema-dir, and CRDs
 * in the set), lint rules, cross-object checks. Findings are appended
 * to out, sorted. Returns 0 when it ran (errors or not), -1 when it
 * could not (bad schema directory, ...).
 */
int linter_run(struct linter *l, struct findings *out);
/*
 * The objects added so far (for apply, which runs the engine first);
 * with shrink set, their trees hold only what rules_set_keep() names.
 */
const struct kset *linter_objects(const struct linter *l);
void linter_free(struct linter *l);

#endif
