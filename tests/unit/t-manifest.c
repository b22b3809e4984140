/*
 * t-manifest.c - objects out of documents: required fields, names,
 * labels, scope, List expansion, skips, YAML 1.1 traps, duplicates.
 */
#include "tap.h"
#include "buf.h"
#include "finding.h"
#include "manifest.h"
#include "yaml.h"

#include <string.h>

static struct findings fs = FINDINGS_INIT;
static struct kset set = KSET_INIT;

static int add(const char *path, const char *text)
{
	return kset_add_file(&set, path, text, strlen(text), NULL, SEV_INFO, &fs);
}

static void reset(void)
{
	kset_release(&set);
	findings_release(&fs);
}

static size_t count_rule(const char *rule)
{
	size_t i, n = 0;

	for (i = 0; i < fs.n; i++)
		if (fs.v[i].rule && !strcmp(fs.v[i].rule, rule))
			n++;
	return n;
}

static const struct finding *find_rule(const char *rule, const char *msg_part)
{
	size_t i;

	for (i = 0; i < fs.n; i++)
		if (fs.v[i].rule && !strcmp(fs.v[i].rule, rule) &&
		    (!msg_part || strstr(fs.v[i].msg, msg_part)))
			return &fs.v[i];
	return NULL;
}

static void test_names(void)
{
	ok(!check_dns1123_label("web-1"), "web-1 is a label");
	ok(check_dns1123_label("Web") != NULL, "upper case is not");
	ok(check_dns1123_label("a.b") != NULL, "a dot is not in a label");
	ok(check_dns1123_label("-a") != NULL, "leading dash");
	ok(check_dns1123_label("aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa") != NULL,
	   "64 characters is too long");
	ok(!check_dns1123_subdomain("a.b-c.d"), "subdomain with dots");
	ok(check_dns1123_subdomain("a..b") != NULL, "empty part");
	ok(check_dns1123_subdomain("a.-b") != NULL, "part starting with a dash");
	ok(check_dns1123_subdomain("a_b") != NULL, "underscore");
	ok(!check_label_key("app.kubernetes.io/name"), "prefixed key");
	ok(!check_label_key("App_Name.x"), "plain key with capitals, _ and .");
	ok(check_label_key("a/b/c") != NULL, "two slashes");
	ok(check_label_key("/x") != NULL, "empty prefix");
	ok(check_label_key("Bad_Prefix/x") != NULL, "prefix must be a DNS subdomain");
	ok(!check_label_value(""), "empty value is fine");
	ok(!check_label_value("v1.2_3-x"), "value with . _ -");
	ok(check_label_value("a b") != NULL, "space in a value");
	ok(check_label_value("-x") != NULL, "value starting with a dash");
	ok(kind_is_cluster_scoped("rbac.authorization.k8s.io", "ClusterRole"), "ClusterRole scope");
	ok(kind_is_cluster_scoped("", "Namespace"), "Namespace scope");
	ok(!kind_is_cluster_scoped("apps", "Deployment"), "Deployment is namespaced");
	ok(!kind_is_cluster_scoped("example.com", "Namespace"), "group matters");
}

static void test_objects(void)
{
	const struct kobj *o;
	const struct finding *f;

	is_int(add("a.yaml", "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: web\n"
		   "  namespace: prod\n---\napiVersion: v1\nkind: ConfigMap\nmetadata:\n"
		   "  generateName: cfg-\n"), 0, "two objects parse");
	is_int(set.nobjs, 2, "two objects");
	o = &set.objs[0];
	is_str(o->group, "apps", "group");
	is_str(o->version, "v1", "version");
	is_str(o->id, "Deployment/prod/web", "id");
	is_int(o->line, 1, "object line");
	o = &set.objs[1];
	is_str(o->group, "", "core group");
	ok(o->name == NULL && !strcmp(o->generate_name, "cfg-"), "generateName");
	is_int(o->doc, 1, "document index");
	is_int(fs.n, 0, "no findings");
	reset();

	add("b.yaml", "apiVersion: v1\nkind: ConfigMap\n---\nkind: Secret\nmetadata: {name: s}\n"
	    "---\napiVersion: v1\nmetadata: {name: x}\n---\napiVersion: 3\nkind: Pod\n");
	is_int(count_rule("object-missing-field"), 4, "four objects miss a field");
	ok(find_rule("object-missing-field", "ConfigMap has no metadata.name") != NULL,
	   "missing name");
	ok(find_rule("object-missing-field", "no apiVersion") != NULL, "missing apiVersion");
	ok(find_rule("object-missing-field", "no kind") != NULL, "missing kind");
	ok(find_rule("object-missing-field", "apiVersion must be a non-empty string") != NULL,
	   "apiVersion as a number");
	reset();

	add("c.yaml", "apiVersion: v1\nkind: Service\nmetadata: {name: my.svc}\n---\n"
	    "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: my.cfg, namespace: Prod}\n---\n"
	    "apiVersion: rbac.authorization.k8s.io/v1\nkind: ClusterRole\n"
	    "metadata: {name: \"system:metrics\"}\n---\n"
	    "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: Web_1}\n---\n"
	    "apiVersion: v1\nkind: Pod\nmetadata: {name: 42}\n");
	f = find_rule("invalid-name", "my.svc");
	ok(f && f->line == 3 && f->col == 18, "Service names are DNS labels (at %u:%u)",
	   f ? f->line : 0, f ? f->col : 0);
	ok(f && f->jpath && !strcmp(f->jpath, ".metadata.name"), "jpath .metadata.name");
	ok(f && f->object && !strcmp(f->object, "Service/my.svc"), "object named");
	ok(find_rule("invalid-name", "namespace \"Prod\"") != NULL, "bad namespace");
	ok(!find_rule("invalid-name", "system:metrics"), "ClusterRole names may hold ':'");
	ok(find_rule("invalid-name", "Web_1") != NULL, "Deployment name must be a subdomain");
	ok(find_rule("invalid-name", "is an int") != NULL, "a number as name");
	is_int(count_rule("invalid-name"), 4, "four bad names");
	reset();

	add("d.yaml", "apiVersion: v1\nkind: Namespace\nmetadata:\n  name: team\n  namespace: x\n"
	    "---\napiVersion: storage.k8s.io/v1\nkind: StorageClass\nmetadata: {name: fast}\n"
	    "provisioner: x\n");
	f = find_rule("namespace-on-cluster-scoped", NULL);
	ok(f && f->line == 5 && f->sev == SEV_WARNING, "namespace on a Namespace");
	is_int(count_rule("namespace-on-cluster-scoped"), 1, "only that one");
	reset();
}

static void test_labels_and_traps(void)
{
	const struct finding *f;

	add("l.yaml",
	    "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: web\n  labels:\n"
	    "    app: web\n    enabled: true\n    bad key: x\n    tier: \"front end\"\n"
	    "    debug: yes\n  annotations:\n    a: on\n    b: 12\n    c: \"on\"\n"
	    "spec:\n  selector:\n    matchLabels: {app: web}\n  template:\n    metadata:\n"
	    "      labels: {app: web, ok: n}\n    spec:\n      containers:\n      - name: c\n"
	    "        env:\n        - {name: A, value: off}\n        - {name: B, value: \"off\"}\n"
	    "      volumes:\n      - name: v\n        configMap: {name: x, defaultMode: 0644}\n"
	    "---\napiVersion: v1\nkind: ConfigMap\nmetadata: {name: c}\ndata:\n  x: no\n  y: \"no\"\n");
	f = find_rule("invalid-label", "label value \"true\" is a bool");
	ok(f && f->line == 7 && f->col == 14 && f->sev == SEV_ERROR, "bool label value is an error");
	ok(f && f->jpath && !strcmp(f->jpath, ".metadata.labels.enabled"), "... with its jpath");
	ok(find_rule("invalid-label", "label key \"bad key\"") != NULL, "bad label key");
	ok(find_rule("invalid-label", "label value \"front end\"") != NULL, "bad label value");
	ok(find_rule("invalid-label", "annotation value \"12\" is an int") != NULL,
	   "int annotation value");
	f = find_rule("yaml11-trap", "label value yes");
	ok(f && f->sev == SEV_WARNING && strstr(f->msg, "as a bool"), "yes in a label: trap");
	ok(find_rule("yaml11-trap", "annotation value on") != NULL, "on in an annotation");
	ok(find_rule("yaml11-trap", "label value n ") != NULL, "n in a template label");
	f = find_rule("yaml11-trap", "env value off");
	ok(f && f->jpath && !strcmp(f->jpath, ".spec.template.spec.containers[0].env[0].value"),
	   "off in an env value, with its jpath");
	ok(find_rule("yaml11-trap", "file mode 0644") != NULL, "octal file mode");
	ok(find_rule("yaml11-trap", "ConfigMap value no") != NULL, "no in ConfigMap data");
	is_int(count_rule("yaml11-trap"), 6, "six traps, none for quoted values");
	is_int(count_rule("invalid-label"), 4, "four invalid labels");
	reset();

	add("crd.yaml", "apiVersion: apiextensions.k8s.io/v1\nkind: CustomResourceDefinition\n"
	    "metadata: {name: foos.example.com}\nspec:\n  group: example.com\n  versions:\n"
	    "  - name: v1\n    schema:\n      openAPIV3Schema:\n        properties:\n"
	    "          matchLabels: {type: object, additionalProperties: {type: string}}\n");
	is_int(fs.n, 0, "a CRD's schema is not read as labels");
	reset();
}

static void test_lists_and_skips(void)
{
	add("list.yaml", "apiVersion: v1\nkind: List\nitems:\n"
	    "- apiVersion: v1\n  kind: ConfigMap\n  metadata: {name: a}\n"
	    "- apiVersion: v1\n  kind: ConfigMap\n  metadata: {name: b}\n- 5\n");
	is_int(set.nobjs, 2, "List expands to its items");
	is_int(set.objs[1].line, 7, "item position");
	ok(find_rule("object-missing-field", "List item is an int") != NULL, "a non-object item");
	reset();

	add("x.yaml", "just: config\n---\n- a\n- b\n---\nplain\n---\n");
	is_int(set.nobjs, 0, "no objects");
	is_int(count_rule("not-kubernetes"), 3, "three skip notes");
	is_int(set.skipped, 3, "three skipped");
	ok(find_rule("not-kubernetes", NULL)->sev == SEV_INFO, "info by default");
	reset();

	kset_add_file(&set, "x.yaml", "a: 1\n", 5, NULL, SEV_ERROR, &fs);
	ok(find_rule("not-kubernetes", NULL)->sev == SEV_ERROR, "error when strict");
	reset();

	add("t.yaml", "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: {{ .Values.name }}\n");
	is_int(count_rule("template-skipped"), 1, "template skipped");
	is_int(set.nobjs, 0, "no objects from a template");
	reset();

	is_int(add("bad.yaml", "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: a}\n---\n"
		   "a: [\n"), -1, "a broken file fails");
	is_int(set.nobjs, 1, "... keeping the objects before the error");
	ok(find_rule("yaml-syntax", NULL) != NULL, "... with the syntax error");
	reset();
}

static void test_duplicates(void)
{
	const struct finding *f;
	struct buf b = BUF_INIT(BUF_NOCAP);
	size_t i;

	add("a.yaml", "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: a, namespace: x}\n");
	add("b.yaml", "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: a, namespace: y}\n---\n"
	    "apiVersion: v1\nkind: Secret\nmetadata: {name: a, namespace: x}\n---\n"
	    "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: a, namespace: x}\n");
	kset_check_duplicates(&set, &fs);
	f = find_rule("duplicate-object", NULL);
	ok(f && !strcmp(f->path, "b.yaml") && f->line == 9, "duplicate reported at the second");
	ok(f && strstr(f->msg, "ConfigMap/x/a is defined twice (first at a.yaml:1:1)"),
	   "message names the first place: %s", f ? f->msg : "");
	is_int(count_rule("duplicate-object"), 1, "namespace and kind keep objects apart");
	reset();

	for (i = 0; i < 10000; i++)
		buf_addf(&b, "---\napiVersion: v1\nkind: ConfigMap\nmetadata: {name: c%zu}\n", i % 9999);
	add("many.yaml", b.data);
	kset_check_duplicates(&set, &fs);
	is_int(set.nobjs, 10000, "10000 objects");
	is_int(count_rule("duplicate-object"), 1, "one duplicate among them");
	buf_release(&b);
	reset();
}

int main(void)
{
	test_names();
	test_objects();
	test_labels_and_traps();
	test_lists_and_skips();
	test_duplicates();
	reset();
	return done_testing();
}
