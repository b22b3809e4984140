/*
 * jtree.h - a read-only JSON tree held in a few blocks of memory.
 *
 * For schema definitions that are parsed once, read a few times and
 * freed together at the end of a run: a tree costs a handful of
 * allocations however many values it holds, where a cJSON tree costs one
 * or two per value. It accepts and refuses what cJSON_ParseWithLength()
 * does (bytes up to 0x20 count as blank, at most 1000 nested arrays and
 * objects, bytes after the value are ignored), so swapping one for the
 * other changes no result.
 *
 *	struct jtree *t = jtree_parse(text, len);
 *	const struct jnode *props = jnode_get(jtree_root(t), "properties");
 *	for (const struct jnode *p = props ? props->child : NULL; p; p = p->next)
 *		use(p->key, p);
 *	jtree_free(t);
 *
 * Every string (values and member names) is NUL-terminated UTF-8 owned by
 * the tree; a string holding "\u0000" reads as ending there.
 */
#ifndef TIDEGATE_JTREE_H
#define TIDEGATE_JTREE_H

#include <stddef.h>
#include <stdint.h>

enum jtype {
	JT_NULL,
	JT_FALSE,
	JT_TRUE,
	JT_NUMBER,
	JT_STRING,
	JT_ARRAY,
	JT_OBJECT,
};

struct jnode {
	const char *key;		/* member name inside an object, else NULL */
	union {
		const char *str;	/* JT_STRING's text */
		double num;		/* JT_NUMBER's value */
	};				/* read the one that type says */
	const struct jnode *child;	/* first item or member of an array or object */
	const struct jnode *next;	/* next sibling */
	uint32_t n;			/* number of items or members */
	enum jtype type;
};

struct jtree;

/*
 * Parses s[0..len) (len under 4 GiB). Returns NULL when it holds no JSON
 * value. Free with jtree_free().
 */
struct jtree *jtree_parse(const char *s, size_t len);
const struct jnode *jtree_root(const struct jtree *t);
/* The first member of object o named key; NULL when none (or o is not an object). */
const struct jnode *jnode_get(const struct jnode *o, const char *key);
/*
 * Frees t's nodes but keeps its strings, which stay valid until
 * jtree_free(): for a caller that has copied the structure it needed
 * and kept only pointers to strings. jtree_root() is NULL afterwards.
 */
void jtree_drop_nodes(struct jtree *t);
void jtree_free(struct jtree *t);

#endif
