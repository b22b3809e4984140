/*
 * rules-impl.h - what the rule files (lib/rules-*.c) share: the check
 * functions the table in rules.c names, walking the containers of a
 * pod spec, JSON paths, small string helpers and a string hash table.
 * Not part of the library's API.
 */
#ifndef TIDEGATE_RULES_IMPL_H
#define TIDEGATE_RULES_IMPL_H

#include <stddef.h>

#include "rules.h"
#include "yaml.h"

/* A JSON path long enough for any real object; longer ones are cut with "...". */
#define RULE_JPATH_MAX 512

/* One container of a pod spec, as handed to a container walker. */
struct kcontainer {
	const struct ynode *node;	/* the container's map */
	const struct ynode *pod;	/* the pod spec it belongs to */
	const char *pod_jpath;		/* the pod spec's JSON path (".spec") */
	const char *list;		/* "containers", "initContainers", "ephemeralContainers" */
	size_t index;
	int sidecar;			/* an init container with restartPolicy: Always */
	const char *name;		/* its name, or "#<index>" text when missing */
	char jpath[RULE_JPATH_MAX];	/* ".spec.template.spec.containers[0]" */
};

/* Which containers a walk visits. */
#define KC_MAIN		(1u << 0)	/* containers */
#define KC_INIT		(1u << 1)	/* initContainers (sidecars included) */
#define KC_EPHEMERAL	(1u << 2)	/* ephemeralContainers */
#define KC_SIDECAR	(1u << 3)	/* only the sidecar initContainers */
#define KC_ALL		(KC_MAIN | KC_INIT | KC_EPHEMERAL)

typedef void (*kcontainer_fn)(const struct rule_ctx *ctx, const struct kobj *o,
			      const struct kcontainer *c);
/* Calls fn for each container of o's pod spec selected by flags. */
void kobj_for_each_container(const struct rule_ctx *ctx, const struct kobj *o,
			     unsigned flags, kcontainer_fn fn);

/* jpath + suffix into out (cut at RULE_JPATH_MAX). */
void jpath_join(char *out, const char *jpath, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* jpath + ".key", or jpath + "[\"key\"]" when key is not a plain word. */
void jpath_key(char *out, const char *jpath, const char *key);
/* Position helpers: the key node of key in map, else the map itself. */
const struct ynode *ynode_key_or(const struct ynode *map, const char *key);
/* 1 when n is a true/false scalar equal to want (a bool, not a string). */
int ynode_is_bool(const struct ynode *n, int want);
/* 1 when s equals kind and o's group is group. */
int kobj_is(const struct kobj *o, const char *group, const char *kind);
/* The key node naming o's pod spec ("spec:" of the template), for positions. */
const struct ynode *kobj_pod_spec_key(const struct kobj *o);
/* 1 for the kinds whose pods the rules look at. */
int kobj_is_workload(const struct kobj *o);
/* Label selector (matchLabels/matchExpressions, or a plain map) matches labels. */
int selector_matches(const struct ynode *sel, const struct ynode *labels, int plain_map);
/* 1 when the selector selects nothing at all (empty, or null). */
int selector_is_empty(const struct ynode *sel, int plain_map);

/* A string-keyed hash table of size_t lists (for the set-wide rules). */
struct strmap_entry {
	char *key;
	size_t *v;
	size_t n, alloc;
};
struct strmap {
	struct strmap_entry *slots;
	size_t nslots, used;
};
#define STRMAP_INIT { NULL, 0, 0 }
/* The entry for key, created empty when missing. */
struct strmap_entry *strmap_put(struct strmap *m, const char *key);
/* The entry for key, or NULL. */
const struct strmap_entry *strmap_get(const struct strmap *m, const char *key);
void strmap_add(struct strmap *m, const char *key, size_t value);
void strmap_release(struct strmap *m);

/* The check functions of the table in rules.c. */
#define RULE_OBJ(fn) void fn(const struct rule_ctx *ctx, const struct kobj *o)
#define RULE_SET(fn) void fn(const struct rule_ctx *ctx, const struct kset *set)

/* rules-pod.c */
RULE_OBJ(check_latest_tag);
RULE_OBJ(check_image_pull_policy_digest);
RULE_OBJ(check_cpu_requests);
RULE_OBJ(check_cpu_limits);
RULE_OBJ(check_memory_requests);
RULE_OBJ(check_memory_limits);
RULE_OBJ(check_readiness_probe);
RULE_OBJ(check_liveness_probe);
RULE_OBJ(check_probe_port);
RULE_OBJ(check_duplicate_env_var);
RULE_OBJ(check_duplicate_container_name);
RULE_OBJ(check_env_var_secret);
RULE_OBJ(check_host_port);
RULE_OBJ(check_automount_token);
RULE_OBJ(check_deprecated_sa_field);
RULE_OBJ(check_mismatching_selector);
RULE_OBJ(check_single_replica);
RULE_OBJ(check_ssh_port);
RULE_OBJ(check_privileged_ports);
RULE_OBJ(check_frozen_registry);
RULE_OBJ(check_cronjob_deadline);
/* rules-security.c */
RULE_OBJ(check_privileged);
RULE_OBJ(check_privilege_escalation);
RULE_OBJ(check_run_as_non_root);
RULE_OBJ(check_host_network);
RULE_OBJ(check_host_pid);
RULE_OBJ(check_host_ipc);
RULE_OBJ(check_sensitive_host_mounts);
RULE_OBJ(check_runtime_sock);
RULE_OBJ(check_read_only_root_fs);
RULE_OBJ(check_dangerous_caps);
RULE_OBJ(check_drop_net_raw);
RULE_OBJ(check_unsafe_sysctls);
RULE_OBJ(check_unsafe_proc_mount);
RULE_OBJ(check_writable_host_mount);
/* rules-service.c */
RULE_SET(check_dangling_service);
RULE_SET(check_service_target_port);
RULE_SET(check_replicas_with_hpa);
RULE_OBJ(check_ingress_class_annotation);
RULE_OBJ(check_nodeport_service);
RULE_OBJ(check_ingress_tls);
RULE_OBJ(check_pdb_max_unavailable);
RULE_OBJ(check_pdb_min_available);
/* rules-rbac.c */
RULE_OBJ(check_wildcard_in_rules);
RULE_OBJ(check_cluster_admin_binding);
/* rules-api.c */
RULE_OBJ(check_removed_api);
RULE_OBJ(check_deprecated_api);
RULE_OBJ(check_plaintext_secret);
RULE_OBJ(check_missing_namespace);
/* rules.c */
RULE_OBJ(check_ignore_without_reason);
RULE_OBJ(check_ignore_unknown_rule);

#endif
