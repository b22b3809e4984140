/*
 * openapi.h - the compact schema directory format, and the converter
 * that writes it from Kubernetes /openapi/v3 documents.
 *
 * A schema directory (the bundled data/schemas, or the output of
 * `tidegate schema pull`) holds:
 *
 *   index.json   {"format": 1, "version": "1.36.3",
 *                 "kinds": [["apps", "v1", "Deployment", 1,
 *                            "apis__apps__v1.json", "io.k8s.api.apps.v1.Deployment"], ...]}
 *                (group, version, kind, namespaced 1/0/-1 unknown, file, schema name)
 *   meta.json    ObjectMeta and what it refers to, for objects whose own
 *                schema leaves metadata open (custom resources)
 *   <gv>.json    {"schemas": {...}}: the components.schemas of one
 *                group-version document, minified, with descriptions and
 *                other documentation-only keywords removed. "$ref"s keep
 *                the "#/components/schemas/NAME" form and resolve within
 *                the same file.
 *
 * Files are named after the /openapi/v3 path: "apis/apps/v1" becomes
 * "apis__apps__v1.json", "api/v1" "api__v1.json".
 *
 *	struct openapi_compactor *c = openapi_compactor_new();
 *	openapi_compactor_add(c, "apis/apps/v1", json, len);	// each document
 *	openapi_compactor_write(c, "data/schemas", "1.36.3");
 *	openapi_compactor_free(c);
 */
#ifndef TIDEGATE_OPENAPI_H
#define TIDEGATE_OPENAPI_H

#include <stddef.h>

#define OPENAPI_OBJECTMETA "io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta"
#define OPENAPI_REF_PREFIX "#/components/schemas/"

struct openapi_compactor;

struct openapi_compactor *openapi_compactor_new(void);
/*
 * Adds one /openapi/v3 document; gv_path is its path in the /openapi/v3
 * index ("apis/apps/v1", "api/v1"; a leading '/' and a trailing
 * "_openapi" or ".json" are ignored). Documents that hold no group-version
 * (the group lists "apis/apps", "version", ...) are accepted and skipped,
 * and so is a group-version already added (the first input wins).
 * Returns 0, or -1 when the bytes are not an OpenAPI document.
 */
int openapi_compactor_add(struct openapi_compactor *c, const char *gv_path,
			  const char *json, size_t len);
/* Number of group-version documents kept so far. */
size_t openapi_compactor_count(const struct openapi_compactor *c);
/*
 * Writes index.json, meta.json and one file per group-version into
 * outdir (created if missing; *.json files already there are removed
 * first). version is the Kubernetes version ("1.36.3", a leading 'v' is
 * dropped) or NULL. Returns 0 or -1 (error logged).
 */
int openapi_compactor_write(struct openapi_compactor *c, const char *outdir,
			    const char *version);
void openapi_compactor_free(struct openapi_compactor *c);

/* "apis/apps/v1" -> group "apps", version "v1"; "api/v1" -> "", "v1". 0 or -1. */
int openapi_gv_split(const char *gv_path, char **group, char **version);

#endif
