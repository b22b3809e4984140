/*
 * applyset.h - the set of objects one `tidegate apply --applyset NAME`
 * owns, recorded the way kubectl's ApplySets are (KEP-3659), so that
 * pruning knows what to delete without listing the whole cluster.
 *
 * The parent is a Secret NAME in the run's namespace:
 *   label       applyset.kubernetes.io/id = applyset_id(NAME, NS)
 *   annotations applyset.kubernetes.io/tooling = tidegate/VERSION
 *               applyset.kubernetes.io/contains-group-kinds = "Deployment.apps,Service"
 *               applyset.kubernetes.io/additional-namespaces = "a,b"
 *   data        inventory: every member, one "group/Kind/namespace/name"
 *               line, sorted (core group and cluster scope are empty)
 * Members carry the label applyset.kubernetes.io/part-of = the id.
 *
 * A run widens the parent before applying (old and new members), prunes,
 * then narrows it to what is left. A parent whose tooling names another
 * tool is refused unless the caller allows it.
 */
#ifndef TIDEGATE_APPLYSET_H
#define TIDEGATE_APPLYSET_H

#include <stddef.h>

#include "kube.h"

#define APPLYSET_ID_LABEL "applyset.kubernetes.io/id"
#define APPLYSET_PART_OF_LABEL "applyset.kubernetes.io/part-of"
#define APPLYSET_TOOLING_ANN "applyset.kubernetes.io/tooling"
#define APPLYSET_GK_ANN "applyset.kubernetes.io/contains-group-kinds"
#define APPLYSET_NS_ANN "applyset.kubernetes.io/additional-namespaces"
#define APPLYSET_INVENTORY_KEY "inventory"
#define APPLYSET_TOOLING "tidegate/" TIDEGATE_VERSION

struct applyset {
	char *name, *namespace;
	char *id;		/* "applyset-<base64url sha256>-v1" */
	int exists;		/* the parent was found */
	char *tooling;		/* its tooling annotation, or NULL */
	int has_inventory;	/* the parent carries tidegate's inventory */
	char **members;		/* previous members ("group/Kind/ns/name"), sorted */
	size_t nmembers;
	char **group_kinds;	/* previous contains-group-kinds entries */
	size_t ngk;
	char **namespaces;	/* previous additional-namespaces */
	size_t nns;
	char *state;		/* what the parent holds now (tooling, kinds, namespaces,
				   inventory), so a write that changes nothing is skipped */
};
#define APPLYSET_INIT { 0 }

/* "applyset-" + base64url-nopad(sha256("NAME.NS.Secret.")) + "-v1"; caller frees. */
char *applyset_id(const char *name, const char *ns);

/* "group/Kind/ns/name" for a member; caller frees. */
char *applyset_member(const char *group, const char *kind, const char *ns, const char *name);
/* Splits a member string; the out pointers are allocated (caller frees). -1 when malformed. */
int applyset_member_parse(const char *m, char **group, char **kind, char **ns, char **name);

/*
 * Reads the parent Secret name in ns. Returns 0 (s->exists tells
 * whether it was there), -1 when it cannot be read, is another set's,
 * or belongs to another tool and allow_foreign is 0 (all reported).
 */
int applyset_fetch(struct applyset *s, struct kube_client *c, const char *name, const char *ns,
		   int allow_foreign);
/*
 * applyset_fetch() in two halves, for a caller that runs the GET in a
 * batch of its own: the request (the caller runs and frees it), then
 * its answer read into s, with applyset_fetch()'s results.
 */
struct kube_request *applyset_fetch_request(struct applyset *s, const char *name, const char *ns);
int applyset_fetch_finish(struct applyset *s, const struct kube_request *r, int allow_foreign);

/*
 * Writes the parent with members[0..n) (any order, duplicates allowed)
 * by server-side apply. With dry_run the server checks it, nothing is
 * stored. Returns 0 or -1 (reported).
 */
int applyset_write(struct applyset *s, struct kube_client *c, char **members, size_t n,
		   int dry_run);

void applyset_release(struct applyset *s);

#endif
