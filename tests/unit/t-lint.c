/*
 * t-lint.c - the engine end to end: configuration applied to every kind
 * of finding, include/exclude, CRDs in the set, sorted output, and
 * garbled versions of a realistic file through every rule and the
 * schema validator without a crash.
 */
#include "tap.h"
#include "buf.h"
#include "finding.h"
#include "lint.h"
#include "lintconf.h"
#include "xalloc.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char sample[] =
	"apiVersion: apiextensions.k8s.io/v1\nkind: CustomResourceDefinition\n"
	"metadata: {name: widgets.example.com}\nspec:\n  group: example.com\n  scope: Cluster\n"
	"  names: {kind: Widget, plural: widgets, singular: widget, listKind: WidgetList}\n"
	"  versions:\n  - name: v1\n    served: true\n    storage: true\n    schema:\n"
	"      openAPIV3Schema:\n        type: object\n        properties:\n"
	"          spec:\n            type: object\n            properties:\n"
	"              size: {type: integer}\n---\n"
	"apiVersion: example.com/v1\nkind: Widget\nmetadata: {name: w1}\nspec: {size: 3}\n---\n"
	"apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: web\n  namespace: shop\n"
	"  labels: &l {app: web}\nspec:\n  replicas: 2\n  selector: {matchLabels: *l}\n"
	"  template:\n    metadata: {labels: *l}\n    spec:\n      containers:\n"
	"      - name: web\n        image: nginx:1.27\n        ports: [{containerPort: 80}]\n"
	"        env: [{name: A, value: on}]\n        securityContext: {privileged: true}\n"
	"        volumeMounts: [{name: v, mountPath: /x}]\n"
	"      volumes: [{name: v, hostPath: {path: /var/run/docker.sock}}]\n---\n"
	"apiVersion: v1\nkind: Service\nmetadata: {name: web, namespace: shop}\n"
	"spec:\n  selector: {app: web}\n  ports: [{port: 80, targetPort: 80}]\n";

static size_t count_rule(const struct findings *fs, const char *rule)
{
	size_t i, n = 0;

	for (i = 0; i < fs->n; i++)
		if (fs->v[i].rule && !strcmp(fs->v[i].rule, rule))
			n++;
	return n;
}

static void test_basic(void)
{
	struct lint_options opts = LINT_OPTIONS_INIT;
	struct findings fs = FINDINGS_INIT;
	struct linter *l = linter_new(&opts);
	size_t i, sorted = 1;

	is_int(linter_add(l, "app.yaml", sample, strlen(sample)), 0, "sample parses");
	is_int(linter_run(l, &fs), 0, "run");
	is_int(linter_objects(l)->nobjs, 4, "four objects");
	is_int(count_rule(&fs, "schema-missing"), 0, "the CRD in the set gives Widget a schema");
	is_int(count_rule(&fs, "yaml11-trap"), 1, "the env trap");
	for (i = 1; i < fs.n; i++)
		if (strcmp(fs.v[i - 1].path, fs.v[i].path) > 0 ||
		    (!strcmp(fs.v[i - 1].path, fs.v[i].path) && fs.v[i - 1].line > fs.v[i].line))
			sorted = 0;
	ok(sorted, "findings sorted");
	findings_release(&fs);
	linter_free(l);
}

static void test_config(void)
{
	struct lint_config c = LINT_CONFIG_INIT;
	struct lint_options opts = LINT_OPTIONS_INIT;
	struct findings fs = FINDINGS_INIT, cf = FINDINGS_INIT;
	struct linter *l;
	static const char conf[] = "rules:\n  yaml11-trap: error\n  not-kubernetes: off\n"
		"  yaml-syntax: off\n  privileged-container: off\nexclude: [skip]\n";
	static const char bad[] = "a: [\n";

	is_int(lint_config_parse(&c, "c.yaml", conf, strlen(conf), &cf), 0, "config parses");
	opts.config = &c;
	l = linter_new(&opts);
	linter_add(l, "app.yaml", sample, strlen(sample));
	linter_add(l, "notes.yaml", "x: 1\n", 5);
	linter_add(l, "broken.yaml", bad, strlen(bad));
	linter_add(l, "skip/broken.yaml", bad, strlen(bad));
	linter_run(l, &fs);
	is_int(count_rule(&fs, "yaml11-trap"), 1, "trap still reported");
	ok(fs.nerr >= 1 && count_rule(&fs, "yaml11-trap") == 1, "raised to an error");
	is_int(count_rule(&fs, "not-kubernetes"), 0, "skip notes switched off");
	is_int(count_rule(&fs, "privileged-container"), 0, "a lint rule switched off");
	is_int(count_rule(&fs, "yaml-syntax"), 1, "syntax errors cannot be switched off");
	{
		size_t i;

		for (i = 0; i < fs.n; i++)
			if (!strcmp(fs.v[i].path, "skip/broken.yaml"))
				break;
		ok(i == fs.n, "excluded files are not read");
		for (i = 0; i < fs.n; i++)
			if (fs.v[i].rule && !strcmp(fs.v[i].rule, "yaml11-trap"))
				is_int(fs.v[i].sev, SEV_ERROR, "severity from the configuration");
	}
	findings_release(&fs);
	findings_release(&cf);
	linter_free(l);
	lint_config_release(&c);
}

static void test_ignores(void)
{
	struct lint_options opts = LINT_OPTIONS_INIT;
	struct findings fs = FINDINGS_INIT;
	struct linter *l = linter_new(&opts);
	static const char text[] =
		"apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: c\n  annotations:\n"
		"    tidegate.io/ignore: yaml11-trap, schema-type\n"
		"    tidegate.io/ignore-reason: the consumer reads it as a string\n"
		"data:\n  a: on\n  b: 1\n---\n"
		"apiVersion: v1\nkind: ConfigMap\nmetadata: {name: d}\ndata: {a: on}\n";
	size_t i, ignored = 0, open_traps = 0;

	linter_add(l, "i.yaml", text, strlen(text));
	linter_run(l, &fs);
	for (i = 0; i < fs.n; i++) {
		if (fs.v[i].ignored) {
			ignored++;
			is_str(fs.v[i].ignore_reason, "the consumer reads it as a string", "reason kept");
		} else if (!strcmp(fs.v[i].rule, "yaml11-trap")) {
			open_traps++;
		}
	}
	is_int(ignored, 2, "the annotated object's trap and schema finding are ignored");
	is_int(open_traps, 1, "the other object's trap is not");
	is_int(fs.nerr, 0, "ignored findings do not count");
	findings_release(&fs);
	linter_free(l);
}

static void test_garbled(void)
{
	struct lint_options opts = LINT_OPTIONS_INIT;
	struct findings fs = FINDINGS_INIT;
	struct linter *l = linter_new(&opts);
	size_t len = strlen(sample), i;
	unsigned seed = 4242;
	char *copy = xmalloc(len + 1);
	char path[64];

	for (i = 0; i < 400; i++) {
		size_t k, flips = 1 + i % 5, cut = i % 3 ? len : (seed >> 3) % len;

		memcpy(copy, sample, len + 1);
		for (k = 0; k < flips; k++) {
			seed = seed * 1103515245 + 12345;
			copy[(seed >> 8) % len] = "{}[]:&*!|>-?#'\"\t\n 0~tY.,"[(seed >> 4) % 25];
		}
		snprintf(path, sizeof(path), "g%03zu.yaml", i);
		linter_add(l, path, copy, cut);
	}
	is_int(linter_run(l, &fs), 0, "400 garbled files run through every check");
	ok(fs.n > 0, "with findings (%zu)", fs.n);
	findings_release(&fs);
	linter_free(l);
	free(copy);
}

/* Files whose findings need the whole set: a Service and its workloads in
 * other files, an autoscaler, a custom resource before its CRD,
 * duplicates, ignores, a CronJob and a Pod. */
static const char *const set_files[][2] = {
	{ "a/svc.yaml",
	  "apiVersion: v1\nkind: Service\nmetadata: {name: web, namespace: shop}\n"
	  "spec:\n  selector: {app: web}\n  ports: [{port: 80, targetPort: http}, {port: 81, targetPort: nope}]\n"
	  "---\napiVersion: v1\nkind: Service\nmetadata: {name: lost, namespace: shop}\n"
	  "spec:\n  selector: {app: nobody}\n  ports: [{port: 80}]\n"
	  "---\napiVersion: v1\nkind: Service\nmetadata: {name: cron, namespace: jobs}\n"
	  "spec:\n  selector: {app: cron}\n  ports: [{port: 80, targetPort: metrics}]\n" },
	{ "a/cr.yaml",
	  "apiVersion: example.com/v1\nkind: Widget\nmetadata: {name: w1}\nspec: {size: three}\n" },
	{ "b/deploy.yaml",
	  "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: web\n  namespace: shop\n"
	  "  annotations: {tidegate.io/ignore: latest-tag, tidegate.io/ignore-reason: pinned by digest later}\n"
	  "spec:\n  replicas: 3\n  selector: {matchLabels: {app: web}}\n"
	  "  template:\n    metadata: {labels: {app: web}}\n    spec:\n      containers:\n"
	  "      - name: web\n        image: nginx:latest\n        ports: [{name: http, containerPort: 80}]\n"
	  "        bogus: 1\n"
	  "---\napiVersion: autoscaling/v2\nkind: HorizontalPodAutoscaler\n"
	  "metadata: {name: web, namespace: shop}\nspec:\n  scaleTargetRef: {apiVersion: apps/v1, kind: Deployment, name: web}\n"
	  "  minReplicas: 1\n  maxReplicas: 3\n" },
	{ "b/cron.yaml",
	  "apiVersion: batch/v1\nkind: CronJob\nmetadata: {name: c, namespace: jobs}\n"
	  "spec:\n  schedule: '* * * * *'\n  jobTemplate:\n    spec:\n      template:\n"
	  "        metadata: {labels: {app: cron}}\n        spec:\n          restartPolicy: Never\n"
	  "          containers: [{name: c, image: busybox:1.36, ports: [{name: metrics, containerPort: 9}]}]\n"
	  "---\napiVersion: v1\nkind: Pod\nmetadata: {name: p, namespace: jobs, labels: {app: cron}}\n"
	  "spec: {containers: [{name: p, image: busybox:1.36}]}\n" },
	{ "c/dup.yaml",
	  "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: web, namespace: shop}\n"
	  "spec:\n  selector: {matchLabels: {app: other}}\n  template:\n    metadata: {labels: {app: other}}\n"
	  "    spec: {containers: [{name: x, image: nginx:1.27}]}\n" },
	{ "c/crd.yaml",
	  "apiVersion: apiextensions.k8s.io/v1\nkind: CustomResourceDefinition\n"
	  "metadata: {name: widgets.example.com}\nspec:\n  group: example.com\n  scope: Cluster\n"
	  "  names: {kind: Widget, plural: widgets}\n  versions:\n  - name: v1\n    served: true\n"
	  "    storage: true\n    schema:\n      openAPIV3Schema:\n        type: object\n"
	  "        properties:\n          spec:\n            type: object\n"
	  "            properties: {size: {type: integer}}\n" },
};

static void run_set(int shrink, struct findings *fs)
{
	struct lint_options opts = LINT_OPTIONS_INIT;
	struct linter *l;
	size_t i;

	opts.shrink = shrink;
	l = linter_new(&opts);
	for (i = 0; i < sizeof(set_files) / sizeof(set_files[0]); i++)
		linter_add(l, set_files[i][0], set_files[i][1], strlen(set_files[i][1]));
	linter_run(l, fs);
	linter_free(l);
}

static int same_finding(const struct finding *a, const struct finding *b)
{
	return !strcmp(a->path, b->path) && a->line == b->line && a->col == b->col &&
		a->sev == b->sev && !strcmp(a->rule, b->rule) && !strcmp(a->msg, b->msg) &&
		a->ignored == b->ignored && !a->jpath == !b->jpath &&
		(!a->jpath || !strcmp(a->jpath, b->jpath));
}

static void test_shrink(void)
{
	struct findings whole = FINDINGS_INIT, shrunk = FINDINGS_INIT;
	size_t i, same = 1;

	run_set(0, &whole);
	run_set(1, &shrunk);
	/* the set rules must have had something to say, or the comparison proves little */
	ok(count_rule(&whole, "service-target-port") == 1, "targetPort 'nope' found with whole trees");
	ok(count_rule(&whole, "dangling-service") == 1, "the Service selecting nobody found");
	ok(count_rule(&whole, "replicas-with-hpa") == 1, "replicas beside an autoscaler found");
	ok(count_rule(&whole, "duplicate-object") >= 1, "the duplicate Deployment found");
	ok(count_rule(&whole, "schema-type") >= 1, "the Widget checked against the later CRD");
	is_int(shrunk.n, whole.n, "checking each file on arrival finds as many findings");
	for (i = 0; i < whole.n && i < shrunk.n; i++)
		if (!same_finding(&whole.v[i], &shrunk.v[i])) {
			char msg[512];

			snprintf(msg, sizeof(msg), "differs: %s:%u:%u %s / %s:%u:%u %s",
				 whole.v[i].path, whole.v[i].line, whole.v[i].col, whole.v[i].rule,
				 shrunk.v[i].path, shrunk.v[i].line, shrunk.v[i].col, shrunk.v[i].rule);
			diag(msg);
			same = 0;
		}
	ok(same, "... and the same ones, at the same places");
	is_int(count_rule(&shrunk, "latest-tag"), 1, "the ignored latest tag is still reported (as ignored)");
	for (i = 0; i < shrunk.n; i++)
		if (!strcmp(shrunk.v[i].rule, "latest-tag"))
			ok(shrunk.v[i].ignored, "and carries the ignore from the shrunk object");
	findings_release(&whole);
	findings_release(&shrunk);
}

/*
 * CRD "pattern"s (ECMA syntax) are checked through POSIX regular
 * expressions; what those cannot express is left to the API server.
 */
static const struct {
	const char *pattern, *value;
	int match;	/* 1 matches, 0 does not, -1 not checked (never a finding) */
} patterns[] = {
	{ "^(0|(([0-9]+)y)?(([0-9]+)w)?(([0-9]+)d)?(([0-9]+)h)?(([0-9]+)m)?(([0-9]+)s)?(([0-9]+)ms)?)$",
	  "10d", 1 },
	{ "^(0|(([0-9]+)y)?(([0-9]+)w)?(([0-9]+)d)?(([0-9]+)h)?(([0-9]+)m)?(([0-9]+)s)?(([0-9]+)ms)?)$",
	  "10 days", 0 },
	{ "^(http|https|socks5)://.+$", "https://proxy:3128", 1 },
	{ "^(http|https|socks5)://.+$", "ftp://proxy", 0 },
	{ "^\\d+$", "123", 1 },
	{ "^\\d+$", "12a", 0 },
	{ "^\\D+$", "abc", 1 },
	{ "^\\D+$", "ab1", 0 },
	{ "^[a-z]\\w*(?:-\\w+)*$", "a1-b_c", 1 },
	{ "^[a-z]\\w*(?:-\\w+)*$", "A1", 0 },
	{ "^[\\d.]+$", "1.2.3", 1 },
	{ "^[\\d.]+$", "1,2", 0 },
	{ "^\\S+\\s\\S+$", "a b", 1 },
	{ "^\\S+\\s\\S+$", "ab", 0 },
	{ "^a.*?b$", "axxb", 1 },
	{ "^a.+?b$", "ab", 0 },
	{ "\\.example\\.com$", "www.example.com", 1 },
	{ "\\.example\\.com$", "wwwxexample.com", 0 },
	{ "^\\/[^\\/]+$", "/x", 1 },
	{ "^\\/[^\\/]+$", "/x/y", 0 },
	{ "x", "axb", 1 },			/* unanchored: anywhere */
	{ "^(?=a)b$", "c", -1 },		/* lookahead */
	{ "^(a)\\1$", "ab", -1 },		/* backreference */
	{ "^\\bword$", "x", -1 },
	{ "^[^\\D]$", "x", -1 },		/* negated escape in brackets */
	{ "^\\p{L}+$", "1", -1 },
	{ "^[]a]$", "b", -1 },
	{ "(", "x", -1 },			/* does not compile */
	{ "^a{2,3}?$", "aa", 1 },		/* a lazy count */
	{ "^a{2,3}?$", "a", 0 },
	{ "^a}?$", "a", 1 },			/* a literal brace, optional */
	{ "^a}?$", "a}", 1 },
	{ "^a}?$", "b", 0 },
	{ "^x{$", "x{", 1 },
	{ "^x{,2}$", "x{,2}", 1 },		/* not a count in ECMA */
	{ "^(a{100}){100}$", "a", 0 },		/* grows to 10,000: checked */
	/* hostile: regcomp would take seconds and gigabytes; left to the server */
	{ "^((a{255}){255}){255}$", "a", -1 },
	{ "^(((a{100}){100}){100}){100}$", "a", -1 },
	{ "^a{99999999}$", "a", -1 },
	{ "^(x{20001})$", "a", -1 },
};

static void test_patterns(void)
{
	size_t i;

	for (i = 0; i < sizeof(patterns) / sizeof(patterns[0]); i++) {
		struct lint_options opts = LINT_OPTIONS_INIT;
		struct findings fs = FINDINGS_INIT;
		struct linter *l = linter_new(&opts);
		struct buf y = BUF_INIT(BUF_NOCAP);
		const char *q;

		buf_addstr(&y, "apiVersion: apiextensions.k8s.io/v1\nkind: CustomResourceDefinition\n"
			   "metadata: {name: things.example.com}\nspec:\n  group: example.com\n"
			   "  scope: Cluster\n  names: {kind: Thing, plural: things}\n"
			   "  versions:\n  - name: v1\n    served: true\n    storage: true\n"
			   "    schema:\n      openAPIV3Schema:\n        type: object\n"
			   "        properties:\n          v: {type: string, pattern: \"");
		for (q = patterns[i].pattern; *q; q++) {
			if (*q == '\\' || *q == '"')
				buf_addch(&y, '\\');
			buf_addch(&y, *q);
		}
		buf_addf(&y, "\"}\n---\napiVersion: example.com/v1\nkind: Thing\nmetadata: {name: t}\n"
			 "v: \"%s\"\n", patterns[i].value);
		is_int(linter_add(l, "p.yaml", y.data, y.len), 0, "pattern %zu parses", i);
		is_int(linter_run(l, &fs), 0, "pattern %zu runs", i);
		is_int((int)count_rule(&fs, "schema-pattern"), patterns[i].match == 0,
		       "/%s/ %s \"%s\"", patterns[i].pattern,
		       patterns[i].match < 0 ? "is left to the server for" :
		       patterns[i].match ? "matches" : "does not match", patterns[i].value);
		findings_release(&fs);
		buf_release(&y);
		linter_free(l);
	}
}

int main(void)
{
	test_basic();
	test_shrink();
	test_config();
	test_ignores();
	test_garbled();
	test_patterns();
	return done_testing();
}
