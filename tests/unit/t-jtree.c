#include "tap.h"
#include "../../lib/jtree.h"
#include "../../lib/xalloc.h"

#include <cjson/cJSON.h>
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

/* 1 when the jtree node and the cJSON item hold the same value. */
static int same(const struct jnode *a, const cJSON *b)
{
	const struct jnode *x;
	const cJSON *y;
	size_t n = 0;

	if ((a->key == NULL) != (b->string == NULL) || (a->key && strcmp(a->key, b->string)))
		return 0;
	switch (a->type) {
	case JT_NULL:
		return cJSON_IsNull(b);
	case JT_FALSE:
		return cJSON_IsFalse(b);
	case JT_TRUE:
		return cJSON_IsTrue(b);
	case JT_NUMBER:
		return cJSON_IsNumber(b) &&
		       (a->num == b->valuedouble || (isnan(a->num) && isnan(b->valuedouble)));
	case JT_STRING:
		return cJSON_IsString(b) && !strcmp(a->str, b->valuestring);
	case JT_ARRAY:
	case JT_OBJECT:
		if (a->type == JT_ARRAY ? !cJSON_IsArray(b) : !cJSON_IsObject(b))
			return 0;
		for (x = a->child, y = b->child; x && y; x = x->next, y = y->next, n++)
			if (!same(x, y))
				return 0;
		return !x && !y && n == a->n;
	}
	return 0;
}

/* 1 when jtree and cJSON agree on s[0..len): both refuse it, or both read the same value. */
static int agree(const char *s, size_t len)
{
	struct jtree *t = jtree_parse(s, len);
	cJSON *c = cJSON_ParseWithLength(s, len);
	int r = (!t && !c) || (t && c && same(jtree_root(t), c));

	jtree_free(t);
	cJSON_Delete(c);
	return r;
}

static void test_cases(void)
{
	static const char *const cases[] = {
		"{}", "[]", "null", "true", "false", "0", "-0", "1.5e+3", "1E-2", ".5", "+1", "-",
		"01", "1e", "1.", "--1", "1-2", "[1-2]", "0x10", "\"\"", "\"a\\\"b\"",
		"\"\\b\\f\\n\\r\\t\\/\\\\\"", "\"\\u00e9\\u20ac\"", "\"\\ud83d\\ude00\"",
		"\"\\ud83d\"", "\"\\ud83dx\"", "\"\\ude00\"", "\"\\ud83d\\u0041\"", "\"\\uZZZZ\"",
		"\"a\\u0000b\"", "\"\\u12\"", "\"\\x\"", "\"abc", "\"abc\\\"", "[1,]", "[,1]", "{\"a\"}",
		"{\"a\":}", "{\"a\":1,}", "{a:1}", "{\"a\":1 \"b\":2}", "[1 2]", "nul", "tru",
		"nullx", "[null,true,false]", " \t\n{ \"a\" : [ 1 , { } ] } ", "{\"a\":1}xyz",
		"{\"a\":1,\"a\":2}", "\x01[\x02]\x03", "[\"\x01\x1f\"]", "{\"\":\"\"}",
		"1234567890123456789012345678901234567890123456789012345678901234567890",
		"[1e400,-1e400,1e-400]", "[12345678901234567890123456789012345678901234567890"
		"12345678901234567890.5e-3]", "\"\xff\xfe\"", "{\"k\":[{\"x\":[[[]]]}]}", "",
	};
	size_t i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		ok(agree(cases[i], strlen(cases[i])), "jtree reads case %zu as cJSON does", i);
	ok(agree("[1,\0 2]", 7), "a NUL byte is a blank, as in cJSON");
	ok(agree("\"a\0b\"", 5), "a NUL byte in a string ends its text, as in cJSON");
	ok(agree("{\"a\":1}", 3), "a length short of the value is refused");
	ok(jtree_parse(NULL, 0) == NULL, "no text is refused");
}

static void test_depth(void)
{
	size_t n;

	for (n = 999; n <= 1001; n++) {
		char *s = xmalloc(2 * n + 1);

		memset(s, '[', n);
		memset(s + n, ']', n);
		s[2 * n] = '\0';
		ok(agree(s, 2 * n), "%zu nested arrays: jtree and cJSON agree", n);
		free(s);
	}
}

/*
 * Every prefix, and many single-byte changes, of a schema definition:
 * hostile or broken text is refused or read exactly as cJSON reads it.
 */
static void test_mutations(void)
{
	static const char doc[] =
		"{\"properties\":{\"apiVersion\":{\"type\":\"string\"},\"spec\":{\"allOf\":"
		"[{\"$ref\":\"#/components/schemas/io.k8s.api.apps.v1.DeploymentSpec\"}],"
		"\"default\":{}},\"replicas\":{\"format\":\"int32\",\"type\":\"integer\","
		"\"minimum\":-1.5e2},\"e\":{\"enum\":[\"A\",\"B\\u00e9\",1,true,null]}},"
		"\"required\":[\"spec\"],\"type\":\"object\",\"x-kubernetes-list-map-keys\":[]}";
	static const char bytes[] = "{}[],:\"\\u0123456789eE+-.ntfx \x01\xff";
	size_t len = sizeof(doc) - 1, i, bad = 0;
	uint32_t seed = 12345;
	char *s = xmalloc(len + 1);

	ok(agree(doc, len), "the sample definition is read as cJSON reads it");
	for (i = 0; i < len; i++)
		if (!agree(doc, i))
			bad++;
	is_int(bad, 0, "every prefix of it is refused or read as cJSON does");
	bad = 0;
	for (i = 0; i < 20000; i++) {
		size_t k;

		memcpy(s, doc, len + 1);
		for (k = 0; k < 1 + i % 3; k++) {
			seed = seed * 1103515245u + 12345u;
			s[(seed >> 8) % len] = bytes[(seed >> 20) % (sizeof(bytes) - 1)];
		}
		if (!agree(s, len))
			bad++;
	}
	is_int(bad, 0, "20000 mutated copies are refused or read as cJSON does");
	free(s);
}

static void test_api(void)
{
	static const char doc[] = "{\"a\":1,\"b\":[\"x\",\"y\"],\"a\":2}";
	struct jtree *t = jtree_parse(doc, sizeof(doc) - 1);
	const struct jnode *r = jtree_root(t), *b;

	ok(r && r->type == JT_OBJECT && r->n == 3, "the root is an object of three members");
	ok(jnode_get(r, "a") && jnode_get(r, "a")->num == 1, "the first of two members named a counts");
	b = jnode_get(r, "b");
	ok(b && b->type == JT_ARRAY && b->n == 2 && !strcmp(b->child->str, "x") &&
	   !strcmp(b->child->next->str, "y") && !b->child->key, "array items in order, without keys");
	ok(jnode_get(r, "c") == NULL, "no member c");
	ok(jnode_get(b, "x") == NULL, "an array has no members");
	ok(jnode_get(NULL, "a") == NULL, "no object, no member");
	{
		const char *x = b->child->str, *key = b->key;

		jtree_drop_nodes(t);
		ok(jtree_root(t) == NULL, "dropping the nodes leaves no root");
		ok(!strcmp(x, "x") && !strcmp(key, "b"), "and keeps the strings");
	}
	jtree_free(t);
	jtree_free(NULL);
	jtree_drop_nodes(NULL);
}

int main(void)
{
	test_cases();
	test_depth();
	test_mutations();
	test_api();
	return done_testing();
}
