/*
 * t-lintconf.c - .tidegate.yaml parsing, globs, include/exclude, and
 * merging a repository's file under a server policy with locked rules.
 */
#include "tap.h"
#include "finding.h"
#include "lintconf.h"

#include <stdlib.h>
#include <string.h>

static int parse(struct lint_config *c, struct findings *fs, const char *text)
{
	return lint_config_parse(c, ".tidegate.yaml", text, strlen(text), fs);
}

static void test_parse(void)
{
	struct lint_config c = LINT_CONFIG_INIT;
	struct findings fs = FINDINGS_INIT;

	is_int(parse(&c, &fs, "rules:\n  latest-tag: error\n  yaml11-trap: off\n"
		     "  no-liveness-probe: warn\ninclude: [k8s]\nexclude:\n- \"*.tmpl.yaml\"\n"
		     "kubeVersion: 1.30\nstrict: true\nrequireNamespace: false\n"), 0,
	       "a full file parses");
	is_int(fs.n, 0, "without findings");
	is_int(lint_config_severity(&c, "latest-tag", SEV_WARNING), SEV_ERROR, "raised rule");
	is_int(lint_config_severity(&c, "yaml11-trap", SEV_WARNING), SEV_OFF, "switched off");
	is_int(lint_config_severity(&c, "no-liveness-probe", SEV_INFO), SEV_WARNING, "warn alias");
	is_int(lint_config_severity(&c, "host-pid", SEV_ERROR), SEV_ERROR, "default kept");
	is_str(c.kube_version, "1.30", "kubeVersion keeps its text (1.30, not 1.3)");
	is_int(c.strict, 1, "strict");
	is_int(c.require_namespace, 0, "requireNamespace");
	ok(c.ninclude == 1 && c.nexclude == 1, "include and exclude");
	lint_config_release(&c);

	is_int(parse(&c, &fs, "rules:\n  latest-tag: loud\nstrict: maybe\nfrobnicate: 1\n"
		     "rules2: {}\n"), -1, "bad values fail");
	is_int(fs.nerr, 2, "two errors (severity, bool)");
	is_int(fs.nwarn, 2, "two unknown keys");
	findings_release(&fs);
	lint_config_release(&c);

	is_int(parse(&c, &fs, "rules:\n  no-such-rule: off\n"), 0, "unknown rule is a warning");
	ok(fs.n == 1 && !strcmp(fs.v[0].rule, "config-unknown"), "config-unknown");
	findings_release(&fs);
	lint_config_release(&c);

	is_int(parse(&c, &fs, "rules: [\n"), -1, "YAML errors fail");
	ok(fs.n && !strcmp(fs.v[0].rule, "yaml-syntax"), "with the syntax finding");
	findings_release(&fs);
	lint_config_release(&c);

	is_int(parse(&c, &fs, "- a\n"), -1, "a list is not a configuration");
	findings_release(&fs);
	lint_config_release(&c);
	is_int(parse(&c, &fs, ""), 0, "an empty file is fine");
	lint_config_release(&c);
}

static void test_globs(void)
{
	ok(glob_match("*.yaml", "a.yaml"), "star");
	ok(!glob_match("*.yaml", "dir/a.yaml"), "star stays in a segment");
	ok(glob_match("**/*.yaml", "a.yaml"), "**/ matches zero directories");
	ok(glob_match("**/*.yaml", "x/y/a.yaml"), "**/ matches several");
	ok(glob_match("k8s/**", "k8s/a/b.yaml"), "trailing **");
	ok(!glob_match("k8s/**", "other/k8s/b.yaml"), "anchored at the start");
	ok(glob_match("a?c/[xy].yml", "abc/y.yml"), "? and classes");
	ok(!glob_match("a?c", "a/c"), "? does not match /");
	ok(glob_match("a/**/b/*.yaml", "a/b/c.yaml"), "**/ between literals");
	ok(!glob_match("*a*a*a*a*a*a*a*a*b", "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"),
	   "no exponential backtracking");
}

static void test_selection(void)
{
	struct lint_config c = LINT_CONFIG_INIT;
	struct findings fs = FINDINGS_INIT;

	ok(lint_config_path_selected(NULL, "x.yaml"), "no config selects everything");
	parse(&c, &fs, "include: [k8s, \"deploy/**/*.yaml\"]\nexclude: [vendor, \"*.tmpl.yaml\"]\n");
	ok(lint_config_path_selected(&c, "k8s/web.yaml"), "included directory");
	ok(lint_config_path_selected(&c, "./k8s/sub/web.yaml"), "./ prefix and depth");
	ok(lint_config_path_selected(&c, "deploy/a/b.yaml"), "included glob");
	ok(!lint_config_path_selected(&c, "docs/x.yaml"), "not included");
	ok(!lint_config_path_selected(&c, "k8s/vendor/x.yaml"), "excluded directory name anywhere");
	ok(!lint_config_path_selected(&c, "k8s/web.tmpl.yaml"), "excluded base name");
	c.root = strdup("repo");
	ok(lint_config_path_selected(&c, "repo/k8s/web.yaml"), "paths relative to root");
	ok(!lint_config_path_selected(&c, "repo/docs/web.yaml"), "... both ways");
	lint_config_release(&c);
	findings_release(&fs);
}

static void test_merge(void)
{
	struct lint_config server = LINT_CONFIG_INIT, repo = LINT_CONFIG_INIT, m = LINT_CONFIG_INIT;
	struct findings fs = FINDINGS_INIT;

	parse(&server, &fs, "rules:\n  latest-tag: error\n  yaml11-trap: warning\n"
	      "locked: [latest-tag, privileged-container]\nstrict: true\nexclude: [vendor]\n");
	is_int(fs.n, 0, "server file parses");
	parse(&repo, &fs, "rules:\n  latest-tag: off\n  yaml11-trap: off\n"
	      "  privileged-container: info\n  host-pid: off\nstrict: false\n"
	      "exclude: [tmp]\nkubeVersion: \"1.31\"\n");
	free(repo.source);
	repo.source = strdup("repo/.tidegate.yaml");
	lint_config_merge(&m, &server, &repo, &fs);
	is_int(lint_config_severity(&m, "latest-tag", SEV_WARNING), SEV_ERROR,
	       "a locked rule cannot be switched off");
	is_int(lint_config_severity(&m, "privileged-container", SEV_OFF), SEV_OFF,
	       "a locked rule the server does not set is not lowered (keeps its default)");
	is_int(lint_config_severity(&m, "yaml11-trap", SEV_WARNING), SEV_OFF,
	       "an unlocked rule follows the repository");
	is_int(lint_config_severity(&m, "host-pid", SEV_ERROR), SEV_OFF, "repository-only rule");
	is_int(m.strict, 1, "the repository cannot switch strict off");
	is_str(m.kube_version, "1.31", "kubeVersion from the repository");
	is_int(m.nexclude, 2, "excludes add up");
	is_int(fs.nwarn, 2, "two config-locked warnings");
	ok(fs.n && !strcmp(fs.v[0].rule, "config-locked") && !strcmp(fs.v[0].path, "repo/.tidegate.yaml"),
	   "named after the repository's file");
	lint_config_release(&m);
	findings_release(&fs);

	server.lock_paths = 1;
	lint_config_merge(&m, &server, &repo, NULL);
	is_int(m.nexclude, 1, "lockPaths: only the server's excludes");
	lint_config_release(&m);

	lint_config_lock(&server, "*");
	lint_config_merge(&m, &server, &repo, NULL);
	is_int(lint_config_severity(&m, "host-pid", SEV_ERROR), SEV_ERROR,
	       "\"*\" locks every rule: the repository's off is dropped");
	lint_config_release(&m);

	lint_config_merge(&m, NULL, &repo, NULL);
	is_int(lint_config_severity(&m, "latest-tag", SEV_WARNING), SEV_OFF, "no server: repository wins");
	lint_config_release(&m);
	lint_config_release(&server);
	lint_config_release(&repo);
}

int main(void)
{
	test_parse();
	test_globs();
	test_selection();
	test_merge();
	return done_testing();
}
