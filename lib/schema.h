/*
 * schema.h - OpenAPI v3 validation of Kubernetes objects.
 *
 * A schema store answers "what is the schema of group/version/kind",
 * loading lazily (only the kinds a run needs, and of those only the
 * definitions validation reaches, each compiled when first reached) from,
 * in order:
 *   1. CustomResourceDefinitions added with schema_store_add_crd()
 *      (CRDs in the same set of files validate the resources beside them);
 *   2. a schema directory (`tidegate schema pull` output, --schema-dir);
 *   3. the bundled schemas of the pinned Kubernetes version.
 * Findings point at the offending node's line:col with its JSON path
 * (rules "schema-unknown-field", "schema-type", "schema-required",
 * "schema-enum", "schema-format", "schema-missing" ...).
 */
#ifndef TIDEGATE_SCHEMA_H
#define TIDEGATE_SCHEMA_H

#include "finding.h"
#include "manifest.h"

struct schema_store;

/*
 * schema_dir may be NULL. The bundled schemas are found through
 * $TIDEGATE_SCHEMAS, else next to the program (../share/tidegate/schemas,
 * or the source tree's data/schemas for in-tree builds).
 * Returns NULL (error logged) when schema_dir is given but unusable.
 */
struct schema_store *schema_store_new(const char *schema_dir);
/*
 * Registers the versions of a CRD object's openAPIV3Schema. The schema is
 * compiled from crd's node tree when a custom resource first needs it,
 * so the tree must outlive the store's use (keep the kset alive).
 * Returns 0 or -1 (findings say why).
 */
int schema_store_add_crd(struct schema_store *st, const struct kobj *crd, struct findings *fs);
/*
 * Validates o. A kind with no schema is a "schema-missing" warning, or an
 * error when strict. Returns 0 when a schema was found and applied.
 */
int schema_validate(struct schema_store *st, const struct kobj *o, int strict,
		    struct findings *fs);
/* 1/0 when the store knows the kind's scope (namespaced or not), -1 when unknown. */
int schema_store_namespaced(struct schema_store *st, const char *group, const char *version,
			    const char *kind);
/* 1 when s is a valid Kubernetes resource quantity ("500m", "1.5Gi", "1e3"), else 0. */
int schema_quantity_valid(const char *s);
/* The Kubernetes version of the schemas: --schema-dir's, else the bundled ("1.36.3"); or NULL. */
const char *schema_store_kube_version(struct schema_store *st);
void schema_store_free(struct schema_store *st);

#endif
