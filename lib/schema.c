/*
 * schema.c - OpenAPI v3 validation of Kubernetes objects (schema.h).
 *
 * Schemas (JSON from a schema directory, or a CRD) are compiled once
 * into struct snode trees: $refs resolved and cached per document, the
 * Kubernetes extensions turned into flags. Validation then walks an
 * object's ynode tree against its snode tree with no JSON in sight.
 *
 * Strictness follows what the API server does with `kubectl apply
 * --validate=strict` / server-side apply: unknown fields, wrong scalar
 * types (a YAML int where a string is wanted), missing required fields,
 * values outside an enum, bad quantities and duplicate keys in
 * x-kubernetes-list-type=map lists are errors. Where Kubernetes is lenient
 * we are too: null is accepted anywhere in built-in types (Go decoding
 * ignores it), anyOf/oneOf are "any branch fits", and the branches of
 * allOf/anyOf/oneOf never report unknown fields.
 */
#include "schema.h"
#include "buf.h"
#include "jtree.h"
#include "log.h"
#include "openapi.h"
#include "smap.h"
#include "xalloc.h"
#include "yaml.h"

#include <errno.h>
#include <limits.h>
#include <stdint.h>
#include <math.h>
#include <regex.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

/* ---- compiled schemas ----------------------------------------------- */

enum {
	ST_BOOL = 1 << 0,
	ST_INT = 1 << 1,
	ST_NUM = 1 << 2,
	ST_STR = 1 << 3,
	ST_OBJ = 1 << 4,
	ST_ARR = 1 << 5,
};

enum {
	SN_NULLABLE = 1 << 0,	/* null is a valid value */
	SN_PRESERVE = 1 << 1,	/* x-kubernetes-preserve-unknown-fields */
	SN_INTORSTR = 1 << 2,	/* IntOrString */
	SN_QUANTITY = 1 << 3,	/* resource.Quantity */
	SN_EMBEDDED = 1 << 4,	/* x-kubernetes-embedded-resource */
	SN_CLOSED = 1 << 5,	/* fields not in properties are unknown */
	SN_ADDL_ANY = 1 << 6,	/* additionalProperties: true */
	SN_LIST_MAP = 1 << 7,
	SN_LIST_SET = 1 << 8,
	SN_NULL_OK = 1 << 9,	/* built-in type: Go decoding accepts null anywhere */
	SN_OPEN_META = 1 << 10,	/* a metadata field left as a bare object */
	SN_BROKEN = 1 << 11,	/* a definition whose text cannot be parsed */
};

enum sformat {
	SF_NONE,
	SF_INT32,
	SF_BYTE,
	SF_DATETIME,
};

/* One enum value: 's'tring, 'n'umber, 'b'ool or 'z' null (str points into the schema). */
struct senum {
	char kind;
	const char *str;
	double num;
};

struct sprop {
	const char *name;
	struct snode *s;
};

struct snode {
	unsigned types;		/* ST_* accepted; 0 for any */
	unsigned flags;		/* SN_* */
	enum sformat format;
	struct sprop *props;	/* sorted by name */
	size_t nprops;
	struct snode *addl;	/* additionalProperties schema */
	struct snode *items;
	const char **required;
	size_t nrequired;
	struct senum *enums;	/* enum values, or NULL */
	size_t nenums;
	const char **map_keys;	/* x-kubernetes-list-map-keys */
	size_t nmap_keys;
	struct snode **all;	/* allOf (and a $ref beside other keywords) */
	size_t nall;
	struct snode **any;	/* anyOf / oneOf, lenient: one branch must fit */
	size_t nany;
	const char *name;	/* component name, for messages; or NULL */
	struct sdoc *pending;	/* a definition not compiled yet: its document */
	char *deftext;		/* a scalar default, as text (list-map keys) */
	unsigned has;		/* SH_* bounds set below */
	double minimum, maximum;
	size_t min_len, max_len, min_items, max_items;
	regex_t *pattern;	/* "pattern", as POSIX ERE; NULL when absent or not translatable */
	char *pattern_text;	/* the schema's own pattern, for messages */
};

enum {
	SH_MIN = 1 << 0,
	SH_MAX = 1 << 1,
	SH_XMIN = 1 << 2,	/* exclusiveMinimum */
	SH_XMAX = 1 << 3,
	SH_MINLEN = 1 << 4,
	SH_MAXLEN = 1 << 5,
	SH_MINITEMS = 1 << 6,
	SH_MAXITEMS = 1 << 7,
};

/* One loaded set of schemas: a <gv>.json file, meta.json or one CRD version. */
struct sdoc {
	struct jtree *root;	/* a file of another shape, parsed whole; or NULL */
	const struct jnode *schemas;	/* its "schemas", or NULL */
	char *text;		/* a file read lazily: its text (mapped), with defs */
	size_t text_len;
	struct sdef *defs;	/* where each definition is, in file order */
	size_t ndefs, alloc_defs;
	uint32_t *slots;	/* open-addressed hash of defs: index + 1, 0 empty */
	size_t nslots;		/* a power of two, over twice ndefs */
	struct smap compiled;	/* name -> struct snode * */
	int builtin;		/* compiling a built-in type now (null_ok, open objects) */
	int base_builtin;	/* the file holds built-in types (names io.k8s.*) */
};

/* A schema directory and its index. */
struct sdir {
	char *path;
	int loaded, failed;
	char *version;
	struct smap kinds;	/* "group/version/kind" -> struct skind * (or NULL: none) */
	struct smap docs;	/* file -> struct sdoc * (NULL: failed) */
	/*
	 * index.json as written by the compactor (no whitespace, no escapes)
	 * is kept as text with where each row's fields are, and a kind
	 * becomes a struct skind when it is looked up. Any other index is
	 * parsed whole into kinds (text is NULL).
	 */
	char *text;
	size_t text_len;
	int text_mapped;	/* text is a mapping of the file (else malloc'ed) */
	struct irow *rows;
	size_t nrows, alloc_rows;
};

/* One row of a kept index.json: offsets and lengths of its strings in the text. */
enum { IR_GROUP, IR_VERSION, IR_KIND, IR_FILE, IR_SCHEMA, IR_NFIELDS };
struct irow {
	uint32_t off[IR_NFIELDS], len[IR_NFIELDS];
	int namespaced;
};

struct skind {
	char *file;		/* NULL for CRD kinds */
	char *schema;
	int namespaced;
	struct snode *root;	/* compiled, once looked up */
	struct sdoc *doc;
	int resolved;
	const struct ynode *crd_schema;	/* CRD kinds: openAPIV3Schema, compiled on first use */
	int crd_preserve;
	int is_crd;
};

struct schema_store {
	struct sdir dirs[2];	/* [0] --schema-dir, [1] bundled */
	size_t ndirs;
	struct smap crds;	/* "group/version/kind" -> struct skind * (root set) */
	struct smap cache;	/* "group/version/kind" -> struct skind * or NULL */
	struct sdoc **docs;	/* every sdoc, to free */
	size_t ndocs, alloc_docs;
	struct snode **nodes;	/* every snode, to free */
	size_t nnodes, alloc_nodes;
	struct snode *meta;	/* ObjectMeta for objects that leave metadata open */
	int meta_tried;
	struct snode any;	/* accepts anything */
};

static struct snode *snode_new(struct schema_store *st)
{
	struct snode *s = xcalloc(1, sizeof(*s));

	XGROW(st->nodes, st->nnodes + 1, st->alloc_nodes);
	st->nodes[st->nnodes++] = s;
	return s;
}

static void snode_free(struct snode *s)
{
	free(s->props);
	free(s->required);
	free(s->map_keys);
	free(s->all);
	free(s->any);
	free(s->deftext);
	free(s->enums);
	if (s->pattern) {
		regfree(s->pattern);
		free(s->pattern);
	}
	free(s->pattern_text);
	free(s);
}

static int sprop_cmp(const void *a, const void *b)
{
	return strcmp(((const struct sprop *)a)->name, ((const struct sprop *)b)->name);
}

static const struct sprop *snode_prop(const struct snode *s, const char *name)
{
	struct sprop key = { name, NULL };

	if (!s->nprops)
		return NULL;
	return bsearch(&key, s->props, s->nprops, sizeof(key), sprop_cmp);
}

struct sv {
	const struct ynode *y;
	const struct jnode *n;
};

static struct snode *compile(struct schema_store *st, struct sdoc *d, struct sv j, int depth);
static struct snode *resolve(struct schema_store *st, struct sdoc *d, const char *name, int depth);

static unsigned type_bits(const char *t)
{
	if (!strcmp(t, "string"))
		return ST_STR;
	if (!strcmp(t, "integer"))
		return ST_INT;
	if (!strcmp(t, "number"))
		return ST_NUM | ST_INT;
	if (!strcmp(t, "boolean"))
		return ST_BOOL;
	if (!strcmp(t, "object"))
		return ST_OBJ;
	if (!strcmp(t, "array"))
		return ST_ARR;
	return 0;
}

/*
 * A read-only view of a schema in either form: JSON (schema files, as a
 * jtree) or the YAML tree of a CRD (compiled in place, with no conversion).
 */
struct sv_iter {
	struct sv parent;
	const struct jnode *ncur;
	size_t i;
};

static const struct sv sv_none = { NULL, NULL };

static int sv_ok(struct sv v)
{
	return v.y || v.n;
}

static int sv_is_obj(struct sv v)
{
	if (v.n)
		return v.n->type == JT_OBJECT;
	return v.y && v.y->kind == YN_MAP;
}

static int sv_is_arr(struct sv v)
{
	if (v.n)
		return v.n->type == JT_ARRAY;
	return v.y && v.y->kind == YN_SEQ;
}

static struct sv sv_get(struct sv v, const char *key)
{
	struct sv r = sv_none;

	if (v.n)
		r.n = jnode_get(v.n, key);
	else if (v.y)
		r.y = ynode_get(v.y, key);
	return r;
}

/* A string scalar's text, or NULL. */
static const char *sv_str(struct sv v)
{
	if (v.n)
		return v.n->type == JT_STRING ? v.n->str : NULL;
	if (v.y && v.y->kind == YN_SCALAR && v.y->stype == YS_STRING)
		return v.y->str;
	return NULL;
}

static int sv_true(struct sv v)
{
	if (v.n)
		return v.n->type == JT_TRUE;
	return v.y && v.y->kind == YN_SCALAR && v.y->stype == YS_BOOL && v.y->str &&
	       (v.y->str[0] == 't' || v.y->str[0] == 'T');
}

static size_t sv_count(struct sv v)
{
	if (v.n)
		return v.n->type == JT_ARRAY || v.n->type == JT_OBJECT ? v.n->n : 0;
	if (v.y && v.y->kind != YN_SCALAR)
		return v.y->n;
	return 0;
}

static void sv_iter_init(struct sv_iter *it, struct sv v)
{
	it->parent = v;
	it->ncur = v.n && (v.n->type == JT_ARRAY || v.n->type == JT_OBJECT) ? v.n->child : NULL;
	it->i = 0;
}

/* Next item of an array, or value of an object (its key in *key). */
static int sv_next(struct sv_iter *it, struct sv *out, const char **key)
{
	*out = sv_none;
	if (key)
		*key = NULL;
	if (it->parent.n) {
		if (!it->ncur)
			return 0;
		out->n = it->ncur;
		if (key)
			*key = it->ncur->key;
		it->ncur = it->ncur->next;
		return 1;
	}
	if (!it->parent.y || it->parent.y->kind == YN_SCALAR || it->i >= it->parent.y->n)
		return 0;
	if (it->parent.y->kind == YN_MAP) {
		const struct ynode *k = it->parent.y->kids[2 * it->i];

		out->y = it->parent.y->kids[2 * it->i + 1];
		if (key)
			*key = k->kind == YN_SCALAR ? k->str : NULL;
	} else {
		out->y = it->parent.y->kids[it->i];
	}
	it->i++;
	return 1;
}

/* A scalar as an enum value. */
static void senum_set(struct senum *e, struct sv v)
{
	memset(e, 0, sizeof(*e));
	if (v.n) {
		switch (v.n->type) {
		case JT_STRING:
			e->kind = 's';
			e->str = v.n->str;
			break;
		case JT_NUMBER:
			e->kind = 'n';
			e->num = v.n->num;
			break;
		case JT_TRUE:
		case JT_FALSE:
			e->kind = 'b';
			e->str = v.n->type == JT_TRUE ? "true" : "false";
			break;
		case JT_NULL:
			e->kind = 'z';
			break;
		default:
			break;
		}
		return;
	}
	if (!v.y || v.y->kind != YN_SCALAR)
		return;
	switch (v.y->stype) {
	case YS_STRING:
		e->kind = 's';
		e->str = v.y->str;
		break;
	case YS_INT:
	case YS_FLOAT:
		e->kind = 'n';
		e->num = strtod(v.y->str, NULL);
		break;
	case YS_BOOL:
		e->kind = 'b';
		e->str = sv_true(v) ? "true" : "false";
		break;
	case YS_NULL:
		e->kind = 'z';
		break;
	}
}

static struct snode **compile_list(struct schema_store *st, struct sdoc *d, struct sv arr,
				   size_t *n, int depth)
{
	struct snode **v;
	struct sv_iter it;
	struct sv x;
	size_t i = 0;

	*n = sv_count(arr);
	if (!*n)
		return NULL;
	v = xcalloc(*n, sizeof(*v));
	sv_iter_init(&it, arr);
	while (i < *n && sv_next(&it, &x, NULL))
		v[i++] = compile(st, d, x, depth + 1);
	*n = i;
	return v;
}

static const char **string_list(struct sv arr, size_t *n)
{
	const char **v;
	struct sv_iter it;
	struct sv x;
	size_t i = 0, max = sv_count(arr);

	*n = 0;
	if (!sv_is_arr(arr) || !max)
		return NULL;
	v = xcalloc(max, sizeof(*v));
	sv_iter_init(&it, arr);
	while (i < max && sv_next(&it, &x, NULL))
		if (sv_str(x))
			v[i++] = sv_str(x);
	*n = i;
	return v;
}

/* A CRD's quantity fields: int-or-string with the Quantity pattern. */
static int is_quantity_pattern(const char *p)
{
	return p && strstr(p, "[KMGTPE]i)") && strstr(p, "[eE]");
}

/* A number in a schema (a JSON number or a YAML int/float), 0 when absent. */
static int sv_num(struct sv v, double *out)
{
	char *end;

	if (v.n) {
		if (v.n->type != JT_NUMBER)
			return 0;
		*out = v.n->num;
		return 1;
	}
	if (!v.y || v.y->kind != YN_SCALAR || (v.y->stype != YS_INT && v.y->stype != YS_FLOAT))
		return 0;
	*out = strtod(v.y->str, &end);
	return !*end;
}

/*
 * An OpenAPI "pattern" (ECMA-262 syntax) as a POSIX extended regular
 * expression, or NULL when it uses what POSIX has no form for
 * (lookaround, backreferences, \b, \p{...}, \uXXXX, a negated class
 * escape inside brackets, ...): such a pattern is not checked here, the
 * API server still checks it. Translated: \d \w \s and their negations,
 * escaped literals, (?:...) groups, lazy quantifiers (the same match or
 * no match as greedy ones), \n \t \r. An unanchored pattern matches
 * anywhere in the value, as in ECMA and regexec alike.
 *
 * A pattern comes from a CRD in a push, so it is hostile input too:
 * regcomp copies a group once per count of a {n,m} after it, and nested
 * counts multiply ("((a{255}){255}){255}" takes 20 s and 3 GB). The size
 * a pattern would grow to is counted on the way (each atom 1, a counted
 * group its size times the larger count) and one over PATTERN_GROWTH is
 * left to the API server.
 */
#define PATTERN_MAX 4096
#define PATTERN_GROWTH 20000
#define PATTERN_NEST 32

struct pattern_size {
	unsigned long w[PATTERN_NEST + 1];	/* size of each open group so far */
	unsigned long last;			/* size of the atom or group just ended */
	int depth;
};

/* Adds an atom of size n; 0, or -1 when the pattern grew too big. */
static int psize_atom(struct pattern_size *z, unsigned long n)
{
	z->last = n;
	z->w[z->depth] += n;
	return z->w[z->depth] > PATTERN_GROWTH ? -1 : 0;
}

/* Digits at p as a number that stops growing past PATTERN_GROWTH; *i moves past them. */
static unsigned long saturated(const char *p, size_t *i)
{
	unsigned long v = 0;

	while (p[*i] >= '0' && p[*i] <= '9') {
		if (v <= PATTERN_GROWTH)
			v = v * 10 + (unsigned long)(p[*i] - '0');
		(*i)++;
	}
	return v;
}

/*
 * "{n}", "{n,}" or "{n,m}" at p (in ECMA anything else is a literal
 * brace): its length, with the larger count in *count; or 0.
 */
static size_t interval(const char *p, unsigned long *count)
{
	size_t i = 1;
	unsigned long lo, hi;

	if (p[i] < '0' || p[i] > '9')
		return 0;
	lo = hi = saturated(p, &i);
	if (p[i] == ',') {
		i++;
		if (p[i] >= '0' && p[i] <= '9')
			hi = saturated(p, &i);
	}
	if (p[i] != '}')
		return 0;
	*count = lo > hi ? lo : hi;
	return i + 1;
}

static char *ecma_to_ere(const char *p)
{
	struct buf b = BUF_INIT(4 * PATTERN_MAX);
	struct pattern_size z;
	int in_class = 0, quant = 0, was_quant;
	size_t n = strlen(p), i, len;
	unsigned long count;

	if (n > PATTERN_MAX)
		return NULL;
	memset(&z, 0, sizeof(z));
	for (i = 0; i < n; i++) {
		char ch = p[i];

		was_quant = quant;	/* the token before this one was a quantifier */
		quant = 0;
		if (ch == '\\') {
			char e = p[++i];
			const char *cls = NULL, *ncls = NULL;

			switch (e) {
			case 'd': cls = "0-9"; ncls = "^0-9"; break;
			case 'w': cls = "A-Za-z0-9_"; ncls = "^A-Za-z0-9_"; break;
			case 's': cls = "[:space:]"; ncls = "^[:space:]"; break;
			case 'D': ncls = "^0-9"; break;
			case 'W': ncls = "^A-Za-z0-9_"; break;
			case 'S': ncls = "^[:space:]"; break;
			default: break;
			}
			if (!in_class && psize_atom(&z, 1) < 0)
				goto no;
			if (cls || ncls) {
				if (in_class) {
					if (!cls || !(e >= 'a' && e <= 'z'))
						goto no;	/* [\D] has no bracket form */
					buf_addstr(&b, cls);
				} else {
					buf_addf(&b, "[%s]", e >= 'a' && e <= 'z' ? cls : ncls);
				}
				continue;
			}
			if (e == 'n' || e == 't' || e == 'r') {
				buf_addch(&b, e == 'n' ? '\n' : e == 't' ? '\t' : '\r');
				continue;
			}
			if (!e || (e >= '0' && e <= '9') || (e >= 'a' && e <= 'z') ||
			    (e >= 'A' && e <= 'Z') || (unsigned char)e >= 0x80)
				goto no;	/* \b, \1, \p{..}, \uXXXX, ... */
			/* an escaped punctuation character: itself */
			if (in_class) {
				if (e == ']' || e == '^' || e == '-' || e == '\\' || e == '[')
					goto no;	/* placement rules differ in brackets */
				buf_addch(&b, e);
			} else if (strchr(".[]{}()*+?^$|\\", e)) {
				buf_addch(&b, '\\');
				buf_addch(&b, e);
			} else {
				buf_addch(&b, e);
			}
			continue;
		}
		if (in_class) {
			if (ch == '[' && p[i + 1] == ':')
				goto no;
			if (ch == ']')
				in_class = 0;
			buf_addch(&b, ch);
			continue;
		}
		switch (ch) {
		case '[':
			in_class = 1;
			buf_addch(&b, ch);
			if (p[i + 1] == '^')
				buf_addch(&b, p[++i]);
			if (p[i + 1] == ']')
				goto no;	/* "[]" and "[^]" mean other things in ECMA */
			if (psize_atom(&z, 1) < 0)
				goto no;
			continue;
		case '(':
			if (p[i + 1] == '?') {
				if (p[i + 2] != ':')
					goto no;	/* lookaround, named groups */
				i += 2;
			}
			if (z.depth >= PATTERN_NEST)
				goto no;
			z.w[++z.depth] = 0;
			buf_addch(&b, '(');
			continue;
		case ')':
			if (!z.depth)
				goto no;
			z.depth--;
			if (psize_atom(&z, z.w[z.depth + 1]) < 0)
				goto no;
			buf_addch(&b, ch);
			continue;
		case '{':
			len = interval(p + i, &count);
			if (!len) {
				buf_addstr(&b, "\\{");	/* a literal brace */
				if (psize_atom(&z, 1) < 0)
					goto no;
				continue;
			}
			if (count > PATTERN_GROWTH ||
			    z.last * (count ? count : 1) > PATTERN_GROWTH)
				goto no;
			z.w[z.depth] += z.last * (count ? count - 1 : 0);
			if (z.w[z.depth] > PATTERN_GROWTH)
				goto no;
			z.last *= count ? count : 1;
			buf_add(&b, p + i, len);
			i += len - 1;
			quant = 1;
			continue;
		case '}':
			buf_addstr(&b, "\\}");
			if (psize_atom(&z, 1) < 0)
				goto no;
			continue;
		case '?':
			if (was_quant)
				continue;	/* lazy: the same match or no match */
			buf_addch(&b, ch);
			quant = 1;
			continue;
		case '*': case '+':
			buf_addch(&b, ch);
			quant = 1;
			continue;
		case '|': case '^': case '$':
			buf_addch(&b, ch);
			continue;
		default:
			buf_addch(&b, ch);
			if (psize_atom(&z, 1) < 0)
				goto no;
			continue;
		}
	}
	if (in_class || z.depth || b.toobig)
		goto no;
	return buf_detach(&b, NULL);
no:
	buf_release(&b);
	return NULL;
}

static void compile_pattern(struct snode *s, const char *pattern)
{
	char *ere;

	if (!pattern || !*pattern)
		return;
	ere = ecma_to_ere(pattern);
	if (!ere)
		return;
	s->pattern = xcalloc(1, sizeof(*s->pattern));
	if (regcomp(s->pattern, ere, REG_EXTENDED | REG_NOSUB) != 0) {
		free(s->pattern);
		s->pattern = NULL;
	} else {
		s->pattern_text = xstrdup(pattern);
	}
	free(ere);
}

static void compile_bounds(struct snode *s, struct sv j)
{
	static const struct {
		const char *key;
		unsigned bit;
	} sizes[] = {
		{ "minLength", SH_MINLEN }, { "maxLength", SH_MAXLEN },
		{ "minItems", SH_MINITEMS }, { "maxItems", SH_MAXITEMS },
	};
	double v;
	size_t i;

	if (sv_num(sv_get(j, "minimum"), &v)) {
		s->has |= SH_MIN;
		s->minimum = v;
		if (sv_true(sv_get(j, "exclusiveMinimum")))
			s->has |= SH_XMIN;
	}
	if (sv_num(sv_get(j, "maximum"), &v)) {
		s->has |= SH_MAX;
		s->maximum = v;
		if (sv_true(sv_get(j, "exclusiveMaximum")))
			s->has |= SH_XMAX;
	}
	for (i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
		size_t n;

		if (!sv_num(sv_get(j, sizes[i].key), &v) || v < 0 || v > 1e15)
			continue;
		n = (size_t)v;
		s->has |= sizes[i].bit;
		switch (sizes[i].bit) {
		case SH_MINLEN:
			s->min_len = n;
			break;
		case SH_MAXLEN:
			s->max_len = n;
			break;
		case SH_MINITEMS:
			s->min_items = n;
			break;
		default:
			s->max_items = n;
			break;
		}
	}
}

static void compile_into(struct schema_store *st, struct sdoc *d, struct snode *s,
			 struct sv j, int depth)
{
	struct sv it, addl, t;
	const char *fmt, *ref;

	if (!sv_is_obj(j) || depth > 64)
		return;
	if (d->builtin)
		s->flags |= SN_NULL_OK;
	ref = sv_str(sv_get(j, "$ref"));
	if (ref && !strncmp(ref, OPENAPI_REF_PREFIX, strlen(OPENAPI_REF_PREFIX))) {
		struct snode *r = resolve(st, d, ref + strlen(OPENAPI_REF_PREFIX), depth + 1);

		if (r) {
			s->all = xcalloc(1, sizeof(*s->all));
			s->all[s->nall++] = r;
		}
	}
	fmt = sv_str(sv_get(j, "type"));
	if (fmt)
		s->types = type_bits(fmt);
	fmt = sv_str(sv_get(j, "format"));
	if (fmt) {
		if (!strcmp(fmt, "int-or-string"))
			s->flags |= SN_INTORSTR;
		else if (!strcmp(fmt, "int32"))
			s->format = SF_INT32;
		else if (!strcmp(fmt, "byte"))
			s->format = SF_BYTE;
		else if (!strcmp(fmt, "date-time"))
			s->format = SF_DATETIME;
	}
	if (sv_true(sv_get(j, "nullable")))
		s->flags |= SN_NULLABLE;
	if (sv_true(sv_get(j, "x-kubernetes-preserve-unknown-fields")))
		s->flags |= SN_PRESERVE;
	if (sv_true(sv_get(j, "x-kubernetes-int-or-string"))) {
		s->flags |= SN_INTORSTR;
		if (is_quantity_pattern(sv_str(sv_get(j, "pattern"))))
			s->flags |= SN_QUANTITY;
	}
	if (!(s->flags & SN_QUANTITY))
		compile_pattern(s, sv_str(sv_get(j, "pattern")));
	if (sv_true(sv_get(j, "x-kubernetes-embedded-resource")))
		s->flags |= SN_EMBEDDED;
	fmt = sv_str(sv_get(j, "x-kubernetes-list-type"));
	if (fmt && !strcmp(fmt, "map"))
		s->flags |= SN_LIST_MAP;
	else if (fmt && !strcmp(fmt, "set"))
		s->flags |= SN_LIST_SET;
	s->map_keys = string_list(sv_get(j, "x-kubernetes-list-map-keys"), &s->nmap_keys);
	s->required = string_list(sv_get(j, "required"), &s->nrequired);
	it = sv_get(j, "enum");
	if (sv_is_arr(it) && sv_count(it)) {
		struct sv_iter ei;
		struct sv x;
		size_t max = sv_count(it);

		s->enums = xcalloc(max, sizeof(*s->enums));
		sv_iter_init(&ei, it);
		while (s->nenums < max && sv_next(&ei, &x, NULL))
			senum_set(&s->enums[s->nenums++], x);
	}
	t = sv_get(j, "default");
	if (sv_str(t)) {
		s->deftext = xstrdup(sv_str(t));
	} else if (sv_ok(t)) {
		struct senum e;

		senum_set(&e, t);
		if (e.kind == 'n')
			s->deftext = xstrfmt("%g", e.num);
	}

	compile_bounds(s, j);

	it = sv_get(j, "properties");
	if (sv_is_obj(it) && sv_count(it)) {
		struct sv_iter pi;
		struct sv x;
		const char *key;
		size_t n = sv_count(it), i = 0;

		s->props = xcalloc(n, sizeof(*s->props));
		sv_iter_init(&pi, it);
		while (i < n && sv_next(&pi, &x, &key)) {
			if (!key)
				continue;
			s->props[i].name = key;
			s->props[i].s = compile(st, d, x, depth + 1);
			i++;
		}
		s->nprops = i;
		qsort(s->props, s->nprops, sizeof(*s->props), sprop_cmp);
		s->flags |= SN_CLOSED;
		if (!s->types)
			s->types = ST_OBJ;
	}
	addl = sv_get(j, "additionalProperties");
	if (sv_true(addl))
		s->flags |= SN_ADDL_ANY;
	else if (sv_is_obj(addl))
		s->addl = compile(st, d, addl, depth + 1);
	if (s->addl || (s->flags & SN_ADDL_ANY))
		s->flags &= ~SN_CLOSED;
	/*
	 * A structural (CRD) object schema with no properties keeps no
	 * fields; a built-in one with none is free-form (RawExtension,
	 * FieldsV1).
	 */
	if (!d->builtin && s->types == ST_OBJ && !s->nprops && !s->addl &&
	    !(s->flags & (SN_ADDL_ANY | SN_PRESERVE | SN_EMBEDDED)))
		s->flags |= SN_CLOSED;
	if (s->flags & SN_PRESERVE)
		s->flags &= ~SN_CLOSED;

	it = sv_get(j, "items");
	if (sv_is_obj(it))
		s->items = compile(st, d, it, depth + 1);

	it = sv_get(j, "allOf");
	if (sv_is_arr(it)) {
		size_t n;
		struct snode **v = compile_list(st, d, it, &n, depth);

		if (n) {
			s->all = xreallocarray(s->all, s->nall + n, sizeof(*s->all));
			memcpy(s->all + s->nall, v, n * sizeof(*v));
			s->nall += n;
		}
		free(v);
	}
	if (!(s->flags & SN_INTORSTR)) {
		struct sv any = sv_get(j, "anyOf");
		struct sv one = sv_get(j, "oneOf");

		if (sv_is_arr(any))
			s->any = compile_list(st, d, any, &s->nany, depth);
		else if (sv_is_arr(one))
			s->any = compile_list(st, d, one, &s->nany, depth);
	}
}

/* Keywords that make a schema more than a wrapper around its allOf/$ref. */
static int is_wrapper_only(struct sv j)
{
	struct sv_iter it;
	struct sv x;
	const char *k;

	sv_iter_init(&it, j);
	while (sv_next(&it, &x, &k)) {
		if (!k || (strcmp(k, "allOf") && strcmp(k, "$ref") && strcmp(k, "default") &&
			   strcmp(k, "description") && strncmp(k, "x-kubernetes-patch", 18)))
			return 0;
	}
	return 1;
}

static struct snode *compile(struct schema_store *st, struct sdoc *d, struct sv j, int depth)
{
	struct snode *s;

	if (!sv_is_obj(j))
		return &st->any;
	/* `allOf: [{$ref: X}]` beside a description is X itself: share it. */
	if (is_wrapper_only(j)) {
		struct sv all = sv_get(j, "allOf"), only = sv_none;
		const char *ref = sv_str(sv_get(j, "$ref"));

		if (ref && !sv_ok(all))
			only = j;
		else if (!ref && sv_is_arr(all) && sv_count(all) == 1) {
			struct sv_iter it;

			sv_iter_init(&it, all);
			sv_next(&it, &only, NULL);
		}
		ref = sv_ok(only) ? sv_str(sv_get(only, "$ref")) : NULL;
		if (ref && sv_count(only) == 1 &&
		    !strncmp(ref, OPENAPI_REF_PREFIX, strlen(OPENAPI_REF_PREFIX))) {
			s = resolve(st, d, ref + strlen(OPENAPI_REF_PREFIX), depth + 1);
			if (s)
				return s;
		}
	}
	s = snode_new(st);
	compile_into(st, d, s, j, depth);
	return s;
}

static const struct jnode *sdoc_def(struct sdoc *d, const char *name, const char **name_out);
static const char *sdoc_def_name(struct sdoc *d, const char *name);
static void sdoc_def_done(struct sdoc *d, const char *name);

/*
 * The node of definition `name`, or NULL when the document has none. The
 * node is compiled when validation first reaches it (snode_ready): a
 * Deployment refers, through its pod template, to every volume source,
 * and an object uses a few of them.
 */
static struct snode *resolve(struct schema_store *st, struct sdoc *d, const char *name, int depth)
{
	struct snode *s;
	const char *sname = NULL;
	int found;

	(void)depth;
	s = smap_get(&d->compiled, name, &found);
	if (found)
		return s;
	if (d->schemas) {
		const struct jnode *j = jnode_get(d->schemas, name);

		sname = j ? j->key : NULL;
	} else if (d->text) {
		sname = sdoc_def_name(d, name);
	}
	if (!sname) {
		smap_put(&d->compiled, name, NULL);
		return NULL;
	}
	/* memoized before use: schemas refer to themselves (JSONSchemaProps) */
	s = snode_new(st);
	s->name = sname;
	smap_put(&d->compiled, name, s);
	if (!strcmp(name, "io.k8s.apimachinery.pkg.api.resource.Quantity")) {
		s->flags |= SN_QUANTITY | SN_NULL_OK;
		return s;
	}
	if (!strcmp(name, "io.k8s.apimachinery.pkg.util.intstr.IntOrString")) {
		s->flags |= SN_INTORSTR | SN_NULL_OK;
		return s;
	}
	s->pending = d;
	return s;
}

/*
 * Compiles a definition resolve() left pending. Returns -1 when its text
 * cannot be parsed: the node stays empty (accepts anything).
 */
static int snode_compile(struct schema_store *st, struct snode *s)
{
	struct sdoc *d = s->pending;
	struct sv j = sv_none;
	const char *sname = NULL;
	int saved;

	if (!d)
		return 0;
	s->pending = NULL;
	if (d->schemas)
		j.n = jnode_get(d->schemas, s->name);
	else if (d->text)
		j.n = sdoc_def(d, s->name, &sname);
	if (!sv_ok(j)) {
		s->flags |= SN_BROKEN;
		return -1;
	}
	saved = d->builtin;
	d->builtin = d->base_builtin && !strncmp(s->name, "io.k8s.", 7);
	compile_into(st, d, s, j, 1);
	d->builtin = saved;
	if (d->text)
		sdoc_def_done(d, s->name);
	return 0;
}

/* s, compiled if it was pending. */
static const struct snode *snode_ready(struct schema_store *st, const struct snode *s)
{
	if (s && s->pending)
		snode_compile(st, (struct snode *)s);
	return s;
}

/* ---- loading -------------------------------------------------------- */

/*
 * One definition of a file read lazily: a compact schema file is
 * {"schemas":{"name":{...},...}}; loading it only finds where each
 * definition's text is, and a definition is parsed when a kind first
 * needs it. A one-file lint parses a few dozen definitions instead of
 * every type of core/v1.
 */
struct sdef {
	size_t name_off, name_len;	/* its name in sdoc.text */
	size_t off, len;	/* its JSON value in sdoc.text */
	char *name;		/* the name as a string, made on first use */
	struct jtree *j;	/* parsed on first use */
	int failed;
};

static void sdoc_defs_release(struct sdoc *d)
{
	size_t i;

	for (i = 0; i < d->ndefs; i++) {
		jtree_free(d->defs[i].j);
		free(d->defs[i].name);
	}
	free(d->defs);
	free(d->slots);
	d->defs = NULL;
	d->slots = NULL;
	d->ndefs = d->alloc_defs = d->nslots = 0;
}

static size_t mem_hash(const char *s, size_t n)
{
	size_t h = 2166136261u;

	while (n--)
		h = (h ^ (unsigned char)*s++) * 16777619u;
	return h;
}

/* The definition named s[0..n) of d, or NULL. */
static struct sdef *sdoc_find(const struct sdoc *d, const char *s, size_t n)
{
	size_t i;

	if (!d->nslots)
		return NULL;
	for (i = mem_hash(s, n) & (d->nslots - 1); d->slots[i]; i = (i + 1) & (d->nslots - 1)) {
		struct sdef *def = &d->defs[d->slots[i] - 1];

		if (def->name_len == n && !memcmp(d->text + def->name_off, s, n))
			return def;
	}
	return NULL;
}

/* Hashes the definitions found; of two with one name the first counts, as in a parsed object. */
static int sdoc_hash_defs(struct sdoc *d)
{
	size_t i, j;

	if (d->ndefs >= UINT32_MAX / 4)
		return -1;
	for (d->nslots = 64; d->nslots < 2 * d->ndefs + 2; d->nslots *= 2)
		;
	d->slots = xcalloc(d->nslots, sizeof(*d->slots));
	for (i = 0; i < d->ndefs; i++) {
		const struct sdef *def = &d->defs[i];

		if (sdoc_find(d, d->text + def->name_off, def->name_len))
			continue;
		for (j = mem_hash(d->text + def->name_off, def->name_len) & (d->nslots - 1);
		     d->slots[j]; j = (j + 1) & (d->nslots - 1))
			;
		d->slots[j] = (uint32_t)(i + 1);
	}
	return 0;
}

/* The index just past the JSON value at s[i..n), or 0 when there is none. */
static size_t skip_json_value(const char *s, size_t i, size_t n)
{
	size_t depth = 0;

	do {
		if (i >= n)
			return 0;
		switch (s[i]) {
		case '"': {
			/* strings are most of the text: jump from quote to quote */
			const char *q = s + i + 1, *end = s + n;

			for (;;) {
				const char *b;

				q = memchr(q, '"', (size_t)(end - q));
				if (!q)
					return 0;
				for (b = q; b > s + i + 1 && b[-1] == '\\'; b--)
					;
				if (((size_t)(q - b) & 1) == 0)
					break;	/* an even run of backslashes: the quote ends it */
				q++;
			}
			i = (size_t)(q - s) + 1;
			break;
		}
		case '{':
		case '[':
			depth++;
			i++;
			break;
		case '}':
		case ']':
			if (!depth)
				return 0;
			depth--;
			i++;
			break;
		default:
			if (!depth) {	/* a bare scalar */
				while (i < n && s[i] != ',' && s[i] != '}' && s[i] != ']')
					i++;
				return i;
			}
			i++;
		}
	} while (depth);
	return i;
}

/*
 * A JSON string with no escapes at s[i..n): its contents are s[*a..*b).
 * Returns the index just past it, or 0 (not a string, or escapes in it).
 */
static size_t plain_string(const char *s, size_t i, size_t n, size_t *a, size_t *b)
{
	const char *q;

	if (i >= n || s[i] != '"')
		return 0;
	q = memchr(s + i + 1, '"', n - i - 1);
	if (!q || memchr(s + i + 1, '\\', (size_t)(q - s) - i - 1))
		return 0;
	*a = i + 1;
	*b = (size_t)(q - s);
	return *b + 1;
}

static int is_json_space(char c)
{
	return c == ' ' || c == '\n' || c == '\r' || c == '\t';
}

/*
 * The member of an object in the compactor's form (no blanks, keys
 * without escapes or NULs) at s[*i]: its key s[*ka..*kb) and value
 * s[*va..*ve); *i moves past the ',' or '}' after it. Returns 1 when
 * another member follows, 0 after the last, -1 for any other form (the
 * file is then parsed whole).
 */
static int compact_member(const char *s, size_t n, size_t *i, size_t *ka, size_t *kb,
			  size_t *va, size_t *ve)
{
	size_t e = plain_string(s, *i, n, ka, kb);

	if (!e || e + 1 >= n || s[e] != ':' || is_json_space(s[e + 1]) ||
	    memchr(s + *ka, '\0', *kb - *ka))
		return -1;
	*va = e + 1;
	*ve = skip_json_value(s, *va, n);
	if (!*ve || *ve >= n || (s[*ve] != ',' && s[*ve] != '}'))
		return -1;
	*i = *ve + 1;
	return s[*ve] == ',';
}

/* Finds the definitions of a compact schema file; -1 when it has another shape. */
static int sdoc_index(struct sdoc *d, const char *s, size_t n)
{
	static const char head[] = "{\"schemas\":{";
	size_t i = sizeof(head) - 1;

	if (n < i || memcmp(s, head, i))
		return -1;
	if (i < n && s[i] == '}') {
		i++;
	} else {
		int more;

		do {
			size_t ka, kb, va, ve;
			struct sdef *def;

			more = compact_member(s, n, &i, &ka, &kb, &va, &ve);
			if (more < 0)
				return -1;	/* escapes in a type name, blanks: the slow road */
			XGROW(d->defs, d->ndefs + 1, d->alloc_defs);
			def = &d->defs[d->ndefs++];
			memset(def, 0, sizeof(*def));
			def->name_off = ka;
			def->name_len = kb - ka;
			def->off = va;
			def->len = ve - va;
		} while (more);
	}
	if (i >= n || s[i] != '}')
		return -1;
	for (i++; i < n; i++)
		if (s[i] != ' ' && s[i] != '\n' && s[i] != '\r' && s[i] != '\t')
			return -1;
	return sdoc_hash_defs(d);
}

/* The definition `name` of a lazily read file, with its name as a string; or NULL. */
static struct sdef *sdoc_lookup(struct sdoc *d, const char *name)
{
	struct sdef *def = sdoc_find(d, name, strlen(name));

	if (!def || def->failed)
		return NULL;
	if (!def->name)
		def->name = xstrndup(d->text + def->name_off, def->name_len);
	return def;
}

/* The parsed definition `name` of a lazily read file, or NULL. */
static const struct jnode *sdoc_def(struct sdoc *d, const char *name, const char **name_out)
{
	struct sdef *def = sdoc_lookup(d, name);

	if (!def)
		return NULL;
	if (!def->j) {
		def->j = jtree_parse(d->text + def->off, def->len);
		if (!def->j) {
			def->failed = 1;
			error("the schema of '%s' is not valid JSON", name);
			return NULL;
		}
	}
	*name_out = def->name;
	return jtree_root(def->j);
}

/*
 * Definition `name` is compiled (once: its node is memoized), and the
 * compiled nodes keep pointers to its strings only: its tree can go, and
 * the next definition's parse reuses that memory instead of touching
 * new pages.
 */
static void sdoc_def_done(struct sdoc *d, const char *name)
{
	struct sdef *def = sdoc_lookup(d, name);

	if (def)
		jtree_drop_nodes(def->j);
}

/* The name of definition `name` of a lazily read file, unparsed; or NULL. */
static const char *sdoc_def_name(struct sdoc *d, const char *name)
{
	const struct sdef *def = sdoc_lookup(d, name);

	return def ? def->name : NULL;
}

static void sdoc_free(void *p)
{
	struct sdoc *d = p;

	if (!d)
		return;
	smap_release(&d->compiled, NULL);
	sdoc_defs_release(d);
	jtree_free(d->root);
	if (d->text)
		munmap(d->text, d->text_len);
	free(d);
}

static struct sdoc *sdoc_new(struct schema_store *st, struct jtree *root, int builtin)
{
	struct sdoc *d = xcalloc(1, sizeof(*d));

	d->root = root;
	d->schemas = jnode_get(jtree_root(root), "schemas");
	d->builtin = d->base_builtin = builtin;
	XGROW(st->docs, st->ndocs + 1, st->alloc_docs);
	st->docs[st->ndocs++] = d;
	return d;
}

static struct jtree *read_json(const char *path)
{
	struct buf b = BUF_INIT(256u << 20);
	struct jtree *j;

	if (buf_read_file(&b, path) < 0) {
		if (errno != ENOENT)
			error_errno("cannot read '%s'", path);
		buf_release(&b);
		return NULL;
	}
	j = jtree_parse(b.data, b.len);
	if (!j)
		error("'%s' is not valid JSON", path);
	buf_release(&b);
	return j;
}

/*
 * A compact schema file whose definitions are parsed on demand, or NULL.
 * The file is mapped with its pages filled in one call: cheaper than
 * reading it into memory that then faults page by page.
 */
/*
 * A regular, non-empty file of at most 256 MiB mapped read-only with its
 * pages filled in one call (cheaper than reading it into memory that
 * then faults page by page); NULL otherwise (the caller reads it the
 * ordinary way, which says why it cannot).
 */
static char *map_file(const char *path, size_t *len)
{
	struct stat sb;
	char *text;
	int fd = open(path, O_RDONLY | O_CLOEXEC);

	if (fd < 0)
		return NULL;
	if (fstat(fd, &sb) < 0 || !S_ISREG(sb.st_mode) || sb.st_size <= 0 ||
	    (unsigned long long)sb.st_size > (256ull << 20)) {
		close(fd);
		return NULL;
	}
	text = mmap(NULL, (size_t)sb.st_size, PROT_READ, MAP_PRIVATE | MAP_POPULATE, fd, 0);
	close(fd);
	if (text == MAP_FAILED)
		return NULL;
	*len = (size_t)sb.st_size;
	return text;
}

static struct sdoc *sdoc_read_lazily(struct schema_store *st, const char *path)
{
	struct sdoc *d;
	size_t len;
	char *text = map_file(path, &len);

	if (!text)
		return NULL;	/* read_json says why */
	d = xcalloc(1, sizeof(*d));
	d->text = text;
	d->text_len = len;
	if (sdoc_index(d, text, len) < 0) {
		sdoc_defs_release(d);
		free(d);
		munmap(text, len);
		return NULL;
	}
	d->builtin = d->base_builtin = 1;
	XGROW(st->docs, st->ndocs + 1, st->alloc_docs);
	st->docs[st->ndocs++] = d;
	return d;
}

static void skind_free(void *p)
{
	struct skind *k = p;

	if (!k)
		return;
	free(k->file);
	free(k->schema);
	free(k);
}

static void sdir_release(struct sdir *dir)
{
	free(dir->path);
	free(dir->version);
	smap_release(&dir->kinds, skind_free);
	smap_release(&dir->docs, NULL);	/* the sdocs are owned by the store */
	if (dir->text_mapped)
		munmap(dir->text, dir->text_len);
	else
		free(dir->text);
	free(dir->rows);
}

/* A JSON number as an int, clamped (-1 for NaN). */
static int clamp_int(double v)
{
	if (v != v)
		return -1;
	if (v < INT_MIN)
		return INT_MIN;
	if (v > INT_MAX)
		return INT_MAX;
	return (int)v;
}

/* The number at s[a..b) as an int (clamped), or -1 when it is not a number. */
static int index_int(const char *s, size_t a, size_t b)
{
	char *tmp, *end;
	int r = -1;

	if (!(s[a] == '-' || (s[a] >= '0' && s[a] <= '9')))
		return -1;
	tmp = xstrndup(s + a, b - a);
	{
		double v = strtod(tmp, &end);

		if (!*end)
			r = clamp_int(v);
	}
	free(tmp);
	return r;
}

/* One row of the kinds array at s[i..n) into dir->rows; returns the index past it, or 0. */
static size_t index_row(struct sdir *dir, const char *s, size_t i, size_t n)
{
	size_t a[6], b[6], j, nf = 0;
	struct irow r;
	int f;

	if (i >= n || s[i] != '[')
		return 0;
	j = i + 1;
	if (j < n && s[j] == ']')
		return j + 1;	/* an empty row names no kind */
	for (;;) {
		size_t e, sa, sb;

		if (j >= n || is_json_space(s[j]))
			return 0;
		if (s[j] == '"')
			e = plain_string(s, j, n, &sa, &sb);	/* 0 for escapes: the slow road */
		else
			e = skip_json_value(s, j, n);
		if (!e)
			return 0;
		if (nf < 6) {
			a[nf] = j;
			b[nf] = e;
		}
		nf++;
		j = e;
		if (j < n && s[j] == ',') {
			j++;
			continue;
		}
		if (j < n && s[j] == ']')
			break;
		return 0;
	}
	if (nf < 6)
		return j + 1;
	for (f = 0; f < 6; f++) {
		size_t x = f < 3 ? (size_t)f : (size_t)f - 1;

		if (f == 3)
			continue;
		if (s[a[f]] != '"')
			return j + 1;	/* not a string: the row is skipped */
		if (a[f] + 1 > UINT32_MAX || b[f] - a[f] - 2 > UINT32_MAX)
			return 0;
		r.off[x] = (uint32_t)(a[f] + 1);
		r.len[x] = (uint32_t)(b[f] - a[f] - 2);
	}
	if (!r.len[IR_FILE] || s[r.off[IR_FILE]] == '.' ||
	    memchr(s + r.off[IR_FILE], '/', r.len[IR_FILE]) ||
	    memchr(s + r.off[IR_FILE], '\0', r.len[IR_FILE]))
		return j + 1;
	for (f = 0; f < IR_NFIELDS; f++)
		if (memchr(s + r.off[f], '\0', r.len[f]))
			return 0;
	r.namespaced = index_int(s, a[3], b[3]);
	XGROW(dir->rows, dir->nrows + 1, dir->alloc_rows);
	dir->rows[dir->nrows++] = r;
	return j + 1;
}

/*
 * Reads an index.json in the compactor's own form: the version now, the
 * rows' field positions for later lookups. -1 (nothing kept) for any
 * other form, which is then parsed whole.
 */
static int index_scan(struct sdir *dir, const char *s, size_t n)
{
	size_t i = 1, ka, kb;
	int seen_version = 0, seen_kinds = 0;

	if (!n || s[0] != '{')
		return -1;
	if (i < n && s[i] == '}') {
		i++;
	} else {
		int more;

		do {
			size_t va, ve;

			more = compact_member(s, n, &i, &ka, &kb, &va, &ve);
			if (more < 0)
				goto slow;
			if (kb - ka == 7 && !memcmp(s + ka, "version", 7) && !seen_version) {
				size_t a, b;

				seen_version = 1;
				if (s[va] == '"') {
					if (!plain_string(s, va, n, &a, &b) || memchr(s + a, '\0', b - a))
						goto slow;
					dir->version = xstrndup(s + a, b - a);
				}
			} else if (kb - ka == 5 && !memcmp(s + ka, "kinds", 5) && !seen_kinds) {
				seen_kinds = 1;
				if (s[va] == '[' && s[va + 1] != ']') {
					size_t j = va + 1;

					for (;;) {
						j = index_row(dir, s, j, ve);
						if (!j)
							goto slow;
						if (j < ve && s[j] == ',') {
							j++;
							continue;
						}
						if (j + 1 == ve && s[j] == ']')
							break;
						goto slow;
					}
				}
			}
		} while (more);
	}
	for (; i < n; i++)
		if (!is_json_space(s[i]))
			goto slow;
	return 0;
slow:
	free(dir->version);
	dir->version = NULL;
	free(dir->rows);
	dir->rows = NULL;
	dir->nrows = dir->alloc_rows = 0;
	return -1;
}

/* The kind group/version/kind of a kept index, made on first use; NULL when none. */
static struct skind *index_kind(struct sdir *dir, const char *key, const char *group,
				const char *version, const char *kind)
{
	const char *want[3] = { group, version, kind };
	size_t wlen[3] = { strlen(group), strlen(version), strlen(kind) };
	struct skind *sk;
	size_t i;
	int found;

	sk = smap_get(&dir->kinds, key, &found);
	if (found)
		return sk;
	/* the last row for a kind counts, as when the index is parsed whole */
	for (i = dir->nrows; i-- > 0;) {
		const struct irow *r = &dir->rows[i];
		int f;

		for (f = IR_KIND; f >= IR_GROUP; f--)
			if (r->len[f] != wlen[f] || memcmp(dir->text + r->off[f], want[f], wlen[f]))
				break;
		if (f < IR_GROUP) {
			sk = xcalloc(1, sizeof(*sk));
			sk->file = xstrndup(dir->text + r->off[IR_FILE], r->len[IR_FILE]);
			sk->schema = xstrndup(dir->text + r->off[IR_SCHEMA], r->len[IR_SCHEMA]);
			sk->namespaced = r->namespaced;
			break;
		}
	}
	smap_put(&dir->kinds, key, sk);
	return sk;
}

/* The i-th item (or member) of x, or NULL. */
static const struct jnode *jnode_item(const struct jnode *x, size_t i)
{
	const struct jnode *c;

	if (!x || (x->type != JT_ARRAY && x->type != JT_OBJECT))
		return NULL;
	for (c = x->child; c && i; c = c->next)
		i--;
	return c;
}

static const char *jnode_str(const struct jnode *x)
{
	return x && x->type == JT_STRING ? x->str : NULL;
}

static int sdir_load(struct sdir *dir)
{
	struct buf b = BUF_INIT(256u << 20);
	struct jtree *index;
	const struct jnode *row, *kinds, *v;
	char *path, *text;
	size_t len;
	int mapped;

	if (dir->loaded)
		return dir->failed ? -1 : 0;
	dir->loaded = 1;
	path = xstrfmt("%s/index.json", dir->path);
	text = map_file(path, &len);
	mapped = text != NULL;
	if (!mapped) {
		if (buf_read_file(&b, path) < 0) {
			if (errno != ENOENT)
				error_errno("cannot read '%s'", path);
			buf_release(&b);
			free(path);
			dir->failed = 1;
			return -1;
		}
		text = b.data;
		len = b.len;
	}
	if (len <= UINT32_MAX && index_scan(dir, text, len) == 0) {
		dir->text = mapped ? text : buf_detach(&b, NULL);
		dir->text_len = len;
		dir->text_mapped = mapped;
		free(path);
		return 0;
	}
	index = jtree_parse(text, len);
	if (!index)
		error("'%s' is not valid JSON", path);
	if (mapped)
		munmap(text, len);
	buf_release(&b);
	free(path);
	if (!index) {
		dir->failed = 1;
		return -1;
	}
	v = jnode_get(jtree_root(index), "version");
	if (v && v->type == JT_STRING)
		dir->version = xstrdup(v->str);
	kinds = jnode_get(jtree_root(index), "kinds");
	for (row = kinds ? kinds->child : NULL; row; row = row->next) {
		const char *g = jnode_str(jnode_item(row, 0));
		const char *ver = jnode_str(jnode_item(row, 1));
		const char *k = jnode_str(jnode_item(row, 2));
		const struct jnode *ns = jnode_item(row, 3);
		const char *file = jnode_str(jnode_item(row, 4));
		const char *schema = jnode_str(jnode_item(row, 5));
		struct skind *sk;
		char *key;

		if (!g || !ver || !k || !file || !schema || strchr(file, '/') || file[0] == '.')
			continue;
		sk = xcalloc(1, sizeof(*sk));
		sk->file = xstrdup(file);
		sk->schema = xstrdup(schema);
		sk->namespaced = ns && ns->type == JT_NUMBER ? clamp_int(ns->num) : -1;
		key = xstrfmt("%s/%s/%s", g, ver, k);
		skind_free(smap_get(&dir->kinds, key, NULL));
		smap_put(&dir->kinds, key, sk);
		free(key);
	}
	jtree_free(index);
	return 0;
}

static struct sdoc *sdir_doc(struct schema_store *st, struct sdir *dir, const char *file)
{
	struct sdoc *d;
	struct jtree *root;
	char *path;
	int found;

	d = smap_get(&dir->docs, file, &found);
	if (found)
		return d;
	path = xstrfmt("%s/%s", dir->path, file);
	d = sdoc_read_lazily(st, path);
	if (!d) {
		root = read_json(path);
		d = root ? sdoc_new(st, root, 1) : NULL;
	}
	free(path);
	smap_put(&dir->docs, file, d);
	return d;
}

static int is_dir(const char *p)
{
	struct stat sb;

	return !stat(p, &sb) && S_ISDIR(sb.st_mode);
}

static int has_index(const char *dir)
{
	char *p = xstrfmt("%s/index.json", dir);
	int ok = !access(p, R_OK);

	free(p);
	return ok;
}

/* The bundled schema directory, or NULL. */
static char *find_bundled(void)
{
	static const char *const rel[] = {
		"../share/tidegate/schemas",
		"../../data/schemas",
		"../data/schemas",
	};
	const char *env = getenv("TIDEGATE_SCHEMAS");
	char exe[PATH_MAX], *slash;
	ssize_t n;
	size_t i;

	if (env && *env)
		return xstrdup(env);
	n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
	if (n > 0) {
		exe[n] = '\0';
		slash = strrchr(exe, '/');
		if (slash) {
			*slash = '\0';
			for (i = 0; i < sizeof(rel) / sizeof(rel[0]); i++) {
				char *p = xstrfmt("%s/%s", exe, rel[i]);

				if (has_index(p))
					return p;
				free(p);
			}
		}
	}
#ifdef TIDEGATE_DATADIR
	if (has_index(TIDEGATE_DATADIR "/schemas"))
		return xstrdup(TIDEGATE_DATADIR "/schemas");
#endif
	return NULL;
}

struct schema_store *schema_store_new(const char *schema_dir)
{
	struct schema_store *st;
	char *bundled;

	if (schema_dir) {
		if (!is_dir(schema_dir)) {
			error("schema directory '%s' does not exist", schema_dir);
			return NULL;
		}
		if (!has_index(schema_dir)) {
			error("'%s' is not a schema directory (no index.json; see 'tidegate schema pull')",
			      schema_dir);
			return NULL;
		}
	}
	st = xcalloc(1, sizeof(*st));
	if (schema_dir)
		st->dirs[st->ndirs++].path = xstrdup(schema_dir);
	bundled = find_bundled();
	if (bundled)
		st->dirs[st->ndirs++].path = bundled;
	return st;
}

void schema_store_free(struct schema_store *st)
{
	size_t i;

	if (!st)
		return;
	for (i = 0; i < st->ndirs; i++)
		sdir_release(&st->dirs[i]);
	smap_release(&st->crds, skind_free);
	smap_release(&st->cache, NULL);
	for (i = 0; i < st->ndocs; i++)
		sdoc_free(st->docs[i]);
	free(st->docs);
	for (i = 0; i < st->nnodes; i++)
		snode_free(st->nodes[i]);
	free(st->nodes);
	free(st);
}

const char *schema_store_kube_version(struct schema_store *st)
{
	size_t i;

	for (i = 0; i < st->ndirs; i++)
		if (sdir_load(&st->dirs[i]) == 0 && st->dirs[i].version)
			return st->dirs[i].version;
	return NULL;
}

static void compile_crd(struct schema_store *st, struct skind *k);

/* Finds (and compiles) the schema of group/version/kind; NULL when none. */
static struct skind *lookup(struct schema_store *st, const char *group, const char *version,
			    const char *kind)
{
	char stack[256], *key = stack;
	size_t lg = strlen(group), lv = strlen(version), lk = strlen(kind);
	struct skind *k;
	size_t i;
	int found;

	if (lg + lv + lk + 3 <= sizeof(stack)) {
		memcpy(stack, group, lg);
		stack[lg] = '/';
		memcpy(stack + lg + 1, version, lv);
		stack[lg + 1 + lv] = '/';
		memcpy(stack + lg + lv + 2, kind, lk + 1);
	} else {
		key = xstrfmt("%s/%s/%s", group, version, kind);
	}

	k = smap_get(&st->cache, key, &found);
	if (found)
		goto out;
	k = smap_get(&st->crds, key, NULL);
	if (k && !k->resolved)
		compile_crd(st, k);
	for (i = 0; !k && i < st->ndirs; i++) {
		struct sdir *dir = &st->dirs[i];

		if (sdir_load(dir) < 0)
			continue;
		if (dir->text)
			k = index_kind(dir, key, group, version, kind);
		else
			k = smap_get(&dir->kinds, key, NULL);
		if (k && !k->resolved) {
			k->resolved = 1;
			k->doc = sdir_doc(st, dir, k->file);
			k->root = k->doc ? resolve(st, k->doc, k->schema, 0) : NULL;
			/* a root that cannot be parsed is no schema */
			if (k->root && (snode_compile(st, k->root) < 0 ||
					(k->root->flags & SN_BROKEN)))
				k->root = NULL;
		}
		if (k && !k->root)
			k = NULL;
	}
	smap_put(&st->cache, key, k);
out:
	/* a CRD added (again) after the kind was cached */
	if (k && k->is_crd && !k->resolved)
		compile_crd(st, k);
	if (key != stack)
		free(key);
	return k;
}

int schema_store_namespaced(struct schema_store *st, const char *group, const char *version,
			    const char *kind)
{
	struct skind *k = lookup(st, group, version, kind);

	return k ? k->namespaced : -1;
}

/* ObjectMeta, for metadata fields a schema leaves open. */
static struct snode *objectmeta(struct schema_store *st)
{
	size_t i;

	if (st->meta_tried)
		return st->meta;
	st->meta_tried = 1;
	for (i = st->ndirs; i-- > 0 && !st->meta;) {
		struct sdoc *d = sdir_doc(st, &st->dirs[i], "meta.json");

		if (d)
			st->meta = resolve(st, d, OPENAPI_OBJECTMETA, 0);
	}
	return st->meta;
}

/* ---- CRDs ------------------------------------------------------------ */

static void crd_finding(struct findings *fs, const struct kobj *crd, const struct ynode *at,
			const char *jpath, const char *msg)
{
	struct finding *f;

	if (!at)
		at = crd->root;
	f = findings_add(fs, crd->path, at ? at->line : crd->line, at ? at->col : crd->col,
			 SEV_ERROR, "schema-crd",
			 "give the CustomResourceDefinition spec.group, spec.names.kind and "
			 "spec.versions[].schema.openAPIV3Schema",
			 "%s", msg);
	if (f) {
		f->jpath = jpath ? xstrdup(jpath) : NULL;
		f->object = crd->id ? xstrdup(crd->id) : NULL;
	}
}

static int add_crd_version(struct schema_store *st, const char *group, const char *version,
			   const char *kind, int namespaced, const struct ynode *schema,
			   int preserve)
{
	char *key = xstrfmt("%s/%s/%s", group, version, kind);
	struct skind *k = smap_get(&st->crds, key, NULL);

	if (!k) {
		k = xcalloc(1, sizeof(*k));
		smap_put(&st->crds, key, k);
	}
	/* compiled on first use: most sets hold CRDs for kinds they never use */
	k->resolved = 0;
	k->root = NULL;
	k->is_crd = 1;
	k->crd_schema = schema;
	k->crd_preserve = preserve;
	k->namespaced = namespaced;
	/* a kind looked up before its CRD was added must see it */
	if (smap_find(&st->cache, key))
		smap_put(&st->cache, key, k);
	free(key);
	return 0;
}

static void compile_crd(struct schema_store *st, struct skind *k)
{
	struct sdoc *d = sdoc_new(st, NULL, 0);
	struct sv j = { k->crd_schema, NULL };

	k->resolved = 1;
	k->doc = d;
	k->root = snode_new(st);
	if (sv_is_obj(j))
		compile_into(st, d, k->root, j, 0);
	else
		k->crd_preserve = 1;
	if (k->crd_preserve) {
		k->root->flags |= SN_PRESERVE;
		k->root->flags &= ~SN_CLOSED;
	}
}

int schema_store_add_crd(struct schema_store *st, const struct kobj *crd, struct findings *fs)
{
	const struct ynode *spec = ynode_get(crd->root, "spec");
	const struct ynode *versions = ynode_get(spec, "versions");
	const char *group = ynode_str(ynode_get(spec, "group"));
	const char *kind = ynode_str(ynode_path(spec, "names.kind"));
	const char *scope = ynode_str(ynode_get(spec, "scope"));
	const struct ynode *legacy = ynode_path(spec, "validation.openAPIV3Schema");
	const char *legacy_version = ynode_str(ynode_get(spec, "version"));
	int preserve = ynode_get(spec, "preserveUnknownFields") &&
		       ynode_get(spec, "preserveUnknownFields")->stype == YS_BOOL &&
		       !strcmp(ynode_str(ynode_get(spec, "preserveUnknownFields")), "true");
	int namespaced = scope ? strcmp(scope, "Cluster") != 0 : 1;
	size_t i, added = 0;

	if (!spec || spec->kind != YN_MAP) {
		crd_finding(fs, crd, NULL, ".spec", "CustomResourceDefinition has no spec");
		return -1;
	}
	if (!group || !kind) {
		crd_finding(fs, crd, spec, ".spec",
			    "CustomResourceDefinition has no spec.group or spec.names.kind");
		return -1;
	}
	if (versions && versions->kind == YN_SEQ) {
		for (i = 0; i < versions->n; i++) {
			const struct ynode *v = versions->kids[i];
			const char *name = ynode_str(ynode_get(v, "name"));
			const struct ynode *schema = ynode_path(v, "schema.openAPIV3Schema");

			if (!name)
				continue;
			if (!schema)
				schema = legacy;
			add_crd_version(st, group, name, kind, namespaced, schema, preserve);
			added++;
		}
	} else if (legacy_version) {
		add_crd_version(st, group, legacy_version, kind, namespaced, legacy, preserve);
		added++;
	}
	if (!added) {
		crd_finding(fs, crd, spec, ".spec.versions",
			    "CustomResourceDefinition lists no versions");
		return -1;
	}
	return 0;
}

/* ---- validation ------------------------------------------------------ */

#define VSEG_MAX 256

struct vctx {
	struct schema_store *st;
	const struct kobj *o;
	struct findings *fs;
	/* JSON path of the node being checked, as pieces (key, or NULL and an index) */
	struct {
		const char *key;
		size_t index;
	} segs[VSEG_MAX];
	size_t nsegs;
	struct buf path;	/* spelled from segs for a finding */
	int probe;		/* > 0: count errors, report nothing */
	int open;		/* > 0: inside allOf/anyOf branches: no unknown-field checks */
	size_t errors;
};

static void report(struct vctx *c, const struct ynode *at, const char *rule, const char *hint,
		   const char *fmt, ...) __attribute__((format(printf, 5, 6)));
static void path_spell(struct vctx *c);

static void report(struct vctx *c, const struct ynode *at, const char *rule, const char *hint,
		   const char *fmt, ...)
{
	struct buf msg = BUF_INIT(4096);
	struct finding *f;
	va_list ap;

	c->errors++;
	if (c->probe)
		return;
	va_start(ap, fmt);
	buf_vaddf(&msg, fmt, ap);
	va_end(ap);
	if (!at)
		at = c->o->root;
	f = findings_add(c->fs, c->o->path, at ? at->line : c->o->line, at ? at->col : c->o->col,
			 SEV_ERROR, rule, hint, "%s", msg.data);
	if (f) {
		path_spell(c);
		f->jpath = xstrdup(c->path.len ? c->path.data : ".");
		f->object = c->o->id ? xstrdup(c->o->id) : NULL;
	}
	buf_release(&msg);
}

static int plain_key(const char *k)
{
	const char *s;

	if (!*k)
		return 0;
	for (s = k; *s; s++)
		if (!((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') ||
		      (*s >= '0' && *s <= '9') || *s == '_' || *s == '-'))
			return 0;
	return 1;
}

static size_t path_push_key(struct vctx *c, const char *k)
{
	size_t old = c->nsegs;

	if (old < VSEG_MAX) {
		c->segs[old].key = k;
		c->nsegs++;
	}
	return old;
}

static size_t path_push_index(struct vctx *c, size_t i)
{
	size_t old = c->nsegs;

	if (old < VSEG_MAX) {
		c->segs[old].key = NULL;
		c->segs[old].index = i;
		c->nsegs++;
	}
	return old;
}

/* Spells the pieces into c->path: ".spec.ports[0]", "[\"a/b\"]". */
static void path_spell(struct vctx *c)
{
	size_t s;

	buf_setlen(&c->path, 0);
	for (s = 0; s < c->nsegs; s++) {
		const char *k = c->segs[s].key;

		if (!k) {
			size_t i = c->segs[s].index, n = 24;
			char num[24];

			num[--n] = ']';
			do {
				num[--n] = (char)('0' + i % 10);
				i /= 10;
			} while (i);
			num[--n] = '[';
			buf_add(&c->path, num + n, sizeof(num) - n);
		} else if (plain_key(k)) {
			buf_addch(&c->path, '.');
			buf_addstr(&c->path, k);
		} else {
			buf_addch(&c->path, '[');
			buf_add_json_str(&c->path, k);
			buf_addch(&c->path, ']');
		}
	}
}

/* A scalar for a message: quoted, shortened. */
static const char *show(const struct ynode *n, char *out, size_t size)
{
	const char *s = n->str ? n->str : "";
	size_t len = strlen(s);

	if (len > 40)
		snprintf(out, size, "\"%.37s...\"", s);
	else
		snprintf(out, size, "\"%s\"", s);
	return out;
}

static const char *ytype_name(const struct ynode *n)
{
	if (n->kind == YN_MAP)
		return "object";
	if (n->kind == YN_SEQ)
		return "array";
	switch (n->stype) {
	case YS_STRING:
		return "string";
	case YS_INT:
		return "integer";
	case YS_FLOAT:
		return "number";
	case YS_BOOL:
		return "boolean";
	case YS_NULL:
		return "null";
	}
	return "value";
}

static void types_text(unsigned t, struct buf *b)
{
	static const struct {
		unsigned bit;
		const char *name;
	} names[] = {
		{ ST_STR, "string" }, { ST_INT, "integer" }, { ST_NUM, "number" },
		{ ST_BOOL, "boolean" }, { ST_OBJ, "object" }, { ST_ARR, "array" },
	};
	size_t i;

	if (t & ST_NUM)
		t &= ~ST_INT;
	for (i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		if (!(t & names[i].bit))
			continue;
		if (b->len)
			buf_addstr(b, " or ");
		buf_addstr(b, names[i].name);
	}
}

static int float_is_integral(const struct ynode *n)
{
	char *end;
	double d;

	errno = 0;
	d = strtod(n->str, &end);
	return !*end && !errno && isfinite(d) && d > -9.2e18 && d < 9.2e18 &&
	       d == (double)(long long)d;
}

/* The ST_* bit of a node (0 for null). */
static unsigned ytype_bit(const struct ynode *n, unsigned want)
{
	if (n->kind == YN_MAP)
		return ST_OBJ;
	if (n->kind == YN_SEQ)
		return ST_ARR;
	switch (n->stype) {
	case YS_STRING:
		return ST_STR;
	case YS_INT:
		return ST_INT;
	case YS_FLOAT:
		/* 3.0 decodes into an int field: sigs.k8s.io/yaml writes it as 3 */
		if ((want & ST_INT) && !(want & ST_NUM) && float_is_integral(n))
			return ST_INT;
		return ST_NUM;
	case YS_BOOL:
		return ST_BOOL;
	case YS_NULL:
		return 0;
	}
	return 0;
}

/*
 * Kubernetes resource.Quantity syntax:
 *   sign? (digits | digits.digits | digits. | .digits)
 *   (Ki|Mi|Gi|Ti|Pi|Ei | m|k|M|G|T|P|E | [eE] sign? digits)?
 */
int schema_quantity_valid(const char *s)
{
	size_t digits = 0;

	if (*s == '+' || *s == '-')
		s++;
	while (*s >= '0' && *s <= '9')
		s++, digits++;
	if (*s == '.') {
		s++;
		while (*s >= '0' && *s <= '9')
			s++, digits++;
	}
	if (!digits)
		return 0;
	if (!*s)
		return 1;
	if (strchr("KMGTPE", *s) && s[1] == 'i' && !s[2])
		return 1;
	if (strchr("mkMGTPE", *s) && !s[1])
		return 1;
	if (*s == 'e' || *s == 'E') {
		s++;
		if (*s == '+' || *s == '-')
			s++;
		if (!(*s >= '0' && *s <= '9'))
			return 0;
		while (*s >= '0' && *s <= '9')
			s++;
		return !*s;
	}
	return 0;
}

static int base64_valid(const char *s, size_t len)
{
	size_t i, n = 0, pad = 0;

	for (i = 0; i < len; i++) {
		unsigned char ch = s[i];

		if (ch == '\n' || ch == '\r' || ch == ' ')
			continue;	/* YAML folding; Go's decoder drops newlines */
		if (ch == '=') {
			pad++;
			n++;
			continue;
		}
		if (pad || !((ch >= 'A' && ch <= 'Z') || (ch >= 'a' && ch <= 'z') ||
			     (ch >= '0' && ch <= '9') || ch == '+' || ch == '/'))
			return 0;
		n++;
	}
	return n % 4 == 0 && pad <= 2;
}

static int digits(const char *s, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (s[i] < '0' || s[i] > '9')
			return 0;
	return 1;
}

/* RFC 3339 as Kubernetes' metav1.Time reads it: 2006-01-02T15:04:05[.9]Z or +07:00. */
static int datetime_valid(const char *s)
{
	if (strlen(s) < 20 || !digits(s, 4) || s[4] != '-' || !digits(s + 5, 2) || s[7] != '-' ||
	    !digits(s + 8, 2) || s[10] != 'T' || !digits(s + 11, 2) || s[13] != ':' ||
	    !digits(s + 14, 2) || s[16] != ':' || !digits(s + 17, 2))
		return 0;
	s += 19;
	if (*s == '.') {
		s++;
		if (!digits(s, 1))
			return 0;
		while (*s >= '0' && *s <= '9')
			s++;
	}
	if (*s == 'Z')
		return !s[1];
	return (*s == '+' || *s == '-') && strlen(s) == 6 && digits(s + 1, 2) && s[3] == ':' &&
	       digits(s + 4, 2);
}

static void check_format(struct vctx *c, const struct snode *s, const struct ynode *n)
{
	long long v;

	if (s->format == SF_INT32 && n->stype == YS_INT && ynode_int(n, &v) == 0 &&
	    (v < INT32_MIN || v > INT32_MAX)) {
		report(c, n, "schema-format", "use a value that fits in 32 bits",
		       "%s is out of range for a 32-bit integer", n->str);
	} else if (s->format == SF_BYTE && n->stype == YS_STRING && !base64_valid(n->str, n->len)) {
		report(c, n, "schema-format",
		       "put base64 text in data, or the plain text in stringData",
		       "value is not valid base64");
	} else if (s->format == SF_DATETIME && (s->flags & SN_NULL_OK) && n->stype == YS_STRING &&
		   !datetime_valid(n->str)) {
		/* only built-in Time fields: CRD date-times accept more layouts */
		report(c, n, "schema-format", "write an RFC 3339 time such as 2024-05-01T12:00:00Z",
		       "\"%s\" is not an RFC 3339 date-time", n->str);
	}
}

static int enum_has(const struct snode *s, const struct ynode *n)
{
	size_t i;

	for (i = 0; i < s->nenums; i++) {
		const struct senum *e = &s->enums[i];

		switch (e->kind) {
		case 's':
			if (n->stype == YS_STRING && !strcmp(e->str, n->str))
				return 1;
			break;
		case 'n':
			if ((n->stype == YS_INT || n->stype == YS_FLOAT) &&
			    strtod(n->str, NULL) == e->num)
				return 1;
			break;
		case 'b':
			if (n->stype == YS_BOOL && (n->str[0] | 32) == e->str[0])
				return 1;
			break;
		case 'z':
			if (n->stype == YS_NULL)
				return 1;
			break;
		}
	}
	return 0;
}

static void enum_text(const struct snode *s, struct buf *b)
{
	size_t i;

	for (i = 0; i < s->nenums; i++) {
		const struct senum *e = &s->enums[i];

		if (i)
			buf_addstr(b, ", ");
		if (i >= 12) {
			buf_addstr(b, "...");
			break;
		}
		if (e->kind == 's')
			buf_addf(b, "\"%s\"", e->str);
		else if (e->kind == 'n')
			buf_addf(b, "%g", e->num);
		else if (e->kind == 'b')
			buf_addstr(b, e->str);
		else
			buf_addstr(b, "null");
	}
}

static void validate(struct vctx *c, const struct snode *s, const struct ynode *n, int depth);

/* Characters (UTF-8 code points), as Kubernetes counts a string's length. */
static size_t utf8_len(const char *s, size_t len)
{
	size_t i, n = 0;

	for (i = 0; i < len; i++)
		if (((unsigned char)s[i] & 0xc0) != 0x80)
			n++;
	return n;
}

static void check_bounds(struct vctx *c, const struct snode *s, const struct ynode *n)
{
	int number = n->kind == YN_SCALAR && (n->stype == YS_INT || n->stype == YS_FLOAT);
	int string = n->kind == YN_SCALAR && n->stype == YS_STRING;

	if (number && (s->has & (SH_MIN | SH_MAX))) {
		double v = strtod(n->str, NULL);

		if ((s->has & SH_MIN) && ((s->has & SH_XMIN) ? v <= s->minimum : v < s->minimum))
			report(c, n, "schema-range", NULL, "%s is less than the minimum %s%g", n->str,
			       (s->has & SH_XMIN) ? "(exclusive) " : "", s->minimum);
		else if ((s->has & SH_MAX) &&
			 ((s->has & SH_XMAX) ? v >= s->maximum : v > s->maximum))
			report(c, n, "schema-range", NULL, "%s is greater than the maximum %s%g", n->str,
			       (s->has & SH_XMAX) ? "(exclusive) " : "", s->maximum);
	} else if (string && (s->has & (SH_MINLEN | SH_MAXLEN))) {
		size_t len = utf8_len(n->str, n->len);

		if ((s->has & SH_MINLEN) && len < s->min_len)
			report(c, n, "schema-range", NULL, "value is %zu characters, fewer than %zu",
			       len, s->min_len);
		else if ((s->has & SH_MAXLEN) && len > s->max_len)
			report(c, n, "schema-range", NULL, "value is %zu characters, more than %zu",
			       len, s->max_len);
	} else if (n->kind == YN_SEQ && (s->has & (SH_MINITEMS | SH_MAXITEMS))) {
		if ((s->has & SH_MINITEMS) && n->n < s->min_items)
			report(c, n, "schema-range", NULL, "list has %zu items, fewer than %zu", n->n,
			       s->min_items);
		else if ((s->has & SH_MAXITEMS) && n->n > s->max_items)
			report(c, n, "schema-range", NULL, "list has %zu items, more than %zu", n->n,
			       s->max_items);
	}
	/* a value with a NUL in it is left to the API server */
	if (string && s->pattern && strlen(n->str) == n->len &&
	    regexec(s->pattern, n->str, 0, NULL, 0) != 0)
		report(c, n, "schema-pattern", "write the value in the form the pattern describes",
		       "value does not match the pattern %s", s->pattern_text);
}

/* Edit distance, for "did you mean" hints; capped inputs. */
static size_t edit_distance(const char *a, const char *b)
{
	size_t la = strlen(a), lb = strlen(b), i, j;
	size_t row[65];

	if (la > 64 || lb > 64)
		return 99;
	for (j = 0; j <= lb; j++)
		row[j] = j;
	for (i = 1; i <= la; i++) {
		size_t prev = row[0], tmp;

		row[0] = i;
		for (j = 1; j <= lb; j++) {
			size_t cost = (a[i - 1] | 32) == (b[j - 1] | 32) ? 0 : 1;
			size_t best = prev + cost;

			if (row[j] + 1 < best)
				best = row[j] + 1;
			if (row[j - 1] + 1 < best)
				best = row[j - 1] + 1;
			tmp = row[j];
			row[j] = best;
			prev = tmp;
		}
	}
	return row[lb];
}

static const char *closest_prop(const struct snode *s, const char *k)
{
	const char *best = NULL;
	size_t i, bd = 3;

	for (i = 0; i < s->nprops; i++) {
		size_t d = edit_distance(k, s->props[i].name);

		if (d < bd) {
			bd = d;
			best = s->props[i].name;
		}
	}
	return best;
}

static void unknown_field(struct vctx *c, const struct snode *s, const struct ynode *key)
{
	const char *near = closest_prop(s, key->str);
	char *hint = near ? xstrfmt("did you mean \"%s\"?", near) :
		xstrdup("remove the field, or check its spelling and indentation");

	report(c, key, "schema-unknown-field", hint, "unknown field \"%s\"%s%s", key->str,
	       s->name ? " in " : "", s->name ? s->name : "");
	free(hint);
}

static int is_root_meta_key(const char *k)
{
	return !strcmp(k, "apiVersion") || !strcmp(k, "kind") || !strcmp(k, "metadata");
}

/*
 * The metadata of an object or embedded resource is ObjectMeta. A CRD
 * may only narrow it (name, generateName): its own schema for metadata
 * is checked for those constraints, never for unknown fields.
 */
static void validate_meta(struct vctx *c, const struct snode *own, const struct ynode *v,
			  int depth)
{
	const struct snode *meta;

	own = snode_ready(c->st, own);
	while (own && own->nall == 1 && !own->nprops && !own->types && !own->nany)
		own = snode_ready(c->st, own->all[0]);
	if (own && own->name && !strcmp(own->name, OPENAPI_OBJECTMETA)) {
		validate(c, own, v, depth + 1);
		return;
	}
	meta = objectmeta(c->st);
	if (meta)
		validate(c, meta, v, depth + 1);
	if (own && (!meta || v->kind == YN_MAP)) {
		c->open++;
		validate(c, own, v, depth + 1);
		c->open--;
	}
}

static int is_null(const struct ynode *n)
{
	return n->kind == YN_SCALAR && n->stype == YS_NULL;
}

/* Whether null stays null (or gets a default) rather than being dropped. */
static int null_kept(const struct snode *s)
{
	return !s || (s->flags & (SN_NULLABLE | SN_NULL_OK)) || s->deftext;
}

/* A required field is there: a custom resource's non-nullable null is pruned first. */
static int present(struct vctx *c, const struct snode *s, const struct ynode *n,
		   const char *name)
{
	const struct ynode *v = ynode_get(n, name);
	const struct sprop *p;

	if (!ynode_get_key(n, name))
		return 0;
	if (!v || !is_null(v) || (s->flags & SN_NULL_OK))
		return 1;
	p = snode_prop(s, name);
	return !p || null_kept(snode_ready(c->st, p->s));
}

static void validate_object(struct vctx *c, const struct snode *s, const struct ynode *n,
			    int depth, int closed)
{
	size_t i;

	for (i = 0; i < n->n; i++) {
		const struct ynode *k = n->kids[2 * i], *v = n->kids[2 * i + 1];
		const struct sprop *p;
		size_t mark;

		if (k->kind != YN_SCALAR || !k->str)
			continue;
		mark = path_push_key(c, k->str);
		p = snode_prop(s, k->str);
		if ((s->flags & (SN_EMBEDDED | SN_OPEN_META)) && !strcmp(k->str, "metadata")) {
			validate_meta(c, p ? p->s : NULL, v, depth);
		} else if (p) {
			validate(c, p->s, v, depth + 1);
		} else if (s->addl) {
			validate(c, s->addl, v, depth + 1);
		} else if ((s->flags & (SN_EMBEDDED | SN_OPEN_META)) && is_root_meta_key(k->str)) {
			if (v->kind != YN_SCALAR || v->stype != YS_STRING)
				report(c, v, "schema-type", NULL, "expected string, got %s",
				       ytype_name(v));
		} else if (closed && !c->open && (s->flags & SN_CLOSED)) {
			unknown_field(c, s, k);
		}
		c->nsegs = mark;
	}
	for (i = 0; i < s->nrequired; i++) {
		const char *r = s->required[i];
		size_t mark;

		if (present(c, s, n, r))
			continue;
		mark = path_push_key(c, r);
		report(c, n, "schema-required", "add the field", "missing required field \"%s\"%s%s",
		       r, s->name ? " in " : "", s->name ? s->name : "");
		c->nsegs = mark;
	}
}

/* The value of a list-map key in item, or its schema default. */
static const char *map_key_value(const struct snode *items, const struct ynode *item,
				 const char *key)
{
	const struct ynode *v = ynode_get(item, key);

	(void)items;
	if (v && v->kind == YN_SCALAR && v->stype != YS_NULL)
		return v->str;
	return NULL;
}

static void check_list_map(struct vctx *c, const struct snode *s, const struct ynode *n,
			   const char *const *defaults)
{
	size_t i, j, k;

	/* pairwise: bounded so that a hostile list stays cheap */
	if (n->n > 1024)
		return;
	for (i = 1; i < n->n; i++) {
		const struct ynode *a = n->kids[i];

		if (a->kind != YN_MAP)
			continue;
		for (j = 0; j < i; j++) {
			const struct ynode *b = n->kids[j];
			int same = 1;

			if (b->kind != YN_MAP)
				continue;
			for (k = 0; k < s->nmap_keys && same; k++) {
				const char *va = map_key_value(s->items, a, s->map_keys[k]);
				const char *vb = map_key_value(s->items, b, s->map_keys[k]);

				if (!va)
					va = defaults[k];
				if (!vb)
					vb = defaults[k];
				if (!va || !vb ? va != vb : strcmp(va, vb))
					same = 0;
			}
			if (same) {
				struct buf desc = BUF_INIT(1024);
				size_t mark = path_push_index(c, i);

				for (k = 0; k < s->nmap_keys; k++) {
					const char *va = map_key_value(s->items, a, s->map_keys[k]);

					buf_addf(&desc, "%s%s=%s", k ? ", " : "", s->map_keys[k],
						 va ? va : defaults[k] ? defaults[k] : "(unset)");
				}
				report(c, a, "schema-list-duplicate",
				       "each entry of this list needs a unique key; merge or rename the duplicates",
				       "duplicate entry %s (first at line %u)", desc.data, b->line);
				buf_release(&desc);
				c->nsegs = mark;
				break;
			}
		}
	}
}

/* Defaults of the list-map keys, from the item schema (protocol: TCP). */
static void map_key_defaults(struct vctx *c, const struct snode *items,
			     const struct snode *s, const char **out)
{
	size_t k;

	for (k = 0; k < s->nmap_keys; k++) {
		const struct snode *it = snode_ready(c->st, items);
		const struct sprop *p = NULL;

		out[k] = NULL;
		while (it && !it->nprops && it->nall == 1)
			it = snode_ready(c->st, it->all[0]);
		if (it)
			p = snode_prop(it, s->map_keys[k]);
		if (p)
			out[k] = snode_ready(c->st, p->s)->deftext;
	}
}

static void check_list_set(struct vctx *c, const struct ynode *n)
{
	size_t i, j;

	/* pairwise: bounded so that a hostile list stays cheap */
	if (n->n > 1024)
		return;
	for (i = 1; i < n->n; i++) {
		const struct ynode *a = n->kids[i];

		if (a->kind != YN_SCALAR)
			continue;
		for (j = 0; j < i; j++) {
			const struct ynode *b = n->kids[j];
			char tmp[64];

			if (b->kind != YN_SCALAR || b->stype != a->stype || !a->str || !b->str ||
			    strcmp(a->str, b->str))
				continue;
			{
				size_t mark = path_push_index(c, i);

				report(c, a, "schema-list-duplicate", "remove the repeated value",
				       "duplicate value %s in a set (first at line %u)",
				       show(a, tmp, sizeof(tmp)), b->line);
				c->nsegs = mark;
			}
			break;
		}
	}
}

static void validate_array(struct vctx *c, const struct snode *s, const struct ynode *n, int depth)
{
	size_t i;

	if (s->items)
		snode_ready(c->st, s->items);
	if (s->items)
		for (i = 0; i < n->n; i++) {
			size_t mark = path_push_index(c, i);

			if (is_null(n->kids[i]) && s->items != &c->st->any && !null_kept(s->items) &&
			    (s->items->types || s->items->nall))
				report(c, n->kids[i], "schema-type", "remove the item or give it a value",
				       "null is not allowed in this list");
			validate(c, s->items, n->kids[i], depth + 1);
			c->nsegs = mark;
		}
	if ((s->flags & SN_LIST_MAP) && s->nmap_keys && s->nmap_keys <= 8) {
		const char *defaults[8];

		map_key_defaults(c, s->items, s, defaults);
		check_list_map(c, s, n, defaults);
	} else if (s->flags & SN_LIST_SET) {
		check_list_set(c, n);
	}
}

/* 1 when every branch of s->any only names a type */
static int any_is_type_only(struct vctx *c, const struct snode *s, unsigned *types)
{
	size_t i;

	*types = 0;
	for (i = 0; i < s->nany; i++) {
		const struct snode *b = snode_ready(c->st, s->any[i]);

		if (!b->types || b->nprops || b->nrequired || b->nenums || b->nall || b->nany || b->has ||
		    b->items)
			return 0;
		*types |= b->types;
	}
	return 1;
}

static void validate_any(struct vctx *c, const struct snode *s, const struct ynode *n, int depth)
{
	size_t i, before = c->errors;
	unsigned types;

	c->probe++;
	c->open++;
	for (i = 0; i < s->nany; i++) {
		size_t e = c->errors;

		validate(c, s->any[i], n, depth + 1);
		if (c->errors == e)
			break;
	}
	c->probe--;
	c->open--;
	c->errors = before;
	if (i < s->nany)
		return;
	if (any_is_type_only(c, s, &types)) {
		struct buf t = BUF_INIT(256);

		types_text(types, &t);
		report(c, n, "schema-type", NULL, "expected %s, got %s", t.data, ytype_name(n));
		buf_release(&t);
	} else {
		report(c, n, "schema-oneof", "see the API reference of this field",
		       "value matches none of the %zu allowed forms", s->nany);
	}
}

static void validate(struct vctx *c, const struct snode *s, const struct ynode *n, int depth)
{
	unsigned bit;
	size_t i;
	char tmp[64];

	if (!s || !n || depth > 200)
		return;
	s = snode_ready(c->st, s);
	/*
	 * null: built-in types decode it as "not set"; custom resources prune
	 * a non-nullable null field before validating (null list items are
	 * checked in validate_array, null required fields in validate_object).
	 */
	if (is_null(n))
		return;
	if (s->flags & SN_QUANTITY) {
		if (n->kind == YN_SCALAR && n->stype == YS_STRING) {
			if (!schema_quantity_valid(n->str))
				report(c, n, "schema-format",
				       "write a quantity such as 500m, 0.5, 128Mi or 1Gi",
				       "%s is not a valid quantity", show(n, tmp, sizeof(tmp)));
		} else if (n->kind != YN_SCALAR || (n->stype != YS_INT && n->stype != YS_FLOAT)) {
			report(c, n, "schema-type", "write a quantity such as 500m, 0.5, 128Mi or 1Gi",
			       "expected a quantity (string or number), got %s", ytype_name(n));
		}
		return;
	}
	if (s->flags & SN_INTORSTR) {
		if (n->kind != YN_SCALAR || (n->stype != YS_INT && n->stype != YS_STRING))
			report(c, n, "schema-type", "use an integer or a string such as \"25%\"",
			       "expected integer or string, got %s", ytype_name(n));
		return;
	}
	if (s->types) {
		bit = ytype_bit(n, s->types);
		if (!(bit & s->types)) {
			struct buf t = BUF_INIT(256);
			const char *hint = NULL;

			types_text(s->types, &t);
			if (s->types == ST_STR && n->kind == YN_SCALAR)
				hint = "quote the value";
			if (n->kind == YN_SCALAR)
				report(c, n, "schema-type", hint, "expected %s, got %s %s", t.data,
				       ytype_name(n), show(n, tmp, sizeof(tmp)));
			else
				report(c, n, "schema-type", hint, "expected %s, got %s", t.data,
				       ytype_name(n));
			buf_release(&t);
			return;
		}
	}
	if (n->kind == YN_SCALAR) {
		if (s->nenums && !enum_has(s, n)) {
			struct buf e = BUF_INIT(1024);

			enum_text(s, &e);
			report(c, n, "schema-enum", NULL, "%s is not one of %s",
			       show(n, tmp, sizeof(tmp)), e.data);
			buf_release(&e);
		}
		if (s->format)
			check_format(c, s, n);
	} else if (n->kind == YN_MAP) {
		if (s->nprops || s->addl || s->nrequired || (s->flags & SN_CLOSED) ||
		    (s->flags & (SN_EMBEDDED | SN_OPEN_META)))
			validate_object(c, s, n, depth, 1);
	} else if (n->kind == YN_SEQ) {
		validate_array(c, s, n, depth);
	}
	if (s->has || s->pattern)
		check_bounds(c, s, n);
	/* structural schemas: branches only restate fields the outer schema has */
	if (s->nall && (s->types || s->nprops)) {
		c->open++;
		for (i = 0; i < s->nall; i++)
			validate(c, s->all[i], n, depth + 1);
		c->open--;
	} else {
		for (i = 0; i < s->nall; i++)
			validate(c, s->all[i], n, depth + 1);
	}
	if (s->nany)
		validate_any(c, s, n, depth);
}

/* The root of an object: apiVersion/kind/metadata always allowed, metadata is ObjectMeta. */
static void validate_root(struct vctx *c, const struct snode *s)
{
	struct snode root;
	const struct snode *r = snode_ready(c->st, s);

	/* follow a root that is only a reference */
	while (r->nall == 1 && !r->nprops && !r->types)
		r = snode_ready(c->st, r->all[0]);
	root = *r;
	root.flags |= SN_OPEN_META;
	validate(c, &root, c->o->root, 0);
}

int schema_validate(struct schema_store *st, const struct kobj *o, int strict,
		    struct findings *fs)
{
	struct skind *k;
	struct vctx c;

	if (!o->kind || !o->version || !o->group || !o->root)
		return -1;
	k = lookup(st, o->group, o->version, o->kind);
	if (!k) {
		struct finding *f;
		const char *hint = st->ndirs ?
			"add its CustomResourceDefinition to the set, or pass --schema-dir from "
			"'tidegate schema pull'" :
			"no bundled schemas were found: set TIDEGATE_SCHEMAS or pass --schema-dir";

		f = findings_add(fs, o->path, o->line, o->col, strict ? SEV_ERROR : SEV_WARNING,
				 "schema-missing", hint, "no schema for %s %s",
				 o->api_version ? o->api_version : o->version, o->kind);
		if (f)
			f->object = o->id ? xstrdup(o->id) : NULL;
		return -1;
	}
	c.st = st;	/* segs are written before they are read */
	c.o = o;
	c.fs = fs;
	c.nsegs = 0;
	c.probe = 0;
	c.open = 0;
	c.errors = 0;
	buf_init(&c.path, BUF_NOCAP);
	validate_root(&c, k->root);
	buf_release(&c.path);
	return 0;
}
