/*
 * t-report.c - text, JSON and SARIF reports: the exact text lines, JSON
 * that parses with the documented fields, SARIF 2.1.0's required shape.
 */
#include "tap.h"
#include "buf.h"
#include "finding.h"
#include "report.h"
#include "xalloc.h"

#include <cjson/cJSON.h>
#include <string.h>

static void fill(struct findings *fs)
{
	struct finding *f;

	findings_add(fs, "k8s/a b.yaml", 3, 5, SEV_ERROR, "schema-type", "fix it",
		     "expected string, got \"quoted\"\nsecond line");
	f = findings_add(fs, "k8s/a b.yaml", 7, 1, SEV_WARNING, "latest-tag", NULL, "uses latest");
	f->jpath = xstrdup(".spec.containers[0].image");
	f->object = xstrdup("Pod/web");
	f = findings_add(fs, "k8s/c.yaml", 1, 1, SEV_WARNING, "host-pid", NULL, "hostPID");
	finding_ignore(fs, f, "the agent needs it");
	findings_add(fs, "huge.yaml", 0, 0, SEV_ERROR, "yaml-limit", NULL, "file too big");
	findings_sort(fs);
}

static void test_text(const struct findings *fs, const struct report_summary *sum)
{
	struct buf b = BUF_INIT(BUF_NOCAP);

	report_write(&b, REPORT_TEXT, fs, sum);
	is_str(b.data,
	       "huge.yaml: error: file too big [yaml-limit]\n"
	       "k8s/a b.yaml:3:5: error: expected string, got \"quoted\" second line [schema-type]\n"
	       "k8s/a b.yaml:7:1: warning: uses latest [latest-tag]\n"
	       "2 objects in 3 files: 2 errors, 1 warning, 1 skipped\n",
	       "text lines, ignored finding left out, summary");
	buf_release(&b);
}

static void test_json(const struct findings *fs, const struct report_summary *sum)
{
	struct buf b = BUF_INIT(BUF_NOCAP);
	cJSON *j, *arr, *f, *s;

	report_write(&b, REPORT_JSON, fs, sum);
	j = cJSON_Parse(b.data);
	ok(j != NULL, "JSON parses");
	arr = cJSON_GetObjectItem(j, "findings");
	is_int(cJSON_GetArraySize(arr), 4, "every finding, ignored included");
	f = cJSON_GetArrayItem(arr, 2);
	is_str(cJSON_GetStringValue(cJSON_GetObjectItem(f, "jsonPath")), ".spec.containers[0].image",
	       "jsonPath");
	is_str(cJSON_GetStringValue(cJSON_GetObjectItem(f, "object")), "Pod/web", "object");
	is_int(cJSON_GetObjectItem(f, "line")->valueint, 7, "line");
	is_str(cJSON_GetStringValue(cJSON_GetObjectItem(f, "severity")), "warning", "severity");
	ok(cJSON_IsNull(cJSON_GetObjectItem(f, "hint")), "null hint");
	f = cJSON_GetArrayItem(arr, 3);
	ok(cJSON_IsTrue(cJSON_GetObjectItem(f, "ignored")), "ignored flag");
	is_str(cJSON_GetStringValue(cJSON_GetObjectItem(f, "ignoreReason")), "the agent needs it",
	       "ignoreReason");
	f = cJSON_GetArrayItem(arr, 1);
	is_str(cJSON_GetStringValue(cJSON_GetObjectItem(f, "message")),
	       "expected string, got \"quoted\"\nsecond line", "message escaped and intact");
	s = cJSON_GetObjectItem(j, "summary");
	is_int(cJSON_GetObjectItem(s, "errors")->valueint, 2, "summary errors");
	is_int(cJSON_GetObjectItem(s, "warnings")->valueint, 1, "summary warnings");
	is_int(cJSON_GetObjectItem(s, "ignored")->valueint, 1, "summary ignored");
	is_int(cJSON_GetObjectItem(s, "objects")->valueint, 2, "summary objects");
	cJSON_Delete(j);
	buf_release(&b);
}

static void test_sarif(const struct findings *fs)
{
	struct buf b = BUF_INIT(BUF_NOCAP);
	cJSON *j, *run, *driver, *results, *r, *loc, *rules;
	int i, ok_idx = 1;

	report_write(&b, REPORT_SARIF, fs, NULL);
	j = cJSON_Parse(b.data);
	ok(j != NULL, "SARIF parses");
	is_str(cJSON_GetStringValue(cJSON_GetObjectItem(j, "version")), "2.1.0", "version 2.1.0");
	run = cJSON_GetArrayItem(cJSON_GetObjectItem(j, "runs"), 0);
	driver = cJSON_GetObjectItem(cJSON_GetObjectItem(run, "tool"), "driver");
	is_str(cJSON_GetStringValue(cJSON_GetObjectItem(driver, "name")), "tidegate", "driver name");
	rules = cJSON_GetObjectItem(driver, "rules");
	is_int(cJSON_GetArraySize(rules), 4, "one rule entry per rule used");
	ok(cJSON_GetStringValue(cJSON_GetObjectItem(cJSON_GetObjectItem(cJSON_GetArrayItem(rules, 0),
		"shortDescription"), "text")) != NULL, "rules have a shortDescription");
	results = cJSON_GetObjectItem(run, "results");
	is_int(cJSON_GetArraySize(results), 4, "four results");
	for (i = 0; i < cJSON_GetArraySize(results); i++) {
		cJSON *res = cJSON_GetArrayItem(results, i);
		int idx = cJSON_GetObjectItem(res, "ruleIndex")->valueint;

		if (strcmp(cJSON_GetStringValue(cJSON_GetObjectItem(cJSON_GetArrayItem(rules, idx), "id")),
			   cJSON_GetStringValue(cJSON_GetObjectItem(res, "ruleId"))))
			ok_idx = 0;
	}
	ok(ok_idx, "ruleIndex points at the ruleId");
	r = cJSON_GetArrayItem(results, 1);
	is_str(cJSON_GetStringValue(cJSON_GetObjectItem(r, "level")), "error", "level");
	loc = cJSON_GetObjectItem(cJSON_GetArrayItem(cJSON_GetObjectItem(r, "locations"), 0),
				  "physicalLocation");
	is_str(cJSON_GetStringValue(cJSON_GetObjectItem(cJSON_GetObjectItem(loc, "artifactLocation"),
							"uri")), "k8s/a%20b.yaml", "URI escaped");
	is_int(cJSON_GetObjectItem(cJSON_GetObjectItem(loc, "region"), "startLine")->valueint, 3,
	       "startLine");
	is_int(cJSON_GetObjectItem(cJSON_GetObjectItem(loc, "region"), "startColumn")->valueint, 5,
	       "startColumn");
	r = cJSON_GetArrayItem(results, 0);
	loc = cJSON_GetObjectItem(cJSON_GetArrayItem(cJSON_GetObjectItem(r, "locations"), 0),
				  "physicalLocation");
	ok(!cJSON_GetObjectItem(loc, "region"), "no region for a whole-file finding");
	r = cJSON_GetArrayItem(results, 3);
	ok(cJSON_GetArraySize(cJSON_GetObjectItem(r, "suppressions")) == 1, "ignored: suppressed");
	cJSON_Delete(j);
	buf_release(&b);
}

int main(void)
{
	struct findings fs = FINDINGS_INIT;
	struct report_summary sum = { 2, 3, 1 };
	enum report_format fmt;
	const char *summary, *hint;
	enum severity sev;

	fill(&fs);
	test_text(&fs, &sum);
	test_json(&fs, &sum);
	test_sarif(&fs);
	findings_release(&fs);

	ok(!report_format_parse("sarif", &fmt) && fmt == REPORT_SARIF, "format names");
	ok(report_format_parse("xml", &fmt) < 0, "unknown format");
	ok(!report_rule_info("yaml-syntax", &summary, &hint, &sev) && sev == SEV_ERROR,
	   "engine rules are described");
	ok(report_rule_info("nope", &summary, &hint, &sev) < 0, "unknown id");
	return done_testing();
}
