#include "tap.h"
#include "../../lib/apply.h"
#include "../../lib/applyset.h"
#include "../../lib/discovery.h"
#include "../../lib/log.h"

#include <cjson/cJSON.h>
#include <fcntl.h>
#include <stdlib.h>

static void test_ids(void)
{
	char *id;

	/* both values were computed by kubectl (KUBECTL_APPLYSET=true apply --applyset) */
	id = applyset_id("kset", "demo");
	is_str(id, "applyset-fmAVBkkIOgvRHukSadeHitofWOYSFvC6F42qntWuPXM-v1", "kubectl's id for kset.demo");
	free(id);
	id = applyset_id("app1", "demo");
	is_str(id, "applyset-4OZyvTB-h0oaRx6htJqDpwxBcvNjCC73yVUPy98nDxQ-v1", "kubectl's id for app1.demo");
	free(id);
}

static void test_members(void)
{
	char *m, *g, *k, *ns, *n;

	m = applyset_member("apps", "Deployment", "web", "front");
	is_str(m, "apps/Deployment/web/front", "member string");
	ok(applyset_member_parse(m, &g, &k, &ns, &n) == 0 && !strcmp(g, "apps") &&
	   !strcmp(k, "Deployment") && !strcmp(ns, "web") && !strcmp(n, "front"), "parses back");
	free(g); free(k); free(ns); free(n); free(m);
	m = applyset_member("", "Namespace", NULL, "web");
	is_str(m, "/Namespace//web", "core, cluster-scoped member");
	ok(applyset_member_parse(m, &g, &k, &ns, &n) == 0 && !*g && !*ns && !strcmp(n, "web"),
	   "parses back with empty group and namespace");
	free(g); free(k); free(ns); free(n); free(m);
	ok(applyset_member_parse("a/b/c", &g, &k, &ns, &n) < 0, "three parts are malformed");
	ok(applyset_member_parse("a/b/c/d/e", &g, &k, &ns, &n) < 0, "five parts are malformed");
	ok(applyset_member_parse("a//c/d", &g, &k, &ns, &n) < 0, "an empty kind is malformed");
	ok(applyset_member_parse("a/K/c/", &g, &k, &ns, &n) < 0, "an empty name is malformed");
}

static void test_diff(void)
{
	cJSON *live = cJSON_Parse("{\"metadata\":{\"name\":\"x\",\"resourceVersion\":\"5\","
				  "\"managedFields\":[{}],\"uid\":\"u\"},\"data\":{\"a\":\"1\",\"gone\":\"z\"},"
				  "\"list\":[1,2]}");
	cJSON *want = cJSON_Parse("{\"metadata\":{\"name\":\"x\",\"resourceVersion\":\"9\"},"
				  "\"data\":{\"a\":\"2\",\"new\":\"y\"},\"list\":[1,3]}");
	struct buf out = BUF_INIT(BUF_NOCAP);
	size_t n = apply_diff_objects(live, want, &out);

	is_int(n, 4, "four differences (bookkeeping ignored)");
	ok(strstr(out.data, "~ .data.a: \"1\" -> \"2\"") != NULL, "a changed value");
	ok(strstr(out.data, "- .data.gone") != NULL, "a removed field");
	ok(strstr(out.data, "+ .data.new: \"y\"") != NULL, "an added field");
	ok(strstr(out.data, "~ .list[1]: 2 -> 3") != NULL, "a list item");
	buf_reset(&out);
	is_int(apply_diff_objects(live, live, &out), 0, "no difference with itself");
	is_int(out.len, 0, "and no text");
	buf_release(&out);
	cJSON_Delete(live);
	cJSON_Delete(want);
}

static void test_add(void)
{
	struct apply_run run = APPLY_RUN_INIT;
	struct apply_object *ob;

	ob = apply_add(&run, cJSON_Parse("{\"apiVersion\":\"apps/v1\",\"kind\":\"Deployment\","
					 "\"metadata\":{\"name\":\"w\",\"namespace\":\"n\"}}"), "f.yaml:1");
	ok(ob && !strcmp(ob->group, "apps") && !strcmp(ob->version, "v1") && ob->stage == 2,
	   "a Deployment is in the main stage");
	is_str(ob ? ob->id : NULL, "Deployment/n/w", "its id");
	ob = apply_add(&run, cJSON_Parse("{\"apiVersion\":\"apiextensions.k8s.io/v1\","
					 "\"kind\":\"CustomResourceDefinition\",\"metadata\":{\"name\":\"a.b\"}}"), NULL);
	ok(ob && ob->stage == 0, "a CRD comes first");
	ob = apply_add(&run, cJSON_Parse("{\"apiVersion\":\"storage.k8s.io/v1\",\"kind\":\"StorageClass\","
					 "\"metadata\":{\"name\":\"fast\"}}"), NULL);
	ok(ob && ob->stage == 1, "a *Class kind comes second");
	ob = apply_add(&run, cJSON_Parse("{\"apiVersion\":\"admissionregistration.k8s.io/v1\","
					 "\"kind\":\"ValidatingWebhookConfiguration\",\"metadata\":{\"name\":\"v\"}}"), NULL);
	ok(ob && ob->stage == 3, "webhook configurations come last");
	ob = apply_add(&run, cJSON_Parse("{\"apiVersion\":\"v1\",\"kind\":\"ConfigMap\",\"metadata\":{}}"), "g.yaml:3");
	ok(ob == NULL, "an object without a name is refused");
	is_int(run.n, 4, "four objects added");
	apply_run_release(&run);
}

static void test_paths(void)
{
	struct kube_resource r = { (char *)"apps", (char *)"v1", (char *)"Deployment",
				   (char *)"deployments", 1 };
	struct kube_resource ns = { (char *)"", (char *)"v1", (char *)"Namespace",
				    (char *)"namespaces", 0 };
	char *p;

	p = kube_object_path(&r, "web", "front", "dryRun=All");
	is_str(p, "/apis/apps/v1/namespaces/web/deployments/front?dryRun=All", "namespaced group path");
	free(p);
	p = kube_object_path(&ns, "ignored", "web", NULL);
	is_str(p, "/api/v1/namespaces/web", "cluster-scoped core path ignores the namespace");
	free(p);
	p = kube_object_path(&r, "a b", "x/y", NULL);
	is_str(p, "/apis/apps/v1/namespaces/a%20b/deployments/x%2Fy", "names are escaped");
	free(p);
}

int main(void)
{
	log_init("t-applyset", LOGL_ERROR, LOG_FORMAT_TEXT);
	log_set_fd(open("/dev/null", O_WRONLY));
	test_ids();
	test_members();
	test_diff();
	test_add();
	test_paths();
	return done_testing();
}
