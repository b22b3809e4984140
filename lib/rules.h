/*
 * rules.h - the lint rules. Each rule has a stable id, a default
 * severity, a one-line summary, a remediation hint and, when it matches
 * one, kube-linter's check name (so `ignore-check.kube-linter.io/<name>`
 * annotations work). Rules look at one object at a time, or at the whole
 * set (selectors, Service targets).
 */
#ifndef TIDEGATE_RULES_H
#define TIDEGATE_RULES_H

#include <stddef.h>

#include "finding.h"
#include "manifest.h"

struct rule;

struct rule_ctx {
	const struct rule *rule;
	enum severity sev;		/* the rule's severity after configuration */
	struct findings *fs;
	int kube_major, kube_minor;	/* target version, for deprecations */
	int require_namespace;		/* config: namespaced objects must name one */
};

struct rule {
	const char *id;			/* "latest-tag" */
	enum severity sev;		/* default severity */
	const char *summary;		/* one line, for --list-rules and the docs */
	const char *hint;		/* how to fix it */
	const char *kube_linter;	/* kube-linter's name for the same check, or NULL */
	void (*check_obj)(const struct rule_ctx *ctx, const struct kobj *o);
	void (*check_set)(const struct rule_ctx *ctx, const struct kset *set);
};

/*
 * What the whole-set rules (and ignores and reports) read of an object:
 * metadata, selectors, ports, replicas, autoscaler targets, and the pod
 * template's labels and container ports. A run that checks objects one
 * file at a time keeps only this of each object (kset_shrink_file()),
 * chosen by kind.
 */
const struct yprune *rules_set_keep(const struct kobj *o);

/* All rules, sorted by id. */
const struct rule *rules_all(size_t *n);
const struct rule *rule_find(const char *id);

/*
 * Reports a finding of ctx's rule on object o at node `at` (NULL: the
 * object itself), with the rule's hint; jpath is the JSON path of the
 * offending field (may be NULL).
 */
void rule_report(const struct rule_ctx *ctx, const struct kobj *o,
		 const struct ynode *at, const char *jpath, const char *fmt, ...)
	__attribute__((format(printf, 5, 6)));

/*
 * The i-th other kube-linter check name (0-based) whose
 * `ignore-check.kube-linter.io/<name>` annotation also ignores rule id
 * (kube-linter's older or narrower names: docker-sock for
 * container-runtime-sock, liveness-port for probe-port, ...), or NULL.
 */
const char *rule_kube_linter_alias(const char *id, size_t i);

/* Pod spec of a workload (Pod, Deployment, StatefulSet, DaemonSet, Job, CronJob, ReplicaSet, ...), or NULL. */
const struct ynode *kobj_pod_spec(const struct kobj *o, const char **jpath_out);
/* Pod template labels of a workload, or NULL. */
const struct ynode *kobj_pod_labels(const struct kobj *o);

#endif
