/*
 * lint.c - the validation engine: files -> objects -> schemas, rules and
 * cross-object checks -> sorted findings.
 *
 * Every pass is linear in the objects (rules times objects for the
 * per-object rules, one hash pass for duplicates); the raw bytes of a
 * file are not kept once its tree is built.
 */
#include "lint.h"
#include "lintconf.h"
#include "log.h"
#include "rules.h"
#include "schema.h"
#include "xalloc.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct linter {
	struct lint_options opts;
	struct yaml_limits limits;
	struct kset set;
	struct findings fs;	/* from parsing, until the run */
	int strict;
	int ran;
};

static int limits_unset(const struct yaml_limits *l)
{
	return !l->max_bytes && !l->max_depth && !l->max_nodes && !l->max_alias_nodes &&
		!l->max_docs;
}

struct linter *linter_new(const struct lint_options *opts)
{
	struct linter *l = xcalloc(1, sizeof(*l));
	struct kset blank = KSET_INIT;
	struct findings fblank = FINDINGS_INIT;

	if (opts)
		l->opts = *opts;
	l->set = blank;
	l->fs = fblank;
	l->fs.max = 1000000;
	l->limits = limits_unset(&l->opts.limits) ? yaml_default_limits : l->opts.limits;
	if (!l->limits.max_bytes)
		l->limits.max_bytes = yaml_default_limits.max_bytes;
	if (!l->limits.max_depth)
		l->limits.max_depth = yaml_default_limits.max_depth;
	if (!l->limits.max_nodes)
		l->limits.max_nodes = yaml_default_limits.max_nodes;
	if (!l->limits.max_alias_nodes)
		l->limits.max_alias_nodes = yaml_default_limits.max_alias_nodes;
	if (!l->limits.max_docs)
		l->limits.max_docs = yaml_default_limits.max_docs;
	l->strict = l->opts.strict || (l->opts.config && l->opts.config->strict == 1);
	return l;
}

int linter_add(struct linter *l, const char *path, const char *data, size_t len)
{
	if (l->opts.config && !lint_config_path_selected(l->opts.config, path))
		return 0;
	return kset_add_file(&l->set, path, data, len, &l->limits,
			     l->strict ? SEV_ERROR : SEV_INFO, &l->fs);
}

const struct kset *linter_objects(const struct linter *l)
{
	return &l->set;
}

/* "1.33", "v1.33.2" -> 1, 33; -1 when unreadable. */
static int parse_version(const char *s, int *major, int *minor)
{
	char *end;
	long a, b;

	if (!s)
		return -1;
	if (*s == 'v' || *s == 'V')
		s++;
	a = strtol(s, &end, 10);
	if (end == s || *end != '.')
		return -1;
	s = end + 1;
	b = strtol(s, &end, 10);
	if (end == s || a < 0 || b < 0 || a > 100 || b > 1000)
		return -1;
	*major = (int)a;
	*minor = (int)b;
	return 0;
}

static int is_crd(const struct kobj *o)
{
	return !strcmp(o->group, "apiextensions.k8s.io") &&
		!strcmp(o->kind, "CustomResourceDefinition");
}

/* Findings that say the input could not be read keep their severity. */
static int unlowerable(const char *rule)
{
	return rule && (!strcmp(rule, "yaml-syntax") || !strcmp(rule, "yaml-limit"));
}

static void apply_config(const struct lint_config *c, struct findings *fs)
{
	size_t i;

	if (!c || !c->nrules)
		return;
	for (i = 0; i < fs->n; i++) {
		struct finding *f = &fs->v[i];
		enum severity sev;

		if (!f->rule || unlowerable(f->rule) || rule_find(f->rule))
			continue;	/* rules got theirs through rule_ctx */
		sev = lint_config_severity(c, f->rule, f->sev);
		f->sev = sev;
	}
}

static int list_has(const char *list, const char *word)
{
	size_t wl = strlen(word);
	const char *p = list;

	while (*p) {
		const char *b, *e;

		while (*p == ' ' || *p == '\t' || *p == ',')
			p++;
		b = p;
		while (*p && *p != ',')
			p++;
		e = p;
		while (e > b && (e[-1] == ' ' || e[-1] == '\t'))
			e--;
		if ((size_t)(e - b) == wl && !memcmp(b, word, wl))
			return 1;
	}
	return 0;
}

/*
 * tidegate.io/ignore on an object also covers the engine's own findings
 * about it (schema-*, yaml11-trap, invalid-label, ...); the lint rules
 * apply it themselves in rule_report(). Objects carrying the annotation
 * are few, so this is one pass over the findings per such object.
 */
static void apply_ignores(const struct kset *set, struct findings *fs)
{
	size_t i, j;

	for (i = 0; i < set->nobjs; i++) {
		const struct kobj *o = &set->objs[i];
		const struct ynode *ann = ynode_path(o->root, "metadata.annotations");
		const char *list = ynode_str(ynode_get(ann, "tidegate.io/ignore"));
		const char *reason = ynode_str(ynode_get(ann, "tidegate.io/ignore-reason"));

		if (!list || !o->id)
			continue;
		for (j = 0; j < fs->n; j++) {
			struct finding *f = &fs->v[j];

			if (f->ignored || !f->rule || !f->object || rule_find(f->rule) ||
			    unlowerable(f->rule) || strcmp(f->object, o->id) ||
			    strcmp(f->path, o->path) || !list_has(list, f->rule))
				continue;
			finding_ignore(fs, f, reason && *reason ? reason : NULL);
		}
	}
}

static void run_rules(struct linter *l, struct schema_store *st, struct findings *fs)
{
	const struct lint_config *c = l->opts.config;
	const struct rule *rules;
	size_t nrules, i, j;
	struct rule_ctx ctx;
	const char *kv = l->opts.kube_version;

	memset(&ctx, 0, sizeof(ctx));
	if (!kv && c)
		kv = c->kube_version;
	if (!kv)
		kv = schema_store_kube_version(st);
	if (parse_version(kv, &ctx.kube_major, &ctx.kube_minor) < 0) {
		ctx.kube_major = 0;
		ctx.kube_minor = 0;
	}
	ctx.require_namespace = c && c->require_namespace == 1;
	ctx.fs = fs;
	rules = rules_all(&nrules);
	for (i = 0; i < nrules; i++) {
		const struct rule *r = &rules[i];

		ctx.rule = r;
		ctx.sev = lint_config_severity(c, r->id, r->sev);
		if (ctx.sev == SEV_OFF)
			continue;
		if (r->check_obj)
			for (j = 0; j < l->set.nobjs; j++)
				r->check_obj(&ctx, &l->set.objs[j]);
		if (r->check_set)
			r->check_set(&ctx, &l->set);
	}
}

int linter_run(struct linter *l, struct findings *out)
{
	struct schema_store *st;
	struct findings fs = FINDINGS_INIT;
	size_t i;

	if (l->ran) {
		findings_sort(out);
		return 0;
	}
	l->ran = 1;
	st = schema_store_new(l->opts.schema_dir);
	if (!st)
		return error("cannot load schemas from '%s'",
			     l->opts.schema_dir ? l->opts.schema_dir : "(bundled)");
	fs.max = 1000000;
	for (i = 0; i < l->set.nobjs; i++)
		if (is_crd(&l->set.objs[i]))
			schema_store_add_crd(st, &l->set.objs[i], &fs);
	for (i = 0; i < l->set.nobjs; i++) {
		const struct kobj *o = &l->set.objs[i];

		schema_validate(st, o, l->strict, &fs);
		if (o->namespace && !kind_is_cluster_scoped(o->group, o->kind) &&
		    schema_store_namespaced(st, o->group, o->version, o->kind) == 0) {
			const struct ynode *at = kobj_node(o, "metadata.namespace");
			struct finding *f = findings_add(&fs, o->path, at->line, at->col, SEV_WARNING,
				"namespace-on-cluster-scoped",
				"remove metadata.namespace: the object is cluster-scoped",
				"%s is cluster-scoped but sets namespace \"%s\"", o->kind, o->namespace);

			if (f) {
				f->jpath = xstrdup(".metadata.namespace");
				f->object = xstrdup(o->id);
			}
		}
	}
	run_rules(l, st, &fs);
	kset_check_duplicates(&l->set, &fs);
	schema_store_free(st);

	findings_move(&fs, &l->fs);	/* parse findings join the rest */
	apply_config(l->opts.config, &fs);
	apply_ignores(&l->set, &fs);
	findings_move(out, &fs);
	findings_sort(out);
	return 0;
}

void linter_free(struct linter *l)
{
	if (!l)
		return;
	kset_release(&l->set);
	findings_release(&l->fs);
	free(l);
}
