/*
 * t-schema.c - OpenAPI v3 validation: the compact converter, schema
 * directories, CRDs in the set, every finding class with its line:col
 * and JSON path, the leniencies Kubernetes has (null, int-or-string,
 * quantities, embedded resources), and the bundled schemas.
 */
#include "tap.h"
#include <cjson/cJSON.h>
#include "buf.h"
#include "finding.h"
#include "log.h"
#include "manifest.h"
#include "openapi.h"
#include "schema.h"
#include "xalloc.h"

#include <dirent.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static const char *src_dir(void)
{
	const char *s = getenv("TIDEGATE_SRC");

	return s && *s ? s : ".";
}

static char tmpdir[256];

static void rm_rf(const char *dir)
{
	DIR *d = opendir(dir);
	struct dirent *e;

	if (!d)
		return;
	while ((e = readdir(d))) {
		char *p;

		if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, ".."))
			continue;
		p = xstrfmt("%s/%s", dir, e->d_name);
		unlink(p);
		free(p);
	}
	closedir(d);
	rmdir(dir);
}

/* Compacts tests/data/schema/openapi into tmpdir/demo. */
static char *make_demo_dir(void)
{
	static const char *const files[] = {
		"apis__demo.tidegate.io__v1.json",
		"apis__demo.tidegate.io.json",
	};
	struct openapi_compactor *c = openapi_compactor_new();
	char *out = xstrfmt("%s/demo", tmpdir);
	size_t i;
	int ret = 0;

	for (i = 0; i < 2; i++) {
		struct buf b = BUF_INIT(BUF_NOCAP);
		char *p = xstrfmt("%s/tests/data/schema/openapi/%s", src_dir(), files[i]);

		if (buf_read_file(&b, p) < 0 || openapi_compactor_add(c, files[i], b.data, b.len) < 0)
			ret = -1;
		buf_release(&b);
		free(p);
	}
	is_int(ret, 0, "the raw documents load");
	is_int(openapi_compactor_count(c), 1, "one group-version kept (the group list is skipped)");
	ret = openapi_compactor_write(c, out, "v1.36.3");
	is_int(ret, 0, "the compact directory is written");
	openapi_compactor_free(c);
	return out;
}

struct run {
	struct kset set;
	struct findings fs;
};

/* Parses text, registers its CRDs, validates every object. */
static void run_yaml(struct run *r, struct schema_store *st, const char *text, int strict)
{
	size_t i;

	memset(r, 0, sizeof(*r));
	kset_add_file(&r->set, "t.yaml", text, strlen(text), NULL, SEV_INFO, &r->fs);
	for (i = 0; i < r->set.nobjs; i++)
		if (!strcmp(r->set.objs[i].kind, "CustomResourceDefinition"))
			schema_store_add_crd(st, &r->set.objs[i], &r->fs);
	for (i = 0; i < r->set.nobjs; i++)
		schema_validate(st, &r->set.objs[i], strict, &r->fs);
	findings_sort(&r->fs);
}

static void run_release(struct run *r)
{
	findings_release(&r->fs);
	kset_release(&r->set);
}

static size_t count_rule(const struct run *r, const char *rule)
{
	size_t i, n = 0;

	for (i = 0; i < r->fs.n; i++)
		if (r->fs.v[i].rule && !strcmp(r->fs.v[i].rule, rule))
			n++;
	return n;
}

static size_t count_schema(const struct run *r)
{
	size_t i, n = 0;

	for (i = 0; i < r->fs.n; i++)
		if (r->fs.v[i].rule && !strncmp(r->fs.v[i].rule, "schema-", 7) &&
		    strcmp(r->fs.v[i].rule, "schema-missing"))
			n++;
	return n;
}

/* The finding of rule at jpath, or NULL. */
static const struct finding *find(const struct run *r, const char *rule, const char *jpath)
{
	size_t i;

	for (i = 0; i < r->fs.n; i++) {
		const struct finding *f = &r->fs.v[i];

		if (f->rule && !strcmp(f->rule, rule) && f->jpath && !strcmp(f->jpath, jpath))
			return f;
	}
	return NULL;
}

static void dump(const struct run *r)
{
	size_t i;

	for (i = 0; i < r->fs.n; i++) {
		const struct finding *f = &r->fs.v[i];

		printf("#   %u:%u %s %s %s\n", f->line, f->col, f->rule ? f->rule : "-",
		       f->jpath ? f->jpath : "-", f->msg);
	}
}

static void expect_at(const struct run *r, const char *rule, const char *jpath,
		      unsigned line, unsigned col)
{
	const struct finding *f = find(r, rule, jpath);

	if (!ok(f != NULL, "%s at %s", rule, jpath)) {
		dump(r);
		return;
	}
	if (!ok(f->line == line && f->col == col, "%s at %s is at %u:%u", rule, jpath, line, col))
		printf("#   got %u:%u\n", f->line, f->col);
}

static const char good_widget[] =
	"apiVersion: demo.tidegate.io/v1\n"
	"kind: Widget\n"
	"metadata:\n"
	"  name: w\n"
	"  namespace: default\n"
	"  creationTimestamp: null\n"
	"  labels: {app: w}\n"
	"spec:\n"
	"  description: a widget\n"
	"  replicas: 2\n"
	"  ratio: 1\n"
	"  enabled: true\n"
	"  mode: fast\n"
	"  port: http\n"
	"  memory: 1.5Gi\n"
	"  selector: {app: w}\n"
	"  ports:\n"
	"  - port: 80\n"
	"  - port: 80\n"
	"    protocol: UDP\n"
	"  tags: [a, b]\n"
	"  data: {k: aGVsbG8=}\n"
	"  raw: {anything: [1, 2, {x: y}]}\n"
	"  child:\n"
	"    selector: {}\n"
	"    memory: 0.5\n"
	"    port: 8080\n";

static void test_demo_dir(const char *dir)
{
	struct schema_store *st = schema_store_new(dir);
	struct run r;

	ok(st != NULL, "the compact directory opens");
	if (!st)
		return;
	is_str(schema_store_kube_version(st), "1.36.3", "the version comes from the index");
	is_int(schema_store_namespaced(st, "demo.tidegate.io", "v1", "Widget"), 1,
	       "Widget is namespaced (created under /namespaces/{namespace})");
	is_int(schema_store_namespaced(st, "demo.tidegate.io", "v1", "Gadget"), 0,
	       "Gadget is cluster-scoped");
	is_int(schema_store_namespaced(st, "demo.tidegate.io", "v1", "Nope"), -1,
	       "an unknown kind has no scope");

	run_yaml(&r, st, good_widget, 0);
	if (!ok(count_schema(&r) == 0, "a valid Widget has no finding (null, int-or-string, quantities, list-map keys with defaults)"))
		dump(&r);
	run_release(&r);

	run_yaml(&r, st,
		 "apiVersion: demo.tidegate.io/v1\n"	/* 1 */
		 "kind: Widget\n"
		 "metadata:\n"
		 "  name: w\n"
		 "  colour: red\n"			/* 5 */
		 "  creationTimestamp: yesterday\n"
		 "spec:\n"
		 "  replica: 2\n"
		 "  replicas: \"2\"\n"
		 "  ratio: fast\n"			/* 10 */
		 "  enabled: 1\n"
		 "  mode: medium\n"
		 "  port: 1.5\n"
		 "  memory: 1.5GB\n"
		 "  ports:\n"				/* 15 */
		 "  - port: 80\n"
		 "  - port: 80\n"
		 "    protocol: TCP\n"
		 "  - name: noport\n"
		 "  tags: [a, b, a]\n"			/* 20 */
		 "  data: {k: not base64!}\n"
		 "  child:\n"
		 "    selector: {a: 1}\n"
		 "    replicas: 4294967296\n",
		 0);
	expect_at(&r, "schema-unknown-field", ".metadata.colour", 5, 3);
	expect_at(&r, "schema-format", ".metadata.creationTimestamp", 6, 22);
	expect_at(&r, "schema-unknown-field", ".spec.replica", 8, 3);
	ok(find(&r, "schema-unknown-field", ".spec.replica") &&
	   find(&r, "schema-unknown-field", ".spec.replica")->hint &&
	   strstr(find(&r, "schema-unknown-field", ".spec.replica")->hint, "\"replicas\""),
	   "the hint suggests the close field name");
	expect_at(&r, "schema-type", ".spec.replicas", 9, 13);
	expect_at(&r, "schema-type", ".spec.ratio", 10, 10);
	expect_at(&r, "schema-type", ".spec.enabled", 11, 12);
	expect_at(&r, "schema-enum", ".spec.mode", 12, 9);
	expect_at(&r, "schema-type", ".spec.port", 13, 9);
	expect_at(&r, "schema-format", ".spec.memory", 14, 11);
	expect_at(&r, "schema-list-duplicate", ".spec.ports[1]", 17, 5);
	expect_at(&r, "schema-required", ".spec.ports[2].port", 19, 5);
	expect_at(&r, "schema-list-duplicate", ".spec.tags[2]", 20, 16);
	expect_at(&r, "schema-format", ".spec.data.k", 21, 13);
	expect_at(&r, "schema-required", ".spec.selector", 8, 3);
	expect_at(&r, "schema-type", ".spec.child.selector.a", 23, 19);
	expect_at(&r, "schema-format", ".spec.child.replicas", 24, 15);
	if (!ok(count_schema(&r) == 16, "exactly the expected findings"))
		dump(&r);
	ok(r.fs.n && r.fs.v[0].object && !strcmp(r.fs.v[0].object, "Widget/w"),
	   "findings name the object");
	ok(r.fs.n && r.fs.v[0].sev == SEV_ERROR, "schema findings are errors");
	run_release(&r);

	/* a kind with no schema: a warning, an error under strict */
	run_yaml(&r, st, "apiVersion: demo.tidegate.io/v2\nkind: Widget\nmetadata: {name: w}\n", 0);
	ok(count_rule(&r, "schema-missing") == 1 && r.fs.v[0].sev == SEV_WARNING,
	   "an unknown version is schema-missing (warning)");
	run_release(&r);
	run_yaml(&r, st, "apiVersion: demo.tidegate.io/v2\nkind: Widget\nmetadata: {name: w}\n", 1);
	ok(count_rule(&r, "schema-missing") == 1 && r.fs.v[0].sev == SEV_ERROR,
	   "... and an error under strict");
	run_release(&r);

	/* the strict-decoding cases: a YAML int where a string is wanted, and back */
	run_yaml(&r, st,
		 "apiVersion: demo.tidegate.io/v1\nkind: Widget\nmetadata:\n  name: w\n"
		 "  labels: {version: 2}\nspec:\n  selector: {}\n  replicas: 3.0\n  description: 'x'\n",
		 0);
	expect_at(&r, "schema-type", ".metadata.labels.version", 5, 21);
	ok(!find(&r, "schema-type", ".spec.replicas"), "3.0 is accepted for an integer (it decodes as 3)");
	is_int(count_schema(&r), 1, "only the unquoted label value");
	run_release(&r);

	schema_store_free(st);
}

static const char crd_yaml[] =
	"apiVersion: apiextensions.k8s.io/v1\n"
	"kind: CustomResourceDefinition\n"
	"metadata:\n"
	"  name: crontabs.stable.example.com\n"
	"spec:\n"
	"  group: stable.example.com\n"
	"  scope: Namespaced\n"
	"  names: {plural: crontabs, singular: crontab, kind: CronTab}\n"
	"  versions:\n"
	"  - name: v1\n"
	"    served: true\n"
	"    storage: true\n"
	"    schema:\n"
	"      openAPIV3Schema:\n"
	"        type: object\n"
	"        properties:\n"
	"          spec:\n"
	"            type: object\n"
	"            required: [cronSpec, name]\n"
	"            properties:\n"
	"              cronSpec: {type: string}\n"
	"              replicas: {type: integer, minimum: 1}\n"
	"              image: {type: string, nullable: true}\n"
	"              policy: {type: string, enum: [Allow, Forbid]}\n"
	"              cpu:\n"
	"                anyOf: [{type: integer}, {type: string}]\n"
	"                x-kubernetes-int-or-string: true\n"
	"                pattern: ^(\\+|-)?(([0-9]+(\\.[0-9]*)?)|(\\.[0-9]+))(([KMGTPE]i)|[numkMGTPE]|([eE](\\+|-)?(([0-9]+(\\.[0-9]*)?)|(\\.[0-9]+))))?$\n"
	"              extra:\n"
	"                type: object\n"
	"                x-kubernetes-preserve-unknown-fields: true\n"
	"              closed: {type: object}\n"
	"              template:\n"
	"                type: object\n"
	"                x-kubernetes-embedded-resource: true\n"
	"                x-kubernetes-preserve-unknown-fields: true\n"
	"              pod:\n"
	"                type: object\n"
	"                x-kubernetes-embedded-resource: true\n"
	"                properties:\n"
	"                  spec: {type: object, x-kubernetes-preserve-unknown-fields: true}\n"
	"              items:\n"
	"                type: array\n"
	"                x-kubernetes-list-type: map\n"
	"                x-kubernetes-list-map-keys: [name]\n"
	"                items:\n"
	"                  type: object\n"
	"                  properties: {name: {type: string}, value: {type: string}}\n"
	"              either:\n"
	"                type: object\n"
	"                properties: {a: {type: string}, b: {type: string}}\n"
	"                oneOf: [{required: [a]}, {required: [b]}]\n"
	"              labels: {type: object, additionalProperties: {type: string}}\n"
	"              hosts: {type: array, items: {type: string}}\n"
	"              name: {type: string}\n"
	"  - name: v2\n"
	"    served: true\n"
	"    storage: false\n"
	"    schema:\n"
	"      openAPIV3Schema: {type: object, x-kubernetes-preserve-unknown-fields: true}\n";

static void test_crd(struct schema_store *st)
{
	struct buf text = BUF_INIT(BUF_NOCAP);
	struct run r;

	buf_addstr(&text, crd_yaml);
	buf_addstr(&text,
		   "---\n"
		   "apiVersion: stable.example.com/v1\n"
		   "kind: CronTab\n"
		   "metadata: {name: c, namespace: x}\n"
		   "spec:\n"
		   "  cronSpec: '* * * * */5'\n"
		   "  name: n\n"
		   "  labels: {a: null}\n"
		   "  replicas: 2\n"
		   "  image: null\n"
		   "  policy: Allow\n"
		   "  cpu: 500m\n"
		   "  extra: {anything: {goes: 1}}\n"
		   "  closed: {}\n"
		   "  template: {apiVersion: v1, kind: Pod, metadata: {name: p}, spec: {x: 1}}\n"
		   "  pod: {apiVersion: v1, kind: Pod, metadata: {name: p}, spec: {y: 2}}\n"
		   "  items: [{name: a}, {name: b, value: x}]\n"
		   "  either: {b: x}\n"
		   "---\n"
		   "apiVersion: stable.example.com/v2\n"
		   "kind: CronTab\n"
		   "metadata: {name: c2}\n"
		   "whatever: {is: fine}\n");
	run_yaml(&r, st, text.data, 0);
	if (!ok(count_schema(&r) == 0, "a valid custom resource validates against its CRD in the set"))
		dump(&r);
	is_int(schema_store_namespaced(st, "stable.example.com", "v1", "CronTab"), 1,
	       "the CRD's scope is known");
	run_release(&r);
	buf_reset(&text);

	buf_addstr(&text, crd_yaml);
	buf_addstr(&text,
		   "---\n"					/* 61 */
		   "apiVersion: stable.example.com/v1\n"
		   "kind: CronTab\n"
		   "metadata: {name: c, namespace: x, labelz: {}}\n"	/* 64 */
		   "spec:\n"
		   "  cronSpc: x\n"
		   "  replicas: '2'\n"
		   "  policy: Sometimes\n"
		   "  cpu: lots\n"
		   "  closed: {a: 1}\n"
		   "  pod: {apiVersion: v1, kind: Pod, metadata: {name: p}, status: {}}\n"
		   "  items: [{name: a}, {name: a}]\n"
		   "  either: {}\n"
		   "  labels: {a: null}\n"
		   "  hosts: [a, null]\n"
		   "  name: null\n"
		   "bogus: 1\n");
	run_yaml(&r, st, text.data, 0);
	expect_at(&r, "schema-unknown-field", ".metadata.labelz", 64, 35);
	expect_at(&r, "schema-unknown-field", ".spec.cronSpc", 66, 3);
	expect_at(&r, "schema-required", ".spec.cronSpec", 66, 3);
	expect_at(&r, "schema-type", ".spec.replicas", 67, 13);
	expect_at(&r, "schema-enum", ".spec.policy", 68, 11);
	expect_at(&r, "schema-format", ".spec.cpu", 69, 8);
	expect_at(&r, "schema-unknown-field", ".spec.closed.a", 70, 12);
	expect_at(&r, "schema-unknown-field", ".spec.pod.status", 71, 57);
	expect_at(&r, "schema-list-duplicate", ".spec.items[1]", 72, 22);
	expect_at(&r, "schema-oneof", ".spec.either", 73, 11);
	ok(!find(&r, "schema-type", ".spec.labels.a"), "a null field of a custom resource is pruned, not an error");
	expect_at(&r, "schema-type", ".spec.hosts[1]", 75, 14);
	expect_at(&r, "schema-required", ".spec.name", 66, 3);
	expect_at(&r, "schema-unknown-field", ".bogus", 77, 1);
	if (!ok(count_schema(&r) == 13, "exactly the expected findings in the bad custom resource"))
		dump(&r);
	run_release(&r);
	buf_release(&text);

	/* a CRD with no usable spec */
	run_yaml(&r, st,
		 "apiVersion: apiextensions.k8s.io/v1\nkind: CustomResourceDefinition\n"
		 "metadata: {name: x.example.com}\nspec: {group: example.com}\n", 0);
	ok(count_rule(&r, "schema-crd") == 1, "a CRD without names.kind is reported");
	run_release(&r);
}

/* A CRD may narrow metadata (name rules): the rest of ObjectMeta stays valid. */
static void test_crd_meta(struct schema_store *st)
{
	static const char crd[] =
		"apiVersion: apiextensions.k8s.io/v1\n"
		"kind: CustomResourceDefinition\n"
		"metadata: {name: gizmos.example.com}\n"
		"spec:\n"
		"  group: example.com\n"
		"  scope: Cluster\n"
		"  names: {plural: gizmos, kind: Gizmo}\n"
		"  versions:\n"
		"  - name: v1\n"
		"    served: true\n"
		"    storage: true\n"
		"    schema:\n"
		"      openAPIV3Schema:\n"
		"        type: object\n"
		"        properties:\n"
		"          metadata:\n"
		"            type: object\n"
		"            properties: {name: {type: string, enum: [one, two]}}\n"
		"          spec: {type: object, properties: {size: {type: integer}}}\n"
		"---\n"
		"apiVersion: example.com/v1\n"		/* 21 */
		"kind: Gizmo\n"
		"metadata:\n"
		"  name: one\n"
		"  labels: {a: b}\n"			/* 25 */
		"  annotations: {c: d}\n"
		"spec: {size: 3}\n"
		"---\n"
		"apiVersion: example.com/v1\n"
		"kind: Gizmo\n"			/* 30 */
		"metadata:\n"
		"  name: three\n"
		"  labelz: {a: b}\n";
	struct run r;

	run_yaml(&r, st, crd, 0);
	expect_at(&r, "schema-enum", ".metadata.name", 32, 9);
	expect_at(&r, "schema-unknown-field", ".metadata.labelz", 33, 3);
	if (!ok(count_schema(&r) == 2, "labels and annotations stay valid beside a CRD's metadata schema"))
		dump(&r);
	is_int(schema_store_namespaced(st, "example.com", "v1", "Gizmo"), 0, "a Cluster CRD is not namespaced");
	run_release(&r);
}

/* minimum/maximum, minLength/maxLength, minItems/maxItems */
static void test_bounds(struct schema_store *st)
{
	static const char text[] =
		"apiVersion: apiextensions.k8s.io/v1\n"
		"kind: CustomResourceDefinition\n"
		"metadata: {name: dials.example.com}\n"
		"spec:\n"
		"  group: example.com\n"
		"  names: {plural: dials, kind: Dial}\n"
		"  versions:\n"
		"  - name: v1\n"
		"    schema:\n"
		"      openAPIV3Schema:\n"
		"        type: object\n"
		"        properties:\n"
		"          spec:\n"
		"            type: object\n"
		"            properties:\n"
		"              level: {type: integer, minimum: 1, maximum: 10}\n"
		"              ratio: {type: number, minimum: 0, exclusiveMinimum: true}\n"
		"              code: {type: string, minLength: 2, maxLength: 3}\n"
		"              tags: {type: array, maxItems: 2, items: {type: string}}\n"
		"              hosts: {type: array, minItems: 1, items: {type: string}}\n"
		"---\n"
		"apiVersion: example.com/v1\n"	/* 22 */
		"kind: Dial\n"
		"metadata: {name: ok}\n"
		"spec: {level: 10, ratio: 0.1, code: \"\xc3\xa9t\xc3\xa9\", tags: [a, b], hosts: [h]}\n"
		"---\n"
		"apiVersion: example.com/v1\n"
		"kind: Dial\n"
		"metadata: {name: bad}\n"
		"spec:\n"				/* 30 */
		"  level: 11\n"
		"  ratio: 0\n"
		"  code: abcd\n"
		"  tags: [a, b, c]\n"
		"  hosts: []\n";			/* 35 */
	struct run r;

	run_yaml(&r, st, text, 0);
	expect_at(&r, "schema-range", ".spec.level", 31, 10);
	expect_at(&r, "schema-range", ".spec.ratio", 32, 10);
	expect_at(&r, "schema-range", ".spec.code", 33, 9);
	expect_at(&r, "schema-range", ".spec.tags", 34, 9);
	expect_at(&r, "schema-range", ".spec.hosts", 35, 10);
	if (!ok(count_schema(&r) == 5, "bounds are checked, and values within them pass (3 characters, not bytes)"))
		dump(&r);
	run_release(&r);
}

static void test_quantity(void)
{
	static const char *const good[] = {
		"1", "0", "500m", "1.5Gi", "128Mi", "1e3", "1E-3", ".5", "5.", "+1k", "-2", "100Ki",
		"1.5", "2Ei", "3P",
	};
	static const char *const bad[] = {
		"", "Gi", "1.5GB", "1 Gi", "1gi", "1e", "1K", "..5", "1Mi2", "abc", "1.2.3", "--1",
	};
	size_t i;

	for (i = 0; i < sizeof(good) / sizeof(good[0]); i++)
		ok(schema_quantity_valid(good[i]) == 1, "quantity '%s' is valid", good[i]);
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		ok(schema_quantity_valid(bad[i]) == 0, "quantity '%s' is not", bad[i]);
}

/* Rewrites every definition file of dir with fn(text) into a new directory. */
static char *copy_demo(const char *dir, const char *name, char *(*fn)(const char *text))
{
	char *out = xstrfmt("%s/%s", tmpdir, name);
	DIR *d = opendir(dir);
	struct dirent *e;

	mkdir(out, 0755);
	while (d && (e = readdir(d))) {
		struct buf b = BUF_INIT(BUF_NOCAP);
		char *from, *to, *text;
		FILE *f;

		if (e->d_name[0] == '.')
			continue;
		from = xstrfmt("%s/%s", dir, e->d_name);
		to = xstrfmt("%s/%s", out, e->d_name);
		buf_read_file(&b, from);
		text = strcmp(e->d_name, "index.json") ? fn(b.data) : xstrdup(b.data);
		f = fopen(to, "w");
		if (f) {
			fputs(text, f);
			fclose(f);
		}
		free(text);
		buf_release(&b);
		free(from);
		free(to);
	}
	if (d)
		closedir(d);
	return out;
}

static char *pretty(const char *text)
{
	cJSON *j = cJSON_Parse(text);
	char *p = j ? cJSON_Print(j) : xstrdup("");

	cJSON_Delete(j);
	return p;
}

/* Breaks the Widget's own definition (its JSON, not the file's layout) but no other. */
static char *break_widget(const char *text)
{
	char *t = xstrdup(text), *w = strstr(t, "v1.Widget\":{");

	w = w ? strstr(w, "\"type\":\"object\"") : NULL;
	if (w)
		w[strlen("\"type\"")] = '!';
	return t;
}

/*
 * Compact files are read lazily (each definition parsed when a kind needs
 * it); a file of another shape is parsed whole; a broken definition is
 * reported and leaves the kind without a schema.
 */
static void test_lazy_shapes(const char *demo)
{
	static const char bad_widget[] =
		"apiVersion: demo.tidegate.io/v1\nkind: Widget\nmetadata: {name: w}\n"
		"spec: {replica: 2, replicas: \"2\"}\n";
	char *pretty_dir = copy_demo(demo, "pretty", pretty);
	char *broken_dir = copy_demo(demo, "broken", break_widget);
	struct schema_store *st;
	struct run r;
	size_t lazy_n;
	int devnull;

	st = schema_store_new(demo);
	run_yaml(&r, st, bad_widget, 0);
	lazy_n = count_schema(&r);
	if (!ok(lazy_n == 3, "the compact file: the unknown field, the string replicas, no selector"))
		dump(&r);
	run_release(&r);
	schema_store_free(st);

	st = schema_store_new(pretty_dir);
	ok(st != NULL, "a pretty-printed schema directory opens");
	if (st) {
		run_yaml(&r, st, bad_widget, 0);
		is_int(count_schema(&r), lazy_n, "and gives the same findings, parsed whole");
		run_release(&r);
		run_yaml(&r, st, good_widget, 0);
		is_int(count_schema(&r), 0, "and passes the good Widget");
		run_release(&r);
		schema_store_free(st);
	}

	devnull = open("/dev/null", O_WRONLY);
	if (devnull >= 0)
		log_set_fd(devnull);
	st = schema_store_new(broken_dir);
	ok(st != NULL, "a directory with one broken definition opens");
	if (st) {
		run_yaml(&r, st, bad_widget, 0);
		is_int(count_rule(&r, "schema-unknown-field"), 0, "the broken Widget schema checks nothing");
		if (!ok(count_rule(&r, "schema-missing") == 1, "and the Widget is reported as having no schema"))
			dump(&r);
		run_release(&r);
		is_int(schema_store_namespaced(st, "demo.tidegate.io", "v1", "Gadget"), 0,
		       "the other definitions of the file still load");
		schema_store_free(st);
	}
	log_set_fd(2);
	if (devnull >= 0)
		close(devnull);
	rm_rf(pretty_dir);
	rm_rf(broken_dir);
	free(pretty_dir);
	free(broken_dir);
}

/* Writes dir/index.json. */
static void write_index(const char *dir, const char *text)
{
	char *p = xstrfmt("%s/index.json", dir);
	FILE *f = fopen(p, "w");

	if (f) {
		fputs(text, f);
		fclose(f);
	}
	free(p);
}

static char *same(const char *text)
{
	return xstrdup(text);
}

/*
 * index.json in the compactor's form is read row by row as kinds are
 * looked up; any other form is parsed whole. Both give the same answers:
 * the last valid row of a kind counts, rows naming a file outside the
 * directory or with fields of the wrong type are skipped, a scope that
 * is not a number is unknown.
 */
static void test_index_shapes(const char *demo)
{
	static const char compact[] =
		"{\"format\":1,\"version\":\"1.2.3\",\"kinds\":["
		"[\"demo.tidegate.io\",\"v1\",\"Widget\",0,\"apis__demo.tidegate.io__v1.json\","
		"\"io.k8s.api.demo.v1.Widget\"],"
		"[\"demo.tidegate.io\",\"v1\",\"Widget\",1,\"apis__demo.tidegate.io__v1.json\","
		"\"io.k8s.api.demo.v1.Widget\"],"
		"[\"demo.tidegate.io\",\"v1\",\"Widget\",0,\"../apis__demo.tidegate.io__v1.json\","
		"\"io.k8s.api.demo.v1.Widget\"],"
		"[\"demo.tidegate.io\",\"v1\",\"Widget\",0,\"sub/x.json\",\"io.k8s.api.demo.v1.Widget\"],"
		"[\"demo.tidegate.io\",\"v1\",\"Widget\",0,7,\"io.k8s.api.demo.v1.Widget\"],"
		"[\"demo.tidegate.io\",\"v1\",\"Gadget\",\"yes\",\"apis__demo.tidegate.io__v1.json\","
		"\"io.k8s.api.demo.v1.Gadget\",\"extra\"],"
		"[\"demo.tidegate.io\",\"v1\",\"Short\",1,\"apis__demo.tidegate.io__v1.json\"],"
		"[],"
		"[\"demo.tidegate.io\",\"v1\",\"Gizmo\",1,\"apis__demo.tidegate.io__v1.json\","
		"\"io.k8s.api.demo.v1.Gadget\"]"
		"],\"version\":\"9.9.9\"}\n";
	const char *shapes[3] = { "compact", "pretty", "escaped" };
	char *dir[3];
	int i;

	for (i = 0; i < 3; i++) {
		struct schema_store *st;
		const char *v;
		struct run r;
		char *text;

		dir[i] = copy_demo(demo, shapes[i], same);
		if (i == 0) {
			text = xstrdup(compact);
		} else if (i == 1) {
			text = pretty(compact);
		} else {
			/* an escape anywhere sends the whole index the slow way */
			char *g;

			g = strstr(compact, "Gizmo");
			ok(g != NULL, "the test index names a Gizmo");
			text = g ? xstrfmt("%.*s\\u0047izmo%s", (int)(g - compact), compact, g + 5) :
				xstrdup(compact);
		}
		write_index(dir[i], text);
		free(text);
		st = schema_store_new(dir[i]);
		ok(st != NULL, "%s index: the directory opens", shapes[i]);
		if (!st)
			continue;
		v = schema_store_kube_version(st);
		ok(v && !strcmp(v, "1.2.3"), "%s index: the first version counts", shapes[i]);
		is_int(schema_store_namespaced(st, "demo.tidegate.io", "v1", "Widget"), 1,
		       "%s index: the last valid row of a kind counts", shapes[i]);
		is_int(schema_store_namespaced(st, "demo.tidegate.io", "v1", "Gadget"), -1,
		       "%s index: a scope that is not a number is unknown", shapes[i]);
		is_int(schema_store_namespaced(st, "demo.tidegate.io", "v1", "Gizmo"), 1,
		       "%s index: a kind may use another kind's schema", shapes[i]);
		is_int(schema_store_namespaced(st, "demo.tidegate.io", "v1", "Short"), -1,
		       "%s index: a row with too few fields is skipped", shapes[i]);
		is_int(schema_store_namespaced(st, "demo.tidegate.io", "v2", "Widget"), -1,
		       "%s index: an unknown version has no schema", shapes[i]);
		run_yaml(&r, st, "apiVersion: demo.tidegate.io/v1\nkind: Widget\nmetadata: {name: w}\n"
			 "spec: {replica: 2, replicas: \"2\"}\n", 0);
		is_int(count_schema(&r), 3, "%s index: the Widget is checked against its schema",
		       shapes[i]);
		run_release(&r);
		schema_store_free(st);
	}
	for (i = 0; i < 3; i++) {
		rm_rf(dir[i]);
		free(dir[i]);
	}
}

/* Reads dir/name into a new string (NUL-terminated). */
static char *slurp(const char *dir, const char *name, size_t *len)
{
	struct buf b = BUF_INIT(BUF_NOCAP);
	char *p = xstrfmt("%s/%s", dir, name);

	buf_read_file(&b, p);
	free(p);
	return buf_detach(&b, len);
}

static void spill(const char *dir, const char *name, const char *data, size_t len)
{
	char *p = xstrfmt("%s/%s", dir, name);
	FILE *f = fopen(p, "wb");

	if (f) {
		fwrite(data, 1, len, f);
		fclose(f);
	}
	free(p);
}

/*
 * A damaged schema directory (a few bytes of index.json or of a
 * definition file changed) never crashes a run and never reads out of
 * bounds (the sanitizer build checks that): the store opens, looks kinds
 * up and validates, or says it cannot.
 */
static void test_damaged_dirs(const char *demo)
{
	static const char bytes[] = "{}[],:\"\\0123456789.-eE ntfx";
	static const char *const files[] = { "index.json", "apis__demo.tidegate.io__v1.json" };
	char *dir = copy_demo(demo, "damaged", same);
	size_t f, i, runs = 0;
	uint32_t seed = 4242;
	int devnull = open("/dev/null", O_WRONLY);

	if (devnull >= 0)
		log_set_fd(devnull);
	for (f = 0; f < 2; f++) {
		size_t len;
		char *orig = slurp(dir, files[f], &len), *s = xmalloc(len + 1);

		for (i = 0; i < 400 && len; i++) {
			struct schema_store *st;
			struct run r;

			memcpy(s, orig, len);
			for (size_t k = 0; k < 1 + i % 4; k++) {
				seed = seed * 1103515245u + 12345u;
				s[(seed >> 8) % len] = bytes[(seed >> 20) % (sizeof(bytes) - 1)];
			}
			/* sometimes cut short too */
			spill(dir, files[f], s, i % 7 == 0 ? len - (seed % len) : len);
			st = schema_store_new(dir);
			if (!st)
				continue;
			(void)schema_store_kube_version(st);
			(void)schema_store_namespaced(st, "demo.tidegate.io", "v1", "Gadget");
			run_yaml(&r, st, "apiVersion: demo.tidegate.io/v1\nkind: Widget\n"
				 "metadata: {name: w}\nspec: {replica: 2, replicas: \"2\"}\n", 0);
			run_release(&r);
			schema_store_free(st);
			runs++;
		}
		spill(dir, files[f], orig, len);
		free(orig);
		free(s);
	}
	log_set_fd(2);
	if (devnull >= 0)
		close(devnull);
	ok(runs == 800, "800 runs over damaged index and definition files, none crashed");
	rm_rf(dir);
	free(dir);
}

static void test_bad_dirs(void)
{
	char *p = xstrfmt("%s/nope", tmpdir);
	int devnull = open("/dev/null", O_WRONLY);

	/* the errors are logged: keep them out of the TAP output */
	if (devnull >= 0)
		log_set_fd(devnull);

	ok(schema_store_new(p) == NULL, "a missing --schema-dir is refused");
	free(p);
	ok(schema_store_new(tmpdir) == NULL, "a directory with no index.json is refused");
	log_set_fd(2);
	if (devnull >= 0)
		close(devnull);
}

static void test_bundled(void)
{
	char *dir = xstrfmt("%s/data/schemas", src_dir());
	struct schema_store *st;
	struct run r;
	struct stat sb;

	if (stat(dir, &sb) < 0) {
		ok(1, "# SKIP no bundled schemas in this tree");
		free(dir);
		return;
	}
	setenv("TIDEGATE_SCHEMAS", dir, 1);
	st = schema_store_new(NULL);
	ok(schema_store_kube_version(st) != NULL, "the bundled schemas have a version");
	is_int(schema_store_namespaced(st, "apps", "v1", "Deployment"), 1, "Deployment is namespaced");
	is_int(schema_store_namespaced(st, "", "v1", "Namespace"), 0, "Namespace is not");
	is_int(schema_store_namespaced(st, "rbac.authorization.k8s.io", "v1", "ClusterRole"), 0,
	       "ClusterRole is not");
	run_yaml(&r, st,
		 "apiVersion: apps/v1\n"
		 "kind: Deployment\n"
		 "metadata:\n"
		 "  name: web\n"
		 "  creationTimestamp: null\n"
		 "  annotations: {a: b}\n"
		 "spec:\n"
		 "  replicas: 1\n"
		 "  selector: {matchLabels: {app: web}}\n"
		 "  strategy: {rollingUpdate: {maxSurge: 25%, maxUnavailable: 0}}\n"
		 "  template:\n"
		 "    metadata: {labels: {app: web}, creationTimestamp: null}\n"
		 "    spec:\n"
		 "      containers:\n"
		 "      - name: web\n"
		 "        image: nginx:1.27\n"
		 "        env: [{name: A, value: \"1\"}, {name: B, valueFrom: {fieldRef: {fieldPath: metadata.name}}}]\n"
		 "        ports: [{containerPort: 80}, {containerPort: 80, protocol: UDP}]\n"
		 "        resources: {limits: {cpu: 1, memory: 1Gi}, requests: {cpu: 0.5}}\n"
		 "        livenessProbe: {httpGet: {path: /, port: 80}}\n"
		 "        readinessProbe: {httpGet: {path: /, port: http}}\n"
		 "      volumes: [{name: v, emptyDir: {}}]\n"
		 "status: {}\n",
		 0);
	if (!ok(count_schema(&r) == 0, "a real Deployment validates against the bundled schema"))
		dump(&r);
	run_release(&r);
	run_yaml(&r, st,
		 "apiVersion: apps/v1\n"
		 "kind: Deployment\n"
		 "metadata: {name: web}\n"
		 "spec:\n"
		 "  selector: {matchLabels: {app: web}}\n"
		 "  template:\n"
		 "    spec:\n"
		 "      containers:\n"
		 "      - name: web\n"
		 "        image: nginx\n"			/* 10 */
		 "        env: [{name: A, value: 1}]\n"
		 "        ports: [{containerPort: 80}, {containerPort: 80, protocol: TCP}]\n"
		 "        resources: {limits: {memory: 1GB}}\n"
		 "      - name: web\n"
		 "        imagePullPolicy: 3\n",		/* 15 */
		 0);
	expect_at(&r, "schema-type", ".spec.template.spec.containers[0].env[0].value", 11, 32);
	expect_at(&r, "schema-list-duplicate", ".spec.template.spec.containers[0].ports[1]", 12, 38);
	expect_at(&r, "schema-format", ".spec.template.spec.containers[0].resources.limits.memory", 13, 38);
	expect_at(&r, "schema-list-duplicate", ".spec.template.spec.containers[1]", 14, 9);
	expect_at(&r, "schema-type", ".spec.template.spec.containers[1].imagePullPolicy", 15, 26);
	if (!ok(count_schema(&r) == 5, "exactly the expected findings in the bad Deployment"))
		dump(&r);
	run_release(&r);

	/* every shape where another is expected: findings, no crash */
	run_yaml(&r, st,
		 "apiVersion: apps/v1\nkind: Deployment\nmetadata: web\nspec: [1, 2]\n"
		 "---\napiVersion: v1\nkind: Pod\nmetadata: {name: p, labels: [a]}\n"
		 "spec: {containers: {a: b}, volumes: [[1], null, x], nodeSelector: {? [a] : b}}\n",
		 0);
	ok(count_schema(&r) >= 4, "mismatched shapes are reported");
	run_release(&r);
	{
		struct buf big = BUF_INIT(BUF_NOCAP);
		size_t i;

		buf_addstr(&big, "apiVersion: v1\nkind: Pod\nmetadata: {name: p}\nspec:\n  containers:\n");
		for (i = 0; i < 5000; i++)
			buf_addf(&big, "  - {name: c, image: x}\n");
		run_yaml(&r, st, big.data, 0);
		ok(r.fs.n < 10, "a huge list with duplicate keys is checked within bounds");
		run_release(&r);
		buf_release(&big);
	}
	schema_store_free(st);
	unsetenv("TIDEGATE_SCHEMAS");
	free(dir);
}

int main(void)
{
	struct schema_store *st;
	char *demo;

	snprintf(tmpdir, sizeof(tmpdir), "%s/t-schema.XXXXXX", getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp");
	if (!mkdtemp(tmpdir)) {
		perror("mkdtemp");
		return 1;
	}
	/* no bundled schemas for the demo tests: only what they are given */
	setenv("TIDEGATE_SCHEMAS", tmpdir, 1);

	demo = make_demo_dir();
	test_demo_dir(demo);
	test_lazy_shapes(demo);
	test_index_shapes(demo);
	test_damaged_dirs(demo);
	test_bad_dirs();

	/* the demo directory gives ObjectMeta (meta.json) for the custom resources */
	st = schema_store_new(demo);
	test_crd(st);
	test_crd_meta(st);
	test_bounds(st);
	schema_store_free(st);

	test_quantity();
	test_bundled();

	rm_rf(demo);
	free(demo);
	rm_rf(tmpdir);
	return done_testing();
}
