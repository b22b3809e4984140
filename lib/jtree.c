/*
 * jtree.c - a read-only JSON tree held in a few blocks of memory (jtree.h).
 *
 * Nodes come from blocks that double in size; strings are decoded into
 * one buffer as long as the text (a decoded string with its NUL is never
 * longer than its quoted form). The grammar, the blanks, the number
 * syntax and the escapes follow cJSON's parser, which the schema files
 * were read with before.
 */
#include "jtree.h"
#include "xalloc.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define JTREE_MAX_DEPTH 1000	/* cJSON's CJSON_NESTING_LIMIT */

struct jblock {
	struct jblock *next;
	size_t used, cap;
	struct jnode nodes[];
};

struct jtree {
	struct jnode *root;
	struct jblock *blocks;
	char *strs;
};

struct jparse {
	const unsigned char *s;
	size_t i, n;
	struct jtree *t;
	size_t so;		/* bytes of t->strs used */
};

static struct jnode *jnode_new(struct jparse *p)
{
	struct jblock *b = p->t->blocks;
	struct jnode *x;

	if (!b || b->used == b->cap) {
		size_t cap = b ? b->cap * 2 : 32 + p->n / 16;

		if (cap > (SIZE_MAX - sizeof(*b)) / sizeof(struct jnode))
			return NULL;
		b = xmalloc(sizeof(*b) + cap * sizeof(struct jnode));
		b->next = p->t->blocks;
		b->used = 0;
		b->cap = cap;
		p->t->blocks = b;
	}
	x = &b->nodes[b->used++];
	memset(x, 0, sizeof(*x));
	return x;
}

static void skip_blank(struct jparse *p)
{
	while (p->i < p->n && p->s[p->i] <= 32)
		p->i++;
}

/* Four hex digits; as in cJSON, anything else reads as 0 (not an error). */
static unsigned hex4(const unsigned char *s)
{
	unsigned v = 0;
	int k;

	for (k = 0; k < 4; k++) {
		unsigned c = s[k];

		if (c >= '0' && c <= '9')
			c -= '0';
		else if (c >= 'a' && c <= 'f')
			c -= 'a' - 10;
		else if (c >= 'A' && c <= 'F')
			c -= 'A' - 10;
		else
			return 0;
		v = v * 16 + c;
	}
	return v;
}

/* Decodes the string at p->s[p->i] (a quote) into t->strs; NULL when malformed. */
static const char *parse_string(struct jparse *p)
{
	const unsigned char *s = p->s;
	size_t end = p->i + 1, i;
	char *out, *o;

	if (p->i >= p->n || s[p->i] != '"')
		return NULL;
	while (end < p->n && s[end] != '"') {
		if (s[end] == '\\') {
			if (end + 1 >= p->n)
				return NULL;
			end++;
		}
		end++;
	}
	if (end >= p->n)
		return NULL;
	/* room: the decoded text is never longer than the quoted one */
	out = o = p->t->strs + p->so;
	for (i = p->i + 1; i < end; ) {
		unsigned cp, lo;

		if (s[i] != '\\') {
			*o++ = (char)s[i++];
			continue;
		}
		i++;
		switch (s[i]) {
		case 'b': *o++ = '\b'; i++; continue;
		case 'f': *o++ = '\f'; i++; continue;
		case 'n': *o++ = '\n'; i++; continue;
		case 'r': *o++ = '\r'; i++; continue;
		case 't': *o++ = '\t'; i++; continue;
		case '"':
		case '\\':
		case '/':
			*o++ = (char)s[i++];
			continue;
		case 'u':
			break;
		default:
			return NULL;
		}
		if (end - i < 5)
			return NULL;
		cp = hex4(s + i + 1);
		i += 5;
		if (cp >= 0xDC00 && cp <= 0xDFFF)
			return NULL;
		if (cp >= 0xD800 && cp <= 0xDBFF) {
			if (end - i < 6 || s[i] != '\\' || s[i + 1] != 'u')
				return NULL;
			lo = hex4(s + i + 2);
			if (lo < 0xDC00 || lo > 0xDFFF)
				return NULL;
			i += 6;
			cp = 0x10000 + (((cp & 0x3FF) << 10) | (lo & 0x3FF));
		}
		if (cp < 0x80) {
			*o++ = (char)cp;
		} else if (cp < 0x800) {
			*o++ = (char)(0xC0 | (cp >> 6));
			*o++ = (char)(0x80 | (cp & 0x3F));
		} else if (cp < 0x10000) {
			*o++ = (char)(0xE0 | (cp >> 12));
			*o++ = (char)(0x80 | ((cp >> 6) & 0x3F));
			*o++ = (char)(0x80 | (cp & 0x3F));
		} else {
			*o++ = (char)(0xF0 | (cp >> 18));
			*o++ = (char)(0x80 | ((cp >> 12) & 0x3F));
			*o++ = (char)(0x80 | ((cp >> 6) & 0x3F));
			*o++ = (char)(0x80 | (cp & 0x3F));
		}
	}
	*o++ = '\0';
	p->so += (size_t)(o - out);
	p->i = end + 1;
	return out;
}

static int parse_number(struct jparse *p, struct jnode *x)
{
	char stack[64], *tmp = stack, *after;
	size_t k = 0;

	/* as cJSON: every byte that may be part of a number, then strtod */
	while (p->i + k < p->n && p->s[p->i + k] && strchr("0123456789+-eE.", p->s[p->i + k]))
		k++;
	if (k >= sizeof(stack))
		tmp = xmalloc(k + 1);
	memcpy(tmp, p->s + p->i, k);
	tmp[k] = '\0';
	x->num = strtod(tmp, &after);
	k = (size_t)(after - tmp);
	if (tmp != stack)
		free(tmp);
	if (!k)
		return -1;
	x->type = JT_NUMBER;
	p->i += k;
	return 0;
}

static int literal(struct jparse *p, const char *word, size_t len)
{
	if (p->n - p->i < len || memcmp(p->s + p->i, word, len))
		return 0;
	p->i += len;
	return 1;
}

static int parse_value(struct jparse *p, struct jnode *x, int depth);

/* An array or object at p->s[p->i]; members is 1 for an object. */
static int parse_container(struct jparse *p, struct jnode *x, int depth, int members)
{
	const struct jnode **link = &x->child;
	char close = members ? '}' : ']';

	if (depth >= JTREE_MAX_DEPTH)
		return -1;
	x->type = members ? JT_OBJECT : JT_ARRAY;
	p->i++;
	skip_blank(p);
	if (p->i < p->n && p->s[p->i] == (unsigned char)close) {
		p->i++;
		return 0;
	}
	for (;;) {
		struct jnode *kid = jnode_new(p);

		if (!kid)
			return -1;
		skip_blank(p);
		if (members) {
			kid->key = parse_string(p);
			if (!kid->key)
				return -1;
			skip_blank(p);
			if (p->i >= p->n || p->s[p->i] != ':')
				return -1;
			p->i++;
			skip_blank(p);
		}
		if (parse_value(p, kid, depth + 1) < 0)
			return -1;
		*link = kid;
		link = &kid->next;
		x->n++;
		skip_blank(p);
		if (p->i < p->n && p->s[p->i] == ',') {
			p->i++;
			continue;
		}
		if (p->i < p->n && p->s[p->i] == (unsigned char)close) {
			p->i++;
			return 0;
		}
		return -1;
	}
}

static int parse_value(struct jparse *p, struct jnode *x, int depth)
{
	unsigned char c;

	if (p->i >= p->n)
		return -1;
	if (literal(p, "null", 4)) {
		x->type = JT_NULL;
		return 0;
	}
	if (literal(p, "false", 5)) {
		x->type = JT_FALSE;
		return 0;
	}
	if (literal(p, "true", 4)) {
		x->type = JT_TRUE;
		return 0;
	}
	c = p->s[p->i];
	if (c == '"') {
		x->type = JT_STRING;
		x->str = parse_string(p);
		return x->str ? 0 : -1;
	}
	if (c == '-' || (c >= '0' && c <= '9'))
		return parse_number(p, x);
	if (c == '[')
		return parse_container(p, x, depth, 0);
	if (c == '{')
		return parse_container(p, x, depth, 1);
	return -1;
}

struct jtree *jtree_parse(const char *s, size_t len)
{
	struct jtree *t;
	struct jparse p;

	if (!s || !len || len >= UINT32_MAX)
		return NULL;
	t = xcalloc(1, sizeof(*t));
	t->strs = xmalloc(len + 1);
	p.s = (const unsigned char *)s;
	p.i = 0;
	p.n = len;
	p.t = t;
	p.so = 0;
	t->root = jnode_new(&p);
	skip_blank(&p);
	if (!t->root || parse_value(&p, t->root, 0) < 0) {
		jtree_free(t);
		return NULL;
	}
	return t;
}

const struct jnode *jtree_root(const struct jtree *t)
{
	return t ? t->root : NULL;
}

const struct jnode *jnode_get(const struct jnode *o, const char *key)
{
	const struct jnode *x;

	if (!o || o->type != JT_OBJECT)
		return NULL;
	for (x = o->child; x; x = x->next)
		if (x->key && x->key[0] == key[0] && !strcmp(x->key, key))
			return x;
	return NULL;
}

void jtree_drop_nodes(struct jtree *t)
{
	struct jblock *b, *next;

	if (!t)
		return;
	for (b = t->blocks; b; b = next) {
		next = b->next;
		free(b);
	}
	t->blocks = NULL;
	t->root = NULL;
}

void jtree_free(struct jtree *t)
{
	if (!t)
		return;
	jtree_drop_nodes(t);
	free(t->strs);
	free(t);
}
