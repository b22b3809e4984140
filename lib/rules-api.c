/*
 * rules-api.c - API versions judged against the target Kubernetes
 * version, plaintext Secrets and namespaces.
 */
#include "rules-impl.h"

#include <stdio.h>
#include <string.h>

/* What the target is when the caller gives none: the newest release these tables know. */
#define LATEST_MINOR 34

struct api_change {
	const char *group;
	const char *version;
	const char *kind;		/* NULL: every kind of the group version */
	int deprecated;			/* 1.x that deprecated it (0: not deprecated first) */
	int removed;			/* 1.x that stopped serving it (0: still served) */
	const char *replacement;	/* the apiVersion to move to, or advice */
};

/* Kubernetes' deprecated API migration guide, as far as objects in git go. */
static const struct api_change api_changes[] = {
	{ "extensions", "v1beta1", "Deployment", 9, 16, "apps/v1" },
	{ "extensions", "v1beta1", "DaemonSet", 9, 16, "apps/v1" },
	{ "extensions", "v1beta1", "ReplicaSet", 9, 16, "apps/v1" },
	{ "extensions", "v1beta1", "NetworkPolicy", 9, 16, "networking.k8s.io/v1" },
	{ "extensions", "v1beta1", "PodSecurityPolicy", 10, 16,
	  "nothing (PodSecurityPolicy is gone: use Pod Security Admission)" },
	{ "extensions", "v1beta1", "Ingress", 14, 22, "networking.k8s.io/v1" },
	{ "apps", "v1beta1", NULL, 9, 16, "apps/v1" },
	{ "apps", "v1beta2", NULL, 9, 16, "apps/v1" },
	{ "networking.k8s.io", "v1beta1", "Ingress", 19, 22, "networking.k8s.io/v1" },
	{ "networking.k8s.io", "v1beta1", "IngressClass", 19, 22, "networking.k8s.io/v1" },
	{ "rbac.authorization.k8s.io", "v1alpha1", NULL, 17, 22, "rbac.authorization.k8s.io/v1" },
	{ "rbac.authorization.k8s.io", "v1beta1", NULL, 17, 22, "rbac.authorization.k8s.io/v1" },
	{ "apiextensions.k8s.io", "v1beta1", NULL, 16, 22, "apiextensions.k8s.io/v1" },
	{ "apiregistration.k8s.io", "v1beta1", NULL, 19, 22, "apiregistration.k8s.io/v1" },
	{ "admissionregistration.k8s.io", "v1beta1", "MutatingWebhookConfiguration", 16, 22,
	  "admissionregistration.k8s.io/v1" },
	{ "admissionregistration.k8s.io", "v1beta1", "ValidatingWebhookConfiguration", 16, 22,
	  "admissionregistration.k8s.io/v1" },
	{ "authentication.k8s.io", "v1beta1", NULL, 19, 22, "authentication.k8s.io/v1" },
	{ "authorization.k8s.io", "v1beta1", NULL, 19, 22, "authorization.k8s.io/v1" },
	{ "certificates.k8s.io", "v1beta1", NULL, 19, 22, "certificates.k8s.io/v1" },
	{ "coordination.k8s.io", "v1beta1", NULL, 19, 22, "coordination.k8s.io/v1" },
	{ "scheduling.k8s.io", "v1alpha1", NULL, 14, 17, "scheduling.k8s.io/v1" },
	{ "scheduling.k8s.io", "v1beta1", NULL, 14, 22, "scheduling.k8s.io/v1" },
	{ "storage.k8s.io", "v1beta1", "CSIDriver", 19, 22, "storage.k8s.io/v1" },
	{ "storage.k8s.io", "v1beta1", "CSINode", 17, 22, "storage.k8s.io/v1" },
	{ "storage.k8s.io", "v1beta1", "StorageClass", 19, 22, "storage.k8s.io/v1" },
	{ "storage.k8s.io", "v1beta1", "VolumeAttachment", 19, 22, "storage.k8s.io/v1" },
	{ "storage.k8s.io", "v1beta1", "CSIStorageCapacity", 24, 27, "storage.k8s.io/v1" },
	{ "batch", "v2alpha1", "CronJob", 8, 21, "batch/v1" },
	{ "batch", "v1beta1", "CronJob", 21, 25, "batch/v1" },
	{ "discovery.k8s.io", "v1beta1", "EndpointSlice", 21, 25, "discovery.k8s.io/v1" },
	{ "events.k8s.io", "v1beta1", "Event", 19, 25, "events.k8s.io/v1" },
	{ "autoscaling", "v2beta1", "HorizontalPodAutoscaler", 22, 25, "autoscaling/v2" },
	{ "autoscaling", "v2beta2", "HorizontalPodAutoscaler", 23, 26, "autoscaling/v2" },
	{ "policy", "v1beta1", "PodDisruptionBudget", 21, 25, "policy/v1" },
	{ "policy", "v1beta1", "PodSecurityPolicy", 21, 25,
	  "nothing (PodSecurityPolicy is gone: use Pod Security Admission)" },
	{ "node.k8s.io", "v1beta1", "RuntimeClass", 20, 25, "node.k8s.io/v1" },
	{ "node.k8s.io", "v1alpha1", "RuntimeClass", 20, 22, "node.k8s.io/v1" },
	{ "flowcontrol.apiserver.k8s.io", "v1alpha1", NULL, 20, 21, "flowcontrol.apiserver.k8s.io/v1" },
	{ "flowcontrol.apiserver.k8s.io", "v1beta1", NULL, 23, 26, "flowcontrol.apiserver.k8s.io/v1" },
	{ "flowcontrol.apiserver.k8s.io", "v1beta2", NULL, 26, 29, "flowcontrol.apiserver.k8s.io/v1" },
	{ "flowcontrol.apiserver.k8s.io", "v1beta3", NULL, 29, 32, "flowcontrol.apiserver.k8s.io/v1" },
	{ "", "v1", "Endpoints", 33, 0, "discovery.k8s.io/v1 EndpointSlice" },
};

static const struct api_change *api_change_find(const struct kobj *o)
{
	size_t i;

	if (!o->group || !o->version || !o->kind)
		return NULL;
	for (i = 0; i < sizeof(api_changes) / sizeof(*api_changes); i++) {
		const struct api_change *c = &api_changes[i];

		if (c->group[0] == o->group[0] && !strcmp(c->group, o->group) &&
		    !strcmp(c->version, o->version) &&
		    (!c->kind || !strcmp(c->kind, o->kind)))
			return c;
	}
	return NULL;
}

/* The target minor version (only 1.x exists). */
static int target_minor(const struct rule_ctx *ctx)
{
	if (ctx->kube_major <= 0)
		return LATEST_MINOR;
	if (ctx->kube_major > 1)
		return 1000;
	return ctx->kube_minor;
}

static const struct ynode *api_node(const struct kobj *o)
{
	const struct ynode *v = ynode_get(o->root, "apiVersion");

	return v ? v : NULL;
}

RULE_OBJ(check_removed_api)
{
	const struct api_change *c = api_change_find(o);
	int t = target_minor(ctx);

	if (!c || !c->removed || t < c->removed)
		return;
	rule_report(ctx, o, api_node(o), ".apiVersion",
		    "%s %s was removed in Kubernetes 1.%d (target 1.%d): use %s",
		    o->api_version, o->kind, c->removed, t, c->replacement);
}

RULE_OBJ(check_deprecated_api)
{
	const struct api_change *c = api_change_find(o);
	int t = target_minor(ctx);
	char when[64] = "";

	if (!c || !c->deprecated || t < c->deprecated || (c->removed && t >= c->removed))
		return;
	if (c->removed)
		snprintf(when, sizeof(when), ", removed in 1.%d", c->removed);
	rule_report(ctx, o, api_node(o), ".apiVersion",
		    "%s %s is deprecated since Kubernetes 1.%d%s (target 1.%d): use %s",
		    o->api_version, o->kind, c->deprecated, when, t, c->replacement);
}

/* ---- Secrets ---- */

/* A value SOPS (or a templating step) will replace: ENC[...], ${VAR}. */
static int opaque_value(const char *s)
{
	size_t n;

	if (!strncmp(s, "ENC[", 4))
		return 1;
	n = strlen(s);
	return n > 3 && !strncmp(s, "${", 2) && s[n - 1] == '}';
}

/* Counts values that hold something in plain text; *sops set when one is ENC[...]. */
static size_t plain_values(const struct ynode *map, int *sops, const struct ynode **first)
{
	size_t i, n = 0;

	if (!map || map->kind != YN_MAP)
		return 0;
	for (i = 0; i < map->n; i++) {
		const char *s = ynode_str(map->kids[2 * i + 1]);

		if (!s || !*s)
			continue;
		if (!strncmp(s, "ENC[", 4))
			*sops = 1;
		if (opaque_value(s))
			continue;
		if (!n)
			*first = map->kids[2 * i];
		n++;
	}
	return n;
}

RULE_OBJ(check_plaintext_secret)
{
	const struct ynode *first = NULL, *first_s = NULL, *key;
	char jp[RULE_JPATH_MAX];
	size_t nd, ns;
	int sops = 0;

	if (!kobj_is(o, "", "Secret"))
		return;
	if (ynode_get(o->root, "sops"))
		return;
	nd = plain_values(ynode_get(o->root, "data"), &sops, &first);
	ns = plain_values(ynode_get(o->root, "stringData"), &sops, &first_s);
	if (sops || !(nd + ns))
		return;
	key = first ? first : first_s;
	jpath_key(jp, first ? ".data" : ".stringData", ynode_str(key));
	rule_report(ctx, o, key, jp,
		    "%s holds %zu value%s in plain text%s",
		    o->id ? o->id : "the Secret", nd + ns, nd + ns == 1 ? "" : "s",
		    nd ? " (base64 is not encryption)" : "");
}

RULE_OBJ(check_missing_namespace)
{
	const struct ynode *md;

	if (!ctx->require_namespace || o->namespace || !o->kind)
		return;
	if (kind_is_cluster_scoped(o->group, o->kind))
		return;
	md = ynode_get_key(o->root, "metadata");
	rule_report(ctx, o, md, ".metadata.namespace", "%s names no namespace",
		    o->id ? o->id : o->kind);
}
