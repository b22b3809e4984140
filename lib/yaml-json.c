/*
 * yaml-json.c - a YAML tree as cJSON (ynode_to_json in yaml.h).
 *
 * A file of its own so that programs which never turn YAML into JSON
 * (tidegate lint, the pre-receive gate) do not link cJSON for it.
 */
#include "yaml.h"

#include <cjson/cJSON.h>
#include <stdlib.h>

struct cJSON *ynode_to_json(const struct ynode *n)
{
	cJSON *j;
	size_t i;

	if (!n)
		return cJSON_CreateNull();
	switch (n->kind) {
	case YN_SCALAR:
		switch (n->stype) {
		case YS_NULL:
			return cJSON_CreateNull();
		case YS_BOOL:
			return cJSON_CreateBool(n->str[0] == 't' || n->str[0] == 'T');
		case YS_INT: {
			long long v;

			if (!ynode_int(n, &v))
				return cJSON_CreateNumber((double)v);
			return cJSON_CreateString(n->str);
		}
		case YS_FLOAT: {
			char *end;
			double d = strtod(n->str, &end);

			if (*end || d != d || d - d != 0)	/* .inf, .nan: no JSON number */
				return cJSON_CreateString(n->str);
			return cJSON_CreateNumber(d);
		}
		case YS_STRING:
			return cJSON_CreateString(n->str);
		}
		return cJSON_CreateNull();
	case YN_SEQ:
		j = cJSON_CreateArray();
		for (i = 0; j && i < n->n; i++) {
			cJSON *kid = ynode_to_json(n->kids[i]);

			if (kid)
				cJSON_AddItemToArray(j, kid);
		}
		return j;
	case YN_MAP:
		j = cJSON_CreateObject();
		for (i = 0; j && i < n->n; i++) {
			const struct ynode *k = n->kids[2 * i];
			const char *ks = k && k->kind == YN_SCALAR ? k->str : "";
			cJSON *kid = ynode_to_json(n->kids[2 * i + 1]);

			if (kid)
				cJSON_AddItemToObject(j, ks, kid);
		}
		return j;
	}
	return NULL;
}
