/*
 * cmd-schema.c - `tidegate schema pull|compact`: make schema directories.
 *
 *   tidegate schema pull --kubeconfig F [--context C] --out DIR
 *	reads a live cluster's /openapi/v3 (its built-in kinds at its
 *	version, and its CRDs) into DIR, for `tidegate lint --schema-dir DIR`.
 *   tidegate schema compact [--kube-version V] --out DIR INPUT...
 *	converts /openapi/v3 documents already on disk (a directory written
 *	by tests/cluster/dump-schemas, or files named like
 *	apis__apps__v1.json / apis__apps__v1_openapi.json) into the compact
 *	form; this is how data/schemas is made (see data/schemas/README.md).
 */
#include "buf.h"
#include "cli.h"
#include "kube.h"
#include "kubeconfig.h"
#include "log.h"
#include "openapi.h"
#include "xalloc.h"

#include <cjson/cJSON.h>
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#define SCHEMA_MAX_DOC (256u << 20)

static int schema_usage(FILE *f)
{
	fprintf(f,
		"usage: tidegate schema pull --kubeconfig FILE [--context NAME] --out DIR\n"
		"       tidegate schema compact [--kube-version V] --out DIR INPUT...\n"
		"\n"
		"pull     reads the cluster's /openapi/v3 documents (built-in kinds and CRDs)\n"
		"         into DIR, for 'tidegate lint --schema-dir DIR'\n"
		"compact  converts /openapi/v3 documents on disk (files, or directories of\n"
		"         *.json as dumped from /openapi/v3) into the same form\n");
	return f == stdout ? 0 : 2;
}

/* "--name value" or "--name=value" at argv[*i]; advances *i. */
static int opt_value(int argc, char **argv, int *i, const char *name, const char **out)
{
	size_t len = strlen(name);
	const char *a = argv[*i];

	if (strncmp(a, name, len))
		return 0;
	if (a[len] == '=') {
		*out = a + len + 1;
		return 1;
	}
	if (a[len])
		return 0;
	if (*i + 1 >= argc) {
		error("option '%s' needs a value", name);
		return -1;
	}
	*out = argv[++*i];
	return 1;
}

static char *trim_version(const char *s, size_t len)
{
	while (len && (s[len - 1] == '\n' || s[len - 1] == '\r' || s[len - 1] == ' '))
		len--;
	if (len && *s == 'v') {
		s++;
		len--;
	}
	return xstrndup(s, len);
}

static int compact_file(struct openapi_compactor *c, const char *path)
{
	struct buf b = BUF_INIT(SCHEMA_MAX_DOC);
	const char *base = strrchr(path, '/');
	int ret;

	base = base ? base + 1 : path;
	if (buf_read_file(&b, path) < 0) {
		buf_release(&b);
		return error_errno("cannot read '%s'", path);
	}
	ret = openapi_compactor_add(c, base, b.data, b.len);
	buf_release(&b);
	return ret;
}

static int name_cmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static int compact_input(struct openapi_compactor *c, const char *path, char **version)
{
	struct stat sb;
	DIR *d;
	struct dirent *e;
	char **names = NULL;
	size_t n = 0, alloc = 0, i;
	int ret = 0;

	if (stat(path, &sb) < 0)
		return error_errno("cannot read '%s'", path);
	if (!S_ISDIR(sb.st_mode))
		return compact_file(c, path);
	d = opendir(path);
	if (!d)
		return error_errno("cannot open '%s'", path);
	while ((e = readdir(d))) {
		size_t len = strlen(e->d_name);

		if (!strcmp(e->d_name, "VERSION") && !*version) {
			struct buf b = BUF_INIT(256);
			char *p = xstrfmt("%s/VERSION", path);

			if (!buf_read_file(&b, p))
				*version = trim_version(b.data, b.len);
			buf_release(&b);
			free(p);
			continue;
		}
		if (len < 6 || strcmp(e->d_name + len - 5, ".json") || !strcmp(e->d_name, "index.json"))
			continue;
		XGROW(names, n + 1, alloc);
		names[n++] = xstrfmt("%s/%s", path, e->d_name);
	}
	closedir(d);
	qsort(names, n, sizeof(*names), name_cmp);
	for (i = 0; i < n; i++) {
		if (!ret && compact_file(c, names[i]) < 0)
			ret = -1;
		free(names[i]);
	}
	free(names);
	return ret;
}

static int cmd_schema_compact(int argc, char **argv)
{
	const char *out = NULL, *kv = NULL;
	char *version = NULL;
	struct openapi_compactor *c;
	int i, r, ret = 0, ninputs = 0;

	for (i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h"))
			return schema_usage(stdout);
		if ((r = opt_value(argc, argv, &i, "--out", &out)) ||
		    (r = opt_value(argc, argv, &i, "--kube-version", &kv))) {
			if (r < 0)
				return 2;
			continue;
		}
		if (argv[i][0] == '-' && argv[i][1]) {
			error("unknown option '%s'", argv[i]);
			return schema_usage(stderr);
		}
		ninputs++;
	}
	if (!out || !ninputs)
		return schema_usage(stderr);
	if (kv)
		version = trim_version(kv, strlen(kv));
	c = openapi_compactor_new();
	for (i = 1; i < argc && !ret; i++) {
		if (!strcmp(argv[i], "--out") || !strcmp(argv[i], "--kube-version")) {
			i++;
			continue;
		}
		if (argv[i][0] == '-')
			continue;
		if (compact_input(c, argv[i], &version) < 0)
			ret = 2;
	}
	if (!ret && !openapi_compactor_count(c)) {
		error("no group-version documents found in the input");
		ret = 2;
	}
	if (!ret && openapi_compactor_write(c, out, version) < 0)
		ret = 2;
	if (!ret)
		fprintf(stderr, "wrote %zu group-versions%s%s to %s\n", openapi_compactor_count(c),
			version ? " of Kubernetes " : "", version ? version : "", out);
	openapi_compactor_free(c);
	free(version);
	return ret;
}

/* GETs path; returns the body (caller frees) or NULL (reported). */
static struct kube_request *get(struct kube_client *kc, const char *path)
{
	struct kube_request *r = kube_request_new("GET", path);

	r->accept = "application/json";
	if (kube_client_run(kc, &r, 1) < 0 || r->status != 200) {
		char *msg = kube_request_message(r);

		if (r->status)
			error("GET %s: HTTP %ld: %s", path, r->status, msg ? msg : "");
		else
			error("GET %s: %s", path, msg ? msg : "no answer");
		free(msg);
		kube_request_free(r);
		return NULL;
	}
	return r;
}

static int pull(struct kube_client *kc, const char *out)
{
	struct kube_request *r, **reqs = NULL;
	struct openapi_compactor *c = NULL;
	cJSON *index = NULL, *version = NULL;
	const cJSON *p;
	char *kv = NULL;
	size_t n = 0, alloc = 0, i;
	int ret = 0;

	r = get(kc, "/version");
	if (!r)
		return -1;
	version = cJSON_ParseWithLength(r->resp.data, r->resp.len);
	kube_request_free(r);
	p = cJSON_GetObjectItemCaseSensitive(version, "gitVersion");
	if (cJSON_IsString(p))
		kv = trim_version(p->valuestring, strlen(p->valuestring));
	/* "v1.36.3+k3s1" or "-eks-..." : keep the release */
	if (kv)
		kv[strcspn(kv, "+-")] = '\0';

	r = get(kc, "/openapi/v3");
	if (!r) {
		ret = -1;
		goto out;
	}
	index = cJSON_ParseWithLength(r->resp.data, r->resp.len);
	kube_request_free(r);
	if (!cJSON_IsObject(cJSON_GetObjectItemCaseSensitive(index, "paths"))) {
		ret = error("the server's /openapi/v3 is not an OpenAPI v3 index");
		goto out;
	}
	cJSON_ArrayForEach(p, cJSON_GetObjectItemCaseSensitive(index, "paths")) {
		const char *url = cJSON_GetStringValue(
			cJSON_GetObjectItemCaseSensitive(p, "serverRelativeURL"));
		char *g, *v;

		if (!url || openapi_gv_split(p->string, &g, &v) < 0)
			continue;
		free(g);
		free(v);
		XGROW(reqs, n + 1, alloc);
		reqs[n] = kube_request_new("GET", url);
		reqs[n]->accept = "application/json";
		reqs[n]->data = p->string;
		n++;
	}
	if (!n) {
		ret = error("the server's /openapi/v3 lists no group-versions");
		goto out;
	}
	kube_client_run(kc, reqs, n);
	c = openapi_compactor_new();
	for (i = 0; i < n && !ret; i++) {
		if (reqs[i]->status != 200) {
			char *msg = kube_request_message(reqs[i]);

			ret = error("GET %s: %s", reqs[i]->path, msg ? msg : "no answer");
			free(msg);
			break;
		}
		if (openapi_compactor_add(c, reqs[i]->data, reqs[i]->resp.data,
					  reqs[i]->resp.len) < 0)
			ret = -1;
	}
	if (!ret)
		ret = openapi_compactor_write(c, out, kv);
	if (!ret)
		fprintf(stderr, "wrote %zu group-versions%s%s to %s\n", openapi_compactor_count(c),
			kv ? " of Kubernetes " : "", kv ? kv : "", out);
out:
	for (i = 0; i < n; i++)
		kube_request_free(reqs[i]);
	free(reqs);
	openapi_compactor_free(c);
	cJSON_Delete(index);
	cJSON_Delete(version);
	free(kv);
	return ret;
}

static int cmd_schema_pull(int argc, char **argv)
{
	const char *kubeconfig = NULL, *context = NULL, *out = NULL;
	struct kubeconfig kc = KUBECONFIG_INIT;
	struct kube_client_options opts = KUBE_CLIENT_OPTIONS_INIT;
	struct kube_client *client;
	int i, r, ret;

	for (i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h"))
			return schema_usage(stdout);
		if ((r = opt_value(argc, argv, &i, "--kubeconfig", &kubeconfig)) ||
		    (r = opt_value(argc, argv, &i, "--context", &context)) ||
		    (r = opt_value(argc, argv, &i, "--out", &out))) {
			if (r < 0)
				return 2;
			continue;
		}
		error("unexpected argument '%s'", argv[i]);
		return schema_usage(stderr);
	}
	if (!out)
		return schema_usage(stderr);
	if (kubeconfig_load(&kc, kubeconfig, context) < 0) {
		kubeconfig_release(&kc);
		return 2;
	}
	opts.concurrency = 8;
	opts.max_response = SCHEMA_MAX_DOC;
	client = kube_client_new(&kc, &opts);
	if (!client) {
		kubeconfig_release(&kc);
		return 2;
	}
	ret = pull(client, out) < 0 ? 2 : 0;
	kube_client_free(client);
	kubeconfig_release(&kc);
	return ret;
}

int cmd_schema(int argc, char **argv)
{
	if (argc < 2)
		return schema_usage(stderr);
	if (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h") || !strcmp(argv[1], "help"))
		return schema_usage(stdout);
	if (!strcmp(argv[1], "pull"))
		return cmd_schema_pull(argc - 1, argv + 1);
	if (!strcmp(argv[1], "compact"))
		return cmd_schema_compact(argc - 1, argv + 1);
	error("unknown schema command '%s'", argv[1]);
	return schema_usage(stderr);
}
