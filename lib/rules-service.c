/*
 * rules-service.c - Services, Ingresses and PodDisruptionBudgets.
 *
 * dangling-service and service-target-port look at the whole set. To stay
 * linear they index the workloads' pod labels by "namespace\x01key\x01value"
 * and try each Service only against the workloads that carry the rarest
 * of its selector's labels.
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

/* The workloads of a set indexed for Service selectors. */
struct svc_index {
	const struct kset *set;
	struct strmap by_label;		/* "ns\x01key\x01value" -> workload indexes */
	struct strmap by_ns;		/* namespaces holding workloads */
	struct strmap opaque_ns;	/* namespaces that may hold pods not in the set */
	struct strmap template_dirs;	/* directories holding template files */
	int opaque_all;			/* a GitOps deployer may put pods anywhere */
};

static void svc_index_build(struct svc_index *ix, const struct kset *set)
{
	size_t i, j;

	memset(ix, 0, sizeof(*ix));
	ix->set = set;
	/* Template files hide the workloads they hold: Services beside them stay quiet. */
	for (i = 0; i < set->nfiles; i++)
		if (set->files[i].is_template) {
			char *d = dir_of(set->files[i].path);

			strmap_put(&ix->template_dirs, d);
			free(d);
		}
	for (i = 0; i < set->nobjs; i++) {
		const struct kobj *o = &set->objs[i];
		const struct ynode *labels;

		if (deploys_anywhere(o)) {
			ix->opaque_all = 1;
			return;
		}
		if (may_make_pods(o)) {
			strmap_put(&ix->opaque_ns, ns_of(o));
			continue;
		}
		if (!kobj_is_workload(o))
			continue;
		strmap_put(&ix->by_ns, ns_of(o));
		labels = kobj_pod_labels(o);
		if (!labels)
			continue;
		for (j = 0; j < labels->n; j++) {
			const char *k = ynode_str(labels->kids[2 * j]);
			char *key;

			if (!k)
				continue;
			key = label_key(ns_of(o), k, ynode_str(labels->kids[2 * j + 1]));
			strmap_add(&ix->by_label, key, i);
			free(key);
		}
	}
}

static void svc_index_release(struct svc_index *ix)
{
	strmap_release(&ix->by_label);
	strmap_release(&ix->by_ns);
	strmap_release(&ix->opaque_ns);
	strmap_release(&ix->template_dirs);
}

/*
 * The selector of Service o when every pod it may select is in the set
 * (so it can be judged), else NULL.
 */
static const struct ynode *svc_judgeable(const struct svc_index *ix, const struct kobj *o)
{
	const struct ynode *sel, *type;

	if (ix->opaque_all || !kobj_is(o, "", "Service"))
		return NULL;
	type = ynode_path(o->root, "spec.type");
	if (ynode_str(type) && !strcmp(ynode_str(type), "ExternalName"))
		return NULL;
	sel = ynode_path(o->root, "spec.selector");
	if (!sel || sel->kind != YN_MAP || !sel->n)
		return NULL;	/* no selector: endpoints are managed by hand */
	if (!strmap_get(&ix->by_ns, ns_of(o)) || strmap_get(&ix->opaque_ns, ns_of(o)))
		return NULL;	/* the pods may live outside the set */
	if (ix->template_dirs.used) {
		char *d = dir_of(o->path);
		int hidden = strmap_get(&ix->template_dirs, d) != NULL;

		free(d);
		if (hidden)
			return NULL;
	}
	return sel;
}

/*
 * Calls fn for each workload whose pods sel selects, until fn returns
 * non-zero; returns how many matched. The rarest selector label narrows
 * the candidates, so the usual case is one lookup and one comparison.
 */
static size_t svc_each_match(const struct svc_index *ix, const struct kobj *svc,
			     const struct ynode *sel,
			     int (*fn)(const struct kobj *w, void *data), void *data)
{
	const struct strmap_entry *best = NULL;
	size_t j, n = 0;

	for (j = 0; j < sel->n; j++) {
		const char *k = ynode_str(sel->kids[2 * j]);
		const struct strmap_entry *e;
		char *key;

		if (!k)
			continue;
		key = label_key(ns_of(svc), k, ynode_str(sel->kids[2 * j + 1]));
		e = strmap_get(&ix->by_label, key);
		free(key);
		if (!e)
			return 0;
		if (!best || e->n < best->n)
			best = e;
	}
	for (j = 0; best && j < best->n; j++) {
		const struct kobj *w = &ix->set->objs[best->v[j]];

		if (!selector_matches(sel, kobj_pod_labels(w), 1))
			continue;
		n++;
		if (!fn || fn(w, data))
			break;
	}
	return n;
}

RULE_SET(check_dangling_service)
{
	struct svc_index ix;
	size_t i;

	svc_index_build(&ix, set);
	for (i = 0; i < set->nobjs; i++) {
		const struct kobj *o = &set->objs[i];
		const struct ynode *sel = svc_judgeable(&ix, o);

		if (!sel || svc_each_match(&ix, o, sel, NULL, NULL))
			continue;
		rule_report(ctx, o, sel, ".spec.selector",
			    "the selector of %s matches no pod template of the workloads in "
			    "namespace '%s'", o->id ? o->id : "the Service",
			    *ns_of(o) ? ns_of(o) : "(none given)");
	}
	svc_index_release(&ix);
}

/* Does a container of workload w declare the port name? */
static int declares_port(const struct kobj *w, const char *name)
{
	static const char *const lists[] = { "containers", "initContainers" };
	const struct ynode *pod = kobj_pod_spec(w, NULL);
	size_t l, i, j;

	for (l = 0; l < 2; l++) {
		const struct ynode *seq = ynode_get(pod, lists[l]);

		if (!seq || seq->kind != YN_SEQ)
			continue;
		for (i = 0; i < seq->n; i++) {
			const struct ynode *ports = ynode_get(seq->kids[i], "ports");

			if (!ports || ports->kind != YN_SEQ)
				continue;
			for (j = 0; j < ports->n; j++) {
				const char *pn = ynode_str(ynode_get(ports->kids[j], "name"));

				if (pn && !strcmp(pn, name))
					return 1;
			}
		}
	}
	return 0;
}

struct port_search {
	const char *name;
	int found;
};

static int port_search_fn(const struct kobj *w, void *data)
{
	struct port_search *ps = data;

	if (declares_port(w, ps->name))
		ps->found = 1;
	return ps->found;
}

RULE_SET(check_service_target_port)
{
	struct svc_index ix;
	size_t i, j;

	svc_index_build(&ix, set);
	for (i = 0; i < set->nobjs; i++) {
		const struct kobj *o = &set->objs[i];
		const struct ynode *sel = svc_judgeable(&ix, o), *ports;

		if (!sel)
			continue;
		ports = ynode_path(o->root, "spec.ports");
		if (!ports || ports->kind != YN_SEQ)
			continue;
		for (j = 0; j < ports->n; j++) {
			const struct ynode *tp = ynode_get(ports->kids[j], "targetPort");
			struct port_search ps = { NULL, 0 };
			char jp[RULE_JPATH_MAX];
			long long num;

			if (!tp || !ynode_str(tp) || ynode_int(tp, &num) == 0)
				continue;	/* numbers need no declaration */
			if (strspn(tp->str, "0123456789") == strlen(tp->str))
				continue;
			ps.name = tp->str;
			/* Judged only when some workload is selected: else dangling-service says it. */
			if (!svc_each_match(&ix, o, sel, port_search_fn, &ps) || ps.found)
				continue;
			jpath_join(jp, ".spec.ports", "[%zu].targetPort", j);
			rule_report(ctx, o, tp, jp,
				    "targetPort '%s' of %s is not a port name of the pods it selects",
				    tp->str, o->id ? o->id : "the Service");
		}
	}
	svc_index_release(&ix);
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

/* ---- autoscalers, ingress classes ---- */

/* "ns\x01Kind\x01name" into a fresh string. */
static char *target_key(const char *ns, const char *kind, const char *name)
{
	return xstrfmt("%s\x01%s\x01%s", ns, kind ? kind : "", name ? name : "");
}

RULE_SET(check_replicas_with_hpa)
{
	struct strmap targets = STRMAP_INIT;
	size_t i;

	for (i = 0; i < set->nobjs; i++) {
		const struct kobj *o = &set->objs[i];
		const struct ynode *ref;
		char *key;

		if (!kobj_is(o, "autoscaling", "HorizontalPodAutoscaler"))
			continue;
		ref = ynode_path(o->root, "spec.scaleTargetRef");
		key = target_key(ns_of(o), ynode_str(ynode_get(ref, "kind")),
				 ynode_str(ynode_get(ref, "name")));
		strmap_add(&targets, key, i);
		free(key);
	}
	for (i = 0; targets.used && i < set->nobjs; i++) {
		const struct kobj *o = &set->objs[i];
		const struct strmap_entry *e;
		const struct ynode *r;
		char *key;

		r = ynode_path(o->root, "spec.replicas");
		if (!r || ynode_is_null(r) || !o->name)
			continue;
		key = target_key(ns_of(o), o->kind, o->name);
		e = strmap_get(&targets, key);
		free(key);
		if (!e)
			continue;
		rule_report(ctx, o, r, ".spec.replicas",
			    "%s sets replicas but %s scales it: every sync resets the replica count",
			    o->id ? o->id : o->kind,
			    set->objs[e->v[0]].id ? set->objs[e->v[0]].id : "an autoscaler");
	}
	strmap_release(&targets);
}

RULE_OBJ(check_ingress_class_annotation)
{
	const struct ynode *ann, *k;

	if (!o->kind || strcmp(o->kind, "Ingress"))
		return;
	ann = ynode_path(o->root, "metadata.annotations");
	k = ynode_get_key(ann, "kubernetes.io/ingress.class");
	if (!k)
		return;
	rule_report(ctx, o, k, ".metadata.annotations[\"kubernetes.io/ingress.class\"]",
		    "the Ingress names its class with the deprecated annotation "
		    "kubernetes.io/ingress.class");
}
