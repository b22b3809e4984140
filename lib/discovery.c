#include "discovery.h"
#include "log.h"
#include "spawn.h"
#include "xalloc.h"

#include <cjson/cJSON.h>
#include <errno.h>
#include <fcntl.h>
#include <openssl/sha.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define AGGREGATED_ACCEPT \
	"application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList," \
	"application/json;g=apidiscovery.k8s.io;v=v2beta1;as=APIGroupDiscoveryList," \
	"application/json"
#define CACHE_MAX (32u << 20)

struct discovery {
	struct kube_client *c;
	char *cache_dir;		/* NULL = no cache */
	struct kube_resource *res;
	size_t n, alloc;
	int loaded;
	int refreshed_for_miss;		/* a miss already caused a refresh */
	long long refreshed_ms;		/* monotonic_ms() of the last refresh */
};

static char *default_cache_dir(const char *server)
{
	const char *xdg = getenv("XDG_CACHE_HOME"), *home = getenv("HOME");
	unsigned char md[SHA256_DIGEST_LENGTH];
	char hex[17];
	int i;

	SHA256((const unsigned char *)server, strlen(server), md);
	for (i = 0; i < 8; i++)
		snprintf(hex + 2 * i, 3, "%02x", md[i]);
	if (xdg && *xdg)
		return xstrfmt("%s/tidegate/discovery/%s", xdg, hex);
	if (home && *home)
		return xstrfmt("%s/.cache/tidegate/discovery/%s", home, hex);
	return NULL;
}

struct discovery *discovery_new(struct kube_client *c, const char *cache_dir)
{
	struct discovery *d = xcalloc(1, sizeof(*d));

	d->c = c;
	if (!cache_dir)
		d->cache_dir = default_cache_dir(kube_client_server(c));
	else if (*cache_dir)
		d->cache_dir = xstrdup(cache_dir);
	return d;
}

static void clear_resources(struct discovery *d)
{
	size_t i;

	for (i = 0; i < d->n; i++) {
		free(d->res[i].group);
		free(d->res[i].version);
		free(d->res[i].kind);
		free(d->res[i].resource);
	}
	d->n = 0;
}

void discovery_free(struct discovery *d)
{
	if (!d)
		return;
	clear_resources(d);
	free(d->res);
	free(d->cache_dir);
	free(d);
}

size_t discovery_count(const struct discovery *d)
{
	return d->n;
}

static void add_resource(struct discovery *d, const char *group, const char *version,
			 const char *kind, const char *resource, int namespaced)
{
	struct kube_resource *r;

	XGROW(d->res, d->n + 1, d->alloc);
	r = &d->res[d->n++];
	r->group = xstrdup(group);
	r->version = xstrdup(version);
	r->kind = xstrdup(kind);
	r->resource = xstrdup(resource);
	r->namespaced = namespaced;
}

static const char *jstr(const cJSON *o, const char *key)
{
	return cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(o, key));
}

/* Adds the resources of an APIGroupDiscoveryList. */
static void parse_aggregated(struct discovery *d, const cJSON *doc)
{
	const cJSON *item, *ver, *res;

	cJSON_ArrayForEach(item, cJSON_GetObjectItemCaseSensitive(doc, "items")) {
		const char *group = jstr(cJSON_GetObjectItemCaseSensitive(item, "metadata"), "name");

		if (!group)
			group = "";
		cJSON_ArrayForEach(ver, cJSON_GetObjectItemCaseSensitive(item, "versions")) {
			const char *version = jstr(ver, "version");

			if (!version)
				continue;
			cJSON_ArrayForEach(res, cJSON_GetObjectItemCaseSensitive(ver, "resources")) {
				const char *name = jstr(res, "resource");
				const char *kind = jstr(cJSON_GetObjectItemCaseSensitive(res, "responseKind"), "kind");
				const char *scope = jstr(res, "scope");

				if (!name || !kind || strchr(name, '/'))
					continue;
				add_resource(d, group, version, kind, name,
					     scope && !strcmp(scope, "Namespaced"));
			}
		}
	}
}

/* Adds the resources of a legacy APIResourceList. */
static void parse_resource_list(struct discovery *d, const cJSON *doc)
{
	const char *gv = jstr(doc, "groupVersion"), *slash;
	char *group;
	const cJSON *res;

	if (!gv)
		return;
	slash = strchr(gv, '/');
	group = slash ? xstrndup(gv, (size_t)(slash - gv)) : xstrdup("");
	cJSON_ArrayForEach(res, cJSON_GetObjectItemCaseSensitive(doc, "resources")) {
		const char *name = jstr(res, "name"), *kind = jstr(res, "kind");

		if (!name || !kind || strchr(name, '/'))
			continue;
		add_resource(d, group, slash ? slash + 1 : gv, kind, name,
			     cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(res, "namespaced")));
	}
	free(group);
}

static char *cache_path(const struct discovery *d, const char *name, const char *ext)
{
	return xstrfmt("%s/%s.%s", d->cache_dir, name, ext);
}

static int mkdir_p(const char *path)
{
	char *p = xstrdup(path), *s;

	for (s = p + 1; *s; s++) {
		if (*s != '/')
			continue;
		*s = '\0';
		if (mkdir(p, 0700) < 0 && errno != EEXIST) {
			free(p);
			return -1;
		}
		*s = '/';
	}
	free(p);
	if (mkdir(path, 0700) < 0 && errno != EEXIST)
		return -1;
	return 0;
}

static int write_file_atomic(const char *path, const char *data, size_t len)
{
	char *tmp = xstrfmt("%s.tmp.%ld", path, (long)getpid());
	int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	size_t off = 0;

	if (fd < 0) {
		free(tmp);
		return -1;
	}
	while (off < len) {
		ssize_t w = write(fd, data + off, len - off);

		if (w < 0) {
			if (errno == EINTR)
				continue;
			close(fd);
			unlink(tmp);
			free(tmp);
			return -1;
		}
		off += (size_t)w;
	}
	if (close(fd) < 0 || rename(tmp, path) < 0) {
		unlink(tmp);
		free(tmp);
		return -1;
	}
	free(tmp);
	return 0;
}

/* Sets If-None-Match on r from the cache when both files are there. */
static void cache_prime(const struct discovery *d, const char *name, struct kube_request *r)
{
	char *ep, *bp;
	struct buf etag = BUF_INIT(1024);

	if (!d->cache_dir)
		return;
	ep = cache_path(d, name, "etag");
	bp = cache_path(d, name, "json");
	if (!access(bp, R_OK) && buf_read_file(&etag, ep) == 0 && etag.len)
		r->if_none_match = buf_detach(&etag, NULL);
	buf_release(&etag);
	free(ep);
	free(bp);
}

static cJSON *cache_read(const struct discovery *d, const char *name)
{
	char *bp = cache_path(d, name, "json");
	struct buf b = BUF_INIT(CACHE_MAX);
	cJSON *doc = NULL;

	if (buf_read_file(&b, bp) == 0)
		doc = cJSON_ParseWithLength(b.data, b.len);
	buf_release(&b);
	free(bp);
	return doc;
}

static void cache_store(const struct discovery *d, const char *name, const struct kube_request *r)
{
	char *ep, *bp;

	if (!d->cache_dir || !r->etag)
		return;
	if (mkdir_p(d->cache_dir) < 0) {
		log_debug("discovery cache: cannot create '%s'", d->cache_dir);
		return;
	}
	ep = cache_path(d, name, "etag");
	bp = cache_path(d, name, "json");
	unlink(ep);	/* never a new ETag next to an old body */
	if (write_file_atomic(bp, r->resp.data, r->resp.len) == 0)
		write_file_atomic(ep, r->etag, strlen(r->etag));
	free(ep);
	free(bp);
}

static int is_kind(const cJSON *doc, const char *kind)
{
	const char *k = jstr(doc, "kind");

	return k && !strcmp(k, kind);
}

static int legacy_discovery(struct discovery *d, const cJSON *api, const cJSON *apis)
{
	struct kube_request **reqs = NULL;
	size_t n = 0, alloc = 0, i;
	const cJSON *v, *g;
	int r = 0;

	cJSON_ArrayForEach(v, cJSON_GetObjectItemCaseSensitive(api, "versions")) {
		char *p;

		if (!cJSON_IsString(v))
			continue;
		p = xstrfmt("/api/%s", v->valuestring);
		XGROW(reqs, n + 1, alloc);
		reqs[n++] = kube_request_new("GET", p);
		free(p);
	}
	cJSON_ArrayForEach(g, cJSON_GetObjectItemCaseSensitive(apis, "groups")) {
		cJSON_ArrayForEach(v, cJSON_GetObjectItemCaseSensitive(g, "versions")) {
			const char *gv = jstr(v, "groupVersion");
			char *p;

			if (!gv)
				continue;
			p = xstrfmt("/apis/%s", gv);
			XGROW(reqs, n + 1, alloc);
			reqs[n++] = kube_request_new("GET", p);
			free(p);
		}
	}
	kube_client_run(d->c, reqs, n);
	for (i = 0; i < n; i++) {
		cJSON *doc;

		if (reqs[i]->status != 200) {
			char *m = kube_request_message(reqs[i]);

			/* an unavailable aggregated API must not stop the rest */
			log_warnx("discovery of %s failed: %s", reqs[i]->path, m);
			free(m);
			if (!reqs[i]->status)
				r = -1;
			continue;
		}
		doc = cJSON_ParseWithLength(reqs[i]->resp.data, reqs[i]->resp.len);
		if (doc)
			parse_resource_list(d, doc);
		cJSON_Delete(doc);
	}
	for (i = 0; i < n; i++)
		kube_request_free(reqs[i]);
	free(reqs);
	return r;
}

int discovery_refresh(struct discovery *d)
{
	static const char *const names[2] = { "api", "apis" };
	struct kube_request *reqs[2];
	cJSON *docs[2] = { NULL, NULL };
	const char *env = getenv("TIDEGATE_DISCOVERY_LEGACY");
	int i, r = -1, legacy = env && !strcmp(env, "1");

	for (i = 0; i < 2; i++) {
		char *p = xstrfmt("/%s", names[i]);

		reqs[i] = kube_request_new("GET", p);
		free(p);
		/* TIDEGATE_DISCOVERY_LEGACY=1 asks as a pre-aggregation client would (for tests) */
		if (!legacy) {
			reqs[i]->accept = AGGREGATED_ACCEPT;
			cache_prime(d, names[i], reqs[i]);
		}
	}
	if (kube_client_run(d->c, reqs, 2) < 0) {
		for (i = 0; i < 2; i++)
			if (!reqs[i]->status) {
				error("cannot reach the API server at %s: %s", kube_client_server(d->c),
				      reqs[i]->error ? reqs[i]->error : "no answer");
				break;
			}
		goto out;
	}
	for (i = 0; i < 2; i++) {
		struct kube_request *q = reqs[i];

		if (q->status == 304) {
			docs[i] = cache_read(d, names[i]);
			if (!docs[i]) {
				/* the cache went bad under us: ask again without it */
				free(q->if_none_match);
				q->if_none_match = NULL;
				if (kube_client_run(d->c, &q, 1) < 0 || q->status != 200)
					goto failed;
			}
		}
		if (q->status == 200) {
			docs[i] = cJSON_ParseWithLength(q->resp.data, q->resp.len);
			if (!docs[i]) {
				error("discovery: %s answered with invalid JSON", q->path);
				goto out;
			}
			if (is_kind(docs[i], "APIGroupDiscoveryList"))
				cache_store(d, names[i], q);
		} else if (q->status != 304) {
failed:
			{
				char *m = kube_request_message(q);

				error("discovery: GET %s: %s", q->path, m);
				free(m);
			}
			goto out;
		}
	}
	clear_resources(d);
	if (is_kind(docs[0], "APIGroupDiscoveryList") && is_kind(docs[1], "APIGroupDiscoveryList")) {
		parse_aggregated(d, docs[0]);
		parse_aggregated(d, docs[1]);
	} else if (legacy_discovery(d, docs[0], docs[1]) < 0) {
		error("discovery: cannot reach the API server at %s", kube_client_server(d->c));
		goto out;
	}
	d->loaded = 1;
	d->refreshed_for_miss = 0;
	d->refreshed_ms = monotonic_ms();
	r = 0;
out:
	for (i = 0; i < 2; i++) {
		cJSON_Delete(docs[i]);
		kube_request_free(reqs[i]);
	}
	return r;
}

const struct kube_resource *discovery_find(struct discovery *d, const char *group,
					   const char *version, const char *kind)
{
	size_t i;

	if (!d->loaded && discovery_refresh(d) < 0)
		return NULL;
	for (i = 0; i < d->n; i++) {
		const struct kube_resource *r = &d->res[i];

		if (!strcmp(r->kind, kind) && !strcmp(r->version, version) && !strcmp(r->group, group))
			return r;
	}
	return NULL;
}

const struct kube_resource *discovery_find_gk(struct discovery *d, const char *group,
					      const char *kind)
{
	size_t i;

	if (!d->loaded && discovery_refresh(d) < 0)
		return NULL;
	for (i = 0; i < d->n; i++)
		if (!strcmp(d->res[i].kind, kind) && !strcmp(d->res[i].group, group))
			return &d->res[i];
	return NULL;
}

int discovery_refresh_max_age(struct discovery *d, long long max_age_ms)
{
	if (d->loaded && monotonic_ms() - d->refreshed_ms < max_age_ms) {
		d->refreshed_for_miss = 0;	/* a kind new since may still refresh it */
		return 0;
	}
	return discovery_refresh(d);
}

int discovery_lookup(struct discovery *d, const char *group, const char *version,
		     const char *kind, const struct kube_resource **out)
{
	if (!d->loaded && discovery_refresh(d) < 0)
		return -1;
	*out = discovery_find(d, group, version, kind);
	if (*out)
		return 0;
	if (d->refreshed_for_miss)
		return 1;
	if (discovery_refresh(d) < 0)
		return -1;
	d->refreshed_for_miss = 1;
	*out = discovery_find(d, group, version, kind);
	return *out ? 0 : 1;
}

char *kube_object_path(const struct kube_resource *r, const char *ns, const char *name,
		       const char *query)
{
	struct buf b = BUF_INIT(BUF_NOCAP);

	if (*r->group) {
		buf_addstr(&b, "/apis/");
		buf_addstr(&b, r->group);
		buf_addch(&b, '/');
	} else {
		buf_addstr(&b, "/api/");
	}
	buf_addstr(&b, r->version);
	if (r->namespaced && ns && *ns) {
		buf_addstr(&b, "/namespaces/");
		buf_add_urlenc(&b, ns);
	}
	buf_addch(&b, '/');
	buf_addstr(&b, r->resource);
	if (name) {
		buf_addch(&b, '/');
		buf_add_urlenc(&b, name);
	}
	if (query && *query) {
		buf_addch(&b, '?');
		buf_addstr(&b, query);
	}
	return buf_detach(&b, NULL);
}
