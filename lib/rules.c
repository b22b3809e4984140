/*
 * rules.c - the table of lint rules, reporting with annotation ignores,
 * and the helpers the rule files share (see rules-impl.h).
 */
#include "rules.h"
#include "rules-impl.h"
#include "xalloc.h"

#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define IGNORE_ANNOTATION "tidegate.io/ignore"
#define IGNORE_REASON_ANNOTATION "tidegate.io/ignore-reason"
#define KL_IGNORE_PREFIX "ignore-check.kube-linter.io/"
#define KL_IGNORE_ALL "kube-linter.io/ignore-all"

/*
 * Keep in step with what the RULE_SET checks, rule_report()'s ignores and
 * kobj_pod_spec()/kobj_pod_labels() read. t-lint compares a run on whole
 * trees with a run on these.
 */
static const struct yprune keep_port[] = {
	YPRUNE("name", NULL), YPRUNE_END,
};
static const struct yprune keep_container[] = {
	YPRUNE("ports", keep_port), YPRUNE_END,
};
static const struct yprune keep_pod_spec[] = {
	YPRUNE("containers", keep_container),
	YPRUNE("initContainers", keep_container),
	YPRUNE("ephemeralContainers", keep_container),
	YPRUNE_END,
};
static const struct yprune keep_labels[] = {
	YPRUNE("labels", NULL), YPRUNE_END,
};
static const struct yprune keep_template[] = {
	YPRUNE("metadata", keep_labels), YPRUNE("spec", keep_pod_spec), YPRUNE_END,
};
static const struct yprune keep_job_spec[] = {
	YPRUNE("template", keep_template), YPRUNE_END,
};
static const struct yprune keep_job_template[] = {
	YPRUNE("spec", keep_job_spec), YPRUNE_END,
};
/* names, kinds and places live in struct kobj; ignores read the annotations */
static const struct yprune keep_meta[] = {
	YPRUNE("annotations", NULL), YPRUNE_END,
};
static const struct yprune keep_pod_meta[] = {
	YPRUNE("annotations", NULL), YPRUNE("labels", NULL), YPRUNE_END,
};
static const struct yprune keep_service_spec[] = {
	YPRUNE("selector", NULL), YPRUNE("type", NULL), YPRUNE("ports", NULL), YPRUNE_END,
};
static const struct yprune keep_hpa_spec[] = {
	YPRUNE("scaleTargetRef", NULL), YPRUNE_END,
};
static const struct yprune keep_workload_spec[] = {
	YPRUNE("replicas", NULL), YPRUNE("template", keep_template),
	YPRUNE("jobTemplate", keep_job_template), YPRUNE_END,
};
static const struct yprune keep_service[] = {
	YPRUNE("metadata", keep_meta),
	YPRUNE("spec", keep_service_spec), YPRUNE_END,
};
static const struct yprune keep_hpa[] = {
	YPRUNE("metadata", keep_meta),
	YPRUNE("spec", keep_hpa_spec), YPRUNE_END,
};
static const struct yprune keep_pod[] = {
	YPRUNE("metadata", keep_pod_meta),
	YPRUNE("spec", keep_pod_spec), YPRUNE_END,
};
static const struct yprune keep_other[] = {
	YPRUNE("metadata", keep_meta),
	YPRUNE("spec", keep_workload_spec), YPRUNE("template", keep_template), YPRUNE_END,
};

const struct yprune *rules_set_keep(const struct kobj *o)
{
	if (kobj_is(o, "", "Service"))
		return keep_service;
	if (kobj_is(o, "autoscaling", "HorizontalPodAutoscaler"))
		return keep_hpa;
	if (kobj_is(o, "", "Pod"))
		return keep_pod;
	return keep_other;
}

/* Sorted by id (t-rules checks it). */
static const struct rule rule_table[] = {
	{ "automount-service-account-token", SEV_INFO,
	  "a pod mounts its service account token without saying it needs one",
	  "Set automountServiceAccountToken: false in the pod spec when the workload does not "
	  "call the Kubernetes API (a ServiceAccount with automountServiceAccountToken: false "
	  "does the same for every pod using it).",
	  "automount-service-account-token", check_automount_token, NULL },
	{ "cluster-admin-role-binding", SEV_ERROR,
	  "a RoleBinding or ClusterRoleBinding grants the cluster-admin role",
	  "Bind a role that grants only the resources and verbs the subject needs; if full "
	  "control is really intended, say why with tidegate.io/ignore and tidegate.io/ignore-reason.",
	  "cluster-admin-role-binding", check_cluster_admin_binding, NULL },
	{ "container-runtime-sock", SEV_ERROR,
	  "a hostPath volume mounts the container runtime socket (docker, containerd, CRI-O)",
	  "Remove the hostPath volume and its volumeMounts: whoever reaches the runtime socket "
	  "controls every container on the node, and so the node.",
	  "container-runtime-sock", check_runtime_sock, NULL },
	{ "cronjob-starting-deadline", SEV_INFO,
	  "a CronJob sets no startingDeadlineSeconds",
	  "Set spec.startingDeadlineSeconds: without it a CronJob that missed more than 100 "
	  "schedules (a long controller outage, a suspend) stops being scheduled at all.",
	  NULL, check_cronjob_deadline, NULL },
	{ "dangerous-capabilities", SEV_ERROR,
	  "a container adds a dangerous Linux capability (SYS_ADMIN, NET_ADMIN, ALL, ...)",
	  "Remove the capability from securityContext.capabilities.add; add only the narrow "
	  "capabilities the program needs (for example NET_BIND_SERVICE).",
	  NULL, check_dangerous_caps, NULL },
	{ "dangling-service", SEV_WARNING,
	  "a Service selects no pods of any workload in the same namespace",
	  "Make spec.selector match the pod template labels of a workload in the Service's "
	  "namespace. Only reported when the set holds workloads in that namespace and nothing "
	  "that may create pods unseen (custom resources); a Service fronting pods made "
	  "elsewhere can be ignored with tidegate.io/ignore.",
	  "dangling-service", NULL, check_dangling_service },
	{ "deprecated-api", SEV_WARNING,
	  "an object uses an apiVersion deprecated in the target Kubernetes version",
	  "Move the object to the replacement apiVersion named in the message before the "
	  "version that removes this one.",
	  NULL, check_deprecated_api, NULL },
	{ "deprecated-image-registry", SEV_WARNING,
	  "a container image comes from the frozen k8s.gcr.io registry",
	  "Pull the same image from registry.k8s.io: k8s.gcr.io receives no new images and "
	  "may stop serving.",
	  NULL, check_frozen_registry, NULL },
	{ "deprecated-service-account-field", SEV_WARNING,
	  "a pod spec uses the deprecated serviceAccount field",
	  "Use serviceAccountName instead of serviceAccount.",
	  "deprecated-service-account-field", check_deprecated_sa_field, NULL },
	{ "drop-net-raw-capability", SEV_INFO,
	  "a container does not drop the NET_RAW capability",
	  "Add NET_RAW (or ALL) to securityContext.capabilities.drop: raw sockets allow "
	  "spoofing on the pod network and are rarely needed.",
	  "drop-net-raw-capability", check_drop_net_raw, NULL },
	{ "duplicate-container-name", SEV_ERROR,
	  "two containers of a pod (containers and initContainers together) share a name",
	  "Give every container and init container of the pod a distinct name.",
	  NULL, check_duplicate_container_name, NULL },
	{ "duplicate-env-var", SEV_ERROR,
	  "a container sets the same environment variable twice",
	  "Keep one entry per variable name: the last one silently wins, and server-side "
	  "apply refuses duplicate keys in env.",
	  "duplicate-env-var", check_duplicate_env_var, NULL },
	{ "env-var-secret", SEV_WARNING,
	  "a container sets a secret-looking environment variable to a literal value",
	  "Put the value in a Secret and use valueFrom.secretKeyRef (or mount it as a file); "
	  "values in manifests end up in git history.",
	  "env-var-secret", check_env_var_secret, NULL },
	{ "host-ipc", SEV_ERROR,
	  "a pod shares the host's IPC namespace (hostIPC: true)",
	  "Remove hostIPC or set it to false.",
	  "host-ipc", check_host_ipc, NULL },
	{ "host-network", SEV_WARNING,
	  "a pod uses the host's network namespace (hostNetwork: true)",
	  "Remove hostNetwork or set it to false; expose the pod through a Service instead.",
	  "host-network", check_host_network, NULL },
	{ "host-pid", SEV_ERROR,
	  "a pod shares the host's process namespace (hostPID: true)",
	  "Remove hostPID or set it to false.",
	  "host-pid", check_host_pid, NULL },
	{ "host-port", SEV_WARNING,
	  "a container binds a port on the node (hostPort)",
	  "Remove hostPort and reach the pod through a Service; a hostPort also limits the "
	  "pod to one per node.",
	  NULL, check_host_port, NULL },
	{ "ignore-unknown-rule", SEV_INFO,
	  "a tidegate.io/ignore annotation names a rule that does not exist",
	  "Fix the rule id in tidegate.io/ignore (tidegate lint --list-rules lists them).",
	  NULL, check_ignore_unknown_rule, NULL },
	{ "ignore-without-reason", SEV_INFO,
	  "an ignore annotation gives no reason",
	  "Say why the finding does not apply in tidegate.io/ignore-reason (or as the value "
	  "of the ignore-check.kube-linter.io/<check> annotation).",
	  NULL, check_ignore_without_reason, NULL },
	{ "image-pull-policy-digest", SEV_INFO,
	  "a container pinned by digest also sets imagePullPolicy: Always",
	  "Drop imagePullPolicy: Always (or use IfNotPresent): an image pinned by digest "
	  "never changes, so pulling it again only adds a registry dependency.",
	  NULL, check_image_pull_policy_digest, NULL },
	{ "ingress-class-annotation", SEV_INFO,
	  "an Ingress names its class with the deprecated kubernetes.io/ingress.class annotation",
	  "Set spec.ingressClassName instead of the kubernetes.io/ingress.class annotation.",
	  NULL, check_ingress_class_annotation, NULL },
	{ "ingress-no-tls", SEV_INFO,
	  "an Ingress has no tls section and serves plain HTTP",
	  "Add spec.tls with a certificate Secret for the Ingress hosts.",
	  NULL, check_ingress_tls, NULL },
	{ "latest-tag", SEV_WARNING,
	  "a container image has no tag or the tag latest",
	  "Pin the image to a version tag or, better, a digest (image@sha256:...), so every "
	  "node runs the same image and a rollout can be undone.",
	  "latest-tag", check_latest_tag, NULL },
	{ "mismatching-selector", SEV_ERROR,
	  "a workload's selector does not match its pod template labels",
	  "Make spec.selector match spec.template.metadata.labels: the API refuses the "
	  "object otherwise (and the controller could not find its own pods).",
	  "mismatching-selector", check_mismatching_selector, NULL },
	{ "missing-namespace", SEV_ERROR,
	  "a namespaced object names no namespace (when the configuration requires one)",
	  "Set metadata.namespace; without it the object lands in whatever namespace the "
	  "applier defaults to.",
	  NULL, check_missing_namespace, NULL },
	{ "no-liveness-probe", SEV_INFO,
	  "a long-running container has no liveness probe",
	  "Add a livenessProbe that fails only when the process is stuck beyond recovery, so "
	  "the kubelet restarts it.",
	  "no-liveness-probe", check_liveness_probe, NULL },
	{ "no-read-only-root-fs", SEV_WARNING,
	  "a container's root filesystem is writable",
	  "Set securityContext.readOnlyRootFilesystem: true and mount an emptyDir where the "
	  "program must write.",
	  "no-read-only-root-fs", check_read_only_root_fs, NULL },
	{ "no-readiness-probe", SEV_WARNING,
	  "a long-running container has no readiness probe",
	  "Add a readinessProbe so traffic reaches the pod only once it can serve and a "
	  "broken rollout stops.",
	  "no-readiness-probe", check_readiness_probe, NULL },
	{ "nodeport-service", SEV_WARNING,
	  "a Service opens a port on every node (type NodePort, or a fixed nodePort)",
	  "Use a ClusterIP Service behind an Ingress or Gateway, or a LoadBalancer, instead of "
	  "opening ports on the nodes.",
	  "exposed-services", check_nodeport_service, NULL },
	{ "pdb-max-unavailable", SEV_ERROR,
	  "a PodDisruptionBudget allows no pod to be unavailable (maxUnavailable 0)",
	  "Set maxUnavailable to at least 1: with 0 no pod can ever be evicted, and node "
	  "drains and cluster upgrades hang.",
	  "pdb-max-unavailable", check_pdb_max_unavailable, NULL },
	{ "pdb-min-available", SEV_ERROR,
	  "a PodDisruptionBudget requires every pod to stay available (minAvailable 100%)",
	  "Lower minAvailable below 100% (or below the replica count): otherwise no pod can "
	  "ever be evicted, and node drains and cluster upgrades hang.",
	  "pdb-min-available", check_pdb_min_available, NULL },
	{ "plaintext-secret", SEV_ERROR,
	  "a Secret with data or stringData is committed in plain text",
	  "Keep secret values out of git: commit a SealedSecret, a SOPS-encrypted file, or an "
	  "ExternalSecret, and rotate any value that was pushed.",
	  NULL, check_plaintext_secret, NULL },
	{ "privilege-escalation-container", SEV_WARNING,
	  "a container does not set allowPrivilegeEscalation: false",
	  "Set securityContext.allowPrivilegeEscalation: false so setuid binaries cannot raise "
	  "the process's privileges.",
	  "privilege-escalation-container", check_privilege_escalation, NULL },
	{ "privileged-container", SEV_ERROR,
	  "a container runs privileged",
	  "Remove securityContext.privileged: a privileged container is root on the node. Add "
	  "only the capabilities it needs.",
	  "privileged-container", check_privileged, NULL },
	{ "privileged-ports", SEV_INFO,
	  "a container listens on a privileged port (below 1024)",
	  "Listen on a port above 1023 and map it in the Service (port: 80, targetPort: 8080): "
	  "binding a low port needs root or NET_BIND_SERVICE.",
	  "privileged-ports", check_privileged_ports, NULL },
	{ "probe-port", SEV_WARNING,
	  "a probe points at a port the container does not declare",
	  "Point the probe at a port in the container's ports (by name or number); a named "
	  "port that does not exist makes the probe fail forever.",
	  "probe-port", check_probe_port, NULL },
	{ "removed-api", SEV_ERROR,
	  "an object uses an apiVersion the target Kubernetes version no longer serves",
	  "Move the object to the replacement apiVersion named in the message; the API "
	  "server refuses the old one.",
	  NULL, check_removed_api, NULL },
	{ "replicas-with-hpa", SEV_WARNING,
	  "a workload sets spec.replicas while a HorizontalPodAutoscaler in the set scales it",
	  "Remove spec.replicas from the workload: the autoscaler owns the count, and every "
	  "apply of the manifest would reset it (to the last value in git).",
	  NULL, NULL, check_replicas_with_hpa },
	{ "run-as-non-root", SEV_WARNING,
	  "a container may run as root (no runAsNonRoot: true or non-zero runAsUser)",
	  "Set runAsNonRoot: true (and a non-zero runAsUser) in the pod or container "
	  "securityContext.",
	  "run-as-non-root", check_run_as_non_root, NULL },
	{ "sensitive-host-mounts", SEV_ERROR,
	  "a hostPath volume mounts a sensitive host directory (/, /etc, /proc, /var/lib/kubelet, ...)",
	  "Remove the hostPath volume; use a ConfigMap, Secret, emptyDir or a PersistentVolume "
	  "instead of the node's own files.",
	  "sensitive-host-mounts", check_sensitive_host_mounts, NULL },
	{ "service-target-port", SEV_WARNING,
	  "a Service's named targetPort is not a port name of the pods it selects",
	  "Name the port in the containers' ports (ports[].name) or use the port number: a "
	  "Service whose targetPort names no port of its pods sends traffic nowhere. Judged "
	  "only when every pod the Service may select is in the set.",
	  NULL, NULL, check_service_target_port },
	{ "single-replica", SEV_INFO,
	  "a Deployment or StatefulSet runs a single replica",
	  "Run at least 2 replicas (with a PodDisruptionBudget) so a node drain or a crash "
	  "does not take the service down.",
	  NULL, check_single_replica, NULL },
	{ "ssh-port", SEV_WARNING,
	  "a container exposes port 22 (SSH)",
	  "Do not run an SSH server in a container: use kubectl exec or debug containers; if "
	  "the port is not SSH, move it.",
	  "ssh-port", check_ssh_port, NULL },
	{ "unsafe-proc-mount", SEV_ERROR,
	  "a container mounts /proc unmasked (procMount: Unmasked)",
	  "Remove procMount or set it to Default: an unmasked /proc exposes the host's kernel "
	  "interfaces that the runtime hides.",
	  "unsafe-proc-mount", check_unsafe_proc_mount, NULL },
	{ "unsafe-sysctls", SEV_WARNING,
	  "a pod sets a sysctl outside Kubernetes' safe set",
	  "Remove the sysctl or move the workload to nodes whose kubelet allows it "
	  "(--allowed-unsafe-sysctls); other nodes refuse the pod.",
	  "unsafe-sysctls", check_unsafe_sysctls, NULL },
	{ "unset-cpu-limits", SEV_INFO,
	  "a container sets no CPU limit",
	  "Set resources.limits.cpu if the container must not take CPU from its neighbours "
	  "(many teams leave it unset on purpose: then switch this rule off).",
	  "unset-cpu-requirements", check_cpu_limits, NULL },
	{ "unset-cpu-requests", SEV_WARNING,
	  "a container sets no CPU request",
	  "Set resources.requests.cpu so the scheduler reserves CPU for the container.",
	  "unset-cpu-requirements", check_cpu_requests, NULL },
	{ "unset-memory-limits", SEV_WARNING,
	  "a container sets no memory limit",
	  "Set resources.limits.memory so a leak kills this container, not its neighbours.",
	  "unset-memory-requirements", check_memory_limits, NULL },
	{ "unset-memory-requests", SEV_WARNING,
	  "a container sets no memory request",
	  "Set resources.requests.memory so the scheduler reserves memory for the container.",
	  "unset-memory-requirements", check_memory_requests, NULL },
	{ "wildcard-in-rules", SEV_WARNING,
	  "a Role or ClusterRole grants \"*\" verbs or resources",
	  "List the verbs and resources the subject needs: a wildcard also grants whatever "
	  "resources and verbs the API gains later.",
	  "wildcard-in-rules", check_wildcard_in_rules, NULL },
	{ "writable-host-mount", SEV_INFO,
	  "a container mounts a hostPath volume writable",
	  "Set readOnly: true on the volumeMount unless the container must write to the node.",
	  "writable-host-mount", check_writable_host_mount, NULL },
};

#define NRULES (sizeof(rule_table) / sizeof(rule_table[0]))

const struct rule *rules_all(size_t *n)
{
	*n = NRULES;
	return rule_table;
}

const struct rule *rule_find(const char *id)
{
	size_t lo = 0, hi = NRULES;

	if (!id)
		return NULL;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		int c = strcmp(id, rule_table[mid].id);

		if (!c)
			return &rule_table[mid];
		if (c < 0)
			hi = mid;
		else
			lo = mid + 1;
	}
	return NULL;
}

/* ---- ignores ---- */

/* Other kube-linter check names whose ignore-check annotation also silences a rule. */
static const struct {
	const char *id, *kube_linter;
} kl_aliases[] = {
	{ "container-runtime-sock", "docker-sock" },
	{ "deprecated-api", "no-extensions-v1beta" },
	{ "no-read-only-root-fs", "read-only-root-fs" },
	{ "privilege-escalation-container", "privilege-escalation" },
	{ "probe-port", "liveness-port" },
	{ "probe-port", "readiness-port" },
	{ "probe-port", "startup-port" },
	{ "removed-api", "no-extensions-v1beta" },
};

const char *rule_kube_linter_alias(const char *id, size_t i)
{
	size_t k, seen = 0;

	for (k = 0; k < sizeof(kl_aliases) / sizeof(*kl_aliases); k++)
		if (!strcmp(kl_aliases[k].id, id) && seen++ == i)
			return kl_aliases[k].kube_linter;
	return NULL;
}

/* The value node of ignore-check.kube-linter.io/<name>, or NULL. */
static const struct ynode *kl_ignore(const struct ynode *ann, const char *name)
{
	char key[256];

	snprintf(key, sizeof(key), "%s%s", KL_IGNORE_PREFIX, name);
	return ynode_get(ann, key);
}

/*
 * The next item of a comma-separated list (spaces around items allowed):
 * its start, with *len its length; NULL at the end. *p moves past it.
 */
static const char *list_next(const char **p, size_t *len)
{
	const char *s, *e;

	for (;;) {
		while (**p == ' ' || **p == '\t' || **p == ',')
			(*p)++;
		if (!**p)
			return NULL;
		s = *p;
		while (**p && **p != ',')
			(*p)++;
		e = *p;
		while (e > s && (e[-1] == ' ' || e[-1] == '\t'))
			e--;
		if (e > s) {
			*len = (size_t)(e - s);
			return s;
		}
	}
}

/* Does the comma-separated list contain word? */
static int list_has(const char *list, const char *word)
{
	size_t wl = strlen(word), len;
	const char *p = list, *s;

	while ((s = list_next(&p, &len)))
		if (len == wl && !memcmp(s, word, wl))
			return 1;
	return 0;
}

static const char *nonempty(const char *s)
{
	return s && *s ? s : NULL;
}

/*
 * Is rule r ignored on object o? Sets *reason to the reason given
 * (NULL when none).
 */
static int rule_ignored(const struct rule *r, const struct kobj *o, const char **reason)
{
	const struct ynode *ann = ynode_path(o->root, "metadata.annotations");
	const char *v;

	*reason = NULL;
	if (!ann || ann->kind != YN_MAP)
		return 0;
	v = ynode_str(ynode_get(ann, IGNORE_ANNOTATION));
	if (v && list_has(v, r->id)) {
		*reason = nonempty(ynode_str(ynode_get(ann, IGNORE_REASON_ANNOTATION)));
		return 1;
	}
	if (r->kube_linter || rule_kube_linter_alias(r->id, 0)) {
		const struct ynode *n = r->kube_linter ? kl_ignore(ann, r->kube_linter) : NULL;
		const char *alias;
		size_t i;

		for (i = 0; !n && (alias = rule_kube_linter_alias(r->id, i)); i++)
			n = kl_ignore(ann, alias);
		if (!n)
			n = ynode_get(ann, KL_IGNORE_ALL);
		if (n) {
			*reason = nonempty(ynode_str(n));
			return 1;
		}
	}
	return 0;
}

void rule_report(const struct rule_ctx *ctx, const struct kobj *o,
		 const struct ynode *at, const char *jpath, const char *fmt, ...)
{
	const struct rule *r = ctx->rule;
	struct findings *fs = ctx->fs;
	size_t max = fs->max ? fs->max : 10000;
	const char *reason;
	struct finding *f;
	int ignored;
	va_list ap;
	char *msg;
	unsigned line = at ? at->line : o->line, col = at ? at->col : o->col;

	if (ctx->sev == SEV_OFF)
		return;
	ignored = rule_ignored(r, o, &reason);
	if (ignored && fs->n >= max) {
		fs->dropped++;	/* must not count towards the verdict */
		return;
	}
	va_start(ap, fmt);
	if (vasprintf(&msg, fmt, ap) < 0)
		msg = NULL;
	va_end(ap);
	f = findings_add(fs, o->path, line, col, ctx->sev, r->id, r->hint, "%s",
			 msg ? msg : "(message lost: out of memory)");
	free(msg);
	if (!f)
		return;
	if (jpath)
		f->jpath = xstrdup(jpath);
	if (o->id)
		f->object = xstrdup(o->id);
	if (ignored)
		finding_ignore(fs, f, reason);
}

RULE_OBJ(check_ignore_without_reason)
{
	const struct ynode *ann = ynode_path(o->root, "metadata.annotations");
	size_t i;

	if (!ann || ann->kind != YN_MAP)
		return;
	for (i = 0; i < ann->n; i++) {
		const struct ynode *k = ann->kids[2 * i], *v = ann->kids[2 * i + 1];
		const char *ks = ynode_str(k);
		char jp[RULE_JPATH_MAX];

		if (!ks)
			continue;
		jpath_key(jp, ".metadata.annotations", ks);
		if (!strcmp(ks, IGNORE_ANNOTATION)) {
			if (!nonempty(ynode_str(ynode_get(ann, IGNORE_REASON_ANNOTATION))))
				rule_report(ctx, o, k, jp,
					    "%s has no %s: say why the rules do not apply",
					    IGNORE_ANNOTATION, IGNORE_REASON_ANNOTATION);
		} else if ((!strncmp(ks, KL_IGNORE_PREFIX, strlen(KL_IGNORE_PREFIX)) ||
			    !strcmp(ks, KL_IGNORE_ALL)) && !nonempty(ynode_str(v))) {
			rule_report(ctx, o, k, jp, "%s gives no reason", ks);
		}
	}
}

RULE_OBJ(check_ignore_unknown_rule)
{
	const struct ynode *ann = ynode_path(o->root, "metadata.annotations");
	const struct ynode *v = ynode_get(ann, IGNORE_ANNOTATION);
	const char *p = ynode_str(v);

	const char *s;
	size_t len;

	if (!p)
		return;
	while ((s = list_next(&p, &len))) {
		char word[128];

		snprintf(word, sizeof(word), "%.*s", (int)len, s);
		if (!rule_find(word))
			rule_report(ctx, o, v, ".metadata.annotations[\"" IGNORE_ANNOTATION "\"]",
				    "%s names '%s', which is not a lint rule",
				    IGNORE_ANNOTATION, word);
	}
}

/* ---- pod specs and containers ---- */

int kobj_is(const struct kobj *o, const char *group, const char *kind)
{
	return o->kind && !strcmp(o->kind, kind) &&
	       (!group || (o->group && !strcmp(o->group, group)));
}

static const char *const template_kinds[] = {
	"Deployment", "StatefulSet", "DaemonSet", "ReplicaSet",
	"ReplicationController", "Job",
};

static const struct ynode *find_pod_spec(const struct kobj *o, const char **jpath_out);

/*
 * Every pod rule asks for the pod spec of every object, so the answer is
 * remembered in the object (a memo: the object itself does not change).
 */
const struct ynode *kobj_pod_spec(const struct kobj *o, const char **jpath_out)
{
	struct kobj *memo = (struct kobj *)o;

	if (!o->pod_spec_known) {
		memo->pod_spec = find_pod_spec(o, &memo->pod_spec_jpath);
		memo->pod_spec_known = 1;
	}
	if (jpath_out)
		*jpath_out = o->pod_spec ? o->pod_spec_jpath : NULL;
	return o->pod_spec;
}

static const struct ynode *find_pod_spec(const struct kobj *o, const char **jpath_out)
{
	const struct ynode *spec;
	size_t i;

	if (jpath_out)
		*jpath_out = NULL;
	if (!o->kind || !o->root)
		return NULL;
	if (!strcmp(o->kind, "Pod")) {
		spec = ynode_get(o->root, "spec");
		if (jpath_out)
			*jpath_out = ".spec";
		return spec && spec->kind == YN_MAP ? spec : NULL;
	}
	if (!strcmp(o->kind, "CronJob")) {
		spec = ynode_path(o->root, "spec.jobTemplate.spec.template.spec");
		if (jpath_out)
			*jpath_out = ".spec.jobTemplate.spec.template.spec";
		return spec && spec->kind == YN_MAP ? spec : NULL;
	}
	if (!strcmp(o->kind, "PodTemplate")) {
		spec = ynode_path(o->root, "template.spec");
		if (jpath_out)
			*jpath_out = ".template.spec";
		return spec && spec->kind == YN_MAP ? spec : NULL;
	}
	spec = ynode_path(o->root, "spec.template.spec");
	if (!spec || spec->kind != YN_MAP)
		return NULL;
	for (i = 0; i < sizeof(template_kinds) / sizeof(*template_kinds); i++)
		if (!strcmp(o->kind, template_kinds[i]))
			goto found;
	/* Other kinds with a pod template (Argo Rollouts, OpenShift DeploymentConfig, ...). */
	{
		const struct ynode *c = ynode_get(spec, "containers");

		if (!c || c->kind != YN_SEQ)
			return NULL;
	}
found:
	if (jpath_out)
		*jpath_out = ".spec.template.spec";
	return spec;
}

const struct ynode *kobj_pod_labels(const struct kobj *o)
{
	const struct ynode *l;

	if (!kobj_pod_spec(o, NULL))
		return NULL;
	if (!strcmp(o->kind, "Pod"))
		l = ynode_path(o->root, "metadata.labels");
	else if (!strcmp(o->kind, "CronJob"))
		l = ynode_path(o->root, "spec.jobTemplate.spec.template.metadata.labels");
	else if (!strcmp(o->kind, "PodTemplate"))
		l = ynode_path(o->root, "template.metadata.labels");
	else
		l = ynode_path(o->root, "spec.template.metadata.labels");
	return l && l->kind == YN_MAP ? l : NULL;
}

const struct ynode *kobj_pod_spec_key(const struct kobj *o)
{
	const struct ynode *parent, *k;

	if (!kobj_pod_spec(o, NULL))
		return NULL;
	if (!strcmp(o->kind, "Pod"))
		parent = o->root;
	else if (!strcmp(o->kind, "CronJob"))
		parent = ynode_path(o->root, "spec.jobTemplate.spec.template");
	else if (!strcmp(o->kind, "PodTemplate"))
		parent = ynode_get(o->root, "template");
	else
		parent = ynode_path(o->root, "spec.template");
	k = ynode_get_key(parent, "spec");
	return k ? k : kobj_pod_spec(o, NULL);
}

int kobj_is_workload(const struct kobj *o)
{
	return kobj_pod_spec(o, NULL) != NULL;
}

/* pod_jpath + "." + list + "[i]" into out (RULE_JPATH_MAX), as jpath_join would. */
static void container_jpath(char *out, const char *pod_jpath, const char *list, size_t i)
{
	size_t lp = pod_jpath ? strlen(pod_jpath) : 0, ll = strlen(list), n, ln;
	char num[24];
	size_t k = sizeof(num) - 1;

	num[k] = '\0';
	do {
		num[--k] = (char)('0' + i % 10);
		i /= 10;
	} while (i);
	ln = sizeof(num) - 1 - k;
	if (lp + 1 + ll + 2 + ln >= RULE_JPATH_MAX) {
		jpath_join(out, pod_jpath, ".%s[%s]", list, num + k);
		return;
	}
	memcpy(out, pod_jpath ? pod_jpath : "", lp);
	n = lp;
	out[n++] = '.';
	memcpy(out + n, list, ll);
	n += ll;
	out[n++] = '[';
	memcpy(out + n, num + k, ln);
	n += ln;
	out[n++] = ']';
	out[n] = '\0';
}

static void walk_list(const struct rule_ctx *ctx, const struct kobj *o,
		      const struct ynode *pod, const char *pod_jpath,
		      const char *list, unsigned flags, kcontainer_fn fn)
{
	const struct ynode *seq = ynode_get(pod, list);
	size_t i;

	if (!seq || seq->kind != YN_SEQ)
		return;
	for (i = 0; i < seq->n; i++) {
		const struct ynode *c = seq->kids[i];
		struct kcontainer kc;
		const char *rp;

		if (!c || c->kind != YN_MAP)
			continue;
		memset(&kc, 0, sizeof(kc));
		kc.node = c;
		kc.pod = pod;
		kc.pod_jpath = pod_jpath;
		kc.list = list;
		kc.index = i;
		rp = ynode_str(ynode_get(c, "restartPolicy"));
		kc.sidecar = !strcmp(list, "initContainers") && rp && !strcmp(rp, "Always");
		if ((flags & KC_SIDECAR) && !(flags & KC_INIT) &&
		    !strcmp(list, "initContainers") && !kc.sidecar)
			continue;
		kc.name = ynode_str(ynode_get(c, "name"));
		if (!kc.name)
			kc.name = "(unnamed)";
		container_jpath(kc.jpath, pod_jpath, list, i);
		fn(ctx, o, &kc);
	}
}

void kobj_for_each_container(const struct rule_ctx *ctx, const struct kobj *o,
			     unsigned flags, kcontainer_fn fn)
{
	const char *pj;
	const struct ynode *pod = kobj_pod_spec(o, &pj);

	if (!pod)
		return;
	if (flags & (KC_INIT | KC_SIDECAR))
		walk_list(ctx, o, pod, pj, "initContainers", flags, fn);
	if (flags & KC_MAIN)
		walk_list(ctx, o, pod, pj, "containers", flags, fn);
	if (flags & KC_EPHEMERAL)
		walk_list(ctx, o, pod, pj, "ephemeralContainers", flags, fn);
}

void jpath_join(char *out, const char *jpath, const char *fmt, ...)
{
	size_t n;
	va_list ap;
	int r;

	n = jpath ? strlen(jpath) : 0;
	if (n >= RULE_JPATH_MAX)
		n = RULE_JPATH_MAX - 1;
	memcpy(out, jpath ? jpath : "", n);
	out[n] = '\0';
	va_start(ap, fmt);
	r = vsnprintf(out + n, RULE_JPATH_MAX - n, fmt, ap);
	va_end(ap);
	if (r < 0 || (size_t)r >= RULE_JPATH_MAX - n)
		memcpy(out + RULE_JPATH_MAX - 4, "...", 4);
}

void jpath_key(char *out, const char *jpath, const char *key)
{
	const char *k = key ? key : "";

	if (*k && strspn(k, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-") ==
	    strlen(k))
		jpath_join(out, jpath, ".%s", k);
	else
		jpath_join(out, jpath, "[\"%s\"]", k);
}

const struct ynode *ynode_key_or(const struct ynode *map, const char *key)
{
	const struct ynode *k = ynode_get_key(map, key);

	return k ? k : map;
}

int ynode_is_bool(const struct ynode *n, int want)
{
	if (!n || n->kind != YN_SCALAR || n->stype != YS_BOOL || !n->str)
		return 0;
	return want ? !strcmp(n->str, "true") || !strcmp(n->str, "True") ||
		      !strcmp(n->str, "TRUE")
		    : !strcmp(n->str, "false") || !strcmp(n->str, "False") ||
		      !strcmp(n->str, "FALSE");
}

/* ---- label selectors ---- */

static int labels_have(const struct ynode *labels, const char *k, const char *v)
{
	const char *have = ynode_str(ynode_get(labels, k));

	if (!ynode_get(labels, k))
		return 0;
	if (!v)
		return 1;
	return have && !strcmp(have, v);
}

static int expr_matches(const struct ynode *e, const struct ynode *labels)
{
	const char *key = ynode_str(ynode_get(e, "key"));
	const char *op = ynode_str(ynode_get(e, "operator"));
	const struct ynode *vals = ynode_get(e, "values");
	const char *have;
	size_t i;

	if (!key || !op)
		return 1;	/* malformed: the schema reports it */
	have = ynode_get(labels, key) ? ynode_str(ynode_get(labels, key)) : NULL;
	if (!strcmp(op, "Exists"))
		return ynode_get(labels, key) != NULL;
	if (!strcmp(op, "DoesNotExist"))
		return ynode_get(labels, key) == NULL;
	if (!strcmp(op, "In") || !strcmp(op, "NotIn")) {
		int in = 0;

		if (have && vals && vals->kind == YN_SEQ)
			for (i = 0; i < vals->n; i++) {
				const char *s = ynode_str(vals->kids[i]);

				if (s && !strcmp(s, have))
					in = 1;
			}
		return !strcmp(op, "In") ? in : !in;
	}
	return 1;	/* unknown operator: not ours to judge */
}

int selector_matches(const struct ynode *sel, const struct ynode *labels, int plain_map)
{
	const struct ynode *ml, *me;
	size_t i;

	if (!sel || sel->kind != YN_MAP)
		return 1;
	ml = plain_map ? sel : ynode_get(sel, "matchLabels");
	if (ml && ml->kind == YN_MAP)
		for (i = 0; i < ml->n; i++) {
			const char *k = ynode_str(ml->kids[2 * i]);
			const char *v = ynode_str(ml->kids[2 * i + 1]);

			if (k && !labels_have(labels, k, v ? v : ""))
				return 0;
		}
	if (plain_map)
		return 1;
	me = ynode_get(sel, "matchExpressions");
	if (me && me->kind == YN_SEQ)
		for (i = 0; i < me->n; i++)
			if (me->kids[i] && me->kids[i]->kind == YN_MAP &&
			    !expr_matches(me->kids[i], labels))
				return 0;
	return 1;
}

int selector_is_empty(const struct ynode *sel, int plain_map)
{
	const struct ynode *ml, *me;

	if (!sel || sel->kind != YN_MAP || !sel->n)
		return 1;
	if (plain_map)
		return 0;
	ml = ynode_get(sel, "matchLabels");
	me = ynode_get(sel, "matchExpressions");
	return !(ml && ml->kind == YN_MAP && ml->n) && !(me && me->kind == YN_SEQ && me->n);
}

/* ---- string hash table ---- */

static uint64_t str_hash(const char *s)
{
	uint64_t h = 1469598103934665603ULL;	/* FNV-1a */

	while (*s) {
		h ^= (unsigned char)*s++;
		h *= 1099511628211ULL;
	}
	return h;
}

static struct strmap_entry *strmap_slot(const struct strmap *m, const char *key)
{
	size_t i = (size_t)str_hash(key) & (m->nslots - 1);

	while (m->slots[i].key && strcmp(m->slots[i].key, key))
		i = (i + 1) & (m->nslots - 1);
	return &m->slots[i];
}

static void strmap_grow(struct strmap *m)
{
	struct strmap old = *m;
	size_t i;

	m->nslots = old.nslots ? old.nslots * 2 : 64;
	m->slots = xcalloc(m->nslots, sizeof(*m->slots));
	m->used = 0;
	for (i = 0; i < old.nslots; i++)
		if (old.slots[i].key) {
			*strmap_slot(m, old.slots[i].key) = old.slots[i];
			m->used++;
		}
	free(old.slots);
}

struct strmap_entry *strmap_put(struct strmap *m, const char *key)
{
	struct strmap_entry *e;

	if ((m->used + 1) * 4 > m->nslots * 3)
		strmap_grow(m);
	e = strmap_slot(m, key);
	if (!e->key) {
		e->key = xstrdup(key);
		m->used++;
	}
	return e;
}

const struct strmap_entry *strmap_get(const struct strmap *m, const char *key)
{
	const struct strmap_entry *e;

	if (!m->nslots)
		return NULL;
	e = strmap_slot(m, key);
	return e->key ? e : NULL;
}

void strmap_add(struct strmap *m, const char *key, size_t value)
{
	struct strmap_entry *e = strmap_put(m, key);

	XGROW(e->v, e->n + 1, e->alloc);
	e->v[e->n++] = value;
}

void strmap_release(struct strmap *m)
{
	size_t i;

	for (i = 0; i < m->nslots; i++) {
		free(m->slots[i].key);
		free(m->slots[i].v);
	}
	free(m->slots);
	m->slots = NULL;
	m->nslots = m->used = 0;
}
