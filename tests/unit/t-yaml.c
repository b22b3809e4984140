/*
 * t-yaml.c - the YAML reader: positions, scalar resolution, duplicate
 * keys, syntax errors, limits against hostile input, merge keys,
 * template detection, and no crash on garbled input.
 */
#include "tap.h"
#include "buf.h"
#include "finding.h"
#include "yaml.h"
#include "xalloc.h"

#include <cjson/cJSON.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static struct findings fs = FINDINGS_INIT;
static struct yfile yf = YFILE_INIT;

static int parse_lim(const char *text, const struct yaml_limits *lim)
{
	yfile_release(&yf);
	findings_release(&fs);
	return yaml_parse(&yf, "t.yaml", text, strlen(text), lim, &fs);
}

static int parse(const char *text)
{
	return parse_lim(text, NULL);
}

static const struct finding *find_rule(const char *rule)
{
	size_t i;

	for (i = 0; i < fs.n; i++)
		if (fs.v[i].rule && !strcmp(fs.v[i].rule, rule))
			return &fs.v[i];
	return NULL;
}

static void test_basics(void)
{
	const struct ynode *root, *n;
	long long v;

	is_int(parse("apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: x\n  labels: {a: b}\n"),
	       0, "a plain manifest parses");
	is_int(yf.ndocs, 1, "one document");
	root = yf.docs[0].root;
	ok(root && root->kind == YN_MAP && root->n == 3, "root is a map of three pairs");
	n = ynode_path(root, "metadata.name");
	is_str(ynode_str(n), "x", "ynode_path finds metadata.name");
	is_int(n ? n->line : 0, 4, "name's value is on line 4");
	is_int(n ? n->col : 0, 9, "name's value is at column 9");
	n = ynode_get_key(ynode_get(root, "metadata"), "labels");
	is_int(n ? n->line * 100 + n->col : 0, 503, "key node has its own position (5:3)");
	is_str(ynode_str(ynode_path(root, "metadata.labels.a")), "b", "flow map value");
	ok(!ynode_get(root, "nope") && !ynode_path(root, "metadata.nope.x"), "missing keys are NULL");
	is_int(fs.n, 0, "no findings");

	parse("a: [1, 2, 3]\n");
	n = ynode_path(yf.docs[0].root, "a.2");
	ok(!ynode_int(n, &v) && v == 3, "ynode_path indexes sequences");
	ok(!ynode_path(yf.docs[0].root, "a.3"), "index past the end is NULL");

	parse("---\n---\na: 1\n---\n# only a comment\n");
	is_int(yf.ndocs, 3, "three documents");
	ok(!yf.docs[0].root && yf.docs[1].root && !yf.docs[2].root, "empty documents have no root");
	is_int(yf.docs[1].line, 2, "document start line");
}

static void test_scalars(void)
{
	const struct ynode *r;
	long long v;
	static const struct {
		const char *key;
		enum yscalar t;
	} cases[] = {
		{ "n1", YS_NULL }, { "n2", YS_NULL }, { "n3", YS_NULL },
		{ "b1", YS_BOOL }, { "b2", YS_BOOL }, { "b3", YS_STRING },
		{ "i1", YS_INT }, { "i2", YS_INT }, { "i3", YS_INT }, { "i4", YS_INT },
		{ "f1", YS_FLOAT }, { "f2", YS_FLOAT }, { "f3", YS_FLOAT },
		{ "s1", YS_STRING }, { "s2", YS_STRING }, { "s3", YS_STRING },
		{ "s4", YS_STRING }, { "s5", YS_STRING }, { "s6", YS_STRING },
	};
	size_t i;

	parse("n1: ~\nn2: null\nn3:\nb1: true\nb2: False\nb3: yes\n"
	      "i1: 42\ni2: -7\ni3: 0o17\ni4: 0x1F\n"
	      "f1: 1.5\nf2: 1e3\nf3: .inf\n"
	      "s1: \"42\"\ns2: '1.0'\ns3: |\n  true\ns4: !!str 12\ns5: 1.2.3\ns6: 0x\n");
	r = yf.docs[0].root;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		const struct ynode *n = ynode_get(r, cases[i].key);

		ok(n && n->stype == cases[i].t, "%s resolves to type %d", cases[i].key, (int)cases[i].t);
	}
	ok(!ynode_int(ynode_get(r, "i3"), &v) && v == 15, "0o17 is 15");
	ok(!ynode_int(ynode_get(r, "i4"), &v) && v == 31, "0x1F is 31");
	ok(ynode_int(ynode_get(r, "s1"), &v) < 0, "a quoted number is not an int");
	ok(ynode_get(r, "s1")->quoted && !ynode_get(r, "i1")->quoted, "quoted flag");
	ok(ynode_str(ynode_get(r, "n2")) == NULL, "ynode_str of null is NULL");
	ok(ynode_is_null(ynode_get(r, "n3")) && ynode_is_null(NULL), "ynode_is_null");
	is_str(ynode_get(r, "s4")->tag, "!!str", "standard tags are shortened");

	parse("a: yes\nb: on\nc: 0755\nd: \"yes\"\ne: 1:30\nf: true\ng: 1_000\nh: 0b101\ni: 08\nj: N\n");
	r = yf.docs[0].root;
	is_str(ynode_yaml11(ynode_get(r, "a")), "bool", "yes is a YAML 1.1 bool");
	is_str(ynode_yaml11(ynode_get(r, "b")), "bool", "on is a YAML 1.1 bool");
	is_str(ynode_yaml11(ynode_get(r, "c")), "octal int", "0755 is a YAML 1.1 octal");
	ok(!ynode_yaml11(ynode_get(r, "d")), "quoted yes is no trap");
	is_str(ynode_yaml11(ynode_get(r, "e")), "sexagesimal int", "1:30 is base 60 in YAML 1.1");
	ok(!ynode_yaml11(ynode_get(r, "f")), "true means the same in both");
	is_str(ynode_yaml11(ynode_get(r, "g")), "int", "1_000 is an int in YAML 1.1");
	is_str(ynode_yaml11(ynode_get(r, "h")), "binary int", "0b101 is binary in YAML 1.1");
	ok(!ynode_yaml11(ynode_get(r, "i")), "08 is not octal");
	is_str(ynode_yaml11(ynode_get(r, "j")), "bool", "N is a YAML 1.1 bool");
}

static void test_json(void)
{
	cJSON *j;
	char *s;

	parse("a: 1\nb: [true, null, x, 2.5, \"3\"]\nc: {d: .nan}\n");
	j = ynode_to_json(yf.docs[0].root);
	s = cJSON_PrintUnformatted(j);
	is_str(s, "{\"a\":1,\"b\":[true,null,\"x\",2.5,\"3\"],\"c\":{\"d\":\".nan\"}}", "to JSON");
	free(s);
	cJSON_Delete(j);
}

static void test_duplicates_and_merge(void)
{
	const struct finding *f;
	const struct ynode *r, *b;
	size_t i;
	struct buf big = BUF_INIT(BUF_NOCAP);

	parse("a: 1\nb: 2\na: 3\n");
	f = find_rule("yaml-duplicate-key");
	ok(f && f->line == 3 && f->col == 1 && f->sev == SEV_ERROR, "duplicate key at 3:1");
	ok(f && strstr(f->msg, "first at line 1, column 1"), "message names the first place");
	r = yf.docs[0].root;
	is_int(r->n, 2, "the later pair is dropped");
	is_str(ynode_str(ynode_get(r, "a")), "1", "the first value is kept");

	for (i = 0; i < 5000; i++)
		buf_addf(&big, "k%zu: %zu\n", i, i);
	buf_addstr(&big, "k4321: again\n");
	yfile_release(&yf);
	findings_release(&fs);
	yaml_parse(&yf, "big.yaml", big.data, big.len, NULL, &fs);
	f = find_rule("yaml-duplicate-key");
	ok(f && f->line == 5001 && strstr(f->msg, "\"k4321\" (first at line 4322"),
	   "duplicate found in a big map");
	buf_release(&big);

	parse("base: &b {x: 1, y: 2}\nmore: &m {z: 3}\n"
	      "c:\n  <<: *b\n  y: 20\nd:\n  <<: [*b, *m]\n  w: 0\n");
	r = yf.docs[0].root;
	ok(!find_rule("yaml-duplicate-key"), "merged keys are no duplicates");
	b = ynode_get(r, "c");
	is_str(ynode_str(ynode_get(b, "x")), "1", "merge brings x");
	is_str(ynode_str(ynode_get(b, "y")), "20", "the map's own key wins over the merge");
	is_int(b->n, 2, "merged map has two pairs");
	b = ynode_get(r, "d");
	is_int(b->n, 4, "merge of a list of maps: w, x, y, z");
	is_str(ynode_str(ynode_get(b, "z")), "3", "second merged map");
	ok(ynode_get(b, "x")->alias == 0 && ynode_get(r, "c") != NULL, "positions kept");

	parse("a: &x [1, 2]\nb: *x\n");
	r = yf.docs[0].root;
	ok(ynode_get(r, "b")->alias && ynode_get(r, "b")->n == 2, "alias shares the items");
	is_int(ynode_get(r, "b")->line, 2, "alias node has the alias position");

	parse("a: &x 1\n---\nb: *x\n");
	f = find_rule("yaml-syntax");
	ok(f && f->line == 3 && strstr(f->msg, "unknown anchor"), "anchors do not cross documents");

	parse("a: *nope\n");
	f = find_rule("yaml-syntax");
	ok(f && strstr(f->msg, "unknown anchor"), "alias to an unknown anchor");
	parse("a: &x [1, *x]\n");
	ok(find_rule("yaml-syntax") != NULL, "recursive alias refused, no cycle built");
	parse("<<: 5\n");
	ok(find_rule("yaml-syntax") != NULL, "merge of a scalar refused");
}

static void test_errors(void)
{
	const struct finding *f;

	is_int(parse("a: 1\nb: [1, 2\nc: 3\n"), -1, "unclosed flow sequence fails");
	f = find_rule("yaml-syntax");
	ok(f && f->sev == SEV_ERROR && f->line == 3, "syntax error with a line (%u:%u %s)",
	   f ? f->line : 0, f ? f->col : 0, f ? f->msg : "");
	ok(yf.failed, "file marked failed");

	is_int(parse("a: 1\n---\nb: : :\n  - x\n"), -1, "second document broken");
	is_int(yf.ndocs, 1, "documents before the error are kept");

	parse("a:\n\tb: 1\n");
	ok(find_rule("yaml-syntax") != NULL, "tab indentation is a syntax error");
	f = find_rule("yaml-tab");
	ok(f && f->line == 2 && f->col == 1 && f->sev == SEV_WARNING, "tab warning points at it");

	parse("a: \"\\xZZ\"\n");
	ok(find_rule("yaml-syntax") != NULL, "bad escape is a syntax error");
}

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static void test_limits(void)
{
	struct yaml_limits lim = yaml_default_limits;
	struct buf b = BUF_INIT(BUF_NOCAP);
	const struct finding *f;
	double t0;
	size_t i;

	buf_addstr(&b, "a: &a [\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\"]\n");
	for (i = 1; i < 10; i++)
		buf_addf(&b, "%c: &%c [*%c,*%c,*%c,*%c,*%c,*%c,*%c,*%c,*%c]\n",
			 (int)('a' + i), (int)('a' + i), (int)('a' + i - 1), (int)('a' + i - 1),
			 (int)('a' + i - 1), (int)('a' + i - 1), (int)('a' + i - 1), (int)('a' + i - 1),
			 (int)('a' + i - 1), (int)('a' + i - 1), (int)('a' + i - 1));
	t0 = now();
	is_int(parse(b.data), -1, "billion laughs fails");
	f = find_rule("yaml-limit");
	ok(f && strstr(f->msg, "alias"), "... on the alias budget: %s", f ? f->msg : "");
	ok(now() - t0 < 1.0, "... fast");
	buf_reset(&b);

	for (i = 0; i < 200; i++)
		buf_addch(&b, '[');
	t0 = now();
	is_int(parse(b.data), -1, "deep nesting fails");
	f = find_rule("yaml-limit");
	ok(f && strstr(f->msg, "nesting deeper than 128"), "... on the depth limit");
	ok(!find_rule("yaml-syntax"), "... without a syntax error after it");
	buf_reset(&b);

	for (i = 0; i < 100; i++)
		buf_addf(&b, "%*s- \n", (int)i * 2, "");
	lim.max_depth = 50;
	is_int(parse_lim(b.data, &lim), -1, "deep block nesting fails with a low limit");
	ok(find_rule("yaml-limit") != NULL, "... yaml-limit");
	buf_reset(&b);
	lim = yaml_default_limits;

	/* depth reached through aliases counts too */
	buf_addstr(&b, "a: &d0 [[[[[[[[[[x]]]]]]]]]]\n");
	for (i = 1; i < 20; i++)
		buf_addf(&b, "b%zu: &d%zu [[[[[[[[[[*d%zu]]]]]]]]]]\n", i, i, i - 1);
	is_int(parse(b.data), -1, "deep through aliases fails");
	f = find_rule("yaml-limit");
	ok(f && strstr(f->msg, "through aliases"), "... on depth through aliases");
	buf_reset(&b);

	lim.max_nodes = 1000;
	for (i = 0; i < 2000; i++)
		buf_addstr(&b, "- x\n");
	is_int(parse_lim(b.data, &lim), -1, "too many nodes fails");
	f = find_rule("yaml-limit");
	ok(f && strstr(f->msg, "1000 nodes"), "... on the node limit");
	buf_reset(&b);
	lim = yaml_default_limits;

	lim.max_docs = 10;
	for (i = 0; i < 20; i++)
		buf_addstr(&b, "---\na: 1\n");
	is_int(parse_lim(b.data, &lim), -1, "too many documents fails");
	f = find_rule("yaml-limit");
	ok(f && strstr(f->msg, "10 documents"), "... on the document limit");
	is_int(yf.ndocs, 10, "... keeping the documents before it");
	buf_reset(&b);
	lim = yaml_default_limits;

	lim.max_bytes = 100;
	for (i = 0; i < 20; i++)
		buf_addstr(&b, "abc: def\n");
	is_int(parse_lim(b.data, &lim), -1, "a file over the size limit fails");
	f = find_rule("yaml-limit");
	ok(f && f->line == 0 && strstr(f->msg, "180 bytes"), "... on the size limit");
	buf_release(&b);
}

static void test_templates(void)
{
	parse("apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: {{ .Values.name }}\n");
	ok(yf.is_template, "flow-map braces are a template");
	parse("{{- if .Values.enabled }}\napiVersion: v1\nkind: ConfigMap\n{{- end }}\n");
	ok(yf.is_template, "a template that does not parse");
	ok(!find_rule("yaml-syntax"), "... is no syntax error");
	parse("metadata:\n  name: \"{{ .Release.Name }}-web\"\n");
	ok(!yf.is_template, "a quoted Helm value is a string (the manifest layer judges it)");
	parse("a: 1\n---\nb: {{ x }}\n");
	ok(yf.is_template && !yf.docs[0].is_template && yf.docs[1].is_template,
	   "the document with flow-map braces is marked");
	parse("spec:\n  groups:\n  - rules:\n    - annotations:\n"
	      "        description: \"{{ $labels.instance }} is down\"\n"
	      "        summary: |\n          {{ range .Alerts }}{{ .Labels.x }}{{ end }}\n");
	ok(!yf.is_template, "Prometheus alert templates are data");
	parse("# {{ .Values.x }}\na: 1\n");
	ok(!yf.is_template, "braces in a comment do not count");
}

static void test_garbled(void)
{
	static const char sample[] =
		"apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: web\n"
		"  labels: &l {app: web, tier: \"front\"}\nspec:\n  replicas: 3\n"
		"  selector:\n    matchLabels: *l\n  template:\n    metadata:\n"
		"      labels:\n        <<: *l\n    spec:\n      containers:\n"
		"      - name: web\n        image: 'nginx:1.27'\n        args: [\"-c\", |\n"
		"          multi\n          line]\n        env:\n        - {name: A, value: !!str 1}\n"
		"---\n? complex\n: key\n...\n";
	size_t len = sizeof(sample) - 1, i, crashes = 0;
	unsigned seed = 12345;
	char *copy = xmalloc(len + 1);

	for (i = 0; i <= len; i++) {
		yfile_release(&yf);
		findings_release(&fs);
		yaml_parse(&yf, "trunc.yaml", sample, i, NULL, &fs);
	}
	for (i = 0; i < 3000; i++) {
		size_t k, flips = 1 + i % 4;

		memcpy(copy, sample, len + 1);
		for (k = 0; k < flips; k++) {
			seed = seed * 1103515245 + 12345;
			copy[(seed >> 8) % len] = "{}[]:&*!|>-?#'\"\t\n \\%@`,\x80\xff"[(seed >> 4) % 26];
		}
		yfile_release(&yf);
		findings_release(&fs);
		yaml_parse(&yf, "garbled.yaml", copy, len, NULL, &fs);
	}
	free(copy);
	ok(!crashes, "truncated and garbled inputs parse or fail without crashing");
}

static void test_findings(void)
{
	struct findings l = FINDINGS_INIT;
	struct finding *f;
	enum severity sev;
	size_t i;

	findings_add(&l, "b.yaml", 1, 1, SEV_ERROR, "r1", NULL, "x %d", 1);
	findings_add(&l, "a.yaml", 9, 2, SEV_WARNING, "r2", "hint", "y");
	f = findings_add(&l, "a.yaml", 9, 1, SEV_INFO, "r3", NULL, "z");
	ok(!findings_add(&l, "a.yaml", 1, 1, SEV_OFF, "r4", NULL, "off"), "off findings are not kept");
	is_int(l.nerr * 100 + l.nwarn * 10 + l.ninfo, 111, "counts");
	finding_ignore(&l, f, "because");
	is_int(l.ninfo, 0, "ignored findings leave the counts");
	findings_sort(&l);
	is_str(l.v[0].path, "a.yaml", "sorted by path");
	is_int(l.v[0].col, 1, "then line and column");
	is_str(l.v[0].ignore_reason, "because", "reason kept");
	findings_release(&l);

	l.max = 3;
	for (i = 0; i < 5; i++)
		findings_add(&l, "a", 1, 1, SEV_ERROR, "r", NULL, "m");
	is_int(l.n, 3, "cap on recorded findings");
	is_int(l.dropped, 2, "dropped counted");
	is_int(l.nerr, 5, "the verdict still counts every error");
	findings_release(&l);

	ok(!severity_parse("warn", &sev) && sev == SEV_WARNING, "severity_parse warn");
	ok(severity_parse("fatal", &sev) < 0, "unknown severity");
	is_str(severity_name(SEV_ERROR), "error", "severity_name");
}

static void test_braces_and_copy(void)
{
	static const struct yprune keep_meta[] = { YPRUNE("name", NULL), YPRUNE_END };
	static const struct yprune keep[] = {
		YPRUNE("metadata", keep_meta), YPRUNE("items", keep_meta), YPRUNE_END,
	};
	static const char doc[] =
		"kind: X\nmetadata: {name: a, labels: {x: y}}\nitems: [{name: b, v: 1}, {v: 2}]\nrest: 3\n";
	struct findings f = FINDINGS_INIT;
	struct yfile y = YFILE_INIT;
	struct yarena *a;
	struct ynode *c;

	ok(yaml_has_braces("a: {{ .x }}", 11), "{{ found");
	ok(yaml_has_braces("{{", 2), "{{ alone");
	ok(!yaml_has_braces("a: { b: {c: 1}}", 15), "{ {  is not a marker");
	ok(!yaml_has_braces("x {", 3), "a { at the end");
	ok(!yaml_has_braces("{{", 1), "only the given length is read");
	ok(!yaml_has_braces("", 0), "empty");

	yaml_parse(&y, "c.yaml", doc, strlen(doc), NULL, &f);
	a = yarena_new();
	c = ynode_copy(a, y.docs[0].root, keep);
	yfile_release(&y);	/* the copy owns everything it needs */
	is_int((int)c->n, 2, "the copy keeps the two named keys");
	is_str(ynode_str(ynode_path(c, "metadata.name")), "a", "a kept scalar");
	ok(!ynode_get(ynode_get(c, "metadata"), "labels"), "an unnamed key is left out");
	ok(!ynode_get(c, "rest") && !ynode_get(c, "kind"), "at every level");
	is_int((int)ynode_get(c, "items")->n, 2, "a list keeps its items");
	is_str(ynode_str(ynode_path(c, "items.0.name")), "b", "each pruned by the same list");
	ok(!ynode_path(c, "items.0.v") && ynode_get(c, "items")->kids[1]->n == 0, "... to their named keys");
	is_int((int)ynode_path(c, "metadata.name")->line, 2, "positions are kept");
	yarena_free(a);
	findings_release(&f);
}

int main(void)
{
	test_basics();
	test_braces_and_copy();
	test_scalars();
	test_json();
	test_duplicates_and_merge();
	test_errors();
	test_limits();
	test_templates();
	test_garbled();
	test_findings();
	yfile_release(&yf);
	findings_release(&fs);
	return done_testing();
}
