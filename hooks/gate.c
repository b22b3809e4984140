#include "gate.h"
#include "changes.h"
#include "hook.h"
#include "lint.h"
#include "lintconf.h"
#include "log.h"
#include "rules.h"
#include "xalloc.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* Limits on what one ref's check reads. */
#define GATE_MAX_FILES 20000
#define GATE_MAX_TOTAL_BYTES (256u << 20)
#define GATE_FILE_MAX (8u << 20)
/* More changed directories than this: list the tree once instead of per directory. */
#define GATE_DIRS_PER_LSTREE 8

#define REPO_CONFIG ".tidegate.yaml"

/* ---- policy ---------------------------------------------------------- */

/* Appends the words of every value of key (split on commas and blanks). */
static void add_list(struct git_repo *repo, const char *key, char ***v, size_t *n)
{
	size_t pos = 0, alloc = *n;
	const char *val;

	while ((val = git_config_next(repo, key, &pos))) {
		const char *p = val;

		while (*p) {
			size_t len = strcspn(p, ", \t");

			if (len) {
				XGROW(*v, *n + 1, alloc);
				(*v)[(*n)++] = xstrndup(p, len);
			}
			p += len;
			p += strspn(p, ", \t");
		}
	}
}

static char *config_str(struct git_repo *repo, const char *key)
{
	const char *v = git_config_get(repo, key);

	return v && *v ? xstrdup(v) : NULL;
}

static int config_flag(struct git_repo *repo, const char *key, int *out)
{
	int v = git_config_bool(repo, key, *out);

	if (v < 0)
		return -1;
	*out = v;
	return 0;
}

int gate_load_policy(struct gate *g, struct git_repo *repo)
{
	struct gate_policy *p = &g->pol;
	const char *v;

	g->repo = repo;
	add_list(repo, "tidegate.refs", &p->refs, &p->nrefs);
	if (!p->nrefs) {
		p->refs = xmalloc(sizeof(*p->refs));
		p->refs[p->nrefs++] = xstrdup("refs/heads/*");
	}
	add_list(repo, "tidegate.paths", &p->paths, &p->npaths);
	add_list(repo, "tidegate.lockedRules", &p->locked, &p->nlocked);
	for (size_t i = 0; i < p->nlocked; i++)
		if (!rule_find(p->locked[i]))
			log_warnx("tidegate.lockedRules: unknown rule '%s'", p->locked[i]);
	v = git_config_get(repo, "tidegate.deadline");
	if (v && hook_parse_duration(v, &p->deadline_ms) < 0)
		return error("tidegate.deadline: bad duration '%s' (say 4000, 4000ms or 4s)", v);
	if (config_flag(repo, "tidegate.failOpen", &p->fail_open) < 0 ||
	    config_flag(repo, "tidegate.allowBypass", &p->allow_bypass) < 0 ||
	    config_flag(repo, "tidegate.strict", &p->strict) < 0)
		return -1;
	p->kube_version = config_str(repo, "tidegate.kubeVersion");
	p->schema_dir = config_str(repo, "tidegate.schemaDir");
	p->server_config = config_str(repo, "tidegate.config");
	p->audit_log = config_str(repo, "tidegate.auditLog");
	if (!p->audit_log)
		p->audit_log = xstrfmt("%s/tidegate/audit.log", git_repo_dir(repo));
	if (gate_config_load_server(g) < 0)
		return -1;
	return 0;
}

int gate_ref_selected(const struct gate *g, const char *ref)
{
	int yes = 0;

	for (size_t i = 0; i < g->pol.nrefs; i++) {
		const char *pat = g->pol.refs[i];

		if (*pat == '!') {
			if (hook_path_match(pat + 1, ref))
				return 0;
		} else if (hook_path_match(pat, ref)) {
			yes = 1;
		}
	}
	return yes;
}

static int has_manifest_ext(const char *path)
{
	const char *dot = strrchr(path, '.');

	return dot && !strchr(dot, '/') &&
	       (!strcasecmp(dot, ".yaml") || !strcasecmp(dot, ".yml") || !strcasecmp(dot, ".json"));
}

int gate_path_selected(const struct gate *g, const char *path)
{
	if (!has_manifest_ext(path) || !strcmp(path, REPO_CONFIG))
		return 0;
	if (!g->pol.npaths)
		return 1;
	for (size_t i = 0; i < g->pol.npaths; i++)
		if (hook_path_match(g->pol.paths[i], path))
			return 1;
	return 0;
}

static void free_list(char **v, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(v[i]);
	free(v);
}

void gate_release(struct gate *g)
{
	struct gate_policy *p = &g->pol;

	free_list(p->refs, p->nrefs);
	free_list(p->paths, p->npaths);
	free_list(p->locked, p->nlocked);
	free(p->kube_version);
	free(p->schema_dir);
	free(p->server_config);
	free(p->audit_log);
	gate_config_free(g->server_cfg);
	memset(p, 0, sizeof(*p));
	g->server_cfg = NULL;
}

/* ---- one ref --------------------------------------------------------- */

struct item {
	char *path;
	char oid[GIT_MAX_HEXSZ + 1];
	unsigned mode;
	int changed;
};

struct check {
	struct gate *g;
	const char *new;
	const struct lint_config *cfg;	/* set once the commit's config is read */
	struct item *items;
	size_t n, alloc;
	char **dirs;		/* directories holding changed manifests ("" = root) */
	size_t ndirs, alloc_dirs;
	int config_changed;
	struct changes *changes;	/* every changed path, for post-receive; or NULL */
};

static void add_item(struct check *c, const char *path, const char *oid, unsigned mode,
		     int changed)
{
	struct item *it;

	XGROW(c->items, c->n + 1, c->alloc);
	it = &c->items[c->n++];
	it->path = xstrdup(path);
	snprintf(it->oid, sizeof(it->oid), "%s", oid);
	it->mode = mode;
	it->changed = changed;
}

static void add_dir_of(struct check *c, const char *path)
{
	const char *slash = strrchr(path, '/');

	XGROW(c->dirs, c->ndirs + 1, c->alloc_dirs);
	c->dirs[c->ndirs++] = slash ? xstrndup(path, (size_t)(slash - path)) : xstrdup("");
}

static int on_change(const struct git_change *ch, void *data)
{
	struct check *c = data;

	if (c->changes)
		changes_add(c->changes, ch->path);
	if (!strcmp(ch->path, REPO_CONFIG)) {
		c->config_changed = 1;
		return 0;
	}
	if (!gate_path_selected(c->g, ch->path))
		return 0;
	add_dir_of(c, ch->path);
	if (ch->status != 'D' && ch->new_mode)
		add_item(c, ch->path, ch->new_oid, ch->new_mode, 1);
	return 0;
}

static int on_whole_tree(const struct git_entry *e, void *data)
{
	struct check *c = data;

	if (strcmp(e->type, "tree") && gate_path_selected(c->g, e->path))
		add_item(c, e->path, e->oid, e->mode, 1);
	return 0;
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static int cmp_item(const void *a, const void *b)
{
	return strcmp(((const struct item *)a)->path, ((const struct item *)b)->path);
}

static const struct item *find_item(const struct check *c, size_t nsorted, const char *path)
{
	struct item key;

	if (!nsorted)
		return NULL;
	key.path = (char *)path;
	return bsearch(&key, c->items, nsorted, sizeof(*c->items), cmp_item);
}

struct ctx_walk {
	struct check *c;
	size_t nsorted;		/* c->items[0..nsorted) are sorted by path */
	int whole;		/* entries come from a recursive walk of the whole tree */
};

static int in_dirs(const struct check *c, const char *path)
{
	const char *slash = strrchr(path, '/');
	char *dir = slash ? xstrndup(path, (size_t)(slash - path)) : xstrdup("");
	int yes = c->ndirs && bsearch(&dir, c->dirs, c->ndirs, sizeof(*c->dirs), cmp_str) != NULL;

	free(dir);
	return yes;
}

static int on_context(const struct git_entry *e, void *data)
{
	struct ctx_walk *w = data;

	if (strcmp(e->type, "blob") || !gate_path_selected(w->c->g, e->path) ||
	    !lint_config_path_selected(w->c->cfg, e->path))
		return 0;
	if (w->whole && !in_dirs(w->c, e->path))
		return 0;
	if (find_item(w->c, w->nsorted, e->path))
		return 0;
	if (w->c->n >= GATE_MAX_FILES)
		return error("more than %d manifests to check in one ref", GATE_MAX_FILES);
	add_item(w->c, e->path, e->oid, e->mode, 0);
	return 0;
}

/* Adds the unchanged manifests of every changed directory at the new tip. */
static int add_context(struct check *c)
{
	struct ctx_walk w = { c, c->n, 0 };
	size_t i, u = 0;

	if (c->n)
		qsort(c->items, c->n, sizeof(*c->items), cmp_item);
	if (c->ndirs)
		qsort(c->dirs, c->ndirs, sizeof(*c->dirs), cmp_str);
	for (i = 0; i < c->ndirs; i++) {
		if (u && !strcmp(c->dirs[u - 1], c->dirs[i])) {
			free(c->dirs[i]);
			continue;
		}
		c->dirs[u++] = c->dirs[i];
	}
	c->ndirs = u;
	if (c->ndirs > GATE_DIRS_PER_LSTREE) {
		w.whole = 1;
		return git_tree_files(c->g->repo, c->new, NULL, GIT_TREE_RECURSIVE, on_context, &w);
	}
	for (i = 0; i < c->ndirs; i++) {
		int r = git_tree_files(c->g->repo, c->new, *c->dirs[i] ? c->dirs[i] : NULL, 0,
				       on_context, &w);

		if (r)
			return r < 0 ? r : -1;
	}
	return 0;
}

/* A finding in an unchanged file counts only when a cross-object rule made it. */
static int cross_object(const char *rule_id)
{
	const struct rule *r = rule_id ? rule_find(rule_id) : NULL;

	if (rule_id && !strcmp(rule_id, "duplicate-object"))
		return 1;
	return r && r->check_set;
}

static void keep_findings(const struct check *c, struct findings *all, struct findings *out)
{
	for (size_t i = 0; i < all->n; i++) {
		const struct finding *f = &all->v[i];
		const struct item *it = find_item(c, c->n, f->path);
		struct finding *nf;

		if (it && !it->changed && !cross_object(f->rule))
			continue;
		nf = findings_add(out, f->path, f->line, f->col, f->sev, f->rule, f->hint,
				  "%s", f->msg);
		if (!nf)
			continue;
		if (f->jpath)
			nf->jpath = xstrdup(f->jpath);
		if (f->object)
			nf->object = xstrdup(f->object);
		if (f->ignored)
			finding_ignore(out, nf, f->ignore_reason);
	}
}

/* Drops the changed files the commit's configuration excludes (keeping their directories). */
static void drop_unselected(struct check *c)
{
	size_t u = 0;

	for (size_t i = 0; i < c->n; i++) {
		if (lint_config_path_selected(c->cfg, c->items[i].path))
			c->items[u++] = c->items[i];
		else
			free(c->items[i].path);
	}
	c->n = u;
}

static void check_release(struct check *c)
{
	for (size_t i = 0; i < c->n; i++)
		free(c->items[i].path);
	free(c->items);
	free_list(c->dirs, c->ndirs);
}

struct feed {
	struct check *c;
	struct linter *l;
	struct findings *out;
	struct gate_stats *st;
	struct item **items;	/* the regular files, in the order requested */
	size_t total;
};

static int feed_one(size_t i, int result, const char *type, const struct buf *data, void *cb)
{
	struct feed *f = cb;
	struct item *it = f->items[i];

	if (result < 0 && data->toobig) {
		if (it->changed)
			findings_add(f->out, it->path, 0, 0, SEV_ERROR, "file-too-large", NULL,
				     "file is over %u bytes", GATE_FILE_MAX);
		return 0;
	}
	if (result || strcmp(type, "blob"))
		return error("cannot read '%s' (%s) at the pushed commit", it->path, it->oid);
	if (memchr(data->data, '\0', data->len)) {
		f->st->skipped++;	/* binary */
		return 0;
	}
	f->total += data->len;
	if (f->total > GATE_MAX_TOTAL_BYTES)
		return error("more than %u bytes of manifests in one ref", GATE_MAX_TOTAL_BYTES);
	if (it->changed)
		f->st->changed++;
	else
		f->st->context++;
	linter_add(f->l, it->path, data->data, data->len);	/* parse errors come out as findings */
	return 0;
}

static int feed_linter(struct check *c, struct linter *l, struct findings *out,
		       struct gate_stats *st)
{
	struct feed f = { c, l, out, st, NULL, 0 };
	const char **names = xcalloc(c->n ? c->n : 1, sizeof(*names));
	size_t n = 0;
	int ret;

	f.items = xcalloc(c->n ? c->n : 1, sizeof(*f.items));
	for (size_t i = 0; i < c->n; i++) {
		struct item *it = &c->items[i];

		if (it->mode != GIT_MODE_FILE && it->mode != GIT_MODE_EXEC) {
			st->skipped++;		/* symlinks, submodules */
			continue;
		}
		f.items[n] = it;
		names[n++] = it->oid;
	}
	ret = git_read_objects(c->g->repo, names, n, GATE_FILE_MAX, feed_one, &f);
	free(names);
	free(f.items);
	return ret ? -1 : 0;
}

int gate_check_ref(struct gate *g, const char *old, const char *new, struct findings *out,
		   struct gate_stats *st)
{
	struct check c;
	struct lint_options opts = LINT_OPTIONS_INIT;
	struct lint_config *cfg = NULL;
	struct findings all = FINDINGS_INIT;
	struct linter *l = NULL;
	struct changes changes = CHANGES_INIT;
	int ret = -1;

	memset(&c, 0, sizeof(c));
	memset(st, 0, sizeof(*st));
	c.g = g;
	c.new = new;
	if (git_is_zero_oid(new))
		return 0;
	/* a new branch's list is not the one post-receive sends (it sends none) */
	if (g->save_changes && !git_is_zero_oid(old))
		c.changes = &changes;
	if (git_changed_paths(g->repo, old, new, on_change, &c)) {
		changes_release(&changes);
		goto done;
	}
	if (c.changes)
		changes_save(git_repo_dir(g->repo), old, new, &changes);
	c.changes = NULL;
	changes_release(&changes);
	if (c.config_changed) {
		/* new rules: every manifest at the new tip is checked */
		check_release(&c);
		memset(&c, 0, sizeof(c));
		c.g = g;
		c.new = new;
		c.config_changed = 1;
		if (git_tree_files(g->repo, new, NULL, GIT_TREE_RECURSIVE, on_whole_tree, &c))
			goto done;
	}
	if (!c.n && !c.config_changed) {
		ret = 0;
		goto done;
	}
	/* read even with no manifest to check: a broken .tidegate.yaml refuses */
	if (gate_config_for_commit(g, new, &cfg, out) < 0)
		goto done;
	c.cfg = cfg;
	drop_unselected(&c);
	if (!c.n) {
		findings_sort(out);
		ret = 0;
		goto done;
	}
	if (!c.config_changed && add_context(&c) < 0)
		goto done;
	qsort(c.items, c.n, sizeof(*c.items), cmp_item);
	opts.schema_dir = g->pol.schema_dir;
	opts.kube_version = cfg->kube_version;
	opts.strict = cfg->strict == 1;
	opts.config = cfg;
	opts.shrink = 1;	/* each file checked as it is read: memory stays flat */
	l = linter_new(&opts);
	if (!l) {
		error("cannot start the validation engine");
		goto done;
	}
	if (feed_linter(&c, l, out, st) < 0)
		goto done;
	if (linter_run(l, &all) < 0) {
		error("the validation engine failed");
		goto done;
	}
	keep_findings(&c, &all, out);
	findings_sort(out);
	ret = 0;
done:
	linter_free(l);
	gate_config_free(cfg);
	findings_release(&all);
	check_release(&c);
	return ret;
}
