/*
 * lint.c - the validation engine: files -> objects -> schemas, rules and
 * cross-object checks -> sorted findings.
 *
 * Every pass is linear in the objects (rules times objects for the
 * per-object rules, one hash pass for duplicates); the raw bytes of a
 * file are not kept once its tree is built. With opts.shrink, objects of
 * the built-in API groups are checked as their file arrives and the
 * file's tree is then cut down to what the whole-set rules read, so a
 * large run keeps little more than metadata; custom resources and CRDs
 * wait whole for the run, since a CRD later in the set may define them.
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
	struct findings fs;	/* from parsing and early checks, until the run */
	struct schema_store *st;	/* opened on first need, or opts.schemas */
	int st_failed;
	int st_borrowed;		/* st is opts.schemas: not ours to change or free */
	struct rule_ctx ctx;	/* target version, namespace policy */
	enum severity *sev;	/* each rule's severity after configuration */
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

static void check_early(struct linter *l, size_t file, size_t from);

int linter_add(struct linter *l, const char *path, const char *data, size_t len)
{
	size_t file = l->set.nfiles, from = l->set.nobjs;
	int ret;

	if (l->opts.config && !lint_config_path_selected(l->opts.config, path))
		return 0;
	ret = kset_add_file(&l->set, path, data, len, &l->limits,
			    l->strict ? SEV_ERROR : SEV_INFO, &l->fs);
	if (l->opts.shrink && !l->ran)
		check_early(l, file, from);
	return ret;
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

/* The schema store, opened on first need; NULL when it cannot be. */
static struct schema_store *store(struct linter *l)
{
	if (!l->st && !l->st_failed && l->opts.schemas && !l->opts.shrink) {
		l->st = l->opts.schemas;
		l->st_borrowed = 1;
	}
	if (!l->st && !l->st_failed) {
		l->st = schema_store_new(l->opts.schema_dir);
		if (!l->st)
			l->st_failed = 1;
	}
	return l->st;
}

/* Target version, namespace policy and rule severities, once. */
static void prepare_rules(struct linter *l)
{
	const struct lint_config *c = l->opts.config;
	const struct rule *rules;
	const char *kv = l->opts.kube_version;
	size_t nrules, i;

	if (l->sev)
		return;
	memset(&l->ctx, 0, sizeof(l->ctx));
	if (!kv && c)
		kv = c->kube_version;
	if (!kv && l->st)
		kv = schema_store_kube_version(l->st);
	if (parse_version(kv, &l->ctx.kube_major, &l->ctx.kube_minor) < 0) {
		l->ctx.kube_major = 0;
		l->ctx.kube_minor = 0;
	}
	l->ctx.require_namespace = c && c->require_namespace == 1;
	rules = rules_all(&nrules);
	l->sev = xcalloc(nrules ? nrules : 1, sizeof(*l->sev));
	for (i = 0; i < nrules; i++)
		l->sev[i] = lint_config_severity(c, rules[i].id, rules[i].sev);
}

/* Schema, scope and per-object rules for one object. */
static void check_object(struct linter *l, struct kobj *o, struct findings *fs)
{
	const struct rule *rules;
	struct rule_ctx ctx = l->ctx;
	size_t nrules, i;

	schema_validate(l->st, o, l->strict, fs);
	if (o->namespace && !kind_is_cluster_scoped(o->group, o->kind) &&
	    schema_store_namespaced(l->st, o->group, o->version, o->kind) == 0) {
		const struct ynode *at = kobj_node(o, "metadata.namespace");
		struct finding *f = findings_add(fs, o->path, at->line, at->col, SEV_WARNING,
			"namespace-on-cluster-scoped",
			"remove metadata.namespace: the object is cluster-scoped",
			"%s is cluster-scoped but sets namespace \"%s\"", o->kind, o->namespace);

		if (f) {
			f->jpath = xstrdup(".metadata.namespace");
			f->object = xstrdup(o->id);
		}
	}
	ctx.fs = fs;
	rules = rules_all(&nrules);
	for (i = 0; i < nrules; i++) {
		if (l->sev[i] == SEV_OFF || !rules[i].check_obj)
			continue;
		ctx.rule = &rules[i];
		ctx.sev = l->sev[i];
		rules[i].check_obj(&ctx, o);
	}
	o->checked = 1;
}

/*
 * API groups served by Kubernetes itself: no CustomResourceDefinition
 * can define their kinds, so a schema found for them now is final.
 */
static int builtin_group(const char *g)
{
	static const char *const groups[] = {
		"admissionregistration.k8s.io", "apiextensions.k8s.io", "apiregistration.k8s.io",
		"authentication.k8s.io", "authorization.k8s.io", "certificates.k8s.io",
		"coordination.k8s.io", "discovery.k8s.io", "events.k8s.io",
		"flowcontrol.apiserver.k8s.io", "internal.apiserver.k8s.io", "networking.k8s.io",
		"node.k8s.io", "rbac.authorization.k8s.io", "resource.k8s.io",
		"scheduling.k8s.io", "storage.k8s.io", "storagemigration.k8s.io",
	};
	size_t i;

	if (!g)
		return 0;
	if (!strchr(g, '.'))
		return 1;	/* a CRD's group always has a dot */
	for (i = 0; i < sizeof(groups) / sizeof(groups[0]); i++)
		if (!strcmp(g, groups[i]))
			return 1;
	return 0;
}

/*
 * Checks the objects [from, nobjs) of file number `file` now when their
 * schemas cannot come from a CRD still to be added, and cuts the file's
 * tree down when nothing in it waits for the run.
 */
static void check_early(struct linter *l, size_t file, size_t from)
{
	size_t i;
	int all = 1;

	if (l->set.nobjs == from || !store(l))
		return;		/* nothing kept; or the run reports the schema failure */
	prepare_rules(l);
	for (i = from; i < l->set.nobjs; i++) {
		struct kobj *o = &l->set.objs[i];

		if (!builtin_group(o->group)) {
			all = 0;
			continue;
		}
		check_object(l, o, &l->fs);
		if (is_crd(o))
			all = 0;	/* the store reads its schema at the run */
	}
	if (all)
		kset_shrink_file(&l->set, file, from, l->set.nobjs, rules_set_keep);
}

int linter_run(struct linter *l, struct findings *out)
{
	struct findings fs = FINDINGS_INIT;
	const struct rule *rules;
	struct rule_ctx ctx;
	size_t i, nrules;

	if (l->ran) {
		findings_sort(out);
		return 0;
	}
	l->ran = 1;
	for (i = 0; i < l->set.nobjs && l->opts.schemas; i++)
		if (is_crd(&l->set.objs[i]))
			l->opts.schemas = NULL;	/* it would add to the borrowed store */
	if (!store(l))
		return error("cannot load schemas from '%s'",
			     l->opts.schema_dir ? l->opts.schema_dir : "(bundled)");
	prepare_rules(l);
	fs.max = 1000000;
	for (i = 0; i < l->set.nobjs; i++)
		if (is_crd(&l->set.objs[i]))
			schema_store_add_crd(l->st, &l->set.objs[i], &fs);
	for (i = 0; i < l->set.nobjs; i++)
		if (!l->set.objs[i].checked)
			check_object(l, &l->set.objs[i], &fs);
	ctx = l->ctx;
	ctx.fs = &fs;
	rules = rules_all(&nrules);
	for (i = 0; i < nrules; i++) {
		if (l->sev[i] == SEV_OFF || !rules[i].check_set)
			continue;
		ctx.rule = &rules[i];
		ctx.sev = l->sev[i];
		rules[i].check_set(&ctx, &l->set);
	}
	kset_check_duplicates(&l->set, &fs);
	if (!l->st_borrowed)
		schema_store_free(l->st);
	l->st = NULL;
	l->st_failed = 1;	/* no later use */

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
	if (!l->st_borrowed)
		schema_store_free(l->st);
	free(l->sev);
	free(l);
}
