/*
 * openapi.c - converts /openapi/v3 documents into the compact schema
 * directory that lib/schema.c reads (format in openapi.h).
 */
#include "openapi.h"
#include "buf.h"
#include "log.h"
#include "xalloc.h"

#include <cjson/cJSON.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

struct oa_kind {
	char *group, *version, *kind, *schema;
	int namespaced;
	size_t doc;
};

struct oa_doc {
	char *file;		/* "apis__apps__v1.json" */
	char *gv_path;		/* "apis/apps/v1" */
	cJSON *schemas;		/* stripped components.schemas (owned) */
};

struct openapi_compactor {
	struct oa_doc *docs;
	size_t ndocs, alloc_docs;
	struct oa_kind *kinds;
	size_t nkinds, alloc_kinds;
};

struct openapi_compactor *openapi_compactor_new(void)
{
	return xcalloc(1, sizeof(struct openapi_compactor));
}

void openapi_compactor_free(struct openapi_compactor *c)
{
	size_t i;

	if (!c)
		return;
	for (i = 0; i < c->ndocs; i++) {
		free(c->docs[i].file);
		free(c->docs[i].gv_path);
		cJSON_Delete(c->docs[i].schemas);
	}
	for (i = 0; i < c->nkinds; i++) {
		free(c->kinds[i].group);
		free(c->kinds[i].version);
		free(c->kinds[i].kind);
		free(c->kinds[i].schema);
	}
	free(c->docs);
	free(c->kinds);
	free(c);
}

size_t openapi_compactor_count(const struct openapi_compactor *c)
{
	return c->ndocs;
}

/* "/apis/apps/v1?hash=X", "apis__apps__v1_openapi.json" -> "apis/apps/v1" */
static char *normalize_gv_path(const char *p)
{
	struct buf b = BUF_INIT(BUF_NOCAP);
	const char *s, *q;
	size_t len;

	while (*p == '/' || *p == '.')
		p++;
	q = strchr(p, '?');
	len = q ? (size_t)(q - p) : strlen(p);
	if (len > 5 && !strncmp(p + len - 5, ".json", 5))
		len -= 5;
	if (len > 8 && !strncmp(p + len - 8, "_openapi", 8))
		len -= 8;
	for (s = p; s < p + len; s++) {
		if (s[0] == '_' && s + 1 < p + len && s[1] == '_') {
			buf_addch(&b, '/');
			s++;
		} else {
			buf_addch(&b, *s);
		}
	}
	while (b.len && b.data[b.len - 1] == '/')
		buf_setlen(&b, b.len - 1);
	return buf_detach(&b, NULL);
}

int openapi_gv_split(const char *gv_path, char **group, char **version)
{
	char *p = normalize_gv_path(gv_path);
	char *a, *b;
	int ret = -1;

	*group = *version = NULL;
	if (!strncmp(p, "api/", 4) && !strchr(p + 4, '/') && p[4]) {
		*group = xstrdup("");
		*version = xstrdup(p + 4);
		ret = 0;
	} else if (!strncmp(p, "apis/", 5)) {
		a = p + 5;
		b = strchr(a, '/');
		if (b && b > a && b[1] && !strchr(b + 1, '/')) {
			*group = xstrndup(a, b - a);
			*version = xstrdup(b + 1);
			ret = 0;
		}
	}
	free(p);
	return ret;
}

static int is_schema_map_key(const char *k)
{
	return !strcmp(k, "properties") || !strcmp(k, "patternProperties") ||
	       !strcmp(k, "definitions");
}

static int is_schema_key(const char *k)
{
	return !strcmp(k, "additionalProperties") || !strcmp(k, "items") ||
	       !strcmp(k, "not") || !strcmp(k, "additionalItems");
}

static int is_schema_list_key(const char *k)
{
	return !strcmp(k, "allOf") || !strcmp(k, "anyOf") || !strcmp(k, "oneOf");
}

static int is_doc_only_key(const cJSON *item)
{
	const char *k = item->string;

	if (!strcmp(k, "default"))
		return cJSON_IsObject(item) || cJSON_IsArray(item);
	return !strcmp(k, "description") || !strcmp(k, "example") ||
	       !strcmp(k, "externalDocs") || !strcmp(k, "title") ||
	       !strcmp(k, "x-kubernetes-patch-strategy") ||
	       !strcmp(k, "x-kubernetes-patch-merge-key") ||
	       !strcmp(k, "x-kubernetes-validations") ||
	       !strcmp(k, "x-kubernetes-unions") || !strcmp(k, "x-kubernetes-map-type") ||
	       !strcmp(k, "x-kubernetes-selectable-fields");
}

static void strip_schema(cJSON *s);

static void strip_each(cJSON *container)
{
	cJSON *it;

	cJSON_ArrayForEach(it, container)
		strip_schema(it);
}

/* Removes documentation from a schema, recursing only into sub-schemas. */
static void strip_schema(cJSON *s)
{
	cJSON *it, *next;

	if (!cJSON_IsObject(s))
		return;
	for (it = s->child; it; it = next) {
		next = it->next;
		if (is_doc_only_key(it)) {
			cJSON_Delete(cJSON_DetachItemViaPointer(s, it));
			continue;
		}
		if (is_schema_map_key(it->string) || is_schema_list_key(it->string))
			strip_each(it);
		else if (is_schema_key(it->string)) {
			if (cJSON_IsArray(it))
				strip_each(it);
			else
				strip_schema(it);
		}
	}
}

struct oa_scope {
	char *kind;
	int namespaced;
	int has_name;	/* the create path names a parent object (a subresource) */
};

static const cJSON *gvk_matching(const cJSON *gvk, const char *group, const char *version,
				 const char *kind)
{
	const cJSON *e;

	if (cJSON_IsObject(gvk)) {
		const char *g = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(gvk, "group"));
		const char *v = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(gvk, "version"));
		const char *k = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(gvk, "kind"));

		if (g && v && k && !strcmp(g, group) && !strcmp(v, version) &&
		    (!kind || !strcmp(k, kind)))
			return gvk;
		return NULL;
	}
	cJSON_ArrayForEach(e, gvk) {
		const cJSON *m = gvk_matching(e, group, version, kind);

		if (m)
			return m;
	}
	return NULL;
}

/* The scope of each kind, from the paths that create it. */
static void collect_scopes(const cJSON *paths, const char *group, const char *version,
			   struct oa_scope **out, size_t *nout)
{
	const cJSON *p, *op;
	size_t alloc = 0, i;

	*out = NULL;
	*nout = 0;
	cJSON_ArrayForEach(p, paths) {
		cJSON_ArrayForEach(op, p) {
			const cJSON *act = cJSON_GetObjectItemCaseSensitive(op, "x-kubernetes-action");
			const cJSON *gvk = cJSON_GetObjectItemCaseSensitive(op, "x-kubernetes-group-version-kind");
			const char *kind;
			int ns, has_name;

			if (!cJSON_IsString(act) || strcmp(act->valuestring, "post") || !gvk)
				continue;
			gvk = gvk_matching(gvk, group, version, NULL);
			if (!gvk)
				continue;
			kind = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(gvk, "kind"));
			ns = strstr(p->string, "{namespace}") != NULL;
			has_name = strstr(p->string, "{name}") != NULL;
			for (i = 0; i < *nout; i++)
				if (!strcmp((*out)[i].kind, kind))
					break;
			if (i < *nout) {
				if ((*out)[i].has_name && !has_name) {
					(*out)[i].namespaced = ns;
					(*out)[i].has_name = 0;
				}
				continue;
			}
			XGROW(*out, *nout + 1, alloc);
			(*out)[*nout].kind = xstrdup(kind);
			(*out)[*nout].namespaced = ns;
			(*out)[*nout].has_name = has_name;
			(*nout)++;
		}
	}
}

static char *gv_file_name(const char *gv_path)
{
	struct buf b = BUF_INIT(BUF_NOCAP);
	const char *s;

	for (s = gv_path; *s; s++) {
		if (*s == '/')
			buf_addstr(&b, "__");
		else if ((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') ||
			 (*s >= '0' && *s <= '9') || *s == '.' || *s == '-' || *s == '_')
			buf_addch(&b, *s);
		else
			buf_addch(&b, '_');
	}
	buf_addstr(&b, ".json");
	return buf_detach(&b, NULL);
}

static void add_kind(struct openapi_compactor *c, const char *schema, const cJSON *gvk,
		     const char *group, const char *version, size_t di,
		     const struct oa_scope *scopes, size_t nscopes)
{
	const char *kind;
	struct oa_kind *k;
	size_t i;

	if (!gvk_matching(gvk, group, version, NULL))
		return;
	kind = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(gvk, "kind"));
	for (i = 0; i < c->nkinds; i++)
		if (!strcmp(c->kinds[i].group, group) && !strcmp(c->kinds[i].version, version) &&
		    !strcmp(c->kinds[i].kind, kind))
			return;
	XGROW(c->kinds, c->nkinds + 1, c->alloc_kinds);
	k = &c->kinds[c->nkinds++];
	k->group = xstrdup(group);
	k->version = xstrdup(version);
	k->kind = xstrdup(kind);
	k->schema = xstrdup(schema);
	k->doc = di;
	k->namespaced = -1;
	for (i = 0; i < nscopes; i++)
		if (!strcmp(scopes[i].kind, kind))
			k->namespaced = scopes[i].namespaced;
}

int openapi_compactor_add(struct openapi_compactor *c, const char *gv_path,
			  const char *json, size_t len)
{
	cJSON *root, *schemas, *s;
	struct oa_scope *scopes;
	size_t nscopes, i, di;
	char *group, *version, *norm;
	struct oa_doc *d;

	root = cJSON_ParseWithLength(json, len);
	if (!root || !cJSON_IsObject(root)) {
		cJSON_Delete(root);
		return error("'%s' is not a JSON document", gv_path);
	}
	if (openapi_gv_split(gv_path, &group, &version) < 0) {
		cJSON_Delete(root);
		return 0;
	}
	norm = normalize_gv_path(gv_path);
	for (di = 0; di < c->ndocs; di++)
		if (!strcmp(c->docs[di].gv_path, norm))
			break;
	if (di < c->ndocs) {
		/* the same group-version from a later input: the first wins */
		free(norm);
		cJSON_Delete(root);
		free(group);
		free(version);
		return 0;
	}
	free(norm);
	schemas = cJSON_DetachItemFromObjectCaseSensitive(
		cJSON_GetObjectItemCaseSensitive(root, "components"), "schemas");
	if (!cJSON_IsObject(schemas)) {
		cJSON_Delete(schemas);
		cJSON_Delete(root);
		free(group);
		free(version);
		return 0;
	}
	collect_scopes(cJSON_GetObjectItemCaseSensitive(root, "paths"), group, version,
		       &scopes, &nscopes);
	cJSON_Delete(root);

	norm = normalize_gv_path(gv_path);
	XGROW(c->docs, c->ndocs + 1, c->alloc_docs);
	di = c->ndocs++;
	d = &c->docs[di];
	d->gv_path = norm;
	d->file = gv_file_name(norm);
	d->schemas = schemas;

	cJSON_ArrayForEach(s, schemas) {
		const cJSON *gvks = cJSON_GetObjectItemCaseSensitive(s, "x-kubernetes-group-version-kind");
		const cJSON *e;

		if (cJSON_IsObject(gvks))
			add_kind(c, s->string, gvks, group, version, di, scopes, nscopes);
		else if (cJSON_IsArray(gvks))
			cJSON_ArrayForEach(e, gvks)
				add_kind(c, s->string, e, group, version, di, scopes, nscopes);
	}
	strip_each(schemas);
	for (i = 0; i < nscopes; i++)
		free(scopes[i].kind);
	free(scopes);
	free(group);
	free(version);
	return 0;
}

static int write_file(const char *dir, const char *name, const char *data, size_t len)
{
	char *path = xstrfmt("%s/%s", dir, name);
	char *tmp = xstrfmt("%s/.%s.tmp", dir, name);
	int fd, ret = 0;
	size_t off = 0;

	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd < 0) {
		ret = error_errno("cannot create '%s'", tmp);
		goto out;
	}
	while (off < len) {
		ssize_t n = write(fd, data + off, len - off);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			ret = error_errno("cannot write '%s'", tmp);
			break;
		}
		off += n;
	}
	if (close(fd) < 0 && !ret)
		ret = error_errno("cannot write '%s'", tmp);
	if (!ret && rename(tmp, path) < 0)
		ret = error_errno("cannot rename '%s'", tmp);
	if (ret)
		unlink(tmp);
out:
	free(path);
	free(tmp);
	return ret;
}

static int write_json(const char *dir, const char *name, const cJSON *j)
{
	char *s = cJSON_PrintUnformatted(j);
	int ret;

	if (!s)
		return error("cannot format '%s'", name);
	ret = write_file(dir, name, s, strlen(s));
	cJSON_free(s);
	return ret;
}

static int mkdir_p(const char *dir)
{
	char *p = xstrdup(dir), *s;
	int ret = 0;

	for (s = p + 1; ; s++) {
		if (*s == '/' || !*s) {
			char c = *s;

			*s = '\0';
			if (mkdir(p, 0755) < 0 && errno != EEXIST) {
				ret = error_errno("cannot create '%s'", p);
				break;
			}
			*s = c;
			if (!c)
				break;
		}
	}
	free(p);
	return ret;
}

static void remove_old_json(const char *dir)
{
	DIR *d = opendir(dir);
	struct dirent *e;

	if (!d)
		return;
	while ((e = readdir(d))) {
		size_t n = strlen(e->d_name);
		char *p;

		if (n < 6 || strcmp(e->d_name + n - 5, ".json") || e->d_name[0] == '.')
			continue;
		p = xstrfmt("%s/%s", dir, e->d_name);
		unlink(p);
		free(p);
	}
	closedir(d);
}

/* Adds name and the schemas it refers to, transitively, into out. */
static void collect_refs(const cJSON *schemas, const char *name, cJSON *out);

static void collect_refs_in(const cJSON *schemas, const cJSON *j, cJSON *out)
{
	const cJSON *it;

	if (cJSON_IsObject(j)) {
		const cJSON *ref = cJSON_GetObjectItemCaseSensitive(j, "$ref");

		if (cJSON_IsString(ref) &&
		    !strncmp(ref->valuestring, OPENAPI_REF_PREFIX, strlen(OPENAPI_REF_PREFIX)))
			collect_refs(schemas, ref->valuestring + strlen(OPENAPI_REF_PREFIX), out);
	}
	if (cJSON_IsObject(j) || cJSON_IsArray(j))
		cJSON_ArrayForEach(it, j)
			collect_refs_in(schemas, it, out);
}

static void collect_refs(const cJSON *schemas, const char *name, cJSON *out)
{
	const cJSON *s = cJSON_GetObjectItemCaseSensitive(schemas, name);

	if (!s || cJSON_GetObjectItemCaseSensitive(out, name))
		return;
	cJSON_AddItemToObject(out, name, cJSON_Duplicate(s, 1));
	collect_refs_in(schemas, s, out);
}

static int write_meta(struct openapi_compactor *c, const char *outdir)
{
	const struct oa_doc *best = NULL;
	cJSON *top, *schemas;
	size_t i;
	int ret;

	for (i = 0; i < c->ndocs; i++) {
		if (!cJSON_GetObjectItemCaseSensitive(c->docs[i].schemas, OPENAPI_OBJECTMETA))
			continue;
		if (!best || !strcmp(c->docs[i].gv_path, "api/v1"))
			best = &c->docs[i];
	}
	if (!best)
		return 0;
	top = cJSON_CreateObject();
	schemas = cJSON_AddObjectToObject(top, "schemas");
	collect_refs(best->schemas, OPENAPI_OBJECTMETA, schemas);
	ret = write_json(outdir, "meta.json", top);
	cJSON_Delete(top);
	return ret;
}

int openapi_compactor_write(struct openapi_compactor *c, const char *outdir,
			    const char *version)
{
	cJSON *index, *kinds, *top;
	size_t i;
	int ret = 0;

	if (mkdir_p(outdir) < 0)
		return -1;
	remove_old_json(outdir);
	for (i = 0; i < c->ndocs && !ret; i++) {
		top = cJSON_CreateObject();
		cJSON_AddItemReferenceToObject(top, "schemas", c->docs[i].schemas);
		ret = write_json(outdir, c->docs[i].file, top);
		cJSON_Delete(top);
	}
	if (ret)
		return ret;
	if (write_meta(c, outdir) < 0)
		return -1;

	index = cJSON_CreateObject();
	cJSON_AddNumberToObject(index, "format", 1);
	if (version && *version == 'v')
		version++;
	if (version)
		cJSON_AddStringToObject(index, "version", version);
	kinds = cJSON_AddArrayToObject(index, "kinds");
	for (i = 0; i < c->nkinds; i++) {
		const struct oa_kind *k = &c->kinds[i];
		cJSON *row = cJSON_CreateArray();

		cJSON_AddItemToArray(row, cJSON_CreateString(k->group));
		cJSON_AddItemToArray(row, cJSON_CreateString(k->version));
		cJSON_AddItemToArray(row, cJSON_CreateString(k->kind));
		cJSON_AddItemToArray(row, cJSON_CreateNumber(k->namespaced));
		cJSON_AddItemToArray(row, cJSON_CreateString(c->docs[k->doc].file));
		cJSON_AddItemToArray(row, cJSON_CreateString(k->schema));
		cJSON_AddItemToArray(kinds, row);
	}
	ret = write_json(outdir, "index.json", index);
	cJSON_Delete(index);
	return ret;
}
