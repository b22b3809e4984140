/*
 * t-rules.c - the lint rules: the table, golden cases (tests/data/rules/),
 * annotation ignores, kube-version judgement and a 10,000-object run.
 *
 * Golden cases: one folder per case under tests/data/rules/ (folders
 * starting with _ hold the shell tests' fixtures). Its *.yaml files form
 * one set; the rule checked is the folder's name, or those listed in a
 * file `rules` (one id a line); a file `options` may hold
 * `kube-version 1.21` and `require-namespace`. `expected` holds the
 * exact findings of those rules, one a line:
 *
 *	bad.yaml:7:16: warning latest-tag Deployment/web .spec...image: message
 *
 * with " [ignored: reason]" appended for ignored findings. Run with
 * TIDEGATE_UPDATE_GOLDEN=1 to rewrite the expected files (then review them).
 */
#include "tap.h"
#include "buf.h"
#include "finding.h"
#include "manifest.h"
#include "rules.h"
#include "xalloc.h"

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

struct run_opts {
	int kube_major, kube_minor;
	int require_namespace;
};

static void run_rule(const struct rule *r, const struct kset *set, const struct run_opts *ro,
		     struct findings *fs)
{
	struct rule_ctx ctx;
	size_t i;

	memset(&ctx, 0, sizeof(ctx));
	ctx.rule = r;
	ctx.sev = r->sev;
	ctx.fs = fs;
	ctx.kube_major = ro->kube_major;
	ctx.kube_minor = ro->kube_minor;
	ctx.require_namespace = ro->require_namespace;
	if (r->check_obj)
		for (i = 0; i < set->nobjs; i++)
			r->check_obj(&ctx, &set->objs[i]);
	if (r->check_set)
		r->check_set(&ctx, set);
}

static void format_findings(struct findings *fs, struct buf *out)
{
	size_t i;

	findings_sort(fs);
	for (i = 0; i < fs->n; i++) {
		const struct finding *f = &fs->v[i];

		buf_addf(out, "%s:%u:%u: %s %s %s %s: %s", f->path, f->line, f->col,
			 severity_name(f->sev), f->rule, f->object ? f->object : "-",
			 f->jpath ? f->jpath : "-", f->msg);
		if (f->ignored)
			buf_addf(out, " [ignored: %s]",
				 f->ignore_reason ? f->ignore_reason : "no reason");
		buf_addch(out, '\n');
	}
}

static int add_yaml(struct kset *set, const char *path, const char *data, size_t len)
{
	struct findings junk = FINDINGS_INIT;
	int r = kset_add_file(set, path, data, len, &yaml_default_limits, SEV_INFO, &junk);

	findings_release(&junk);
	return r;
}

/* Lints the given YAML with one rule; returns the formatted findings (caller frees). */
static char *lint_one(const char *rule_id, const char *yaml, const struct run_opts *ro,
		      size_t *nerr)
{
	struct kset set = KSET_INIT;
	struct findings fs = FINDINGS_INIT;
	struct buf out = BUF_INIT(BUF_NOCAP);
	const struct rule *r = rule_find(rule_id);

	add_yaml(&set, "in.yaml", yaml, strlen(yaml));
	if (r)
		run_rule(r, &set, ro, &fs);
	format_findings(&fs, &out);
	if (nerr)
		*nerr = fs.nerr + fs.nwarn + fs.ninfo;
	findings_release(&fs);
	kset_release(&set);
	return buf_detach(&out, NULL);
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static void read_lines(const char *path, char ***out, size_t *n)
{
	struct buf b = BUF_INIT(BUF_NOCAP);
	char *p, *nl;
	size_t alloc = 0;

	*out = NULL;
	*n = 0;
	if (buf_read_file(&b, path) < 0) {
		buf_release(&b);
		return;
	}
	for (p = b.data; *p; p = nl + 1) {
		nl = strchr(p, '\n');
		if (!nl)
			nl = p + strlen(p);
		if (nl > p) {
			XGROW(*out, *n + 1, alloc);
			(*out)[(*n)++] = xstrndup(p, (size_t)(nl - p));
		}
		if (!*nl)
			break;
	}
	buf_release(&b);
}

static void free_lines(char **v, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		free(v[i]);
	free(v);
}

static int golden_case(const char *dir, const char *name, char **covered, size_t *ncovered)
{
	char path[4096], **rules = NULL, **opts = NULL, **files = NULL;
	size_t nrules = 0, nopts = 0, nfiles = 0, falloc = 0, i;
	struct run_opts ro = { 1, 34, 0 };
	struct kset set = KSET_INIT;
	struct findings fs = FINDINGS_INIT;
	struct buf got = BUF_INIT(BUF_NOCAP), want = BUF_INIT(BUF_NOCAP);
	struct dirent *de;
	DIR *d;
	int ok_ = 1;

	snprintf(path, sizeof(path), "%s/%s/rules", dir, name);
	read_lines(path, &rules, &nrules);
	if (!nrules) {
		rules = xmalloc(sizeof(*rules));
		rules[0] = xstrdup(name);
		nrules = 1;
	}
	snprintf(path, sizeof(path), "%s/%s/options", dir, name);
	read_lines(path, &opts, &nopts);
	for (i = 0; i < nopts; i++) {
		if (!strncmp(opts[i], "kube-version ", 13))
			sscanf(opts[i] + 13, "%d.%d", &ro.kube_major, &ro.kube_minor);
		else if (!strcmp(opts[i], "require-namespace"))
			ro.require_namespace = 1;
	}

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	d = opendir(path);
	while (d && (de = readdir(d))) {
		size_t l = strlen(de->d_name);

		if (l > 5 && !strcmp(de->d_name + l - 5, ".yaml")) {
			XGROW(files, nfiles + 1, falloc);
			files[nfiles++] = xstrdup(de->d_name);
		}
	}
	if (d)
		closedir(d);
	qsort(files, nfiles, sizeof(*files), cmp_str);
	for (i = 0; i < nfiles; i++) {
		struct buf data = BUF_INIT(BUF_NOCAP);

		snprintf(path, sizeof(path), "%s/%s/%s", dir, name, files[i]);
		if (buf_read_file(&data, path) < 0)
			ok_ = 0;
		add_yaml(&set, files[i], data.data, data.len);
		buf_release(&data);
	}
	for (i = 0; i < nrules; i++) {
		const struct rule *r = rule_find(rules[i]);

		if (!r) {
			ok(0, "golden %s: rule '%s' exists", name, rules[i]);
			ok_ = 0;
			continue;
		}
		run_rule(r, &set, &ro, &fs);
		covered[(*ncovered)++] = xstrdup(rules[i]);
	}
	format_findings(&fs, &got);

	snprintf(path, sizeof(path), "%s/%s/expected", dir, name);
	if (getenv("TIDEGATE_UPDATE_GOLDEN")) {
		FILE *f = fopen(path, "w");

		if (f) {
			fputs(got.data, f);
			fclose(f);
		}
	}
	buf_read_file(&want, path);
	if (!ok(ok_ && !strcmp(got.data, want.data), "golden case %s (%zu files)", name, nfiles)) {
		printf("# --- expected\n%s# --- got\n%s", want.data, got.data);
	}
	/* Every case must show its rule firing and staying quiet. */
	if (nrules == 1 && !strcmp(rules[0], name)) {
		int quiet = 0;

		for (i = 0; i < nfiles; i++)
			if (!strncmp(files[i], "good", 4) && !strstr(got.data, files[i]))
				quiet = 1;
		ok(fs.n > 0 && quiet, "golden case %s has findings and a quiet good*.yaml", name);
	}

	free_lines(files, nfiles);
	free_lines(rules, nrules);
	free_lines(opts, nopts);
	buf_release(&got);
	buf_release(&want);
	findings_release(&fs);
	kset_release(&set);
	return ok_;
}

static void test_golden(void)
{
	const char *src = getenv("TIDEGATE_SRC");
	char dir[1024], **names = NULL, *covered[1024];
	size_t nnames = 0, alloc = 0, ncovered = 0, i, j, nr;
	const struct rule *all = rules_all(&nr);
	struct dirent *de;
	DIR *d;

	snprintf(dir, sizeof(dir), "%s/tests/data/rules", src ? src : ".");
	d = opendir(dir);
	if (!ok(d != NULL, "golden directory %s exists", dir))
		return;
	while ((de = readdir(d)))
		if (de->d_name[0] != '.' && de->d_name[0] != '_') {
			XGROW(names, nnames + 1, alloc);
			names[nnames++] = xstrdup(de->d_name);
		}
	closedir(d);
	qsort(names, nnames, sizeof(*names), cmp_str);
	for (i = 0; i < nnames && ncovered < 1000; i++)
		golden_case(dir, names[i], covered, &ncovered);
	for (i = 0; i < nr; i++) {
		int found = 0;

		for (j = 0; j < ncovered; j++)
			if (!strcmp(covered[j], all[i].id))
				found = 1;
		ok(found, "rule %s has a golden case", all[i].id);
	}
	for (j = 0; j < ncovered; j++)
		free(covered[j]);
	free_lines(names, nnames);
}

static void test_table(void)
{
	size_t n, i;
	const struct rule *r = rules_all(&n);
	int sorted = 1, complete = 1;

	ok(n >= 25, "at least 25 rules (%zu)", n);
	for (i = 0; i < n; i++) {
		if (i && strcmp(r[i - 1].id, r[i].id) >= 0)
			sorted = 0;
		if (!r[i].summary || !*r[i].summary || !r[i].hint || !*r[i].hint ||
		    (!r[i].check_obj && !r[i].check_set))
			complete = 0;
		if (rule_find(r[i].id) != &r[i])
			complete = 0;
	}
	ok(sorted, "rules are sorted by id, ids unique");
	ok(complete, "every rule has a summary, a hint and a check, and rule_find finds it");
	ok(rule_find("no-such-rule") == NULL, "rule_find of an unknown id is NULL");
	ok(rule_find(NULL) == NULL, "rule_find(NULL) is NULL");
	is_str(rule_find("latest-tag")->kube_linter, "latest-tag", "kube-linter name kept");
}

/* docs/rules.md lists every rule with its default severity and has a section for it. */
static void test_docs(void)
{
	const char *src = getenv("TIDEGATE_SRC");
	struct buf doc = BUF_INIT(BUF_NOCAP);
	char path[1024];
	size_t n, i, missing = 0;
	const struct rule *r = rules_all(&n);

	snprintf(path, sizeof(path), "%s/docs/rules.md", src ? src : ".");
	if (!ok(buf_read_file(&doc, path) == 0, "docs/rules.md is readable"))
		return;
	for (i = 0; i < n; i++) {
		char *row = xstrfmt("| [`%s`](#%s) | %s | %s%s%s |", r[i].id, r[i].id,
				    severity_name(r[i].sev), r[i].kube_linter ? "`" : "",
				    r[i].kube_linter ? r[i].kube_linter : "\xe2\x80\x94",
				    r[i].kube_linter ? "`" : "");
		char *sec = xstrfmt("\n### %s\n", r[i].id);

		if (!strstr(doc.data, row) || !strstr(doc.data, sec)) {
			printf("# docs/rules.md lacks or misstates %s\n", r[i].id);
			missing++;
		}
		free(row);
		free(sec);
	}
	ok(!missing, "docs/rules.md has a table row and a section for every rule");
	buf_release(&doc);
}

static const char deploy_latest[] =
	"apiVersion: apps/v1\n"
	"kind: Deployment\n"
	"metadata:\n"
	"  name: web\n"
	"  namespace: shop\n"
	"%s"
	"spec:\n"
	"  selector: {matchLabels: {app: web}}\n"
	"  template:\n"
	"    metadata:\n"
	"      labels: {app: web}\n"
	"%s"
	"    spec:\n"
	"      containers:\n"
	"        - name: web\n"
	"          image: nginx:latest\n";

static char *lint_deploy(const char *rule, const char *ann, const char *tmpl_ann, size_t *n)
{
	struct run_opts ro = { 1, 34, 0 };
	char *yaml = xstrfmt(deploy_latest, ann, tmpl_ann);
	char *out = lint_one(rule, yaml, &ro, n);

	free(yaml);
	return out;
}

static void test_ignores(void)
{
	size_t n;
	char *out;

	out = lint_deploy("latest-tag", "", "", &n);
	ok(strstr(out, "latest-tag") && n == 1, "latest-tag fires without annotations");
	free(out);

	out = lint_deploy("latest-tag", "  annotations:\n"
			  "    tidegate.io/ignore: \"run-as-non-root, latest-tag\"\n"
			  "    tidegate.io/ignore-reason: pinned by the image policy\n", "", &n);
	ok(strstr(out, "[ignored: pinned by the image policy]") && n == 0,
	   "tidegate.io/ignore with a reason ignores, keeps the finding and the reason");
	free(out);

	out = lint_deploy("latest-tag", "  annotations:\n"
			  "    tidegate.io/ignore: latest-tagX,latest\n", "", &n);
	ok(!strstr(out, "ignored") && n == 1, "ignore lists match whole ids only");
	free(out);

	out = lint_deploy("latest-tag", "  annotations:\n"
			  "    ignore-check.kube-linter.io/latest-tag: \"digest set by CI\"\n", "", &n);
	ok(strstr(out, "[ignored: digest set by CI]") && n == 0,
	   "kube-linter's ignore-check annotation ignores the rule sharing its name");
	free(out);

	out = lint_deploy("latest-tag", "", "      annotations:\n"
			  "        tidegate.io/ignore: latest-tag\n"
			  "        tidegate.io/ignore-reason: template annotations do not count\n", &n);
	ok(!strstr(out, "ignored") && n == 1, "pod template annotations do not ignore");
	free(out);

	out = lint_deploy("ignore-without-reason", "  annotations:\n"
			  "    tidegate.io/ignore: latest-tag\n", "", &n);
	ok(strstr(out, "ignore-without-reason") && n == 1, "an ignore without reason is noted");
	free(out);

	out = lint_deploy("latest-tag", "  annotations:\n"
			  "    tidegate.io/ignore: latest-tag\n", "", &n);
	ok(strstr(out, "[ignored: no reason]") && n == 0, "an ignore without a reason still ignores");
	free(out);
}

static const char old_cronjob[] =
	"apiVersion: batch/v1beta1\n"
	"kind: CronJob\n"
	"metadata: {name: nightly}\n"
	"spec:\n"
	"  schedule: '0 0 * * *'\n"
	"  jobTemplate:\n"
	"    spec:\n"
	"      template:\n"
	"        spec:\n"
	"          restartPolicy: Never\n"
	"          containers: [{name: c, image: 'busybox:1.36'}]\n";

static void test_kube_versions(void)
{
	struct run_opts v120 = { 1, 20, 0 }, v121 = { 1, 21, 0 }, v124 = { 1, 24, 0 },
			v125 = { 1, 25, 0 }, none = { 0, 0, 0 };
	size_t n;
	char *out;

	out = lint_one("deprecated-api", old_cronjob, &v120, &n);
	ok(n == 0, "batch/v1beta1 CronJob: not deprecated yet for 1.20");
	free(out);
	out = lint_one("deprecated-api", old_cronjob, &v121, &n);
	ok(n == 1 && strstr(out, "deprecated since Kubernetes 1.21, removed in 1.25"),
	   "batch/v1beta1 CronJob: deprecated for 1.21");
	free(out);
	out = lint_one("removed-api", old_cronjob, &v124, &n);
	ok(n == 0, "batch/v1beta1 CronJob: still served by 1.24");
	free(out);
	out = lint_one("deprecated-api", old_cronjob, &v125, &n);
	ok(n == 0, "batch/v1beta1 CronJob: not merely deprecated for 1.25");
	free(out);
	out = lint_one("removed-api", old_cronjob, &v125, &n);
	ok(n == 1 && strstr(out, "removed in Kubernetes 1.25 (target 1.25): use batch/v1"),
	   "batch/v1beta1 CronJob: removed for 1.25, with the replacement");
	free(out);
	out = lint_one("removed-api", old_cronjob, &none, &n);
	ok(n == 1, "no target version: judged against the newest known");
	free(out);
}

static void test_require_namespace(void)
{
	static const char cm[] = "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: c}\n";
	static const char cr[] = "apiVersion: rbac.authorization.k8s.io/v1\nkind: ClusterRole\n"
				 "metadata: {name: c}\nrules: []\n";
	struct run_opts off = { 1, 34, 0 }, on = { 1, 34, 1 };
	size_t n;
	char *out;

	out = lint_one("missing-namespace", cm, &off, &n);
	ok(n == 0, "missing-namespace is quiet unless required");
	free(out);
	out = lint_one("missing-namespace", cm, &on, &n);
	ok(n == 1, "missing-namespace fires when required");
	free(out);
	out = lint_one("missing-namespace", cr, &on, &n);
	ok(n == 0, "cluster-scoped kinds need no namespace");
	free(out);
}

static void test_scale(void)
{
	struct buf y = BUF_INIT(BUF_NOCAP);
	struct kset set = KSET_INIT;
	struct findings fs = FINDINGS_INIT;
	struct run_opts ro = { 1, 34, 0 };
	size_t i, n, dangling = 0;
	const struct rule *all = rules_all(&n);
	struct timespec t0, t1;
	double ms;

	/*
	 * 5,000 Deployments and 5,000 Services in one namespace, in 100 files
	 * as a repository holds them; every 10th Service dangles.
	 */
	for (i = 0; i < 5000; i++) {
		buf_addf(&y, "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: d%zu, "
			 "namespace: big}\nspec:\n  selector: {matchLabels: {app: a%zu}}\n"
			 "  template:\n    metadata: {labels: {app: a%zu, tier: web}}\n"
			 "    spec:\n      containers: [{name: c, image: 'r/i:1'}]\n---\n",
			 i, i, i);
		buf_addf(&y, "apiVersion: v1\nkind: Service\nmetadata: {name: s%zu, namespace: big}\n"
			 "spec:\n  selector: {tier: web, app: %s%zu}\n  ports: [{port: 80}]\n---\n",
			 i, i % 10 ? "a" : "gone", i);
		if (i % 50 == 49) {
			char name[32];

			snprintf(name, sizeof(name), "big-%zu.yaml", i / 50);
			add_yaml(&set, name, y.data, y.len);
			buf_reset(&y);
		}
	}
	ok(set.nobjs == 10000, "10,000 objects parsed (%zu)", set.nobjs);
	fs.max = 1000000;
	/* CPU time: the machine may be busy with other work. */
	clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &t0);
	for (i = 0; i < n; i++) {
		struct timespec r0, r1;
		double rms;

		clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &r0);
		run_rule(&all[i], &set, &ro, &fs);
		clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &r1);
		rms = (double)(r1.tv_sec - r0.tv_sec) * 1e3 +
		      (double)(r1.tv_nsec - r0.tv_nsec) / 1e6;
		if (rms > 20)
			printf("# %s: %.1f ms\n", all[i].id, rms);
	}
	clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &t1);
	ms = (double)(t1.tv_sec - t0.tv_sec) * 1e3 + (double)(t1.tv_nsec - t0.tv_nsec) / 1e6;
	for (i = 0; i < fs.n; i++)
		if (!strcmp(fs.v[i].rule, "dangling-service"))
			dangling++;
	is_int(dangling, 500, "dangling-service finds exactly the 500 dangling Services");
	ok(ms < 5000, "every rule over 10,000 objects in %.0f ms", ms);
	printf("# all %zu rules over 10,000 objects: %.1f ms CPU, %zu findings\n", n, ms, fs.n);
	findings_release(&fs);
	kset_release(&set);
	buf_release(&y);
}

/* Hostile input: long lists and long keys stay linear and bounded. */
static void test_hostile(void)
{
	struct buf y = BUF_INIT(BUF_NOCAP);
	struct kset set = KSET_INIT;
	struct findings fs = FINDINGS_INIT;
	struct run_opts ro = { 1, 34, 0 };
	struct timespec t0, t1;
	size_t i, longest = 0;
	double ms;

	buf_addstr(&y, "apiVersion: v1\nkind: Pod\nmetadata:\n  name: p\n  annotations:\n"
		   "    ignore-check.kube-linter.io/");
	for (i = 0; i < 900; i++)	/* libyaml takes keys up to 1024 bytes */
		buf_addch(&y, 'x');
	buf_addstr(&y, ": \"\"\nspec:\n  containers:\n  - name: c\n    image: 'i:1'\n    env:\n");
	for (i = 0; i < 50000; i++)
		buf_addstr(&y, "    - {name: SAME, value: v}\n");
	add_yaml(&set, "hostile.yaml", y.data, y.len);
	ok(set.nobjs == 1, "the hostile pod parses");
	clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &t0);
	run_rule(rule_find("duplicate-env-var"), &set, &ro, &fs);
	run_rule(rule_find("ignore-without-reason"), &set, &ro, &fs);
	clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &t1);
	ms = (double)(t1.tv_sec - t0.tv_sec) * 1e3 + (double)(t1.tv_nsec - t0.tv_nsec) / 1e6;
	ok(fs.n == 10000 && fs.dropped == 49999 + 1 - 10000,
	   "findings stop at the cap, the rest are counted as dropped (%zu, %zu)", fs.n, fs.dropped);
	ok(ms < 2000, "50,000 duplicate variables judged in %.0f ms", ms);
	for (i = 0; i < fs.n; i++)
		if (fs.v[i].jpath && strlen(fs.v[i].jpath) > longest)
			longest = strlen(fs.v[i].jpath);
	ok(longest > 0 && longest < 512, "JSON paths are cut below 512 bytes (%zu)", longest);
	findings_release(&fs);
	kset_release(&set);
	buf_release(&y);
}

int main(void)
{
	test_table();
	test_docs();
	test_ignores();
	test_kube_versions();
	test_require_namespace();
	test_golden();
	test_scale();
	test_hostile();
	return done_testing();
}
