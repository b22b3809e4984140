/*
 * apply.h - server-side apply of a set of objects, in stages, with
 * ApplySet pruning; also the dry-run comparison behind `tidegate diff`.
 *
 *	struct apply_run run = APPLY_RUN_INIT;
 *	apply_add(&run, body, "k8s/web.yaml:3");	// body: the object as cJSON (taken)
 *	...
 *	if (apply_execute(&run, client, disco, &opts) < 0)	// could not talk to the cluster
 *		...
 *	for each run.objs[i]: result, message
 *	apply_run_release(&run);
 *
 * Stages (as Flux orders them): 0 CRDs, Namespaces, ClusterRoles; then
 * (after waiting for the CRDs to be Established and reading discovery
 * again) 1 `*Class` kinds; 2 everything else; 3 admission webhook and
 * policy configurations. Pruning deletes in the reverse order.
 *
 * Each object goes out as PATCH application/apply-patch+yaml with
 * fieldManager, fieldValidation=Strict and optionally force; many at
 * once over one HTTP/2 connection. An object's result is created (201),
 * configured (200, it changed), unchanged (200, the server stored
 * nothing: its resourceVersion is not newer than the cluster's revision
 * taken just before the stage) or failed with the server's message; a
 * field-manager conflict names the manager and the fields.
 *
 * After a run, apply_wait() can wait for the workloads it applied to be
 * ready (`tidegate apply --wait`): each object then has a health.
 */
#ifndef TIDEGATE_APPLY_H
#define TIDEGATE_APPLY_H

#include <stddef.h>

#include "discovery.h"
#include "kube.h"

struct cJSON;
struct apply_cache;

enum apply_result {
	APPLY_PENDING = 0,
	APPLY_CREATED,
	APPLY_CONFIGURED,
	APPLY_UNCHANGED,
	APPLY_PRUNED,
	APPLY_SKIPPED,		/* left alone on purpose (message says why) */
	APPLY_FAILED,
	APPLY_NRESULTS
};
/* "created", "configured", ... */
const char *apply_result_name(enum apply_result r);

enum apply_health {
	APPLY_HEALTH_NONE = 0,	/* not waited for (no --wait, or not applied) */
	APPLY_HEALTH_READY,
	APPLY_HEALTH_NOT_READY,	/* health_message says why */
};

struct apply_object {
	char *group, *version, *kind, *namespace, *name;
	char *id;		/* "Kind/ns/name" or "Kind/name" */
	char *source;		/* where it came from ("file:line"), or NULL */
	struct cJSON *body;	/* the desired object; owned */
	int stage;
	char *resource;		/* plural resource name once resolved */
	int namespaced;
	int resolved;
	int pruning;		/* an old member being pruned, not in the input */
	char *uid;
	enum apply_result result;
	char *message;		/* why it failed or was skipped; notes */
	char *diff;		/* diff mode: the changed fields, one per line */
	enum apply_health health;
	char *health_message;	/* why it is not ready ("0/1 available"), or NULL */
};

struct apply_run {
	struct apply_object *objs;
	size_t n, alloc;
	size_t counts[APPLY_NRESULTS];
	int unreachable;	/* some request got no answer from the server */
	size_t nready, nnot_ready;	/* apply_wait(): objects of each health */
	int wait_timed_out;		/* apply_wait() stopped at its timeout */
};
#define APPLY_RUN_INIT { NULL, 0, 0, { 0 }, 0, 0, 0, 0 }

struct apply_options {
	const char *field_manager;	/* default "tidegate" */
	const char *namespace;		/* default for namespaced objects and the ApplySet's home */
	const char *applyset;		/* the set's name, or NULL for none (no pruning) */
	int force_conflicts;
	int dry_run;			/* dryRun=All: nothing changes */
	int diff;			/* dry run and compute each object's changed fields */
	int prune;
	int prune_cluster_wide;		/* also prune Namespaces and CRDs */
	int allow_foreign;		/* take over a set another tool manages */
	int crd_wait_ms;		/* wait for CRDs Established; default 60000 */
	int progress;			/* progress on stderr (a terminal) */
	struct apply_cache *cache;	/* what earlier runs applied, or NULL (see below) */
	int discovery_max_age_ms;	/* a long-lived caller: discovery read this recently
					   is used as it is; 0: read it again each run */
};
#define APPLY_OPTIONS_INIT { NULL, NULL, NULL, 0, 0, 0, 0, 0, 0, 0, 0, NULL, 0 }

/*
 * Adds an object (body is taken over). Reads apiVersion, kind,
 * metadata.name and metadata.namespace from it. Returns the new
 * object, or NULL (reported, body freed) when those are missing.
 */
struct apply_object *apply_add(struct apply_run *run, struct cJSON *body, const char *source);

/*
 * Applies (or dry-runs / diffs) everything added, then prunes when
 * asked. Per-object outcomes are in run->objs and run->counts.
 * Returns 0 when the run went through (objects may have failed), -1
 * when it had to stop: the cluster could not be reached, discovery or
 * the ApplySet parent failed (reported).
 */
int apply_execute(struct apply_run *run, struct kube_client *c, struct discovery *d,
		  const struct apply_options *o);

void apply_run_release(struct apply_run *run);

/*
 * Waits for the objects the run applied (created, configured or
 * unchanged; not pruned or failed) to be ready, reading the workloads
 * (Deployments, StatefulSets, DaemonSets) every second, all of one
 * round in one batch, the first round at once; every other kind is
 * ready as applied. Stops at timeout_ms, or at deadline_ms (a
 * monotonic_ms() time, 0 for none) when that comes first, and at once
 * for a workload that failed for good (a Deployment past its progress
 * deadline). Sets each object's health and health_message, and
 * run->nready, run->nnot_ready and run->wait_timed_out. Returns the
 * number of objects not ready.
 */
size_t apply_wait(struct apply_run *run, struct kube_client *c, int timeout_ms,
		  long long deadline_ms);

/*
 * The health of an object as read from the server (live): 1 ready; 0
 * not yet, -1 failed and not worth waiting for, both with *why set to
 * a message the caller frees. Deployments, StatefulSets and DaemonSets
 * as `kubectl rollout status` reads them; a Job once complete (failed
 * when it failed); a custom resource by its status conditions (Ready,
 * Reconciling, Stalled, observedGeneration). Other kinds are ready.
 */
int apply_health(const char *group, const char *kind, const struct cJSON *live, char **why);

/*
 * Whether apply_wait() reads objects of this kind: apps Deployment,
 * StatefulSet and DaemonSet, batch Job, and kinds of groups other than
 * Kubernetes' own (custom resources).
 */
int apply_is_workload(const char *group, const char *kind);

/*
 * What a long-lived caller (`tidegate apply --serve`) remembers between
 * runs against one cluster: for each object it applied, a digest of the
 * request (query and body) and the resourceVersion and UID the server
 * answered with. A later run with an ApplySet reads its members'
 * resourceVersions (one metadata-only LIST per collection, by the
 * part-of label, in the round trip that reads the parent) and sends no
 * PATCH for an object whose request is the same and whose
 * resourceVersion is still the one that request produced: server-side
 * apply of the same configuration to the same object changes nothing,
 * so the object is counted unchanged. Any other write to the object
 * (someone's edit, a controller's status) changes its resourceVersion
 * and the PATCH goes out as before. Dry runs and diffs neither use nor
 * fill it. Free with apply_cache_free().
 */
struct apply_cache *apply_cache_new(void);
void apply_cache_free(struct apply_cache *c);
/* How many objects it holds (for tests). */
size_t apply_cache_size(const struct apply_cache *c);

/*
 * Compares two objects, ignoring server bookkeeping (managedFields,
 * resourceVersion, generation, uid, timestamps); appends one line per
 * difference to out ("~ .spec.replicas: 1 -> 3", "+ .data.b: \"x\"",
 * "- .data.a"). Returns the number of differences.
 */
size_t apply_diff_objects(const struct cJSON *live, const struct cJSON *want, struct buf *out);

#endif
