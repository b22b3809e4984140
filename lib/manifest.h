/*
 * manifest.h - Kubernetes objects found in parsed YAML files.
 *
 * A struct kset holds the files of one lint or apply run and the objects
 * in them, in input order. `kind: List` and `*List` documents expand to
 * their items. Each struct kobj points into its file's node tree (owned
 * by the set) and knows where it came from.
 *
 * Documents that are not Kubernetes objects (no apiVersion or kind) are
 * skipped with an info finding "not-kubernetes"; template files with
 * "template-skipped"; --strict turns those into errors (the caller
 * passes the severity in).
 */
#ifndef TIDEGATE_MANIFEST_H
#define TIDEGATE_MANIFEST_H

#include <stddef.h>

#include "finding.h"
#include "yaml.h"

struct kobj {
	const char *path;		/* file the object came from */
	unsigned line, col;		/* start of the object's node */
	size_t doc;			/* document index in the file (0-based) */
	const struct ynode *root;	/* the object's map */
	const char *api_version;	/* "apps/v1" */
	char *group;			/* "apps"; "" for the core group */
	char *version;			/* "v1" */
	const char *kind;		/* "Deployment" */
	const char *name;		/* metadata.name, or NULL (generateName) */
	const char *generate_name;	/* metadata.generateName, or NULL */
	const char *namespace;		/* metadata.namespace as written, or NULL */
	char *id;			/* "Kind/ns/name" or "Kind/name", for messages */
	/* memo of kobj_pod_spec() (rules.c), filled on its first call */
	int pod_spec_known;
	const struct ynode *pod_spec;
	const char *pod_spec_jpath;
	int checked;			/* schema and per-object rules done (lint.c) */
};

struct kset {
	struct yfile *files;
	size_t nfiles, alloc_files;
	struct kobj *objs;
	size_t nobjs, alloc_objs;
	size_t skipped;			/* documents skipped (not objects, templates) */
	size_t empty_docs;
	struct yarena *kept;		/* trees kept by kset_shrink_file() */
};
#define KSET_INIT { NULL, 0, 0, NULL, 0, 0, 0, 0, NULL }

/*
 * Parses one file's bytes and adds its objects to the set; structural
 * problems (missing apiVersion/kind/name, bad names and labels,
 * namespace on a cluster-scoped kind) become findings. skip_sev is the
 * severity of the skip notes (SEV_INFO normally, SEV_ERROR under
 * --strict). Returns 0, or -1 when the file did not parse (findings say why).
 */
int kset_add_file(struct kset *set, const char *path, const char *data, size_t len,
		  const struct yaml_limits *lim, enum severity skip_sev,
		  struct findings *fs);
/*
 * Replaces the trees of objects [from, to) (all from file number `file`)
 * with copies holding only what keep(object) names, and frees the file's tree.
 * For runs that check each object when its file arrives and keep only
 * what the checks over the whole set read, so memory stays small however
 * many files there are. The objects' strings and positions stay valid.
 */
void kset_shrink_file(struct kset *set, size_t file, size_t from, size_t to,
		      const struct yprune *(*keep)(const struct kobj *o));
/* Reports objects with the same group, kind, namespace and name ("duplicate-object"). */
void kset_check_duplicates(const struct kset *set, struct findings *fs);
void kset_release(struct kset *set);

/* 1 for kinds known to be cluster-scoped (Namespace, ClusterRole, CRDs, ...). */
int kind_is_cluster_scoped(const char *group, const char *kind);

/* Kubernetes name rules; each returns NULL when valid, else why not (static text). */
const char *check_dns1123_subdomain(const char *s);
const char *check_dns1123_label(const char *s);
const char *check_label_key(const char *s);
const char *check_label_value(const char *s);

/* Finds the node for a dotted JSON-ish path for positions; falls back to the object. */
const struct ynode *kobj_node(const struct kobj *o, const char *dotted);

#endif
