/*
 * yaml.h - YAML (through libyaml) into a node tree that keeps the line
 * and column of every key and value.
 *
 * One struct yfile per input file: its documents, each a tree of struct
 * ynode. All nodes and strings of a file live in the file's arena and
 * are freed together by yfile_release(); pointers into the tree are
 * valid until then.
 *
 * Scalars are resolved with the YAML 1.2 core schema, which is what
 * Kubernetes (sigs.k8s.io/yaml over go-yaml) uses for plain scalars in
 * practice: null/~/empty, true/false, ints (decimal, 0o, 0x), floats.
 * Quoted and block scalars are always strings. ynode_yaml11() tells
 * when a plain scalar would mean something else to a YAML 1.1 reader
 * (yes/no/on/off, 0755 octal, sexagesimal), for the trap warnings.
 *
 * Hostile input: every limit in struct yaml_limits produces one clear
 * finding (rule "yaml-limit") and stops the file; aliases are expanded
 * by reference with a budget of expanded nodes, so a "billion laughs"
 * file fails fast in bounded memory.
 */
#ifndef TIDEGATE_YAML_H
#define TIDEGATE_YAML_H

#include <stddef.h>

#include "finding.h"

struct cJSON;

enum ynode_kind {
	YN_SCALAR,
	YN_MAP,
	YN_SEQ,
};

enum yscalar {
	YS_STRING,
	YS_INT,
	YS_FLOAT,
	YS_BOOL,
	YS_NULL,
};

struct ynode {		/* 48 bytes: a large file has millions */
	enum ynode_kind kind : 2;
	enum yscalar stype : 3;	/* scalars only */
	unsigned quoted : 1;	/* scalar was quoted or a block (| >) */
	unsigned alias : 1;	/* reached through an alias (*ref) */
	unsigned line, col;	/* 1-based start of the node */
	unsigned len;		/* scalars: length of str (may contain NUL); < 4 GiB */
	const char *tag;	/* explicit tag ("!!str", "!foo") or NULL */
	const char *str;	/* scalars: the text, NUL-terminated */
	size_t n;		/* maps: pairs; seqs: items */
	struct ynode **kids;	/* seq: kids[i]; map: kids[2i] key, kids[2i+1] value */
};

struct ydoc {
	struct ynode *root;	/* NULL for an empty document */
	unsigned line, col;	/* where the document starts */
	int is_template;	/* a "{{" that YAML read as nested flow maps */
};

struct yarena;

struct yfile {
	char *path;
	struct ydoc *docs;
	size_t ndocs;
	int failed;		/* a syntax error or a limit stopped the parse */
	int is_template;	/* looks like a Helm/Go template ({{ ... }}) */
	struct yarena *arena;
};
#define YFILE_INIT { NULL, NULL, 0, 0, 0, NULL }

struct yaml_limits {
	size_t max_bytes;		/* file size */
	size_t max_depth;		/* nesting of maps and sequences */
	size_t max_nodes;		/* nodes in one file */
	size_t max_alias_nodes;		/* nodes reached through aliases, all told */
	size_t max_docs;		/* documents in one file */
};
/* 8 MiB, depth 128, 2M nodes, 100k alias nodes, 10k documents */
extern const struct yaml_limits yaml_default_limits;

/*
 * Parses data[0..len) as path into out. Problems become findings in fs
 * ("yaml-syntax" with libyaml's line:col, "yaml-duplicate-key",
 * "yaml-limit", "yaml-tab"). Documents before a syntax error are kept.
 * Returns 0 when the whole file parsed, -1 otherwise (out is still to
 * be released). A file that does not parse and holds `{{` template
 * markers outside comments is flagged is_template and not reported as a
 * syntax error. A file that parses is flagged is_template when one of its
 * documents is (ydoc.is_template: `{{` read as nested flow maps, which
 * no API server accepts); Go templates inside strings are just strings.
 */
int yaml_parse(struct yfile *out, const char *path, const char *data, size_t len,
	       const struct yaml_limits *lim, struct findings *fs);
void yfile_release(struct yfile *f);
/* 1 when data[0..len) holds "{{" (a template marker, maybe). */
int yaml_has_braces(const char *data, size_t len);
/* Frees the documents and nodes but keeps path, failed and is_template. */
void yfile_drop_tree(struct yfile *f);

/*
 * Trees that outlive their file: a standalone arena and a copy of a
 * node into it that keeps only the parts a caller names. A struct
 * yprune list (static, built with YPRUNE() and ended by YPRUNE_END)
 * names keys; an entry's sub NULL keeps the whole value, else the value
 * is copied with sub applied. On a map the list selects keys; a sequence
 * applies the same list to each item; scalars are copied as they are. A
 * NULL list copies everything. Positions, tags and scalar types are
 * kept, except that a named key is the list's own node, shared by every
 * copy and at line 0: report at values, not at these keys.
 */
struct yprune {
	struct ynode key;
	const struct yprune *sub;
};
#define YPRUNE(k, s) { .key = { .kind = YN_SCALAR, .stype = YS_STRING, .quoted = 1, \
			     .str = (k), .len = sizeof(k) - 1 }, .sub = (s) }
#define YPRUNE_END { .key = { .kind = YN_SCALAR, .str = NULL }, .sub = NULL }
struct yarena *yarena_new(void);
void yarena_free(struct yarena *a);
/* A copy of s in a (NULL for NULL). */
const char *yarena_strdup(struct yarena *a, const char *s);
struct ynode *ynode_copy(struct yarena *a, const struct ynode *n, const struct yprune *keep);

/* The value for key in a map, or NULL (also when map is not a map). */
const struct ynode *ynode_get(const struct ynode *map, const char *key);
/* The key node for key in a map (for positions), or NULL. */
const struct ynode *ynode_get_key(const struct ynode *map, const char *key);
/* Follows a dotted path of map keys: ynode_path(root, "metadata.name"). */
const struct ynode *ynode_path(const struct ynode *n, const char *dotted);
/* The text of a scalar that is not null, or NULL. */
const char *ynode_str(const struct ynode *n);
int ynode_is_null(const struct ynode *n);	/* NULL pointer or a null scalar */
/* A plain scalar's YAML 1.1 meaning when it differs from 1.2's ("bool", "octal int", ...), else NULL. */
const char *ynode_yaml11(const struct ynode *n);
/* Parses an int scalar; -1 when n is not one. */
int ynode_int(const struct ynode *n, long long *out);

/* The tree as cJSON (ints and floats as numbers, bools, nulls); caller frees with cJSON_Delete. */
struct cJSON *ynode_to_json(const struct ynode *n);

#endif
