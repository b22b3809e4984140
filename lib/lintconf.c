/*
 * lintconf.c - .tidegate.yaml and server policy files.
 */
#include "lintconf.h"
#include "buf.h"
#include "report.h"
#include "rules.h"
#include "xalloc.h"
#include "yaml.h"

#include <errno.h>
#include <fnmatch.h>
#include <stdlib.h>
#include <string.h>

#define CONFIG_MAX_BYTES (1u << 20)
#define GLOB_MAX 1024

void lint_config_init(struct lint_config *c)
{
	struct lint_config blank = LINT_CONFIG_INIT;

	*c = blank;
}

static void free_strv(char **v, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		free(v[i]);
	free(v);
}

void lint_config_release(struct lint_config *c)
{
	size_t i;

	for (i = 0; i < c->nrules; i++)
		free(c->rules[i].id);
	free(c->rules);
	free_strv(c->include, c->ninclude);
	free_strv(c->exclude, c->nexclude);
	free_strv(c->locked, c->nlocked);
	free(c->kube_version);
	free(c->root);
	free(c->source);
	lint_config_init(c);
}

void lint_config_set_rule(struct lint_config *c, const char *id, enum severity sev)
{
	size_t i;

	for (i = 0; i < c->nrules; i++)
		if (!strcmp(c->rules[i].id, id)) {
			c->rules[i].sev = sev;
			return;
		}
	XGROW(c->rules, c->nrules + 1, c->alloc_rules);
	c->rules[c->nrules].id = xstrdup(id);
	c->rules[c->nrules].sev = sev;
	c->nrules++;
}

static const struct lint_rule_setting *find_setting(const struct lint_config *c, const char *id)
{
	size_t i;

	if (!c)
		return NULL;
	for (i = 0; i < c->nrules; i++)
		if (!strcmp(c->rules[i].id, id))
			return &c->rules[i];
	return NULL;
}

enum severity lint_config_severity(const struct lint_config *c, const char *id,
				   enum severity def)
{
	const struct lint_rule_setting *s = find_setting(c, id);

	return s ? s->sev : def;
}

static void add_str(char ***v, size_t *n, size_t *alloc, const char *s)
{
	XGROW(*v, *n + 1, *alloc);
	(*v)[(*n)++] = xstrdup(s);
}

int lint_config_is_locked(const struct lint_config *c, const char *id)
{
	size_t i;

	if (!c)
		return 0;
	for (i = 0; i < c->nlocked; i++)
		if (!strcmp(c->locked[i], "*") || !strcmp(c->locked[i], id))
			return 1;
	return 0;
}

void lint_config_lock(struct lint_config *c, const char *id)
{
	if (!lint_config_is_locked(c, id) || !strcmp(id, "*"))
		add_str(&c->locked, &c->nlocked, &c->alloc_locked, id);
}

/* ---- parsing -------------------------------------------------------- */

static void bad(struct findings *fs, const char *path, const struct ynode *at, int *err,
		const char *what, const char *detail)
{
	findings_add(fs, path, at ? at->line : 0, at ? at->col : 0, SEV_ERROR, "config-invalid",
		     "see docs/lint-output.md for the .tidegate.yaml keys", "%s%s", what, detail);
	*err = 1;
}

static int get_bool(const struct ynode *v, int *out)
{
	if (!v || v->kind != YN_SCALAR || v->stype != YS_BOOL)
		return -1;
	*out = v->str[0] == 't' || v->str[0] == 'T';
	return 0;
}

static void read_strlist(const struct ynode *v, char ***list, size_t *n, size_t *alloc,
			 struct findings *fs, const char *path, const char *key, int *err)
{
	size_t i;

	if (v->kind == YN_SCALAR && v->stype == YS_STRING) {
		add_str(list, n, alloc, v->str);
		return;
	}
	if (v->kind != YN_SEQ) {
		bad(fs, path, v, err, key, " must be a list of strings");
		return;
	}
	for (i = 0; i < v->n; i++) {
		const struct ynode *it = v->kids[i];

		if (it->kind != YN_SCALAR || ynode_is_null(it) || it->len > GLOB_MAX) {
			bad(fs, path, it, err, key, " items must be strings (at most 1024 bytes)");
			continue;
		}
		add_str(list, n, alloc, it->str);
	}
}

static void read_rules(struct lint_config *c, const struct ynode *v, struct findings *fs,
		       const char *path, int *err, int lock)
{
	size_t i;

	if (v->kind != YN_MAP) {
		if (!ynode_is_null(v))
			bad(fs, path, v, err, lock ? "locked" : "rules",
			    lock ? " must be a list of rule ids" : " must be a map of rule id to severity");
		return;
	}
	for (i = 0; i < v->n; i++) {
		const struct ynode *k = v->kids[2 * i], *s = v->kids[2 * i + 1];
		const char *summary, *hint;
		enum severity sev, def;

		if (k->kind != YN_SCALAR) {
			bad(fs, path, k, err, "rules", " keys must be rule ids");
			continue;
		}
		if (report_rule_info(k->str, &summary, &hint, &def) < 0)
			findings_add(fs, path, k->line, k->col, SEV_WARNING, "config-unknown",
				     "`tidegate lint --list-rules` lists the rule ids",
				     "unknown rule \"%s\"", k->str);
		if (s->kind != YN_SCALAR || severity_parse(s->str, &sev) < 0) {
			findings_add(fs, path, s->line, s->col, SEV_ERROR, "config-invalid",
				     "use off, info, warning or error",
				     "rule \"%s\": severity \"%s\" is not off, info, warning or error",
				     k->str, s->kind == YN_SCALAR ? s->str : "");
			*err = 1;
			continue;
		}
		lint_config_set_rule(c, k->str, sev);
	}
}

int lint_config_parse(struct lint_config *c, const char *path, const char *data, size_t len,
		      struct findings *fs)
{
	struct yaml_limits lim = yaml_default_limits;
	struct yfile yf = YFILE_INIT;
	const struct ynode *root;
	int err = 0;
	size_t i;

	lim.max_bytes = CONFIG_MAX_BYTES;
	lim.max_docs = 1;
	lim.max_depth = 16;
	lim.max_alias_nodes = 1000;
	if (!c->source)
		c->source = xstrdup(path);
	if (yaml_parse(&yf, path, data, len, &lim, fs) < 0) {
		yfile_release(&yf);
		return -1;
	}
	root = yf.ndocs ? yf.docs[0].root : NULL;
	if (root && root->kind != YN_MAP) {
		bad(fs, path, root, &err, "configuration", " must be a map");
		root = NULL;
	}
	for (i = 0; root && i < root->n; i++) {
		const struct ynode *k = root->kids[2 * i], *v = root->kids[2 * i + 1];
		const char *key = k->kind == YN_SCALAR ? k->str : "";
		int b;

		if (!strcmp(key, "rules")) {
			read_rules(c, v, fs, path, &err, 0);
		} else if (!strcmp(key, "include")) {
			read_strlist(v, &c->include, &c->ninclude, &c->alloc_include, fs, path, key, &err);
		} else if (!strcmp(key, "exclude")) {
			read_strlist(v, &c->exclude, &c->nexclude, &c->alloc_exclude, fs, path, key, &err);
		} else if (!strcmp(key, "locked")) {
			char **ids = NULL;
			size_t n = 0, alloc = 0, j;

			read_strlist(v, &ids, &n, &alloc, fs, path, key, &err);
			for (j = 0; j < n; j++)
				lint_config_lock(c, ids[j]);
			free_strv(ids, n);
		} else if (!strcmp(key, "kubeVersion")) {
			if (v->kind != YN_SCALAR || ynode_is_null(v)) {
				bad(fs, path, v, &err, key, " must be a version such as \"1.33\"");
				continue;
			}
			free(c->kube_version);
			c->kube_version = xstrdup(v->str);
		} else if (!strcmp(key, "strict") || !strcmp(key, "requireNamespace") ||
			   !strcmp(key, "lockPaths")) {
			if (get_bool(v, &b) < 0) {
				bad(fs, path, v, &err, key, " must be true or false");
				continue;
			}
			if (key[0] == 's')
				c->strict = b;
			else if (key[0] == 'r')
				c->require_namespace = b;
			else
				c->lock_paths = b;
		} else {
			findings_add(fs, path, k->line, k->col, SEV_WARNING, "config-unknown",
				     "known keys: rules, include, exclude, kubeVersion, strict, requireNamespace, locked, lockPaths",
				     "unknown key \"%s\"", key);
		}
	}
	yfile_release(&yf);
	return err ? -1 : 0;
}

int lint_config_load(struct lint_config *c, const char *path, struct findings *fs)
{
	struct buf b = BUF_INIT(CONFIG_MAX_BYTES);
	int ret;

	if (buf_read_file(&b, path) < 0) {
		findings_add(fs, path, 0, 0, SEV_ERROR, "config-invalid", NULL,
			     "cannot read configuration: %s",
			     b.toobig ? "over 1 MiB" : strerror(errno));
		buf_release(&b);
		return -1;
	}
	free(c->source);
	c->source = xstrdup(path);
	ret = lint_config_parse(c, path, b.data, b.len, fs);
	buf_release(&b);
	return ret;
}

/* ---- merging -------------------------------------------------------- */

static void copy_strv(char ***dst, size_t *n, size_t *alloc, char *const *src, size_t nsrc)
{
	size_t i;

	for (i = 0; i < nsrc; i++)
		add_str(dst, n, alloc, src[i]);
}

void lint_config_merge(struct lint_config *out, const struct lint_config *server,
		       const struct lint_config *repo, struct findings *fs)
{
	size_t i;

	if (server) {
		for (i = 0; i < server->nrules; i++)
			lint_config_set_rule(out, server->rules[i].id, server->rules[i].sev);
		copy_strv(&out->include, &out->ninclude, &out->alloc_include,
			  server->include, server->ninclude);
		copy_strv(&out->exclude, &out->nexclude, &out->alloc_exclude,
			  server->exclude, server->nexclude);
		copy_strv(&out->locked, &out->nlocked, &out->alloc_locked,
			  server->locked, server->nlocked);
		out->lock_paths = server->lock_paths;
		out->strict = server->strict;
		out->require_namespace = server->require_namespace;
		if (server->kube_version)
			out->kube_version = xstrdup(server->kube_version);
		if (server->root)
			out->root = xstrdup(server->root);
	}
	if (!repo)
		return;
	for (i = 0; i < repo->nrules; i++) {
		const char *id = repo->rules[i].id;
		enum severity want = repo->rules[i].sev, floor;

		if (lint_config_is_locked(server, id)) {
			const struct rule *r = rule_find(id);

			floor = lint_config_severity(server, id, r ? r->sev : SEV_ERROR);
			if (want < floor) {
				findings_add(fs, repo->source ? repo->source : ".tidegate.yaml", 0, 0,
					     SEV_WARNING, "config-locked",
					     "the server's policy locks this rule; ask its administrators",
					     "rule \"%s\" is locked at %s by the server; the repository's \"%s\" is ignored",
					     id, severity_name(floor), severity_name(want));
				continue;
			}
		}
		lint_config_set_rule(out, id, want);
	}
	if (!out->lock_paths) {
		if (repo->ninclude) {
			free_strv(out->include, out->ninclude);
			out->include = NULL;
			out->ninclude = out->alloc_include = 0;
			copy_strv(&out->include, &out->ninclude, &out->alloc_include,
				  repo->include, repo->ninclude);
		}
		copy_strv(&out->exclude, &out->nexclude, &out->alloc_exclude,
			  repo->exclude, repo->nexclude);
		if (repo->root) {
			free(out->root);
			out->root = xstrdup(repo->root);
		}
	}
	if (repo->strict >= 0 && !(out->strict == 1 && server && server->strict == 1))
		out->strict = repo->strict;
	if (repo->require_namespace >= 0 &&
	    !(out->require_namespace == 1 && server && server->require_namespace == 1))
		out->require_namespace = repo->require_namespace;
	if (repo->kube_version) {
		free(out->kube_version);
		out->kube_version = xstrdup(repo->kube_version);
	}
	if (repo->source && !out->source)
		out->source = xstrdup(repo->source);
}

/* ---- globs ---------------------------------------------------------- */

enum gtok { G_LIT, G_ANY, G_STAR, G_DSTAR, G_DSTAR_SLASH, G_CLASS };

struct gtoken {
	enum gtok t;
	char c;
	const char *cls;	/* G_CLASS: "[...]" text, for fnmatch */
	size_t cls_len;
};

static size_t tokenize(const char *p, struct gtoken *tok, size_t max)
{
	size_t n = 0;

	while (*p && n < max) {
		struct gtoken *t = &tok[n++];

		memset(t, 0, sizeof(*t));
		if (p[0] == '*' && p[1] == '*') {
			p += 2;
			while (*p == '*')
				p++;
			if (*p == '/') {
				p++;
				t->t = G_DSTAR_SLASH;
			} else {
				t->t = G_DSTAR;
			}
		} else if (*p == '*') {
			t->t = G_STAR;
			p++;
		} else if (*p == '?') {
			t->t = G_ANY;
			p++;
		} else if (*p == '[' && strchr(p + 1, ']')) {
			const char *end = strchr(p + (p[1] == ']' ? 2 : 1), ']');

			if (!end) {
				t->t = G_LIT;
				t->c = *p++;
				continue;
			}
			t->t = G_CLASS;
			t->cls = p;
			t->cls_len = end - p + 1;
			p = end + 1;
		} else {
			if (*p == '\\' && p[1])
				p++;
			t->t = G_LIT;
			t->c = *p++;
		}
	}
	return n;
}

static int class_match(const struct gtoken *t, char ch)
{
	char pat[GLOB_MAX + 1], s[2] = { ch, 0 };

	if (t->cls_len > GLOB_MAX)
		return 0;
	memcpy(pat, t->cls, t->cls_len);
	pat[t->cls_len] = '\0';
	return fnmatch(pat, s, 0) == 0;
}

/* Dynamic programming over (token, position): no exponential backtracking. */
static int glob_match_len(const char *pattern, const char *s, size_t n)
{
	struct gtoken tok[GLOB_MAX];
	size_t nt, i, j;
	unsigned char *m;
	int ret;

	if (strlen(pattern) > GLOB_MAX)
		return 0;
	nt = tokenize(pattern, tok, GLOB_MAX);
	/* m[i * (n + 1) + j]: tokens i.. match s[j..n) */
	m = xcalloc((nt + 1) * (n + 1), 1);
#define M(i, j) m[(i) * (n + 1) + (j)]
	M(nt, n) = 1;
	for (i = nt; i-- > 0;) {
		for (j = n + 1; j-- > 0;) {
			const struct gtoken *t = &tok[i];
			int v = 0;

			switch (t->t) {
			case G_LIT:
				v = j < n && s[j] == t->c && M(i + 1, j + 1);
				break;
			case G_ANY:
				v = j < n && s[j] != '/' && M(i + 1, j + 1);
				break;
			case G_CLASS:
				v = j < n && s[j] != '/' && class_match(t, s[j]) && M(i + 1, j + 1);
				break;
			case G_STAR:
				v = M(i + 1, j) || (j < n && s[j] != '/' && M(i, j + 1));
				break;
			case G_DSTAR:
				v = M(i + 1, j) || (j < n && M(i, j + 1));
				break;
			case G_DSTAR_SLASH:
				v = M(i + 1, j) ||
					(j < n && ((s[j] == '/' && M(i + 1, j + 1)) || M(i, j + 1)));
				break;
			}
			M(i, j) = v;
		}
	}
	ret = M(0, 0);
#undef M
	free(m);
	return ret;
}

int glob_match(const char *pattern, const char *path)
{
	return glob_match_len(pattern, path, strlen(path));
}

static int pattern_matches(const char *pattern, const char *path)
{
	const char *base = strrchr(path, '/'), *p;
	size_t plen = strlen(pattern);

	while (plen > 1 && pattern[plen - 1] == '/')
		plen--;
	if (plen != strlen(pattern)) {
		char *trimmed = xstrndup(pattern, plen);
		int r = pattern_matches(trimmed, path);

		free(trimmed);
		return r;
	}
	if (glob_match(pattern, path))
		return 1;
	if (!strchr(pattern, '/') && base && glob_match(pattern, base + 1))
		return 1;
	/* a directory the pattern matches holds the file */
	for (p = strchr(path, '/'); p; p = strchr(p + 1, '/')) {
		if (glob_match_len(pattern, path, p - path))
			return 1;
		if (!strchr(pattern, '/')) {
			const char *seg = p;

			while (seg > path && seg[-1] != '/')
				seg--;
			if (glob_match_len(pattern, seg, p - seg))
				return 1;
		}
	}
	return 0;
}

int lint_config_path_selected(const struct lint_config *c, const char *path)
{
	size_t i;
	int in;

	if (!c || !path)
		return 1;
	while (path[0] == '.' && path[1] == '/')
		path += 2;
	if (c->root && *c->root) {
		const char *root = c->root;
		size_t rlen;

		while (root[0] == '.' && root[1] == '/')
			root += 2;
		rlen = strlen(root);
		while (rlen > 1 && root[rlen - 1] == '/')
			rlen--;
		if (!strcmp(root, ".")) {
			rlen = 0;
		} else if (rlen && !strncmp(path, root, rlen) && path[rlen] == '/') {
			path += rlen + 1;
		}
	}
	in = !c->ninclude;
	for (i = 0; i < c->ninclude && !in; i++)
		if (pattern_matches(c->include[i], path))
			in = 1;
	for (i = 0; in && i < c->nexclude; i++)
		if (pattern_matches(c->exclude[i], path))
			in = 0;
	return in;
}
