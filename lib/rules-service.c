/*
 * rules-service.c - Services, Ingresses and PodDisruptionBudgets.
 *
 * dangling-service looks at the whole set. To stay linear it indexes the
 * workloads' pod labels by "namespace\x01key\x01value" and tries each
 * Service only against the workloads that carry the rarest of its
 * selector's labels.
 */
#include "rules-impl.h"
#include "xalloc.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Groups whose kinds never make pods on their own behalf. */
static const char *const builtin_groups[] = {
	"", "apps", "batch", "autoscaling", "policy", "networking.k8s.io",
	"rbac.authorization.k8s.io", "storage.k8s.io", "scheduling.k8s.io",
	"apiextensions.k8s.io", "admissionregistration.k8s.io", "apiregistration.k8s.io",
	"coordination.k8s.io", "discovery.k8s.io", "events.k8s.io", "node.k8s.io",
	"certificates.k8s.io", "flowcontrol.apiserver.k8s.io", "extensions",
	"gateway.networking.k8s.io", "snapshot.storage.k8s.io", "resource.k8s.io",
};

/* Custom kinds known not to make pods (so they do not hide dangling Services). */
static const char *const podless_kinds[] = {
	"ServiceMonitor", "PodMonitor", "PrometheusRule", "Probe", "ScrapeConfig",
	"AlertmanagerConfig", "SealedSecret", "ExternalSecret", "SecretStore",
	"Certificate", "Issuer", "ClusterIssuer", "IngressRoute", "Middleware",
	"VirtualService", "DestinationRule", "Gateway", "HTTPRoute",
	"HelmRepository", "GitRepository", "OCIRepository", "AppProject",
	"VerticalPodAutoscaler",
};

/* Kinds that deploy other manifests into any namespace (Flux, Argo CD). */
static const char *const deployer_kinds[] = {
	"HelmRelease", "Kustomization", "Application", "ApplicationSet",
};

static int deploys_anywhere(const struct kobj *o)
{
	size_t i;

	if (!o->group || !*o->group || !o->kind)
		return 0;
	for (i = 0; i < sizeof(deployer_kinds) / sizeof(*deployer_kinds); i++)
		if (!strcmp(o->kind, deployer_kinds[i]) && strcmp(o->group, "kustomize.config.k8s.io"))
			return 1;
	return 0;
}

/* The directory part of path ("" for none), in a fresh string. */
static char *dir_of(const char *path)
{
	const char *slash = path ? strrchr(path, '/') : NULL;

	return slash ? xstrndup(path, (size_t)(slash - path)) : xstrdup("");
}

static int may_make_pods(const struct kobj *o)
{
	size_t i;

	if (!o->group || !o->kind)
		return 0;
	for (i = 0; i < sizeof(builtin_groups) / sizeof(*builtin_groups); i++)
		if (!strcmp(o->group, builtin_groups[i]))
			return 0;
	for (i = 0; i < sizeof(podless_kinds) / sizeof(*podless_kinds); i++)
		if (!strcmp(o->kind, podless_kinds[i]))
			return 0;
	return !kobj_pod_spec(o, NULL);	/* its template is seen: indexed as a workload */
}

static const char *ns_of(const struct kobj *o)
{
	return o->namespace ? o->namespace : "";
}

/* "ns\x01key\x01value" into a fresh string. */
static char *label_key(const char *ns, const char *k, const char *v)
{
	return xstrfmt("%s\x01%s\x01%s", ns, k, v ? v : "");
}

RULE_SET(check_dangling_service)
{
	struct strmap by_label = STRMAP_INIT, by_ns = STRMAP_INIT, opaque_ns = STRMAP_INIT;
	struct strmap template_dirs = STRMAP_INIT;
	size_t i, j;

	/* Template files hide the workloads they hold: Services beside them stay quiet. */
	for (i = 0; i < set->nfiles; i++)
		if (set->files[i].is_template) {
			char *d = dir_of(set->files[i].path);

			strmap_put(&template_dirs, d);
			free(d);
		}

	/* Index pass: workloads by namespace and by each pod label. */
	for (i = 0; i < set->nobjs; i++) {
		const struct kobj *o = &set->objs[i];
		const struct ynode *labels;

		if (deploys_anywhere(o))
			goto out;	/* any namespace may hold pods the set does not show */
		if (may_make_pods(o)) {
			strmap_put(&opaque_ns, ns_of(o));	/* may hold pods not in the set */
			continue;
		}
		if (!kobj_is_workload(o))
			continue;
		strmap_put(&by_ns, ns_of(o));
		labels = kobj_pod_labels(o);
		if (!labels)
			continue;
		for (j = 0; j < labels->n; j++) {
			const char *k = ynode_str(labels->kids[2 * j]);
			const char *v = ynode_str(labels->kids[2 * j + 1]);
			char *key;

			if (!k)
				continue;
			key = label_key(ns_of(o), k, v);
			strmap_add(&by_label, key, i);
			free(key);
		}
	}

	for (i = 0; i < set->nobjs; i++) {
		const struct kobj *o = &set->objs[i];
		const struct ynode *sel, *type;
		const struct strmap_entry *best = NULL;
		int found = 0;

		if (!kobj_is(o, "", "Service"))
			continue;
		type = ynode_path(o->root, "spec.type");
		if (ynode_str(type) && !strcmp(ynode_str(type), "ExternalName"))
			continue;
		sel = ynode_path(o->root, "spec.selector");
		if (!sel || sel->kind != YN_MAP || !sel->n)
			continue;	/* no selector: endpoints are managed by hand */
		if (!strmap_get(&by_ns, ns_of(o)) || strmap_get(&opaque_ns, ns_of(o)))
			continue;	/* the pods may live outside the set */
		if (template_dirs.used) {
			char *d = dir_of(o->path);
			int hidden = strmap_get(&template_dirs, d) != NULL;

			free(d);
			if (hidden)
				continue;
		}
		/* The rarest selector label narrows the candidates. */
		for (j = 0; j < sel->n; j++) {
			const char *k = ynode_str(sel->kids[2 * j]);
			const char *v = ynode_str(sel->kids[2 * j + 1]);
			const struct strmap_entry *e;
			char *key;

			if (!k)
				continue;
			key = label_key(ns_of(o), k, v);
			e = strmap_get(&by_label, key);
			free(key);
			if (!e) {
				best = NULL;
				goto report;
			}
			if (!best || e->n < best->n)
				best = e;
		}
		for (j = 0; best && j < best->n && !found; j++)
			found = selector_matches(sel, kobj_pod_labels(&set->objs[best->v[j]]), 1);
		if (found)
			continue;
report:
		rule_report(ctx, o, sel, ".spec.selector",
			    "the selector of %s matches no pod template of the workloads in "
			    "namespace '%s'", o->id ? o->id : "the Service",
			    *ns_of(o) ? ns_of(o) : "(none given)");
	}
out:
	strmap_release(&by_label);
	strmap_release(&by_ns);
	strmap_release(&template_dirs);
	strmap_release(&opaque_ns);
}

RULE_OBJ(check_nodeport_service)
{
	const struct ynode *type, *ports;
	const char *t;
	size_t i;

	if (!kobj_is(o, "", "Service"))
		return;
	type = ynode_path(o->root, "spec.type");
	t = ynode_str(type);
	if (t && !strcmp(t, "NodePort")) {
		rule_report(ctx, o, type, ".spec.type", "the Service is of type NodePort");
		return;
	}
	ports = ynode_path(o->root, "spec.ports");
	if (!ports || ports->kind != YN_SEQ)
		return;
	for (i = 0; i < ports->n; i++) {
		const struct ynode *np = ynode_get(ports->kids[i], "nodePort");
		char jp[RULE_JPATH_MAX];
		long long v;

		if (!np || ynode_int(np, &v) < 0 || v == 0)
			continue;
		jpath_join(jp, ".spec.ports", "[%zu].nodePort", i);
		rule_report(ctx, o, np, jp, "the Service fixes node port %lld", v);
	}
}

RULE_OBJ(check_ingress_tls)
{
	const struct ynode *spec, *tls;

	if (!o->kind || strcmp(o->kind, "Ingress") || !o->group ||
	    (strcmp(o->group, "networking.k8s.io") && strcmp(o->group, "extensions")))
		return;
	spec = ynode_get(o->root, "spec");
	tls = ynode_get(spec, "tls");
	if (tls && tls->kind == YN_SEQ && tls->n)
		return;
	rule_report(ctx, o, spec ? ynode_key_or(o->root, "spec") : NULL, ".spec",
		    "the Ingress has no TLS section");
}

static int is_pdb(const struct kobj *o)
{
	return kobj_is(o, "policy", "PodDisruptionBudget");
}

/* 1 when v is the int n or the string "n%"; for 0 also "0". */
static int int_or_percent(const struct ynode *v, long long n)
{
	long long x;
	char want[32];

	if (!v)
		return 0;
	if (ynode_int(v, &x) == 0)
		return x == n;
	if (!v->str || v->kind != YN_SCALAR)
		return 0;
	snprintf(want, sizeof(want), "%lld%%", n);
	return !strcmp(v->str, want) || (n == 0 && !strcmp(v->str, "0"));
}

RULE_OBJ(check_pdb_max_unavailable)
{
	const struct ynode *v;

	if (!is_pdb(o))
		return;
	v = ynode_path(o->root, "spec.maxUnavailable");
	if (!int_or_percent(v, 0))
		return;
	rule_report(ctx, o, v, ".spec.maxUnavailable",
		    "maxUnavailable %s lets no pod be evicted", v->str);
}

RULE_OBJ(check_pdb_min_available)
{
	const struct ynode *v;

	if (!is_pdb(o))
		return;
	v = ynode_path(o->root, "spec.minAvailable");
	if (!v || v->kind != YN_SCALAR || !v->str || strcmp(v->str, "100%"))
		return;
	rule_report(ctx, o, v, ".spec.minAvailable", "minAvailable 100%% lets no pod be evicted");
}
