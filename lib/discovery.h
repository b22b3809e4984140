/*
 * discovery.h - which resources a cluster serves: group/version/kind to
 * the plural resource name and its scope.
 *
 * Reads aggregated discovery (GET /api and /apis answered as
 * apidiscovery.k8s.io/v2 APIGroupDiscoveryList) and keeps the answers
 * in a cache directory, revalidated with ETag / If-None-Match, so a
 * warm run costs two 304s. A server that answers with a plain
 * APIGroupList gets legacy discovery (one GET per group version, not
 * cached); TIDEGATE_DISCOVERY_LEGACY=1 in the environment asks for it
 * (the tests use it to exercise that path against a current server).
 *
 *	struct discovery *d = discovery_new(client, NULL);
 *	const struct kube_resource *res;
 *	if (discovery_lookup(d, "apps", "v1", "Deployment", &res) < 0) ...
 *	path = kube_object_path(res, "web", "frontend", NULL);
 */
#ifndef TIDEGATE_DISCOVERY_H
#define TIDEGATE_DISCOVERY_H

#include "kube.h"

struct kube_resource {
	char *group;		/* "" for the core group */
	char *version;
	char *kind;
	char *resource;		/* plural: "deployments" */
	int namespaced;
};

struct discovery;

/*
 * cache_dir: NULL for the default ($XDG_CACHE_HOME or ~/.cache, then
 * tidegate/discovery/<hash of the server URL>), "" for no cache.
 */
struct discovery *discovery_new(struct kube_client *c, const char *cache_dir);
void discovery_free(struct discovery *d);

/* Fetches (or revalidates) everything. Returns 0, or -1 (reported). */
int discovery_refresh(struct discovery *d);

/*
 * For a long-lived caller: discovery_refresh() when what is loaded was
 * read more than max_age_ms ago (or never); else nothing is asked, but
 * the next unknown kind may refresh once (discovery_lookup). 0 or -1.
 */
int discovery_refresh_max_age(struct discovery *d, long long max_age_ms);

/* The resource for a GVK from what is loaded, or NULL. Loads first if nothing is. */
const struct kube_resource *discovery_find(struct discovery *d, const char *group,
					   const char *version, const char *kind);
/* The first (preferred) version serving group and kind, or NULL. */
const struct kube_resource *discovery_find_gk(struct discovery *d, const char *group,
					      const char *kind);
/*
 * Like discovery_find(), but an unknown kind triggers one refresh per
 * discovery object lifetime (and per later discovery_refresh()).
 * Returns 0 (*out set), 1 when the cluster does not serve the kind, -1
 * when discovery itself failed.
 */
int discovery_lookup(struct discovery *d, const char *group, const char *version,
		     const char *kind, const struct kube_resource **out);

/* How many resources are known (for tests and messages). */
size_t discovery_count(const struct discovery *d);

/*
 * "/apis/G/V[/namespaces/NS]/RES[/NAME][?query]" (core: "/api/V/...").
 * ns is ignored for cluster-scoped resources; name and query may be NULL.
 * Caller frees.
 */
char *kube_object_path(const struct kube_resource *r, const char *ns, const char *name,
		       const char *query);

#endif
