/*
 * t-apply-health.c - when `tidegate apply --wait` counts an object
 * ready: the rules of `kubectl rollout status` for Deployments,
 * StatefulSets and DaemonSets, Jobs once complete, and custom resources
 * by the status conditions their controllers share.
 */
#include "tap.h"
#include "apply.h"

#include <cjson/cJSON.h>
#include <stdlib.h>
#include <string.h>

static const struct {
	const char *group, *kind, *json;
	int want;		/* 1 ready, 0 not yet, -1 failed */
	const char *why;	/* the reason's start, or NULL */
} cases[] = {
	/* Deployments */
	{ "apps", "Deployment", "{\"metadata\":{\"generation\":2},\"spec\":{\"replicas\":3},"
	  "\"status\":{\"observedGeneration\":2,\"replicas\":3,\"updatedReplicas\":3,"
	  "\"availableReplicas\":3}}", 1, NULL },
	{ "apps", "Deployment", "{\"metadata\":{\"generation\":3},\"spec\":{\"replicas\":3},"
	  "\"status\":{\"observedGeneration\":2,\"replicas\":3,\"updatedReplicas\":3,"
	  "\"availableReplicas\":3}}", 0, "waiting for the controller to observe generation 3" },
	{ "apps", "Deployment", "{\"metadata\":{\"generation\":2},\"spec\":{\"replicas\":3},"
	  "\"status\":{\"observedGeneration\":2,\"replicas\":4,\"updatedReplicas\":2,"
	  "\"availableReplicas\":3}}", 0, "2/3 updated" },
	{ "apps", "Deployment", "{\"metadata\":{\"generation\":2},\"spec\":{\"replicas\":3},"
	  "\"status\":{\"observedGeneration\":2,\"replicas\":4,\"updatedReplicas\":3,"
	  "\"availableReplicas\":3}}", 0, "1 old replica(s) pending termination" },
	{ "apps", "Deployment", "{\"metadata\":{\"generation\":2},\"spec\":{\"replicas\":3},"
	  "\"status\":{\"observedGeneration\":2,\"replicas\":3,\"updatedReplicas\":3,"
	  "\"availableReplicas\":1}}", 0, "1/3 available" },
	{ "apps", "Deployment", "{\"metadata\":{\"generation\":1},\"spec\":{\"replicas\":0},"
	  "\"status\":{\"observedGeneration\":1}}", 1, NULL },
	{ "apps", "Deployment", "{\"metadata\":{\"generation\":1},\"spec\":{},"
	  "\"status\":{\"observedGeneration\":1}}", 0, "0/1 updated" },	/* replicas default 1 */
	{ "apps", "Deployment", "{\"metadata\":{\"generation\":1},\"spec\":{\"replicas\":1},"
	  "\"status\":{\"observedGeneration\":1,\"replicas\":1,\"updatedReplicas\":1,"
	  "\"conditions\":[{\"type\":\"Progressing\",\"status\":\"False\","
	  "\"reason\":\"ProgressDeadlineExceeded\",\"message\":\"took too long\"}]}}",
	  -1, "progress deadline exceeded: took too long" },
	/* a stale status says nothing, not even a deadline */
	{ "apps", "Deployment", "{\"metadata\":{\"generation\":2},\"spec\":{\"replicas\":1},"
	  "\"status\":{\"observedGeneration\":1,\"conditions\":[{\"type\":\"Progressing\","
	  "\"status\":\"False\",\"reason\":\"ProgressDeadlineExceeded\"}]}}", 0, "waiting" },
	/* StatefulSets */
	{ "apps", "StatefulSet", "{\"metadata\":{\"generation\":1},\"spec\":{\"replicas\":2},"
	  "\"status\":{\"observedGeneration\":1,\"readyReplicas\":2,\"updatedReplicas\":2}}", 1, NULL },
	{ "apps", "StatefulSet", "{\"metadata\":{\"generation\":1},\"spec\":{\"replicas\":2},"
	  "\"status\":{\"observedGeneration\":1,\"readyReplicas\":1,\"updatedReplicas\":2}}",
	  0, "1/2 ready" },
	{ "apps", "StatefulSet", "{\"metadata\":{\"generation\":1},\"spec\":{\"replicas\":2},"
	  "\"status\":{\"observedGeneration\":1,\"readyReplicas\":2,\"updatedReplicas\":1}}",
	  0, "1/2 updated" },
	{ "apps", "StatefulSet", "{\"metadata\":{\"generation\":1},\"spec\":{\"replicas\":2,"
	  "\"updateStrategy\":{\"type\":\"OnDelete\"}},"
	  "\"status\":{\"observedGeneration\":1,\"readyReplicas\":2,\"updatedReplicas\":0}}", 1, NULL },
	/* DaemonSets */
	{ "apps", "DaemonSet", "{\"metadata\":{\"generation\":4},\"spec\":{},\"status\":{"
	  "\"observedGeneration\":4,\"desiredNumberScheduled\":3,\"numberReady\":3,"
	  "\"updatedNumberScheduled\":3}}", 1, NULL },
	{ "apps", "DaemonSet", "{\"metadata\":{\"generation\":4},\"spec\":{},\"status\":{"
	  "\"observedGeneration\":4,\"desiredNumberScheduled\":3,\"numberReady\":3,"
	  "\"updatedNumberScheduled\":2}}", 0, "2/3 updated" },
	{ "apps", "DaemonSet", "{\"metadata\":{\"generation\":4},\"spec\":{},\"status\":{"
	  "\"observedGeneration\":4,\"desiredNumberScheduled\":3,\"numberReady\":2,"
	  "\"updatedNumberScheduled\":3}}", 0, "2/3 ready" },
	/* no status at all yet */
	{ "apps", "DaemonSet", "{\"metadata\":{\"generation\":1}}", 0, "waiting" },
	/* Jobs */
	{ "batch", "Job", "{\"spec\":{\"completions\":2},\"status\":{\"succeeded\":1}}",
	  0, "1/2 completed" },
	{ "batch", "Job", "{\"status\":{\"conditions\":[{\"type\":\"Complete\",\"status\":\"True\"}]}}",
	  1, NULL },
	{ "batch", "Job", "{\"status\":{\"conditions\":[{\"type\":\"Failed\",\"status\":\"True\","
	  "\"reason\":\"BackoffLimitExceeded\",\"message\":\"Job has reached the specified backoff limit\"}]}}",
	  -1, "BackoffLimitExceeded: Job has reached" },
	/* custom resources */
	{ "cert-manager.io", "Certificate", "{\"metadata\":{\"generation\":1}}", 1, NULL },
	{ "cert-manager.io", "Certificate", "{\"metadata\":{\"generation\":1},\"status\":{"
	  "\"conditions\":[{\"type\":\"Ready\",\"status\":\"True\",\"observedGeneration\":1}]}}",
	  1, NULL },
	{ "cert-manager.io", "Certificate", "{\"metadata\":{\"generation\":2},\"status\":{"
	  "\"conditions\":[{\"type\":\"Ready\",\"status\":\"True\",\"observedGeneration\":1}]}}",
	  0, "waiting for the controller to observe generation 2" },
	{ "cert-manager.io", "Certificate", "{\"metadata\":{\"generation\":1},\"status\":{"
	  "\"conditions\":[{\"type\":\"Ready\",\"status\":\"False\",\"reason\":\"Issuing\","
	  "\"message\":\"waiting for the CA\"}]}}", 0, "Issuing: waiting for the CA" },
	{ "kustomize.toolkit.fluxcd.io", "Kustomization", "{\"metadata\":{\"generation\":3},"
	  "\"status\":{\"observedGeneration\":2}}", 0, "waiting for the controller" },
	{ "kustomize.toolkit.fluxcd.io", "Kustomization", "{\"metadata\":{\"generation\":3},"
	  "\"status\":{\"observedGeneration\":3,\"conditions\":[{\"type\":\"Reconciling\","
	  "\"status\":\"True\",\"reason\":\"Progressing\"}]}}", 0, "Progressing" },
	{ "kustomize.toolkit.fluxcd.io", "Kustomization", "{\"metadata\":{\"generation\":3},"
	  "\"status\":{\"observedGeneration\":3,\"conditions\":[{\"type\":\"Stalled\","
	  "\"status\":\"True\",\"message\":\"bad spec\"}]}}", -1, "bad spec" },
	/* a kind with conditions of its own names only: ready once seen */
	{ "monitoring.coreos.com", "Prometheus", "{\"metadata\":{\"generation\":1},"
	  "\"status\":{\"conditions\":[{\"type\":\"Available\",\"status\":\"False\"}]}}", 1, NULL },
};

int main(void)
{
	size_t i;
	char *why = NULL;
	cJSON *cm = cJSON_Parse("{\"metadata\":{\"generation\":5}}");

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		cJSON *doc = cJSON_Parse(cases[i].json);
		int h;

		why = NULL;
		h = apply_health(cases[i].group, cases[i].kind, doc, &why);
		is_int(h, cases[i].want, "%s case %zu: %s", cases[i].kind, i,
		       cases[i].want > 0 ? "ready" : cases[i].want ? "failed" : "not ready yet");
		if (cases[i].why)
			ok(why && !strncmp(why, cases[i].why, strlen(cases[i].why)),
			   "  why: '%s' (want '%s...')", why ? why : "(none)", cases[i].why);
		else
			ok(!why, "  no reason given when ready");
		free(why);
		cJSON_Delete(doc);
	}
	/* other kinds are ready once applied; the group matters */
	is_int(apply_health("", "ConfigMap", cm, &why), 1, "a ConfigMap is ready");
	is_int(apply_health("extensions", "Deployment", cm, &why), 1,
	       "only apps/ workloads are waited for");
	is_int(apply_is_workload("apps", "StatefulSet"), 1, "StatefulSet is waited for");
	is_int(apply_is_workload("batch", "Job"), 1, "Job is waited for");
	is_int(apply_is_workload("batch", "CronJob"), 0, "CronJob is not");
	is_int(apply_is_workload("networking.k8s.io", "Ingress"), 0, "Kubernetes' own groups are not");
	is_int(apply_is_workload("", "Service"), 0, "nor the core group");
	is_int(apply_is_workload("cert-manager.io", "Certificate"), 1, "custom resources are");
	cJSON_Delete(cm);
	return done_testing();
}
