/*
 * rules-pod.c - rules about pod specs and their containers that are not
 * about privileges: images, resources, probes, env, ports, selectors.
 */
#include "rules-impl.h"
#include "xalloc.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* ---- images ---- */

/* Splits an image reference: *digest set when pinned by digest, *tag the tag or NULL. */
static void image_parse(const char *image, const char **tag, size_t *tag_len, int *digest)
{
	const char *at = strchr(image, '@');
	const char *end = at ? at : image + strlen(image);
	const char *slash = NULL, *colon = NULL, *p;

	*digest = at != NULL;
	for (p = image; p < end; p++)
		if (*p == '/')
			slash = p;
	for (p = slash ? slash : image; p < end; p++)
		if (*p == ':')
			colon = p;
	*tag = colon ? colon + 1 : NULL;
	*tag_len = colon ? (size_t)(end - colon - 1) : 0;
}

static void latest_tag_one(const struct rule_ctx *ctx, const struct kobj *o,
			   const struct kcontainer *c)
{
	const struct ynode *img = ynode_get(c->node, "image");
	const char *image = ynode_str(img), *tag;
	char jp[RULE_JPATH_MAX];
	size_t tl;
	int digest;

	/* Placeholders and template leftovers are not image references to judge. */
	if (!image || !*image || strpbrk(image, "<>${} "))
		return;
	image_parse(image, &tag, &tl, &digest);
	if (digest)
		return;
	jpath_join(jp, c->jpath, ".image");
	if (!tag || !tl)
		rule_report(ctx, o, img, jp,
			    "container '%s' uses image '%s' with no tag (that means latest)",
			    c->name, image);
	else if (tl == 6 && !memcmp(tag, "latest", 6))
		rule_report(ctx, o, img, jp, "container '%s' uses image '%s' with the tag latest",
			    c->name, image);
}

RULE_OBJ(check_latest_tag)
{
	kobj_for_each_container(ctx, o, KC_ALL, latest_tag_one);
}

static void pull_policy_one(const struct rule_ctx *ctx, const struct kobj *o,
			    const struct kcontainer *c)
{
	const char *image = ynode_str(ynode_get(c->node, "image"));
	const struct ynode *pp = ynode_get(c->node, "imagePullPolicy");
	const char *pol = ynode_str(pp);
	char jp[RULE_JPATH_MAX];

	if (!image || !strchr(image, '@') || !pol || strcmp(pol, "Always"))
		return;
	jpath_join(jp, c->jpath, ".imagePullPolicy");
	rule_report(ctx, o, pp, jp,
		    "container '%s' pins its image by digest but pulls it again on every start "
		    "(imagePullPolicy: Always)", c->name);
}

RULE_OBJ(check_image_pull_policy_digest)
{
	kobj_for_each_container(ctx, o, KC_ALL, pull_policy_one);
}

/* ---- resources ---- */

static void resource_one(const struct rule_ctx *ctx, const struct kobj *o,
			 const struct kcontainer *c, const char *section, const char *res)
{
	const struct ynode *resources = ynode_get(c->node, "resources");
	const struct ynode *sec = ynode_get(resources, section);
	const struct ynode *v = ynode_get(sec, res);
	const struct ynode *at;
	char jp[RULE_JPATH_MAX];

	if (v && !ynode_is_null(v))
		return;
	/* A limit alone makes the request default to it. */
	if (!strcmp(section, "requests")) {
		const struct ynode *lim = ynode_get(ynode_get(resources, "limits"), res);

		if (lim && !ynode_is_null(lim))
			return;
	}
	if (sec && sec->kind == YN_MAP) {
		at = ynode_key_or(resources, section);
		jpath_join(jp, c->jpath, ".resources.%s", section);
	} else if (resources && resources->kind == YN_MAP) {
		at = ynode_key_or(c->node, "resources");
		jpath_join(jp, c->jpath, ".resources");
	} else {
		at = c->node;
		jpath_join(jp, c->jpath, "%s", "");
	}
	rule_report(ctx, o, at, jp, "container '%s' has no %s %s", c->name,
		    !strcmp(res, "cpu") ? "CPU" : "memory",
		    !strcmp(section, "requests") ? "request" : "limit");
}

static void cpu_req_one(const struct rule_ctx *ctx, const struct kobj *o, const struct kcontainer *c)
{
	resource_one(ctx, o, c, "requests", "cpu");
}

static void cpu_lim_one(const struct rule_ctx *ctx, const struct kobj *o, const struct kcontainer *c)
{
	resource_one(ctx, o, c, "limits", "cpu");
}

static void mem_req_one(const struct rule_ctx *ctx, const struct kobj *o, const struct kcontainer *c)
{
	resource_one(ctx, o, c, "requests", "memory");
}

static void mem_lim_one(const struct rule_ctx *ctx, const struct kobj *o, const struct kcontainer *c)
{
	resource_one(ctx, o, c, "limits", "memory");
}

/* Resources matter for containers that run alongside the app (not one-shot init ones). */
#define KC_RUNNING (KC_MAIN | KC_SIDECAR)

RULE_OBJ(check_cpu_requests)
{
	kobj_for_each_container(ctx, o, KC_RUNNING, cpu_req_one);
}

RULE_OBJ(check_cpu_limits)
{
	kobj_for_each_container(ctx, o, KC_RUNNING, cpu_lim_one);
}

RULE_OBJ(check_memory_requests)
{
	kobj_for_each_container(ctx, o, KC_RUNNING, mem_req_one);
}

RULE_OBJ(check_memory_limits)
{
	kobj_for_each_container(ctx, o, KC_RUNNING, mem_lim_one);
}

/* ---- probes ---- */

/* Kinds whose pods are meant to keep running (not Jobs and CronJobs). */
static int long_running(const struct kobj *o)
{
	if (!kobj_pod_spec(o, NULL))
		return 0;
	if (!strcmp(o->kind, "Job") || !strcmp(o->kind, "CronJob"))
		return 0;
	if (!strcmp(o->kind, "Pod")) {
		const char *rp = ynode_str(ynode_path(o->root, "spec.restartPolicy"));

		if (rp && strcmp(rp, "Always"))
			return 0;
	}
	return 1;
}

static void probe_missing(const struct rule_ctx *ctx, const struct kobj *o,
			  const struct kcontainer *c, const char *probe, const char *what)
{
	if (ynode_get(c->node, probe))
		return;
	rule_report(ctx, o, c->node, c->jpath, "container '%s' has no %s probe", c->name, what);
}

static void readiness_one(const struct rule_ctx *ctx, const struct kobj *o,
			  const struct kcontainer *c)
{
	probe_missing(ctx, o, c, "readinessProbe", "readiness");
}

static void liveness_one(const struct rule_ctx *ctx, const struct kobj *o,
			 const struct kcontainer *c)
{
	probe_missing(ctx, o, c, "livenessProbe", "liveness");
}

RULE_OBJ(check_readiness_probe)
{
	if (long_running(o))
		kobj_for_each_container(ctx, o, KC_MAIN, readiness_one);
}

RULE_OBJ(check_liveness_probe)
{
	if (long_running(o))
		kobj_for_each_container(ctx, o, KC_MAIN, liveness_one);
}

/* Is port (a name or a number) among the container's ports? -1 when it declares none. */
static int container_has_port(const struct ynode *c, const struct ynode *port)
{
	const struct ynode *ports = ynode_get(c, "ports");
	long long want = 0;
	int numeric = ynode_int(port, &want) == 0;
	const char *name = ynode_str(port);
	size_t i;

	if (!numeric && name) {
		/* "8080" quoted is still a number to the kubelet */
		char *end;
		long long v = strtoll(name, &end, 10);

		if (*name && !*end) {
			numeric = 1;
			want = v;
		}
	}
	if (!ports || ports->kind != YN_SEQ || !ports->n)
		return -1;
	for (i = 0; i < ports->n; i++) {
		const struct ynode *p = ports->kids[i];
		long long cp;

		if (numeric) {
			if (ynode_int(ynode_get(p, "containerPort"), &cp) == 0 && cp == want)
				return 1;
		} else {
			const char *pn = ynode_str(ynode_get(p, "name"));

			if (pn && name && !strcmp(pn, name))
				return 1;
		}
	}
	return 0;
}

static void probe_port_check(const struct rule_ctx *ctx, const struct kobj *o,
			     const struct kcontainer *c, const char *probe)
{
	static const char *const handlers[] = { "httpGet", "tcpSocket", "grpc" };
	const struct ynode *p = ynode_get(c->node, probe);
	size_t i;

	if (!p || p->kind != YN_MAP)
		return;
	for (i = 0; i < sizeof(handlers) / sizeof(*handlers); i++) {
		const struct ynode *h = ynode_get(p, handlers[i]);
		const struct ynode *port = ynode_get(h, "port");
		char jp[RULE_JPATH_MAX];
		long long num;
		int has;

		if (!port || ynode_is_null(port))
			continue;
		has = container_has_port(c->node, port);
		if (has == 1)
			continue;
		jpath_join(jp, c->jpath, ".%s.%s.port", probe, handlers[i]);
		if (ynode_int(port, &num) == 0 || (port->str && strspn(port->str, "0123456789") ==
						   strlen(port->str) && *port->str)) {
			/* Numbers need no declaration: only judge when ports are listed. */
			if (has == 0)
				rule_report(ctx, o, port, jp,
					    "%s of container '%s' uses port %s, which is not among "
					    "the container's ports", probe, c->name, port->str);
		} else {
			rule_report(ctx, o, port, jp,
				    "%s of container '%s' uses the port name '%s', which the "
				    "container does not declare", probe, c->name,
				    port->str ? port->str : "");
		}
	}
}

static void probe_port_one(const struct rule_ctx *ctx, const struct kobj *o,
			   const struct kcontainer *c)
{
	probe_port_check(ctx, o, c, "readinessProbe");
	probe_port_check(ctx, o, c, "livenessProbe");
	probe_port_check(ctx, o, c, "startupProbe");
}

RULE_OBJ(check_probe_port)
{
	kobj_for_each_container(ctx, o, KC_MAIN | KC_SIDECAR, probe_port_one);
}

/* ---- env ---- */

static void duplicate_env_one(const struct rule_ctx *ctx, const struct kobj *o,
			      const struct kcontainer *c)
{
	const struct ynode *env = ynode_get(c->node, "env");
	struct strmap seen = STRMAP_INIT;
	size_t i;

	if (!env || env->kind != YN_SEQ)
		return;
	/* A hash keeps a hostile env list of any length linear. */
	for (i = 0; i < env->n; i++) {
		const struct ynode *nk = ynode_get(env->kids[i], "name");
		const char *name = ynode_str(nk);
		const struct strmap_entry *prev;
		char jp[RULE_JPATH_MAX];

		if (!name)
			continue;
		prev = strmap_get(&seen, name);
		if (!prev) {
			strmap_add(&seen, name, i);
			continue;
		}
		jpath_join(jp, c->jpath, ".env[%zu].name", i);
		rule_report(ctx, o, nk, jp, "container '%s' sets %s twice (env[%zu] and env[%zu])",
			    c->name, name, prev->v[0], i);
	}
	strmap_release(&seen);
}

RULE_OBJ(check_duplicate_env_var)
{
	kobj_for_each_container(ctx, o, KC_ALL, duplicate_env_one);
}

static int contains_ci(const char *s, const char *word)
{
	size_t wl = strlen(word);

	for (; *s; s++)
		if (!strncasecmp(s, word, wl))
			return 1;
	return 0;
}

static int ends_with_ci(const char *s, const char *suffix)
{
	size_t sl = strlen(s), xl = strlen(suffix);

	return sl >= xl && !strcasecmp(s + sl - xl, suffix);
}

/* A variable name that says it holds a secret (not a path or a reference to one). */
static int secret_name(const char *name)
{
	static const char *const words[] = {
		"PASSWORD", "PASSWD", "SECRET", "TOKEN", "API_KEY", "APIKEY",
		"PRIVATE_KEY", "ACCESS_KEY", "CREDENTIAL",
	};
	static const char *const not_values[] = {
		"_FILE", "_PATH", "_DIR", "_NAME", "_REF", "_ENABLED", "_URL",
		"_LENGTH", "_TTL", "_EXPIRY", "_TIMEOUT", "_ID",
	};
	size_t i;

	for (i = 0; i < sizeof(not_values) / sizeof(*not_values); i++)
		if (ends_with_ci(name, not_values[i]))
			return 0;
	for (i = 0; i < sizeof(words) / sizeof(*words); i++)
		if (contains_ci(name, words[i]))
			return 1;
	return 0;
}

/* A literal that could be a secret: not empty, a path, a reference, a flag or a number. */
static int secret_value(const struct ynode *v)
{
	const char *s = ynode_str(v);

	if (!s || !*s || v->stype != YS_STRING)
		return 0;
	if (*s == '/' || !strncmp(s, "$(", 2) || !strncmp(s, "${", 2) || strstr(s, "{{"))
		return 0;
	if (!strcasecmp(s, "true") || !strcasecmp(s, "false") || !strcasecmp(s, "yes") ||
	    !strcasecmp(s, "no") || !strcasecmp(s, "none") || !strcasecmp(s, "null"))
		return 0;
	if (strspn(s, "0123456789") == strlen(s))
		return 0;
	/* Placeholders to fill in, not secrets: <password>, INSERT_..., REPLACE_ME. */
	if ((*s == '<' && s[strlen(s) - 1] == '>') || !strncmp(s, "INSERT_", 7) ||
	    !strncmp(s, "REPLACE", 7) || !strncmp(s, "YOUR_", 5))
		return 0;
	return 1;
}

static void env_secret_one(const struct rule_ctx *ctx, const struct kobj *o,
			   const struct kcontainer *c)
{
	const struct ynode *env = ynode_get(c->node, "env");
	size_t i;

	if (!env || env->kind != YN_SEQ)
		return;
	for (i = 0; i < env->n; i++) {
		const char *name = ynode_str(ynode_get(env->kids[i], "name"));
		const struct ynode *v = ynode_get(env->kids[i], "value");
		char jp[RULE_JPATH_MAX];

		if (!name || !v || !secret_name(name) || !secret_value(v))
			continue;
		jpath_join(jp, c->jpath, ".env[%zu].value", i);
		rule_report(ctx, o, v, jp,
			    "container '%s' sets %s to a literal value in the manifest",
			    c->name, name);
	}
}

RULE_OBJ(check_env_var_secret)
{
	kobj_for_each_container(ctx, o, KC_ALL, env_secret_one);
}

/* ---- names, ports, service accounts ---- */

RULE_OBJ(check_duplicate_container_name)
{
	static const char *const lists[] = { "initContainers", "containers" };
	const char *pj;
	const struct ynode *pod = kobj_pod_spec(o, &pj);
	struct strmap seen = STRMAP_INIT;
	size_t l, i;

	if (!pod)
		return;
	for (l = 0; l < 2; l++) {
		const struct ynode *seq = ynode_get(pod, lists[l]);

		if (!seq || seq->kind != YN_SEQ)
			continue;
		for (i = 0; i < seq->n; i++) {
			const struct ynode *nk = ynode_get(seq->kids[i], "name");
			const char *name = ynode_str(nk);
			char jp[RULE_JPATH_MAX];

			if (!name)
				continue;
			if (!strmap_get(&seen, name)) {
				strmap_put(&seen, name);
				continue;
			}
			jpath_join(jp, pj, ".%s[%zu].name", lists[l], i);
			rule_report(ctx, o, nk, jp, "a container named '%s' appears twice in the pod",
				    name);
		}
	}
	strmap_release(&seen);
}

static void host_port_one(const struct rule_ctx *ctx, const struct kobj *o,
			  const struct kcontainer *c)
{
	const struct ynode *ports = ynode_get(c->node, "ports");
	size_t i;

	if (!ports || ports->kind != YN_SEQ)
		return;
	for (i = 0; i < ports->n; i++) {
		const struct ynode *hp = ynode_get(ports->kids[i], "hostPort");
		char jp[RULE_JPATH_MAX];
		long long v;

		if (!hp || ynode_int(hp, &v) < 0 || v == 0)
			continue;
		jpath_join(jp, c->jpath, ".ports[%zu].hostPort", i);
		rule_report(ctx, o, hp, jp, "container '%s' binds port %lld on the node",
			    c->name, v);
	}
}

RULE_OBJ(check_host_port)
{
	const struct ynode *pod = kobj_pod_spec(o, NULL);

	/* With hostNetwork every port is a host port: host-network says so already. */
	if (!pod || ynode_is_bool(ynode_get(pod, "hostNetwork"), 1))
		return;
	kobj_for_each_container(ctx, o, KC_MAIN | KC_INIT, host_port_one);
}

RULE_OBJ(check_automount_token)
{
	const char *pj;
	const struct ynode *pod = kobj_pod_spec(o, &pj);
	const struct ynode *v;
	char jp[RULE_JPATH_MAX];

	if (!pod)
		return;
	v = ynode_get(pod, "automountServiceAccountToken");
	if (ynode_is_bool(v, 0))
		return;
	if (v) {
		jpath_join(jp, pj, ".automountServiceAccountToken");
		rule_report(ctx, o, v, jp, "the pod mounts its service account token");
	} else {
		rule_report(ctx, o, kobj_pod_spec_key(o), pj,
			    "the pod mounts its service account token (automountServiceAccountToken "
			    "is not false)");
	}
}

RULE_OBJ(check_deprecated_sa_field)
{
	const char *pj;
	const struct ynode *pod = kobj_pod_spec(o, &pj);
	const struct ynode *k = ynode_get_key(pod, "serviceAccount");
	char jp[RULE_JPATH_MAX];

	if (!k)
		return;
	jpath_join(jp, pj, ".serviceAccount");
	rule_report(ctx, o, k, jp, "the pod spec uses the deprecated field serviceAccount");
}

/* ---- workloads ---- */

RULE_OBJ(check_mismatching_selector)
{
	static const char *const kinds[] = {
		"Deployment", "StatefulSet", "DaemonSet", "ReplicaSet", "Job",
		"ReplicationController",
	};
	const struct ynode *sel, *labels;
	int plain, known = 0;
	size_t i;

	for (i = 0; i < sizeof(kinds) / sizeof(*kinds); i++)
		if (o->kind && !strcmp(o->kind, kinds[i]))
			known = 1;
	if (!known || !kobj_pod_spec(o, NULL))
		return;
	plain = !strcmp(o->kind, "ReplicationController");
	sel = ynode_path(o->root, "spec.selector");
	if (!sel || sel->kind != YN_MAP || selector_is_empty(sel, plain))
		return;	/* defaulted from the template, or the schema's business */
	labels = kobj_pod_labels(o);
	if (selector_matches(sel, labels, plain))
		return;
	rule_report(ctx, o, sel, ".spec.selector",
		    "the selector of %s does not match its pod template labels%s",
		    o->id ? o->id : o->kind,
		    labels ? "" : " (the template has no labels)");
}

RULE_OBJ(check_single_replica)
{
	const struct ynode *r;
	long long n;

	if (!kobj_is(o, "apps", "Deployment") && !kobj_is(o, "apps", "StatefulSet"))
		return;
	r = ynode_path(o->root, "spec.replicas");
	if (!r || ynode_int(r, &n) < 0 || n != 1)
		return;
	rule_report(ctx, o, r, ".spec.replicas", "%s runs a single replica", o->kind);
}

/* ---- ports, registries, schedules ---- */

static void ports_each(const struct rule_ctx *ctx, const struct kobj *o,
		       const struct kcontainer *c, int ssh)
{
	const struct ynode *ports = ynode_get(c->node, "ports");
	size_t i;

	if (!ports || ports->kind != YN_SEQ)
		return;
	for (i = 0; i < ports->n; i++) {
		const struct ynode *cp = ynode_get(ports->kids[i], "containerPort");
		const char *proto = ynode_str(ynode_get(ports->kids[i], "protocol"));
		char jp[RULE_JPATH_MAX];
		long long v;

		if (!cp || ynode_int(cp, &v) < 0)
			continue;
		jpath_join(jp, c->jpath, ".ports[%zu].containerPort", i);
		if (ssh && v == 22 && (!proto || !strcmp(proto, "TCP")))
			rule_report(ctx, o, cp, jp, "container '%s' exposes port 22 (SSH)", c->name);
		else if (!ssh && v > 0 && v < 1024)
			rule_report(ctx, o, cp, jp,
				    "container '%s' listens on the privileged port %lld", c->name, v);
	}
}

static void ssh_one(const struct rule_ctx *ctx, const struct kobj *o, const struct kcontainer *c)
{
	ports_each(ctx, o, c, 1);
}

static void privileged_port_one(const struct rule_ctx *ctx, const struct kobj *o,
				const struct kcontainer *c)
{
	ports_each(ctx, o, c, 0);
}

RULE_OBJ(check_ssh_port)
{
	kobj_for_each_container(ctx, o, KC_MAIN | KC_INIT, ssh_one);
}

RULE_OBJ(check_privileged_ports)
{
	const struct ynode *pod = kobj_pod_spec(o, NULL);

	if (!pod || ynode_is_bool(ynode_get(pod, "hostNetwork"), 1))
		return;	/* host-network covers pods on the node's ports */
	kobj_for_each_container(ctx, o, KC_MAIN | KC_INIT, privileged_port_one);
}

static void frozen_registry_one(const struct rule_ctx *ctx, const struct kobj *o,
				const struct kcontainer *c)
{
	const struct ynode *img = ynode_get(c->node, "image");
	const char *image = ynode_str(img);
	char jp[RULE_JPATH_MAX];

	if (!image || strncmp(image, "k8s.gcr.io/", 11))
		return;
	jpath_join(jp, c->jpath, ".image");
	rule_report(ctx, o, img, jp,
		    "container '%s' pulls from k8s.gcr.io, which is frozen: use registry.k8s.io/%s",
		    c->name, image + 11);
}

RULE_OBJ(check_frozen_registry)
{
	kobj_for_each_container(ctx, o, KC_ALL, frozen_registry_one);
}

RULE_OBJ(check_cronjob_deadline)
{
	const struct ynode *spec;

	if (!kobj_is(o, "batch", "CronJob"))
		return;
	spec = ynode_get(o->root, "spec");
	if (!spec || spec->kind != YN_MAP || ynode_get(spec, "startingDeadlineSeconds"))
		return;
	rule_report(ctx, o, ynode_key_or(o->root, "spec"), ".spec",
		    "the CronJob sets no startingDeadlineSeconds");
}
