/*
 * yaml.c - libyaml events into a ynode tree kept in one arena per file.
 *
 * The tree is built without recursion from a stack of open collections.
 * Aliases are shared references to the anchored node (a one-node
 * shallow copy marks them), so the memory a file takes is bounded by its
 * own size; the nodes an alias makes reachable are counted against the
 * alias budget, and the depth it reaches against the depth limit, so a
 * walker of the tree can recurse safely and visits a bounded number of
 * nodes.
 */
#include "yaml.h"
#include "log.h"
#include "xalloc.h"

#include <errno.h>
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <libyaml.h>

const struct yaml_limits yaml_default_limits = {
	8u << 20,	/* max_bytes */
	128,		/* max_depth */
	2000000,	/* max_nodes */
	100000,		/* max_alias_nodes */
	10000,		/* max_docs */
};

/* ---- arena ---------------------------------------------------------- */

struct ychunk {
	struct ychunk *next;
	size_t used, size;
	max_align_t data[];
};

struct yarena {
	struct ychunk *head;
	size_t next;		/* size of the next chunk: small files stay small */
	int huge;		/* long-lived and large: 2 MiB chunks in huge pages */
};

#define YARENA_HUGE (2 * 1024 * 1024)

/*
 * A chunk of a long-lived arena: 2 MiB aligned, with transparent huge
 * pages asked for, so filling it costs one page fault instead of 512.
 */
static struct ychunk *huge_chunk(size_t size)
{
	void *p;

	if (size != YARENA_HUGE - sizeof(struct ychunk))
		return xmalloc(sizeof(struct ychunk) + size);
	p = aligned_alloc(YARENA_HUGE, YARENA_HUGE);
	if (!p)
		return xmalloc(sizeof(struct ychunk) + size);
	madvise(p, YARENA_HUGE, MADV_HUGEPAGE);	/* advice: failure changes nothing */
	return p;
}

#define YARENA_CHUNK (64 * 1024)

static void *arena_alloc(struct yarena *a, size_t n)
{
	struct ychunk *c = a->head;
	size_t align = sizeof(max_align_t);
	void *p;

	n = (n + align - 1) & ~(align - 1);
	if (!c || c->size - c->used < n) {
		size_t size;

		if (a->next < 1024)
			a->next = 1024;
		size = n > a->next / 2 ? n : a->next;
		if (a->next < YARENA_CHUNK)
			a->next *= 2;
		else if (a->huge)
			a->next = YARENA_HUGE - sizeof(*c);

		c = a->huge ? huge_chunk(size) : xmalloc(sizeof(*c) + size);
		c->size = size;
		c->used = 0;
		if (a->head && size == n) {
			/* a big block: keep the current chunk for small ones */
			c->next = a->head->next;
			a->head->next = c;
		} else {
			c->next = a->head;
			a->head = c;
		}
	}
	p = (char *)c->data + c->used;
	c->used += n;
	return p;
}

static char *arena_strndup(struct yarena *a, const char *s, size_t len)
{
	char *p = arena_alloc(a, len + 1);

	memcpy(p, s, len);
	p[len] = '\0';
	return p;
}

static void arena_free(struct yarena *a)
{
	struct ychunk *c, *next;

	if (!a)
		return;
	for (c = a->head; c; c = next) {
		next = c->next;
		free(c);
	}
	free(a);
}

/* ---- scalars -------------------------------------------------------- */

static int all_in(const char *s, size_t len, const char *set)
{
	size_t i;

	if (!len)
		return 0;
	for (i = 0; i < len; i++)
		if (!s[i] || !strchr(set, s[i]))
			return 0;
	return 1;
}

static int one_of(const char *s, const char *const *words)
{
	for (; *words; words++)
		if (!strcmp(s, *words))
			return 1;
	return 0;
}

static const char *const null_words[] = { "", "~", "null", "Null", "NULL", NULL };
static const char *const true_words[] = { "true", "True", "TRUE", NULL };
static const char *const false_words[] = { "false", "False", "FALSE", NULL };

static int is_core_int(const char *s, size_t len)
{
	if (len > 2 && s[0] == '0' && s[1] == 'o')
		return all_in(s + 2, len - 2, "01234567");
	if (len > 2 && s[0] == '0' && s[1] == 'x')
		return all_in(s + 2, len - 2, "0123456789abcdefABCDEF");
	if (len && (s[0] == '-' || s[0] == '+')) {
		s++;
		len--;
	}
	return all_in(s, len, "0123456789");
}

static int is_core_float(const char *s, size_t len)
{
	size_t i = 0, digits = 0;

	if (len && (s[0] == '-' || s[0] == '+'))
		i++;
	if (!strcmp(s + i, ".inf") || !strcmp(s + i, ".Inf") || !strcmp(s + i, ".INF"))
		return 1;
	if (!strcmp(s, ".nan") || !strcmp(s, ".NaN") || !strcmp(s, ".NAN"))
		return 1;
	for (; i < len && s[i] >= '0' && s[i] <= '9'; i++)
		digits++;
	if (i < len && s[i] == '.') {
		for (i++; i < len && s[i] >= '0' && s[i] <= '9'; i++)
			digits++;
	}
	if (!digits)
		return 0;
	if (i < len && (s[i] == 'e' || s[i] == 'E')) {
		size_t exp = 0;

		i++;
		if (i < len && (s[i] == '-' || s[i] == '+'))
			i++;
		for (; i < len && s[i] >= '0' && s[i] <= '9'; i++)
			exp++;
		if (!exp)
			return 0;
	}
	return i == len;
}

static enum yscalar resolve_plain(const char *s, size_t len)
{
	/* most scalars are words or names: no null, bool or number starts so */
	switch (s[0]) {
	case '\0': case '~': case 'n': case 'N': case 't': case 'T': case 'f': case 'F':
	case '-': case '+': case '.':
	case '0': case '1': case '2': case '3': case '4':
	case '5': case '6': case '7': case '8': case '9':
		break;
	default:
		return YS_STRING;
	}
	if (strlen(s) != len)
		return YS_STRING;
	if (one_of(s, null_words))
		return YS_NULL;
	if (one_of(s, true_words) || one_of(s, false_words))
		return YS_BOOL;
	if (is_core_int(s, len))
		return YS_INT;
	if (is_core_float(s, len))
		return YS_FLOAT;
	return YS_STRING;
}

static enum yscalar resolve_scalar(const struct ynode *n)
{
	if (n->tag) {
		if (!strcmp(n->tag, "!!str") || !strcmp(n->tag, "!") || !strcmp(n->tag, "!!binary"))
			return YS_STRING;
		if (!strcmp(n->tag, "!!null"))
			return YS_NULL;
		if (!strcmp(n->tag, "!!bool"))
			return YS_BOOL;
		if (!strcmp(n->tag, "!!int"))
			return is_core_int(n->str, n->len) ? YS_INT : YS_STRING;
		if (!strcmp(n->tag, "!!float"))
			return is_core_float(n->str, n->len) || is_core_int(n->str, n->len) ?
				YS_FLOAT : YS_STRING;
		if (n->quoted)
			return YS_STRING;
		/* a local tag (!foo) on a plain scalar: resolve the text as usual */
	}
	if (n->quoted)
		return YS_STRING;
	return resolve_plain(n->str, n->len);
}

const char *ynode_yaml11(const struct ynode *n)
{
	static const char *const bool11[] = {
		"y", "Y", "yes", "Yes", "YES", "n", "N", "no", "No", "NO",
		"on", "On", "ON", "off", "Off", "OFF", NULL
	};
	const char *s;
	size_t len, i;

	if (!n || n->kind != YN_SCALAR || n->quoted || n->tag)
		return NULL;
	s = n->str;
	len = n->len;
	if (one_of(s, bool11))
		return "bool";
	if (len && (s[0] == '-' || s[0] == '+')) {
		s++;
		len--;
	}
	if (len > 1 && s[0] == '0' && all_in(s, len, "01234567"))
		return "octal int";
	if (len > 2 && s[0] == '0' && s[1] == 'b' && all_in(s + 2, len - 2, "01"))
		return "binary int";
	if (len > 1 && all_in(s, len, "0123456789_") && strchr(s, '_') && s[0] != '_')
		return "int";
	/* sexagesimal: 1:20, 190:20:30 */
	if (len > 2 && s[0] >= '1' && s[0] <= '9' && strchr(s, ':')) {
		int ok = 1, seg = 0;

		for (i = 0; i < len && ok; i++) {
			if (s[i] == ':') {
				if (!seg || i + 1 >= len)
					ok = 0;
				seg = 0;
			} else if (s[i] >= '0' && s[i] <= '9') {
				seg++;
			} else {
				ok = 0;
			}
		}
		/* later segments are base 60: at most two digits, first 0-5 */
		for (i = 0; ok && i < len; i++)
			if (s[i] == ':') {
				size_t j = i + 1, d = 0;

				while (j < len && s[j] != ':') {
					j++;
					d++;
				}
				if (d > 2 || (d == 2 && s[i + 1] > '5'))
					ok = 0;
			}
		if (ok)
			return "sexagesimal int";
	}
	return NULL;
}

static int key_is(const struct ynode *k, const char *key, size_t len);

int yaml_has_braces(const char *data, size_t len)
{
	const char *p = data, *end = data + len;

	while (p + 1 < end && (p = memchr(p, '{', (size_t)(end - p) - 1)))
		if (*++p == '{')
			return 1;
	return 0;
}

struct yarena *yarena_new(void)
{
	struct yarena *a = xcalloc(1, sizeof(*a));

	a->huge = 1;
	return a;
}

void yarena_free(struct yarena *a)
{
	arena_free(a);
}

const char *yarena_strdup(struct yarena *a, const char *s)
{
	return s ? arena_strndup(a, s, strlen(s)) : NULL;
}

/* The entry of keep naming key k, or NULL. */
static const struct yprune *prune_find(const struct yprune *keep, const struct ynode *k)
{
	if (!k || k->kind != YN_SCALAR)
		return NULL;
	for (; keep->key.str; keep++)
		if (key_is(k, keep->key.str, keep->key.len))
			return keep;
	return NULL;
}

struct ynode *ynode_copy(struct yarena *a, const struct ynode *n, const struct yprune *keep)
{
	struct ynode *c;
	size_t i, m = 0;

	if (!n)
		return NULL;
	c = arena_alloc(a, sizeof(*c));
	*c = *n;
	c->kids = NULL;
	c->n = 0;
	if (n->tag)
		c->tag = arena_strndup(a, n->tag, strlen(n->tag));
	if (n->kind == YN_SCALAR) {
		c->str = n->str ? arena_strndup(a, n->str, n->len) : NULL;
		return c;
	}
	if (n->kind == YN_SEQ) {
		c->kids = arena_alloc(a, (n->n ? n->n : 1) * sizeof(*c->kids));
		for (i = 0; i < n->n; i++)
			c->kids[i] = ynode_copy(a, n->kids[i], keep);
		c->n = n->n;
		return c;
	}
	for (i = 0; i < n->n; i++)
		m += !keep || prune_find(keep, n->kids[2 * i]);
	c->kids = arena_alloc(a, (m ? 2 * m : 1) * sizeof(*c->kids));
	for (i = 0; i < n->n; i++) {
		const struct ynode *k = n->kids[2 * i];
		const struct yprune *e = keep ? prune_find(keep, k) : NULL;

		if (keep && !e)
			continue;
		if (e && !k->tag)
			c->kids[2 * c->n] = (struct ynode *)&e->key;	/* shared, never written */
		else
			c->kids[2 * c->n] = ynode_copy(a, k, NULL);
		c->kids[2 * c->n + 1] = ynode_copy(a, n->kids[2 * i + 1], e ? e->sub : NULL);
		c->n++;
	}
	return c;
}

/* ---- accessors ------------------------------------------------------ */

static int key_is(const struct ynode *k, const char *key, size_t len)
{
	return k && k->kind == YN_SCALAR && k->len == len && !memcmp(k->str, key, len);
}

static const struct ynode *get_pair(const struct ynode *map, const char *key, size_t len,
				    int want_key)
{
	size_t i;

	if (!map || map->kind != YN_MAP)
		return NULL;
	for (i = 0; i < map->n; i++)
		if (key_is(map->kids[2 * i], key, len))
			return map->kids[2 * i + (want_key ? 0 : 1)];
	return NULL;
}

const struct ynode *ynode_get(const struct ynode *map, const char *key)
{
	return key ? get_pair(map, key, strlen(key), 0) : NULL;
}

const struct ynode *ynode_get_key(const struct ynode *map, const char *key)
{
	return key ? get_pair(map, key, strlen(key), 1) : NULL;
}

const struct ynode *ynode_path(const struct ynode *n, const char *dotted)
{
	const char *p = dotted;

	if (!dotted)
		return n;
	while (n && *p) {
		const char *dot = strchr(p, '.');
		size_t len = dot ? (size_t)(dot - p) : strlen(p);

		if (n->kind == YN_SEQ) {
			char *end;
			unsigned long idx;

			errno = 0;
			idx = strtoul(p, &end, 10);
			if (end != p + len || !len || errno || idx >= n->n)
				return NULL;
			n = n->kids[idx];
		} else {
			n = get_pair(n, p, len, 0);
		}
		p += len;
		if (*p == '.')
			p++;
	}
	return n;
}

const char *ynode_str(const struct ynode *n)
{
	if (!n || n->kind != YN_SCALAR || n->stype == YS_NULL)
		return NULL;
	return n->str;
}

int ynode_is_null(const struct ynode *n)
{
	return !n || (n->kind == YN_SCALAR && n->stype == YS_NULL);
}

int ynode_int(const struct ynode *n, long long *out)
{
	const char *s;
	char *end;
	long long v;
	int base = 10;

	if (!n || n->kind != YN_SCALAR || n->stype != YS_INT)
		return -1;
	s = n->str;
	if (s[0] == '0' && s[1] == 'o') {
		s += 2;
		base = 8;
	} else if (s[0] == '0' && s[1] == 'x') {
		s += 2;
		base = 16;
	}
	errno = 0;
	v = strtoll(s, &end, base);
	if (errno || *end || end == s)
		return -1;
	*out = v;
	return 0;
}

/* ---- the parser ----------------------------------------------------- */

struct anchor {
	char *name;
	struct ynode *node;
	size_t size, height;
};

struct frame {
	struct ynode *node;
	struct ynode **kids;
	size_t n, alloc;
	size_t size, height;	/* expanded nodes below (self included), levels below */
	char *anchor;
	int flow_map_start;	/* a flow map just opened here: "{{" detection */
};

struct parse {
	struct yfile *f;
	const char *path;
	const struct yaml_limits *lim;
	struct findings *fs;
	struct yarena *arena;
	struct frame *stack;
	size_t depth, alloc_stack;
	struct anchor *anchors;
	size_t nanchors, alloc_anchors;	/* open addressing, alloc a power of 2 */
	size_t nodes, alias_nodes;
	size_t alloc_docs;
	struct ynode *root;
	size_t root_size;
	unsigned doc_line, doc_col;
	int stopped;
	int saw_flow_braces;		/* a "{{" read as two nested flow maps */
	int doc_braces;			/* ... in the open document */
	int has_braces;			/* the text holds "{{" somewhere */
};

static size_t hash_str(const char *s)
{
	size_t h = 5381;

	for (; *s; s++)
		h = h * 33 + (unsigned char)*s;
	return h;
}

static struct anchor *anchor_slot(struct parse *p, const char *name)
{
	size_t mask = p->alloc_anchors - 1, i;

	for (i = hash_str(name) & mask;; i = (i + 1) & mask)
		if (!p->anchors[i].name || !strcmp(p->anchors[i].name, name))
			return &p->anchors[i];
}

static void anchor_set(struct parse *p, const char *name, struct ynode *node,
		       size_t size, size_t height)
{
	struct anchor *a;

	if ((p->nanchors + 1) * 2 > p->alloc_anchors) {
		struct anchor *old = p->anchors;
		size_t oldn = p->alloc_anchors, i;

		p->alloc_anchors = oldn ? oldn * 2 : 64;
		p->anchors = xcalloc(p->alloc_anchors, sizeof(*p->anchors));
		for (i = 0; i < oldn; i++)
			if (old[i].name)
				*anchor_slot(p, old[i].name) = old[i];
		free(old);
	}
	a = anchor_slot(p, name);
	if (!a->name) {
		a->name = xstrdup(name);
		p->nanchors++;
	}
	a->node = node;
	a->size = size;
	a->height = height;
}

static const struct anchor *anchor_get(struct parse *p, const char *name)
{
	const struct anchor *a;

	if (!p->alloc_anchors)
		return NULL;
	a = anchor_slot(p, name);
	return a->name ? a : NULL;
}

static void limit(struct parse *p, unsigned line, unsigned col, const char *hint,
		  const char *fmt, const char *what, size_t n)
{
	findings_add(p->fs, p->path, line, col, SEV_ERROR, "yaml-limit", hint, fmt, what, n);
	p->stopped = 1;
}

static void syntax(struct parse *p, unsigned line, unsigned col, const char *msg)
{
	findings_add(p->fs, p->path, line, col, SEV_ERROR, "yaml-syntax",
		     "fix the YAML syntax at this place", "%s", msg);
	p->stopped = 1;
}

static struct ynode *new_node(struct parse *p, enum ynode_kind kind, const yaml_mark_t *m)
{
	struct ynode *n;

	if (++p->nodes > p->lim->max_nodes) {
		limit(p, m->line + 1, m->column + 1, "split the file, or raise the limit",
		      "%s: more than %zu nodes in one file", "too many nodes", p->lim->max_nodes);
		return NULL;
	}
	n = arena_alloc(p->arena, sizeof(*n));
	memset(n, 0, sizeof(*n));
	n->kind = kind;
	n->line = m->line + 1;
	n->col = m->column + 1;
	return n;
}

static const char *intern_tag(struct parse *p, const yaml_char_t *tag)
{
	static const char prefix[] = "tag:yaml.org,2002:";
	const char *t = (const char *)tag;

	if (!t)
		return NULL;
	if (!strncmp(t, prefix, sizeof(prefix) - 1)) {
		size_t len = strlen(t + sizeof(prefix) - 1);
		char *s = arena_alloc(p->arena, len + 3);

		s[0] = s[1] = '!';
		memcpy(s + 2, t + sizeof(prefix) - 1, len + 1);
		return s;
	}
	return arena_strndup(p->arena, t, strlen(t));
}

/* Attaches a finished node to the open collection, or makes it the document's root. */
static void add_value(struct parse *p, struct ynode *n, size_t size, size_t height,
		      const char *anchor)
{
	if (anchor)
		anchor_set(p, anchor, n, size, height);
	if (!p->depth) {
		p->root = n;
		p->root_size = size;
		return;
	}
	{
		struct frame *fr = &p->stack[p->depth - 1];

		XGROW(fr->kids, fr->n + 1, fr->alloc);
		fr->kids[fr->n++] = n;
		fr->size += size;
		if (height + 1 > fr->height)
			fr->height = height + 1;
		fr->flow_map_start = 0;
	}
}

static int key_cmp(const struct ynode *a, const struct ynode *b)
{
	size_t len = a->len < b->len ? a->len : b->len;
	int c = memcmp(a->str, b->str, len);

	if (c)
		return c;
	return a->len < b->len ? -1 : a->len > b->len;
}

struct cand {
	struct ynode *key, *val;
	size_t idx;
	int explicit_key;
	int keep;
};

static int cand_cmp(const void *va, const void *vb)
{
	const struct cand *a = va, *b = vb;
	int c = key_cmp(a->key, b->key);

	if (c)
		return c;
	return a->idx < b->idx ? -1 : a->idx > b->idx;
}

static int cand_idx_cmp(const void *va, const void *vb)
{
	const struct cand *a = va, *b = vb;

	return a->idx < b->idx ? -1 : a->idx > b->idx;
}

static int is_merge_key(const struct ynode *k)
{
	return k->kind == YN_SCALAR && !k->quoted && k->len == 2 && !memcmp(k->str, "<<", 2) &&
		(!k->tag || !strcmp(k->tag, "!!merge"));
}

static void add_merge_cands(struct parse *p, const struct ynode *m, struct cand **c,
			    size_t *nc, size_t *alloc)
{
	size_t i;

	for (i = 0; i < m->n; i++) {
		XGROW(*c, *nc + 1, *alloc);
		(*c)[*nc].key = m->kids[2 * i];
		(*c)[*nc].val = m->kids[2 * i + 1];
		(*c)[*nc].idx = *nc;
		(*c)[*nc].explicit_key = 0;
		(*c)[*nc].keep = 1;
		(*nc)++;
	}
	(void)p;
}

/*
 * A map's pairs are final: merge keys (<<) bring in the pairs of the
 * maps they name, except keys the map sets itself; a key set twice is
 * an error, and the later pair is dropped. Sorting keeps big maps fast.
 */
static int finish_map(struct parse *p, struct frame *fr)
{
	struct cand *c = NULL;
	size_t nc = 0, alloc = 0, npairs = fr->n / 2, i, j, nkeep = 0;
	int has_merge = 0;
	struct ynode **kids;

	for (i = 0; i < npairs; i++)
		if (is_merge_key(fr->kids[2 * i]))
			has_merge = 1;
	if (!has_merge && npairs <= 8) {
		int dup = 0;

		/* small maps, the usual case: no allocation */
		for (i = 0; i < npairs && !dup; i++)
			for (j = i + 1; j < npairs && !dup; j++)
				if (fr->kids[2 * i]->kind == YN_SCALAR &&
				    fr->kids[2 * j]->kind == YN_SCALAR &&
				    !key_cmp(fr->kids[2 * i], fr->kids[2 * j]))
					dup = 1;
		if (!dup)
			goto copy_plain;
	}

	for (i = 0; i < npairs; i++) {
		struct ynode *k = fr->kids[2 * i];

		if (is_merge_key(k))
			continue;
		XGROW(c, nc + 1, alloc);
		c[nc].key = k;
		c[nc].val = fr->kids[2 * i + 1];
		c[nc].idx = nc;
		c[nc].explicit_key = 1;
		c[nc].keep = 1;
		nc++;
	}
	for (i = 0; i < npairs; i++) {
		struct ynode *k = fr->kids[2 * i], *v = fr->kids[2 * i + 1];

		if (!is_merge_key(k))
			continue;
		if (v->kind == YN_MAP) {
			add_merge_cands(p, v, &c, &nc, &alloc);
		} else if (v->kind == YN_SEQ) {
			for (j = 0; j < v->n; j++) {
				if (v->kids[j]->kind != YN_MAP) {
					free(c);
					syntax(p, v->kids[j]->line, v->kids[j]->col,
					       "a merge key (<<) takes a map or a list of maps");
					return -1;
				}
				add_merge_cands(p, v->kids[j], &c, &nc, &alloc);
			}
		} else {
			free(c);
			syntax(p, v->line, v->col, "a merge key (<<) takes a map or a list of maps");
			return -1;
		}
	}

	/* group equal scalar keys; the first of each group wins */
	{
		struct cand *sc = NULL;
		size_t ns = 0, k;

		sc = xmallocarray(nc ? nc : 1, sizeof(*sc));
		for (i = 0; i < nc; i++)
			if (c[i].key->kind == YN_SCALAR)
				sc[ns++] = c[i];
		qsort(sc, ns, sizeof(*sc), cand_cmp);
		for (i = 0; i < ns; i = j) {
			for (j = i + 1; j < ns && !key_cmp(sc[i].key, sc[j].key); j++) {
				c[sc[j].idx].keep = 0;
				if (sc[j].explicit_key) {
					const struct ynode *first = sc[i].key, *dup = sc[j].key;

					findings_add(p->fs, p->path, dup->line, dup->col, SEV_ERROR,
						     "yaml-duplicate-key",
						     "remove one of the two keys: Kubernetes keeps only one of them",
						     "duplicate key \"%s\" (first at line %u, column %u)",
						     dup->str, first->line, first->col);
				}
			}
		}
		free(sc);
		for (k = 0; k < nc; k++)
			if (c[k].keep)
				nkeep++;
		qsort(c, nc, sizeof(*c), cand_idx_cmp);
	}
	kids = arena_alloc(p->arena, (nkeep ? 2 * nkeep : 1) * sizeof(*kids));
	for (i = 0, j = 0; i < nc; i++)
		if (c[i].keep) {
			kids[2 * j] = c[i].key;
			kids[2 * j + 1] = c[i].val;
			j++;
		}
	fr->node->kids = kids;
	fr->node->n = nkeep;
	free(c);
	return 0;

copy_plain:
	kids = arena_alloc(p->arena, (fr->n ? fr->n : 1) * sizeof(*kids));
	if (fr->n)
		memcpy(kids, fr->kids, fr->n * sizeof(*kids));
	fr->node->kids = kids;
	fr->node->n = npairs;
	return 0;
}

static void open_collection(struct parse *p, yaml_event_t *ev)
{
	int is_map = ev->type == YAML_MAPPING_START_EVENT;
	const yaml_char_t *anchor = is_map ? ev->data.mapping_start.anchor :
		ev->data.sequence_start.anchor;
	const yaml_char_t *tag = is_map ? ev->data.mapping_start.tag : ev->data.sequence_start.tag;
	int flow = is_map ? ev->data.mapping_start.style == YAML_FLOW_MAPPING_STYLE : 0;
	struct ynode *n;
	struct frame *fr;

	if (p->depth + 1 > p->lim->max_depth) {
		limit(p, ev->start_mark.line + 1, ev->start_mark.column + 1,
		      "flatten the structure; no Kubernetes object nests this deep",
		      "%s: nesting deeper than %zu levels", "too deep", p->lim->max_depth);
		return;
	}
	if (flow && p->depth) {
		fr = &p->stack[p->depth - 1];
		if (fr->flow_map_start && fr->node->line == ev->start_mark.line + 1 &&
		    fr->node->col + 1 == ev->start_mark.column + 1)
			p->saw_flow_braces = p->doc_braces = 1;
	}
	n = new_node(p, is_map ? YN_MAP : YN_SEQ, &ev->start_mark);
	if (!n)
		return;
	n->tag = intern_tag(p, tag);
	XGROW(p->stack, p->depth + 1, p->alloc_stack);
	fr = &p->stack[p->depth++];
	memset(fr, 0, sizeof(*fr));
	fr->node = n;
	fr->size = 1;
	fr->anchor = anchor ? xstrdup((const char *)anchor) : NULL;
	fr->flow_map_start = flow;
}

static void close_collection(struct parse *p)
{
	struct frame fr = p->stack[--p->depth];

	if (fr.node->kind == YN_MAP) {
		if (finish_map(p, &fr) < 0)
			goto out;
	} else {
		struct ynode **kids = arena_alloc(p->arena, (fr.n ? fr.n : 1) * sizeof(*kids));

		if (fr.n)
			memcpy(kids, fr.kids, fr.n * sizeof(*kids));
		fr.node->kids = kids;
		fr.node->n = fr.n;
	}
	add_value(p, fr.node, fr.size, fr.height, fr.anchor);
out:
	free(fr.kids);
	free(fr.anchor);
}

static void add_scalar(struct parse *p, yaml_event_t *ev)
{
	struct ynode *n;

	if (ev->data.scalar.length > UINT_MAX) {
		limit(p, ev->start_mark.line + 1, ev->start_mark.column + 1,
		      "split the value", "%s: a scalar of %zu bytes", "scalar too long",
		      ev->data.scalar.length);
		return;
	}
	n = new_node(p, YN_SCALAR, &ev->start_mark);
	if (!n)
		return;
	n->str = arena_strndup(p->arena, (const char *)ev->data.scalar.value,
			       ev->data.scalar.length);
	n->len = (unsigned)ev->data.scalar.length;
	n->quoted = ev->data.scalar.style != YAML_PLAIN_SCALAR_STYLE &&
		ev->data.scalar.style != YAML_ANY_SCALAR_STYLE;
	n->tag = intern_tag(p, ev->data.scalar.tag);
	n->stype = resolve_scalar(n);
	add_value(p, n, 1, 0, (const char *)ev->data.scalar.anchor);
}

static void add_alias(struct parse *p, yaml_event_t *ev)
{
	const char *name = (const char *)ev->data.alias.anchor;
	const struct anchor *a = anchor_get(p, name);
	struct ynode *n;
	char msg[256];

	if (!a) {
		snprintf(msg, sizeof(msg), "unknown anchor \"%.100s\" (an alias must follow its anchor in the same document)",
			 name);
		syntax(p, ev->start_mark.line + 1, ev->start_mark.column + 1, msg);
		return;
	}
	if (a->size > p->lim->max_alias_nodes - p->alias_nodes) {
		limit(p, ev->start_mark.line + 1, ev->start_mark.column + 1,
		      "expand the aliases by hand; this file looks built to exhaust memory",
		      "%s: aliases expand to more than %zu nodes", "alias expansion over budget",
		      p->lim->max_alias_nodes);
		return;
	}
	if (p->depth + a->height + 1 > p->lim->max_depth) {
		limit(p, ev->start_mark.line + 1, ev->start_mark.column + 1,
		      "flatten the structure; no Kubernetes object nests this deep",
		      "%s: nesting through aliases deeper than %zu levels", "too deep",
		      p->lim->max_depth);
		return;
	}
	p->alias_nodes += a->size;
	n = new_node(p, a->node->kind, &ev->start_mark);
	if (!n)
		return;
	*n = *a->node;
	n->alias = 1;
	n->line = ev->start_mark.line + 1;
	n->col = ev->start_mark.column + 1;
	add_value(p, n, a->size, a->height, NULL);
}

static void start_doc(struct parse *p, yaml_event_t *ev)
{
	if (p->f->ndocs >= p->lim->max_docs) {
		limit(p, ev->start_mark.line + 1, ev->start_mark.column + 1,
		      "split the file", "%s: more than %zu documents in one file",
		      "too many documents", p->lim->max_docs);
		return;
	}
	/* anchors belong to their document */
	if (p->nanchors) {
		size_t i;

		for (i = 0; i < p->alloc_anchors; i++)
			free(p->anchors[i].name);
		memset(p->anchors, 0, p->alloc_anchors * sizeof(*p->anchors));
		p->nanchors = 0;
	}
	p->root = NULL;
	p->doc_braces = 0;
	p->doc_line = ev->start_mark.line + 1;
	p->doc_col = ev->start_mark.column + 1;
}

static void end_doc(struct parse *p)
{
	struct ydoc *d;

	XGROW(p->f->docs, p->f->ndocs + 1, p->alloc_docs);
	d = &p->f->docs[p->f->ndocs++];
	d->root = p->root;
	if (d->root && d->root->kind == YN_SCALAR && d->root->stype == YS_NULL)
		d->root = NULL;
	d->line = p->doc_line;
	d->col = p->doc_col;
	d->is_template = p->doc_braces;
	p->root = NULL;
}

/* Offset of the start of 1-based line `line`, or len. */
static size_t line_offset(const char *data, size_t len, unsigned line)
{
	size_t i = 0;
	unsigned l = 1;

	while (l < line && i < len) {
		const char *nl = memchr(data + i, '\n', len - i);

		if (!nl)
			return len;
		i = nl - data + 1;
		l++;
	}
	return i;
}

/* After a syntax error: a tab in the indentation near it is the likely cause. */
static void check_tabs(struct parse *p, const char *data, size_t len, unsigned err_line)
{
	unsigned line = err_line > 1 ? err_line - 1 : 1;

	for (; line <= err_line + 1; line++) {
		size_t off = line_offset(data, len, line), i;

		for (i = off; i < len && (data[i] == ' ' || data[i] == '\t'); i++) {
			if (data[i] == '\t') {
				findings_add(p->fs, p->path, line, (unsigned)(i - off + 1), SEV_WARNING,
					     "yaml-tab", "indent with spaces; YAML does not allow tabs there",
					     "tab character in indentation");
				return;
			}
		}
	}
}

/*
 * Helm and other Go templates: a "{{" that YAML read as nested flow maps,
 * or one outside comments in a file that does not parse. Go templates in
 * strings (Prometheus alert texts, quoted Helm values) are strings: the
 * objects holding them are linted like any other.
 */
static int detect_template(const char *data, size_t len)
{
	size_t off = 0;

	while (off < len) {
		const char *nl = memchr(data + off, '\n', len - off);
		size_t end = nl ? (size_t)(nl - data) : len, i, code_end = end;
		char q = 0;

		for (i = off; i < end; i++) {
			char ch = data[i];

			if (q) {
				if (ch == q)
					q = 0;
			} else if (ch == '"' || ch == '\'') {
				if (i == off || data[i - 1] == ' ' || data[i - 1] == ':' ||
				    data[i - 1] == '[' || data[i - 1] == '{' || data[i - 1] == ',' ||
				    data[i - 1] == '-')
					q = ch;
			} else if (ch == '#' && (i == off || data[i - 1] == ' ' || data[i - 1] == '\t')) {
				code_end = i;
				break;
			}
		}
		if (yaml_has_braces(data + off, code_end - off))
			return 1;
		off = end + 1;
	}
	return 0;
}

int yaml_parse(struct yfile *out, const char *path, const char *data, size_t len,
	       const struct yaml_limits *lim, struct findings *fs)
{
	struct parse p;
	yaml_parser_t parser;
	yaml_event_t ev;
	int done = 0, failed = 0;
	unsigned err_line = 0;
	struct findings syntax_fs = FINDINGS_INIT;
	size_t i;

	if (!lim)
		lim = &yaml_default_limits;
	memset(&p, 0, sizeof(p));
	out->path = xstrdup(path ? path : "<stdin>");
	out->arena = xcalloc(1, sizeof(*out->arena));
	p.f = out;
	p.path = out->path;
	p.lim = lim;
	p.fs = fs;
	p.arena = out->arena;
	p.alloc_docs = out->ndocs;

	if (len > lim->max_bytes) {
		findings_add(fs, p.path, 0, 0, SEV_ERROR, "yaml-limit",
			     "split the file, or raise the limit",
			     "file too big: %zu bytes, over the limit of %zu", len, lim->max_bytes);
		out->failed = 1;
		return -1;
	}
	p.has_braces = yaml_has_braces(data, len);

	if (!yaml_parser_initialize(&parser)) {
		out->failed = 1;
		return error("cannot set up the YAML parser for '%s'", p.path);
	}
	yaml_parser_set_input_string(&parser, (const unsigned char *)data, len);
	while (!done && !p.stopped) {
		if (!yaml_parser_parse(&parser, &ev)) {
			char msg[512];

			err_line = (unsigned)parser.problem_mark.line + 1;
			if (parser.context)
				snprintf(msg, sizeof(msg), "%s %s (line %u, column %u)",
					 parser.problem ? parser.problem : "syntax error",
					 parser.context, (unsigned)parser.context_mark.line + 1,
					 (unsigned)parser.context_mark.column + 1);
			else
				snprintf(msg, sizeof(msg), "%s",
					 parser.problem ? parser.problem : "syntax error");
			/* held back: a template file is skipped, not a syntax error */
			p.fs = &syntax_fs;
			syntax(&p, err_line, (unsigned)parser.problem_mark.column + 1, msg);
			p.fs = fs;
			failed = 1;
			break;
		}
		switch (ev.type) {
		case YAML_STREAM_END_EVENT:
			done = 1;
			break;
		case YAML_DOCUMENT_START_EVENT:
			start_doc(&p, &ev);
			break;
		case YAML_DOCUMENT_END_EVENT:
			end_doc(&p);
			break;
		case YAML_SCALAR_EVENT:
			add_scalar(&p, &ev);
			break;
		case YAML_ALIAS_EVENT:
			add_alias(&p, &ev);
			break;
		case YAML_SEQUENCE_START_EVENT:
		case YAML_MAPPING_START_EVENT:
			open_collection(&p, &ev);
			break;
		case YAML_SEQUENCE_END_EVENT:
		case YAML_MAPPING_END_EVENT:
			close_collection(&p);
			break;
		default:
			break;
		}
		yaml_event_delete(&ev);
	}
	yaml_parser_delete(&parser);
	if (p.stopped)
		failed = 1;

	if (p.saw_flow_braces || (p.has_braces && failed && detect_template(data, len)))
		out->is_template = 1;
	if (syntax_fs.n && !out->is_template) {
		for (i = 0; i < syntax_fs.n; i++) {
			const struct finding *f = &syntax_fs.v[i];

			findings_add(fs, f->path, f->line, f->col, f->sev, f->rule, f->hint, "%s", f->msg);
		}
		check_tabs(&p, data, len, err_line);
	}
	findings_release(&syntax_fs);

	while (p.depth)
		free(p.stack[--p.depth].kids), free(p.stack[p.depth].anchor);
	free(p.stack);
	for (i = 0; i < p.alloc_anchors; i++)
		free(p.anchors[i].name);
	free(p.anchors);
	out->failed = failed;
	return failed ? -1 : 0;
}

void yfile_release(struct yfile *f)
{
	if (!f)
		return;
	free(f->path);
	free(f->docs);
	arena_free(f->arena);
	f->path = NULL;
	f->docs = NULL;
	f->ndocs = 0;
	f->failed = 0;
	f->is_template = 0;
	f->arena = NULL;
}

void yfile_drop_tree(struct yfile *f)
{
	if (!f)
		return;
	free(f->docs);
	arena_free(f->arena);
	f->docs = NULL;
	f->ndocs = 0;
	f->arena = NULL;
}
