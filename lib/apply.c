#include "apply.h"
#include "applyset.h"
#include "log.h"
#include "smap.h"
#include "spawn.h"
#include "xalloc.h"

#include <cjson/cJSON.h>
#include <errno.h>
#include <openssl/evp.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define NSTAGES 4
#define CRD_GROUP "apiextensions.k8s.io"
#define CRD_KIND "CustomResourceDefinition"
#define DEFAULT_CRD_WAIT_MS 60000
#define MAX_DIFF_LINES 200
#define MAX_VALUE_TEXT 120
#define CACHE_MAX 200000
#define METADATA_LIST_ACCEPT \
	"application/json;as=PartialObjectMetadataList;g=meta.k8s.io;v=v1,application/json"

static const char *const result_names[APPLY_NRESULTS] = {
	"pending", "created", "configured", "unchanged", "pruned", "skipped", "failed",
};

const char *apply_result_name(enum apply_result r)
{
	return r < APPLY_NRESULTS ? result_names[r] : "unknown";
}

static const char *jstr(const cJSON *o, const char *key)
{
	return cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(o, key));
}

static cJSON *jobj(cJSON *parent, const char *key)
{
	cJSON *o = cJSON_GetObjectItemCaseSensitive(parent, key);

	if (!cJSON_IsObject(o)) {
		cJSON_DeleteItemFromObjectCaseSensitive(parent, key);
		o = cJSON_AddObjectToObject(parent, key);
	}
	return o;
}

static void jset_str(cJSON *o, const char *key, const char *val)
{
	cJSON_DeleteItemFromObjectCaseSensitive(o, key);
	cJSON_AddStringToObject(o, key, val);
}

static int is_crd(const char *group, const char *kind)
{
	return !strcmp(group, CRD_GROUP) && !strcmp(kind, CRD_KIND);
}

static int is_namespace(const char *group, const char *kind)
{
	return !*group && !strcmp(kind, "Namespace");
}

static int stage_of(const char *group, const char *kind)
{
	size_t len = strlen(kind);

	if (is_crd(group, kind) || is_namespace(group, kind) ||
	    (!strcmp(group, "rbac.authorization.k8s.io") && !strcmp(kind, "ClusterRole")))
		return 0;
	if (!strcmp(group, "admissionregistration.k8s.io"))
		return 3;
	if (len > 5 && !strcmp(kind + len - 5, "Class"))
		return 1;
	return 2;
}

static char *make_id(const char *kind, const char *ns, const char *name)
{
	if (ns && *ns)
		return xstrfmt("%s/%s/%s", kind, ns, name);
	return xstrfmt("%s/%s", kind, name);
}

static void set_message(struct apply_object *ob, char *msg)
{
	free(ob->message);
	ob->message = msg;
}

static void fail(struct apply_object *ob, char *msg)
{
	ob->result = APPLY_FAILED;
	set_message(ob, msg);
}

static struct apply_object *new_object(struct apply_run *run)
{
	struct apply_object *ob;

	XGROW(run->objs, run->n + 1, run->alloc);
	ob = &run->objs[run->n++];
	memset(ob, 0, sizeof(*ob));
	return ob;
}

struct apply_object *apply_add(struct apply_run *run, cJSON *body, const char *source)
{
	const char *av = jstr(body, "apiVersion"), *kind = jstr(body, "kind");
	const cJSON *meta = cJSON_GetObjectItemCaseSensitive(body, "metadata");
	const char *name = jstr(meta, "name"), *ns = jstr(meta, "namespace"), *slash;
	struct apply_object *ob;

	if (!av || !kind || !name || !*name) {
		error("%s: object without apiVersion, kind or metadata.name", source ? source : "input");
		cJSON_Delete(body);
		return NULL;
	}
	ob = new_object(run);
	slash = strchr(av, '/');
	ob->group = slash ? xstrndup(av, (size_t)(slash - av)) : xstrdup("");
	ob->version = xstrdup(slash ? slash + 1 : av);
	ob->kind = xstrdup(kind);
	ob->name = xstrdup(name);
	ob->namespace = ns && *ns ? xstrdup(ns) : NULL;
	ob->id = make_id(kind, ob->namespace, name);
	ob->source = source ? xstrdup(source) : NULL;
	ob->body = body;
	ob->stage = stage_of(ob->group, ob->kind);
	return ob;
}

static void object_release(struct apply_object *ob)
{
	free(ob->group);
	free(ob->version);
	free(ob->kind);
	free(ob->namespace);
	free(ob->name);
	free(ob->id);
	free(ob->source);
	cJSON_Delete(ob->body);
	free(ob->resource);
	free(ob->uid);
	free(ob->message);
	free(ob->diff);
	free(ob->health_message);
}

void apply_run_release(struct apply_run *run)
{
	size_t i;

	for (i = 0; i < run->n; i++)
		object_release(&run->objs[i]);
	free(run->objs);
	memset(run, 0, sizeof(*run));
}

/* ------------------------------------------------------------- cache */

struct cache_entry {
	unsigned char digest[32];	/* sha256 of the query and body sent */
	char *rv, *uid;			/* what the server answered */
};

struct apply_cache {
	struct smap m;			/* object URL path -> struct cache_entry * */
};

struct apply_cache *apply_cache_new(void)
{
	return xcalloc(1, sizeof(struct apply_cache));
}

static void entry_free(void *p)
{
	struct cache_entry *e = p;

	if (!e)
		return;
	free(e->rv);
	free(e->uid);
	free(e);
}

void apply_cache_free(struct apply_cache *c)
{
	if (!c)
		return;
	smap_release(&c->m, entry_free);
	free(c);
}

size_t apply_cache_size(const struct apply_cache *c)
{
	return c ? c->m.n : 0;
}

static struct cache_entry *cache_get(const struct apply_cache *c, const char *path)
{
	return c ? smap_get(&c->m, path, NULL) : NULL;
}

/* Records path's answer (digest may be NULL: an entry that only holds a live revision). */
static void cache_put(struct apply_cache *c, const char *path, const unsigned char *digest,
		      const char *rv, const char *uid)
{
	struct cache_entry *e = cache_get(c, path);

	if (!e) {
		if (c->m.n >= CACHE_MAX)
			smap_release(&c->m, entry_free);
		e = xcalloc(1, sizeof(*e));
		smap_put(&c->m, path, e);
	}
	if (digest)
		memcpy(e->digest, digest, sizeof(e->digest));
	free(e->rv);
	free(e->uid);
	e->rv = xstrdup(rv);
	e->uid = uid ? xstrdup(uid) : NULL;
}

static void cache_del(struct apply_cache *c, const char *path)
{
	if (c)
		entry_free(smap_del(&c->m, path));
}

/* sha256 of query and body into out; -1 when it cannot be computed (then nothing is cached). */
static int request_digest(const char *query, const char *body, unsigned char out[32])
{
	EVP_MD_CTX *md = EVP_MD_CTX_new();
	unsigned int len = 0;
	int ok = md && EVP_DigestInit_ex(md, EVP_sha256(), NULL) &&
		 EVP_DigestUpdate(md, query, strlen(query) + 1) &&
		 EVP_DigestUpdate(md, body, strlen(body)) && EVP_DigestFinal_ex(md, out, &len) &&
		 len == 32;

	EVP_MD_CTX_free(md);
	return ok ? 0 : -1;
}

/* --------------------------------------------------------------- diffs */

static void strip_bookkeeping(cJSON *o)
{
	static const char *const meta_keys[] = {
		"managedFields", "resourceVersion", "generation", "uid", "creationTimestamp",
		"selfLink", NULL,
	};
	cJSON *meta = cJSON_GetObjectItemCaseSensitive(o, "metadata");
	size_t i;

	for (i = 0; meta_keys[i]; i++)
		cJSON_DeleteItemFromObjectCaseSensitive(meta, meta_keys[i]);
}

static void add_value(struct buf *out, const cJSON *v)
{
	char *s = cJSON_PrintUnformatted(v);

	if (!s) {
		buf_addstr(out, "?");
		return;
	}
	if (strlen(s) > MAX_VALUE_TEXT)
		buf_addf(out, "%.*s...", MAX_VALUE_TEXT, s);
	else
		buf_addstr(out, s);
	free(s);
}

static void diff_line(struct buf *out, size_t *count, char sign, const char *path,
		      const cJSON *a, const cJSON *b)
{
	(*count)++;
	if (*count > MAX_DIFF_LINES)
		return;
	if (*count == MAX_DIFF_LINES) {
		buf_addstr(out, "  ... more differences\n");
		return;
	}
	buf_addf(out, "%c %s", sign, *path ? path : ".");
	if (sign == '~') {
		buf_addstr(out, ": ");
		add_value(out, a);
		buf_addstr(out, " -> ");
		add_value(out, b);
	} else if (sign == '+') {
		buf_addstr(out, ": ");
		add_value(out, b);
	}
	buf_addch(out, '\n');
}

static void diff_rec(const cJSON *a, const cJSON *b, const char *path, struct buf *out,
		     size_t *count)
{
	const cJSON *x;

	if (cJSON_IsObject(a) && cJSON_IsObject(b)) {
		cJSON_ArrayForEach(x, a) {
			const cJSON *y = cJSON_GetObjectItemCaseSensitive(b, x->string);
			char *p = xstrfmt("%s.%s", path, x->string);

			if (!y)
				diff_line(out, count, '-', p, x, NULL);
			else
				diff_rec(x, y, p, out, count);
			free(p);
		}
		cJSON_ArrayForEach(x, b) {
			if (!cJSON_GetObjectItemCaseSensitive(a, x->string)) {
				char *p = xstrfmt("%s.%s", path, x->string);

				diff_line(out, count, '+', p, NULL, x);
				free(p);
			}
		}
		return;
	}
	if (cJSON_IsArray(a) && cJSON_IsArray(b) && cJSON_GetArraySize(a) == cJSON_GetArraySize(b)) {
		int i, n = cJSON_GetArraySize(a);

		for (i = 0; i < n; i++) {
			char *p = xstrfmt("%s[%d]", path, i);

			diff_rec(cJSON_GetArrayItem(a, i), cJSON_GetArrayItem(b, i), p, out, count);
			free(p);
		}
		return;
	}
	if (!cJSON_Compare(a, b, 1))
		diff_line(out, count, '~', path, a, b);
}

size_t apply_diff_objects(const cJSON *live, const cJSON *want, struct buf *out)
{
	cJSON *a = cJSON_Duplicate(live, 1), *b = cJSON_Duplicate(want, 1);
	size_t count = 0;

	strip_bookkeeping(a);
	strip_bookkeeping(b);
	diff_rec(a, b, "", out, &count);
	cJSON_Delete(a);
	cJSON_Delete(b);
	return count;
}

/* ------------------------------------------------------------ the run */

struct ctx {
	struct apply_run *run;
	struct kube_client *c;
	struct discovery *d;
	const struct apply_options *o;
	struct applyset set;
	const char *manager;
	int stage;
	time_t stage_start;
	unsigned long long baseline;	/* the cluster's revision before the first stage */
	int have_baseline;
	struct apply_cache *live;	/* members' resourceVersions now (path -> rv), or NULL */
};

static void progress(void *arg, size_t done, size_t n)
{
	struct ctx *x = arg;

	if (n < 20)
		return;
	fprintf(stderr, "\rtidegate: stage %d: %zu/%zu%s", x->stage, done, n, done == n ? "\n" : "");
	fflush(stderr);
}

/* The CRD in the input that defines group/kind, or NULL. */
static const cJSON *crd_in_input(const struct apply_run *run, const char *group, const char *kind)
{
	size_t i;

	for (i = 0; i < run->n; i++) {
		const struct apply_object *ob = &run->objs[i];
		const cJSON *spec;

		if (ob->pruning || !is_crd(ob->group, ob->kind))
			continue;
		spec = cJSON_GetObjectItemCaseSensitive(ob->body, "spec");
		if (!strcmp(jstr(spec, "group") ? jstr(spec, "group") : "", group) &&
		    !strcmp(jstr(cJSON_GetObjectItemCaseSensitive(spec, "names"), "kind")
			    ? jstr(cJSON_GetObjectItemCaseSensitive(spec, "names"), "kind") : "", kind))
			return spec;
	}
	return NULL;
}

static int namespace_in_input(const struct apply_run *run, const char *ns)
{
	size_t i;

	for (i = 0; i < run->n; i++)
		if (!run->objs[i].pruning && is_namespace(run->objs[i].group, run->objs[i].kind) &&
		    !strcmp(run->objs[i].name, ns))
			return 1;
	return 0;
}

static void set_scope(struct ctx *x, struct apply_object *ob)
{
	cJSON *meta = jobj(ob->body, "metadata");

	if (ob->namespaced) {
		if (!ob->namespace)
			ob->namespace = xstrdup(x->o->namespace ? x->o->namespace : "default");
		jset_str(meta, "namespace", ob->namespace);
	} else if (ob->namespace) {
		fail(ob, xstrfmt("%s is cluster-scoped but has metadata.namespace '%s'", ob->kind,
				 ob->namespace));
	}
	free(ob->id);
	ob->id = make_id(ob->kind, ob->namespaced ? ob->namespace : NULL, ob->name);
}

/* Finds each object's resource and scope. Returns -1 when discovery failed. */
static int resolve_all(struct ctx *x)
{
	struct apply_run *run = x->run;
	size_t i;

	for (i = 0; i < run->n; i++) {
		struct apply_object *ob = &run->objs[i];
		const struct kube_resource *res = NULL;
		const cJSON *crd;
		int r;

		if (ob->pruning || ob->result != APPLY_PENDING || ob->resolved)
			continue;
		res = discovery_find(x->d, ob->group, ob->version, ob->kind);
		if (!res && (crd = crd_in_input(run, ob->group, ob->kind))) {
			/* served once the CRD from this input is established */
			const char *scope = jstr(crd, "scope");

			ob->namespaced = !scope || strcmp(scope, "Cluster");
			free(ob->resource);
			ob->resource = xstrdup(jstr(cJSON_GetObjectItemCaseSensitive(crd, "names"), "plural")
					       ? jstr(cJSON_GetObjectItemCaseSensitive(crd, "names"), "plural") : "");
			set_scope(x, ob);
			continue;
		}
		if (!res) {
			r = discovery_lookup(x->d, ob->group, ob->version, ob->kind, &res);
			if (r < 0)
				return -1;
			if (r > 0) {
				fail(ob, xstrfmt("the server does not serve kind '%s' in '%s%s%s'", ob->kind,
						 ob->group, *ob->group ? "/" : "", ob->version));
				continue;
			}
		}
		free(ob->resource);
		ob->resource = xstrdup(res->resource);
		ob->namespaced = res->namespaced;
		ob->resolved = 1;
		set_scope(x, ob);
	}
	return 0;
}

static char *object_path(const struct apply_object *ob, const char *query)
{
	struct kube_resource r;

	r.group = ob->group;
	r.version = ob->version;
	r.kind = ob->kind;
	r.resource = ob->resource;
	r.namespaced = ob->namespaced;
	return kube_object_path(&r, ob->namespace, ob->name, query);
}

static char *apply_query(struct ctx *x)
{
	struct buf q = BUF_INIT(BUF_NOCAP);

	buf_addstr(&q, "fieldManager=");
	buf_add_urlenc(&q, x->manager);
	buf_addstr(&q, "&fieldValidation=Strict");
	if (x->o->force_conflicts)
		buf_addstr(&q, "&force=true");
	if (x->o->dry_run || x->o->diff)
		buf_addstr(&q, "&dryRun=All");
	return buf_detach(&q, NULL);
}

#define REVISION_PATH "/api/v1/namespaces?limit=1"

/* A list's resourceVersion from its answer, or 0. */
static unsigned long long answer_revision(const struct kube_request *r)
{
	unsigned long long rv = 0;

	if (r->status == 200) {
		cJSON *doc = cJSON_ParseWithLength(r->resp.data, r->resp.len);
		const char *s = jstr(cJSON_GetObjectItemCaseSensitive(doc, "metadata"), "resourceVersion");
		char *end;

		if (s) {
			rv = strtoull(s, &end, 10);
			if (*end)
				rv = 0;
		}
		cJSON_Delete(doc);
	}
	return rv;
}

static unsigned long long list_revision(struct ctx *x, const char *path)
{
	struct kube_request *r = kube_request_new("GET", path);
	unsigned long long rv = 0;

	if (kube_client_run(x->c, &r, 1) == 0)
		rv = answer_revision(r);
	kube_request_free(r);
	return rv;
}

/*
 * The cluster's current revision (a list's resourceVersion), or 0 when
 * unknown: from the namespaces list, else (a user who may not list
 * namespaces) from the list of the first object's own collection.
 */
static unsigned long long cluster_revision(struct ctx *x, const struct apply_object *first)
{
	unsigned long long rv = list_revision(x, REVISION_PATH);
	struct kube_resource r;
	char *path;

	if (rv || !first)
		return rv;
	r.group = first->group;
	r.version = first->version;
	r.kind = first->kind;
	r.resource = first->resource;
	r.namespaced = first->namespaced;
	path = kube_object_path(&r, first->namespace, NULL, "limit=1");
	rv = list_revision(x, path);
	free(path);
	return rv;
}

/*
 * When our Apply entry in managedFields is well older than the stage,
 * the server kept our fields as they were: a resourceVersion newer
 * than the baseline came from a writer racing with the stage (a
 * controller updating status, say).
 */
static int our_entry_older(const cJSON *doc, const char *manager, time_t since)
{
	const cJSON *mf;

	cJSON_ArrayForEach(mf, cJSON_GetObjectItemCaseSensitive(
				   cJSON_GetObjectItemCaseSensitive(doc, "metadata"), "managedFields")) {
		const char *m = jstr(mf, "manager"), *op = jstr(mf, "operation");
		const char *t = jstr(mf, "time"), *sub = jstr(mf, "subresource");
		struct tm tm;

		if (!m || strcmp(m, manager) || !op || strcmp(op, "Apply") || (sub && *sub) || !t)
			continue;
		memset(&tm, 0, sizeof(tm));
		if (!strptime(t, "%Y-%m-%dT%H:%M:%SZ", &tm))
			return 0;
		/* a minute of slack for clocks that disagree */
		return timegm(&tm) < since - 60;
	}
	return 0;
}

static char *conflict_message(const struct kube_request *r)
{
	cJSON *doc = cJSON_ParseWithLength(r->resp.data, r->resp.len);
	const cJSON *cause;
	struct buf b = BUF_INIT(BUF_NOCAP);
	int n = 0;

	cJSON_ArrayForEach(cause, cJSON_GetObjectItemCaseSensitive(
				   cJSON_GetObjectItemCaseSensitive(doc, "details"), "causes")) {
		const char *reason = jstr(cause, "reason"), *msg = jstr(cause, "message");
		const char *field = jstr(cause, "field");

		if (!reason || strcmp(reason, "FieldManagerConflict"))
			continue;
		buf_addf(&b, "%s%s%s%s%s", n++ ? "; " : "", msg ? msg : "conflict",
			 field ? " (" : "", field ? field : "", field ? ")" : "");
	}
	cJSON_Delete(doc);
	if (!n) {
		buf_release(&b);
		return NULL;
	}
	buf_addstr(&b, "; use --force-conflicts to take the fields over");
	return buf_detach(&b, NULL);
}

static const char *resp_uid(const cJSON *doc)
{
	return jstr(cJSON_GetObjectItemCaseSensitive(doc, "metadata"), "uid");
}

static void record_apply(struct ctx *x, struct apply_object *ob, struct kube_request *p,
			 struct kube_request *live, unsigned long long baseline)
{
	int dry = x->o->dry_run || x->o->diff;
	cJSON *doc;

	if (!p->status) {
		x->run->unreachable = 1;
		fail(ob, xstrfmt("no answer from the server: %s", p->error ? p->error : "unknown"));
		return;
	}
	if (p->status == 200 || p->status == 201) {
		doc = cJSON_ParseWithLength(p->resp.data, p->resp.len);
		if (resp_uid(doc)) {
			free(ob->uid);
			ob->uid = xstrdup(resp_uid(doc));
		}
		if (dry) {
			if (p->status == 201 || !live || live->status == 404) {
				ob->result = APPLY_CREATED;
			} else if (live->status == 200) {
				cJSON *ldoc = cJSON_ParseWithLength(live->resp.data, live->resp.len);
				struct buf d = BUF_INIT(BUF_NOCAP);

				ob->result = ldoc && doc && !apply_diff_objects(ldoc, doc, &d)
					? APPLY_UNCHANGED : APPLY_CONFIGURED;
				if (x->o->diff && d.len)
					ob->diff = buf_detach(&d, NULL);
				buf_release(&d);
				cJSON_Delete(ldoc);
			} else {
				ob->result = APPLY_CONFIGURED;
			}
		} else if (p->status == 201) {
			ob->result = APPLY_CREATED;
		} else {
			const char *s = jstr(cJSON_GetObjectItemCaseSensitive(doc, "metadata"),
					     "resourceVersion");
			char *end = NULL, *key = object_path(ob, NULL);
			unsigned long long rv = s ? strtoull(s, &end, 10) : 0;
			const struct cache_entry *le = cache_get(x->live, key);

			free(key);
			if (le && s && !strcmp(le->rv, s))
				ob->result = APPLY_UNCHANGED;	/* as it was listed before */
			else if (baseline && s && end && !*end && rv <= baseline)
				ob->result = APPLY_UNCHANGED;
			else if (baseline && our_entry_older(doc, x->manager, x->stage_start))
				ob->result = APPLY_UNCHANGED;
			else
				ob->result = APPLY_CONFIGURED;
		}
		cJSON_Delete(doc);
		return;
	}
	if (p->status == 409) {
		char *m = conflict_message(p);

		if (m) {
			fail(ob, m);
			return;
		}
	}
	if (dry && p->status == 404 && ob->namespaced && namespace_in_input(x->run, ob->namespace)) {
		ob->result = APPLY_CREATED;
		set_message(ob, xstrfmt("not checked by the server: namespace '%s' is new in this set",
					ob->namespace));
		return;
	}
	fail(ob, kube_request_message(p));
}

/* Remembers what the server answered to ob's PATCH (digest NULL: forget it). */
static void cache_answer(struct apply_cache *cache, const struct apply_object *ob,
			 const struct kube_request *p, const unsigned char *digest)
{
	char *key = object_path(ob, NULL);
	cJSON *doc = NULL;
	const char *rv = NULL;

	if (digest && (p->status == 200 || p->status == 201)) {
		doc = cJSON_ParseWithLength(p->resp.data, p->resp.len);
		rv = jstr(cJSON_GetObjectItemCaseSensitive(doc, "metadata"), "resourceVersion");
	}
	if (rv && *rv)
		cache_put(cache, key, digest, rv, resp_uid(doc));
	else
		cache_del(cache, key);
	cJSON_Delete(doc);
	free(key);
}

/* A resourceVersion as a number, or 0 when it is not one. */
static unsigned long long rv_number(const char *s)
{
	char *end;
	unsigned long long v;

	if (!s || *s < '0' || *s > '9')
		return 0;
	errno = 0;
	v = strtoull(s, &end, 10);
	return *end || errno ? 0 : v;
}

/*
 * The LISTs (metadata only, by the part-of label) of every collection
 * holding an input object the cache knows, appended to *reqs; their
 * count. Their answers go to x->live with live_read().
 *
 * Each asks for a state not older than the newest resourceVersion the
 * cache holds for that collection (what our own last PATCHes produced):
 * the API server answers such a LIST from its watch cache at once,
 * where a plain LIST waits until the cache has caught up with etcd (tens
 * of milliseconds, up to its 100 ms progress tick, whenever anything
 * else in the cluster was written since). Every write of ours is in the
 * answer; a write by someone else shows once the cache has its event
 * (milliseconds), which is as fresh as any read racing that write.
 */
static size_t live_requests(struct ctx *x, const char *set_id, struct kube_request ***reqs,
			    size_t *n, size_t *alloc)
{
	struct apply_run *run = x->run;
	struct coll { char *path; unsigned long long rv; } *seen = NULL;
	char *sel;
	size_t nseen = 0, seen_alloc = 0, i, j;
	struct buf q = BUF_INIT(BUF_NOCAP);

	buf_addstr(&q, "labelSelector=");
	buf_add_urlenc(&q, APPLYSET_PART_OF_LABEL "=");
	buf_add_urlenc(&q, set_id);
	sel = buf_detach(&q, NULL);
	for (i = 0; i < run->n; i++) {
		const struct apply_object *ob = &run->objs[i];
		const struct cache_entry *e;
		struct kube_resource r;
		unsigned long long rv;
		char *key, *coll;

		if (ob->pruning || !ob->resolved || ob->result != APPLY_PENDING)
			continue;
		key = object_path(ob, NULL);
		e = cache_get(x->o->cache, key);
		free(key);
		if (!e)
			continue;
		rv = rv_number(e->rv);
		r.group = ob->group;
		r.version = ob->version;
		r.kind = ob->kind;
		r.resource = ob->resource;
		r.namespaced = ob->namespaced;
		coll = kube_object_path(&r, ob->namespace, NULL, sel);
		for (j = 0; j < nseen && strcmp(seen[j].path, coll); j++)
			;
		if (j < nseen) {
			free(coll);
			if (rv > seen[j].rv)
				seen[j].rv = rv;
			continue;
		}
		XGROW(seen, nseen + 1, seen_alloc);
		seen[nseen].path = coll;
		seen[nseen++].rv = rv;
	}
	for (j = 0; j < nseen; j++) {
		char *path = seen[j].rv
			? xstrfmt("%s&resourceVersion=%llu&resourceVersionMatch=NotOlderThan",
				  seen[j].path, seen[j].rv)
			: xstrdup(seen[j].path);

		XGROW(*reqs, *n + 1, *alloc);
		(*reqs)[*n] = kube_request_new("GET", path);
		(*reqs)[*n]->accept = METADATA_LIST_ACCEPT;
		/*
		 * Once: a server whose revisions went back (etcd restored)
		 * answers 504 after 3 s; the objects are then PATCHed as usual
		 * and the cache learns the new revisions.
		 */
		(*reqs)[*n]->max_attempts = 1;
		(*n)++;
		free(path);
		free(seen[j].path);
	}
	free(seen);
	free(sel);
	return nseen;
}

/*
 * Reads a LIST answer into x->live: each item's path and
 * resourceVersion. Returns the list's own resourceVersion (a revision
 * of the cluster before this run wrote anything), or 0.
 */
static unsigned long long live_read(struct ctx *x, const struct kube_request *r)
{
	const char *qm = strchr(r->path, '?');
	size_t base = qm ? (size_t)(qm - r->path) : strlen(r->path);
	const cJSON *item;
	unsigned long long rev;
	cJSON *doc;

	if (r->status != 200)
		return 0;	/* those objects are applied as usual */
	doc = cJSON_ParseWithLength(r->resp.data, r->resp.len);
	if (!x->live)
		x->live = apply_cache_new();
	rev = rv_number(jstr(cJSON_GetObjectItemCaseSensitive(doc, "metadata"), "resourceVersion"));
	cJSON_ArrayForEach(item, cJSON_GetObjectItemCaseSensitive(doc, "items")) {
		const cJSON *meta = cJSON_GetObjectItemCaseSensitive(item, "metadata");
		const char *name = jstr(meta, "name"), *rv = jstr(meta, "resourceVersion");
		char *path;

		if (!name || !rv || !*rv || strchr(name, '/'))
			continue;
		path = xstrfmt("%.*s/%s", (int)base, r->path, name);
		cache_put(x->live, path, NULL, rv, NULL);
		free(path);
	}
	cJSON_Delete(doc);
	return rev;
}

static int apply_stage(struct ctx *x, int stage)
{
	struct apply_run *run = x->run;
	struct kube_request **reqs = NULL;
	size_t *idx = NULL, n = 0, alloc = 0, ialloc = 0, i, k;
	int dry = x->o->dry_run || x->o->diff;
	unsigned long long baseline = 0;
	char *query;
	struct apply_cache *cache;
	struct { unsigned char md[32]; int ok; } *digests = NULL;
	size_t m;

	for (i = 0; i < run->n; i++) {
		struct apply_object *ob = &run->objs[i];

		if (ob->pruning || ob->stage != stage || ob->result != APPLY_PENDING)
			continue;
		if (!ob->resolved) {
			if (dry) {
				ob->result = APPLY_CREATED;
				set_message(ob, xstrdup("not checked by the server: its "
							"CustomResourceDefinition is new in this set"));
			} else {
				fail(ob, xstrfmt("kind '%s' is still not served after its "
						 "CustomResourceDefinition was applied", ob->kind));
			}
			continue;
		}
		XGROW(idx, n + 1, ialloc);
		idx[n++] = i;
	}
	if (!n) {
		free(idx);
		return 0;
	}
	if (!dry) {
		/*
		 * One revision for every stage: an object this run leaves
		 * alone keeps a resourceVersion from before the first.
		 */
		x->stage_start = time(NULL);
		if (!x->have_baseline) {
			x->baseline = cluster_revision(x, &run->objs[idx[0]]);
			x->have_baseline = 1;
		}
		baseline = x->baseline;
	}
	query = apply_query(x);
	cache = dry ? NULL : x->o->cache;
	if (cache)
		digests = xcalloc(n, sizeof(*digests));
	for (k = 0, m = 0; k < n; k++) {
		struct apply_object *ob = &run->objs[idx[k]];
		char *path = object_path(ob, query), *body;
		struct kube_request *r;

		cJSON_DeleteItemFromObjectCaseSensitive(jobj(ob->body, "metadata"), "resourceVersion");
		cJSON_DeleteItemFromObjectCaseSensitive(jobj(ob->body, "metadata"), "managedFields");
		body = cJSON_PrintUnformatted(ob->body);
		if (cache) {
			char *key = object_path(ob, NULL);
			const struct cache_entry *e = cache_get(cache, key);
			const struct cache_entry *live = cache_get(x->live, key);

			digests[m].ok = request_digest(query, body, digests[m].md) == 0;
			if (digests[m].ok && e && live && !memcmp(e->digest, digests[m].md, 32) &&
			    !strcmp(e->rv, live->rv)) {
				/* the same request to the object it produced: nothing would change */
				ob->result = APPLY_UNCHANGED;
				free(ob->uid);
				ob->uid = e->uid ? xstrdup(e->uid) : NULL;
				free(key);
				free(body);
				free(path);
				continue;
			}
			free(key);
		}
		r = kube_request_new("PATCH", path);
		free(path);
		kube_request_set_body(r, body, strlen(body), "application/apply-patch+yaml");
		XGROW(reqs, m + 1, alloc);
		reqs[m] = r;
		idx[m++] = idx[k];
	}
	n = m;
	if (dry) {
		for (k = 0; k < n; k++) {
			char *path = object_path(&run->objs[idx[k]], NULL);

			XGROW(reqs, n + k + 1, alloc);
			reqs[n + k] = kube_request_new("GET", path);
			free(path);
		}
	}
	free(query);
	x->stage = stage;
	if (n)
		kube_client_run(x->c, reqs, dry ? 2 * n : n);
	for (k = 0; k < n; k++) {
		record_apply(x, &run->objs[idx[k]], reqs[k], dry ? reqs[n + k] : NULL, baseline);
		if (cache)
			cache_answer(cache, &run->objs[idx[k]], reqs[k], digests[k].ok ? digests[k].md : NULL);
	}
	free(digests);
	for (k = 0; k < (dry ? 2 * n : n); k++)
		kube_request_free(reqs[k]);
	free(reqs);
	free(idx);
	return 0;
}

/* The condition of this type in status.conditions, or NULL. */
static const cJSON *condition(const cJSON *status, const char *type)
{
	const cJSON *c;

	cJSON_ArrayForEach(c, cJSON_GetObjectItemCaseSensitive(status, "conditions")) {
		const char *t = jstr(c, "type");

		if (t && !strcmp(t, type))
			return c;
	}
	return NULL;
}

static int condition_true(const cJSON *c)
{
	return c && jstr(c, "status") && !strcmp(jstr(c, "status"), "True");
}

static int crd_established(const struct kube_request *r)
{
	cJSON *doc;
	int ok;

	if (r->status != 200)
		return 0;
	doc = cJSON_ParseWithLength(r->resp.data, r->resp.len);
	ok = condition_true(condition(cJSON_GetObjectItemCaseSensitive(doc, "status"),
				      "Established"));
	cJSON_Delete(doc);
	return ok;
}

/* Waits until the CRDs applied in stage 0 are Established. */
static void wait_crds(struct ctx *x)
{
	struct apply_run *run = x->run;
	long long deadline = monotonic_ms() + (x->o->crd_wait_ms > 0 ? x->o->crd_wait_ms
					       : DEFAULT_CRD_WAIT_MS);
	size_t i;

	for (;;) {
		struct kube_request **reqs = NULL;
		size_t *idx = NULL, n = 0, alloc = 0, ialloc = 0, k;
		int pending = 0;

		for (i = 0; i < run->n; i++) {
			struct apply_object *ob = &run->objs[i];
			char *path;

			if (ob->pruning || !is_crd(ob->group, ob->kind) ||
			    (ob->result != APPLY_CREATED && ob->result != APPLY_CONFIGURED &&
			     ob->result != APPLY_UNCHANGED) || ob->stage < 0)
				continue;
			path = object_path(ob, NULL);
			XGROW(reqs, n + 1, alloc);
			XGROW(idx, n + 1, ialloc);
			reqs[n] = kube_request_new("GET", path);
			idx[n++] = i;
			free(path);
		}
		if (!n)
			return;
		kube_client_run(x->c, reqs, n);
		for (k = 0; k < n; k++) {
			if (crd_established(reqs[k]))
				run->objs[idx[k]].stage = -1 - run->objs[idx[k]].stage;	/* done */
			else
				pending++;
			kube_request_free(reqs[k]);
		}
		free(reqs);
		free(idx);
		if (!pending)
			break;
		if (monotonic_ms() >= deadline) {
			log_warnx("%d CustomResourceDefinition(s) not Established after %d ms", pending,
				  x->o->crd_wait_ms > 0 ? x->o->crd_wait_ms : DEFAULT_CRD_WAIT_MS);
			break;
		}
		usleep(200 * 1000);
	}
	for (i = 0; i < run->n; i++)
		if (run->objs[i].stage < 0)
			run->objs[i].stage = -1 - run->objs[i].stage;
}

/* Objects deferred for a CRD of this input: resolve them now. */
static int resolve_deferred(struct ctx *x)
{
	struct apply_run *run = x->run;
	size_t i;
	int any = 0;

	for (i = 0; i < run->n; i++)
		if (!run->objs[i].pruning && !run->objs[i].resolved &&
		    run->objs[i].result == APPLY_PENDING)
			any = 1;
	if (!any)
		return 0;
	if (discovery_refresh(x->d) < 0)
		return -1;
	for (i = 0; i < run->n; i++) {
		struct apply_object *ob = &run->objs[i];
		const struct kube_resource *res;

		if (ob->pruning || ob->resolved || ob->result != APPLY_PENDING)
			continue;
		res = discovery_find(x->d, ob->group, ob->version, ob->kind);
		if (!res) {
			/*
			 * Discovery can lag behind the Established condition on
			 * a busy server; the CRD of this input already said the
			 * resource and scope (resolve_all), and the server
			 * answers for itself when it does not serve them yet.
			 */
			if (ob->resource && *ob->resource)
				ob->resolved = 1;
			continue;	/* else reported by apply_stage */
		}
		free(ob->resource);
		ob->resource = xstrdup(res->resource);
		ob->namespaced = res->namespaced;
		ob->resolved = 1;
	}
	return 0;
}

/* ---------------------------------------------------------------- prune */

static char *object_member(const struct apply_object *ob)
{
	return applyset_member(ob->group, ob->kind, ob->namespaced ? ob->namespace : "", ob->name);
}

static int cmp_strp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* The members of the input (sorted; caller frees each and the array). */
static char **input_members(struct ctx *x, size_t *nout)
{
	char **v = xcalloc(x->run->n + 1, sizeof(char *));
	size_t i, n = 0;

	for (i = 0; i < x->run->n; i++) {
		const struct apply_object *ob = &x->run->objs[i];

		if (ob->pruning || (!ob->resolved && !ob->resource) ||
		    (ob->result == APPLY_FAILED && !ob->resource))
			continue;
		v[n++] = object_member(ob);
	}
	qsort(v, n, sizeof(*v), cmp_strp);
	*nout = n;
	return v;
}

static void free_strv(char **v, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		free(v[i]);
	free(v);
}

/*
 * A parent without tidegate's inventory (kubectl made it): list the
 * members by label in the group-kinds and namespaces it names.
 */
static int list_members_by_label(struct ctx *x)
{
	struct applyset *s = &x->set;
	struct kube_request **reqs = NULL;
	size_t n = 0, alloc = 0, i, j, malloc_ = 0;
	char *sel;
	struct buf q = BUF_INIT(BUF_NOCAP);

	buf_addstr(&q, "labelSelector=");
	buf_add_urlenc(&q, APPLYSET_PART_OF_LABEL "=");
	buf_add_urlenc(&q, s->id);
	sel = buf_detach(&q, NULL);
	for (i = 0; i < s->ngk; i++) {
		const char *gk = s->group_kinds[i], *dot = strchr(gk, '.');
		char *kind = dot ? xstrndup(gk, (size_t)(dot - gk)) : xstrdup(gk);
		const struct kube_resource *res = discovery_find_gk(x->d, dot ? dot + 1 : "", kind);

		free(kind);
		if (!res)
			continue;
		if (!res->namespaced) {
			char *p = kube_object_path(res, NULL, NULL, sel);

			XGROW(reqs, n + 1, alloc);
			reqs[n++] = kube_request_new("GET", p);
			free(p);
			continue;
		}
		for (j = 0; j <= s->nns; j++) {
			char *p = kube_object_path(res, j ? s->namespaces[j - 1] : s->namespace, NULL, sel);

			XGROW(reqs, n + 1, alloc);
			reqs[n++] = kube_request_new("GET", p);
			free(p);
		}
	}
	free(sel);
	kube_client_run(x->c, reqs, n);
	for (i = 0; i < n; i++) {
		cJSON *doc;
		const cJSON *item;
		const char *av;

		if (reqs[i]->status != 200) {
			char *m = kube_request_message(reqs[i]);

			log_warnx("applyset '%s': listing members with %s failed: %s", s->name,
				  reqs[i]->path, m);
			free(m);
			continue;
		}
		doc = cJSON_ParseWithLength(reqs[i]->resp.data, reqs[i]->resp.len);
		av = jstr(doc, "apiVersion");
		cJSON_ArrayForEach(item, cJSON_GetObjectItemCaseSensitive(doc, "items")) {
			const cJSON *meta = cJSON_GetObjectItemCaseSensitive(item, "metadata");
			const char *kind = jstr(doc, "kind"), *slash = av ? strchr(av, '/') : NULL;
			char *g = slash ? xstrndup(av, (size_t)(slash - av)) : xstrdup(""), *k;
			size_t kl = kind ? strlen(kind) : 0;

			/* a list's kind is "<Kind>List" */
			k = kl > 4 ? xstrndup(kind, kl - 4) : xstrdup("");
			XGROW(s->members, s->nmembers + 1, malloc_);
			s->members[s->nmembers++] = applyset_member(g, k, jstr(meta, "namespace"),
								    jstr(meta, "name") ? jstr(meta, "name") : "");
			free(g);
			free(k);
		}
		cJSON_Delete(doc);
	}
	for (i = 0; i < n; i++)
		kube_request_free(reqs[i]);
	free(reqs);
	qsort(s->members, s->nmembers, sizeof(char *), cmp_strp);
	return 0;
}

static void prune(struct ctx *x, char **cur, size_t ncur)
{
	struct apply_run *run = x->run;
	struct applyset *s = &x->set;
	struct kube_request **reqs = NULL;
	size_t *idx = NULL, n = 0, alloc = 0, ialloc = 0, i, k;
	size_t first = run->n;
	int stage;

	for (i = 0; i < s->nmembers; i++) {
		char *g, *kind, *ns, *name;
		const struct kube_resource *res;
		struct apply_object *ob;

		if (bsearch(&s->members[i], cur, ncur, sizeof(char *), cmp_strp))
			continue;
		if (applyset_member_parse(s->members[i], &g, &kind, &ns, &name) < 0) {
			log_warnx("applyset '%s': ignoring malformed member '%s'", s->name, s->members[i]);
			continue;
		}
		ob = new_object(run);
		ob->pruning = 1;
		ob->group = g;
		ob->kind = kind;
		ob->namespace = *ns ? ns : NULL;
		if (!*ns)
			free(ns);
		ob->name = name;
		ob->id = make_id(kind, ob->namespace, name);
		ob->stage = stage_of(g, kind);
		res = discovery_find_gk(x->d, g, kind);
		if (!res) {
			ob->result = APPLY_SKIPPED;
			set_message(ob, xstrdup("not pruned: the server no longer serves its kind"));
			continue;
		}
		ob->version = xstrdup(res->version);
		ob->resource = xstrdup(res->resource);
		ob->namespaced = res->namespaced;
		ob->resolved = 1;
		if ((is_namespace(g, kind) || is_crd(g, kind)) && !x->o->prune_cluster_wide) {
			ob->result = APPLY_SKIPPED;
			ob->stage = -1;	/* kept as a member */
			set_message(ob, xstrdup("not pruned: Namespaces and CustomResourceDefinitions "
						"are pruned only with --prune-allow-cluster-wide"));
		}
	}
	/* read them: only our members, by UID */
	for (i = first; i < run->n; i++) {
		char *path;

		if (run->objs[i].result != APPLY_PENDING)
			continue;
		path = object_path(&run->objs[i], NULL);
		XGROW(reqs, n + 1, alloc);
		XGROW(idx, n + 1, ialloc);
		reqs[n] = kube_request_new("GET", path);
		idx[n++] = i;
		free(path);
	}
	kube_client_run(x->c, reqs, n);
	for (k = 0; k < n; k++) {
		struct apply_object *ob = &run->objs[idx[k]];
		cJSON *doc;
		const char *part;

		if (!reqs[k]->status) {
			run->unreachable = 1;
			fail(ob, xstrfmt("no answer from the server: %s", reqs[k]->error));
		} else if (reqs[k]->status == 404) {
			ob->result = APPLY_SKIPPED;
			set_message(ob, xstrdup("already gone"));
		} else if (reqs[k]->status != 200) {
			fail(ob, kube_request_message(reqs[k]));
		} else {
			doc = cJSON_ParseWithLength(reqs[k]->resp.data, reqs[k]->resp.len);
			part = jstr(cJSON_GetObjectItemCaseSensitive(
					    cJSON_GetObjectItemCaseSensitive(doc, "metadata"), "labels"),
				    APPLYSET_PART_OF_LABEL);
			if (!part || strcmp(part, s->id)) {
				ob->result = APPLY_SKIPPED;
				set_message(ob, xstrfmt("not pruned: it is no longer labelled %s=%s",
							APPLYSET_PART_OF_LABEL, s->id));
			} else if (resp_uid(doc)) {
				ob->uid = xstrdup(resp_uid(doc));
			}
			cJSON_Delete(doc);
		}
		kube_request_free(reqs[k]);
	}
	n = 0;
	/* delete in reverse stage order */
	for (stage = NSTAGES - 1; stage >= 0; stage--) {
		n = 0;
		for (i = first; i < run->n; i++) {
			struct apply_object *ob = &run->objs[i];
			char *path, *body;
			cJSON *opts;

			if (ob->result != APPLY_PENDING || ob->stage != stage || !ob->uid)
				continue;
			if (x->o->diff) {
				ob->result = APPLY_PRUNED;
				continue;
			}
			path = object_path(ob, x->o->dry_run ? "dryRun=All" : NULL);
			opts = cJSON_CreateObject();
			cJSON_AddStringToObject(opts, "apiVersion", "v1");
			cJSON_AddStringToObject(opts, "kind", "DeleteOptions");
			cJSON_AddStringToObject(opts, "propagationPolicy", "Background");
			cJSON_AddStringToObject(jobj(opts, "preconditions"), "uid", ob->uid);
			/* with a body the server reads dryRun from it, not from the query */
			if (x->o->dry_run)
				cJSON_AddItemToObject(opts, "dryRun",
						      cJSON_CreateStringArray((const char *[]){ "All" }, 1));
			body = cJSON_PrintUnformatted(opts);
			cJSON_Delete(opts);
			XGROW(reqs, n + 1, alloc);
			XGROW(idx, n + 1, ialloc);
			reqs[n] = kube_request_new("DELETE", path);
			kube_request_set_body(reqs[n], body, strlen(body), "application/json");
			idx[n++] = i;
			free(path);
		}
		if (!n)
			continue;
		x->stage = stage;
		kube_client_run(x->c, reqs, n);
		for (k = 0; k < n; k++) {
			struct apply_object *ob = &run->objs[idx[k]];
			long st = reqs[k]->status;

			if (!st) {
				run->unreachable = 1;
				fail(ob, xstrfmt("no answer from the server: %s", reqs[k]->error));
			} else if (st == 200 || st == 202 || st == 404) {
				ob->result = APPLY_PRUNED;
			} else if (st == 409) {
				ob->result = APPLY_SKIPPED;
				set_message(ob, xstrdup("not pruned: replaced by another object meanwhile"));
			} else {
				fail(ob, kube_request_message(reqs[k]));
			}
			kube_request_free(reqs[k]);
		}
	}
	for (i = first; i < run->n; i++)
		if (run->objs[i].result == APPLY_PENDING) {
			run->objs[i].result = APPLY_SKIPPED;
			if (!run->objs[i].message)
				set_message(&run->objs[i], xstrdup("not pruned: no UID to match"));
		}
	free(reqs);
	free(idx);
}

/* Members to record: the input, and old members still there (not pruned). */
static char **final_members(struct ctx *x, char **cur, size_t ncur, int with_old, size_t *nout)
{
	size_t i, n = 0;
	char **v = xcalloc(ncur + x->set.nmembers + 1, sizeof(char *));

	for (i = 0; i < ncur; i++)
		v[n++] = xstrdup(cur[i]);
	if (with_old) {
		for (i = 0; i < x->set.nmembers; i++)
			v[n++] = xstrdup(x->set.members[i]);
	} else {
		for (i = 0; i < x->run->n; i++) {
			const struct apply_object *ob = &x->run->objs[i];

			if (!ob->pruning)
				continue;
			if (ob->result == APPLY_FAILED || (ob->result == APPLY_SKIPPED && ob->stage == -1))
				v[n++] = applyset_member(ob->group, ob->kind, ob->namespace, ob->name);
		}
	}
	*nout = n;
	return v;
}

static void label_members(struct ctx *x)
{
	size_t i;

	for (i = 0; i < x->run->n; i++) {
		struct apply_object *ob = &x->run->objs[i];

		if (ob->pruning || ob->result != APPLY_PENDING)
			continue;
		jset_str(jobj(jobj(ob->body, "metadata"), "labels"), APPLYSET_PART_OF_LABEL, x->set.id);
	}
}

int apply_execute(struct apply_run *run, struct kube_client *c, struct discovery *d,
		  const struct apply_options *o)
{
	struct ctx x;
	char **cur = NULL, **mem;
	size_t ncur = 0, nmem, i;
	int dry = o->dry_run || o->diff, stage, ret = -1, parent_deferred = 0, w;

	memset(&x, 0, sizeof(x));
	x.run = run;
	x.c = c;
	x.d = d;
	x.o = o;
	x.manager = o->field_manager ? o->field_manager : "tidegate";
	if (o->progress)
		kube_client_set_progress(c, progress, &x);

	if ((o->discovery_max_age_ms > 0 ? discovery_refresh_max_age(d, o->discovery_max_age_ms)
					  : discovery_refresh(d)) < 0 ||
	    resolve_all(&x) < 0)
		goto out;
	if (o->applyset) {
		const char *ns = o->namespace ? o->namespace : "default";
		struct kube_request **reqs = NULL;
		size_t n = 0, alloc = 0, nlive = 0;

		/*
		 * The parent and, in one round trip with it, the members'
		 * revisions (a warm cache) or else the cluster's current
		 * revision. Any revision read before the first PATCH serves as
		 * the baseline: the lists' own do.
		 */
		int warm = !dry && apply_cache_size(o->cache);

		XGROW(reqs, 2, alloc);
		reqs[n++] = applyset_fetch_request(&x.set, o->applyset, ns);
		if (warm)
			nlive = live_requests(&x, x.set.id, &reqs, &n, &alloc);
		if (!dry && !nlive)
			reqs[n++] = kube_request_new("GET", REVISION_PATH);
		kube_client_run(c, reqs, n);
		if (!dry && !nlive)
			x.baseline = answer_revision(reqs[1]);
		for (i = 1; i <= nlive; i++) {
			unsigned long long rev = live_read(&x, reqs[i]);

			if (rev > x.baseline)
				x.baseline = rev;
		}
		x.have_baseline = x.baseline != 0;
		w = applyset_fetch_finish(&x.set, reqs[0], o->allow_foreign);
		for (i = 0; i < n; i++)
			kube_request_free(reqs[i]);
		free(reqs);
		if (w < 0)
			goto out;
		if (x.set.exists && !x.set.has_inventory && x.set.ngk)
			list_members_by_label(&x);
		label_members(&x);
		cur = input_members(&x, &ncur);
		if (!dry) {
			if (!x.set.exists && namespace_in_input(run, ns)) {
				parent_deferred = 1;	/* its namespace comes with stage 0 */
			} else {
				mem = final_members(&x, cur, ncur, 1, &nmem);
				w = applyset_write(&x.set, c, mem, nmem, 0);
				free_strv(mem, nmem);
				if (w < 0)
					goto out;
			}
		}
	}
	for (stage = 0; stage < NSTAGES; stage++) {
		if (apply_stage(&x, stage) < 0)
			goto out;
		if (stage == 0) {
			if (!dry)
				wait_crds(&x);
			if (!dry && resolve_deferred(&x) < 0)
				goto out;
			if (parent_deferred) {
				mem = final_members(&x, cur, ncur, 1, &nmem);
				w = applyset_write(&x.set, c, mem, nmem, 0);
				free_strv(mem, nmem);
				if (w < 0)
					goto out;
			}
		}
		if (run->unreachable)
			break;
	}
	if (o->applyset && o->prune && !run->unreachable)
		prune(&x, cur, ncur);
	if (o->applyset && !dry && !run->unreachable) {
		mem = final_members(&x, cur, ncur, !o->prune, &nmem);
		w = applyset_write(&x.set, c, mem, nmem, 0);
		free_strv(mem, nmem);
		if (w < 0)
			goto out;
	}
	ret = run->unreachable ? -1 : 0;
	if (run->unreachable)
		error("the API server at %s stopped answering; the run is incomplete",
		      kube_client_server(c));
out:
	memset(run->counts, 0, sizeof(run->counts));
	for (i = 0; i < run->n; i++) {
		if (run->objs[i].result == APPLY_PENDING) {
			run->objs[i].result = APPLY_FAILED;
			if (!run->objs[i].message)
				set_message(&run->objs[i], xstrdup("not applied: the run stopped early"));
		}
		run->counts[run->objs[i].result]++;
	}
	kube_client_set_progress(c, NULL, NULL);
	free_strv(cur, ncur);
	applyset_release(&x.set);
	apply_cache_free(x.live);
	return ret;
}

/* ------------------------------------------------------ workload health */

#define WAIT_POLL_MS 1000

/* An integer field of o, or dflt when it is missing or not a number. */
static long long jint(const cJSON *o, const char *key, long long dflt)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);

	return cJSON_IsNumber(v) ? (long long)v->valuedouble : dflt;
}

static const cJSON *jget(const cJSON *o, const char *key)
{
	return cJSON_GetObjectItemCaseSensitive(o, key);
}

/* The controller has not yet seen the newest spec: anything else in status is stale. */
static int behind_generation(const cJSON *live, char **why)
{
	long long gen = jint(jget(live, "metadata"), "generation", 0);
	long long seen = jint(jget(live, "status"), "observedGeneration", 0);

	if (seen >= gen)
		return 0;
	*why = xstrfmt("waiting for the controller to observe generation %lld", gen);
	return 1;
}

/* The message of a Deployment's Progressing=False/ProgressDeadlineExceeded, or NULL. */
static const char *deadline_exceeded(const cJSON *status)
{
	const cJSON *c = condition(status, "Progressing");
	const char *st = jstr(c, "status"), *reason = jstr(c, "reason");

	if (!st || !reason || strcmp(st, "False") || strcmp(reason, "ProgressDeadlineExceeded"))
		return NULL;
	return jstr(c, "message") ? jstr(c, "message") : "";
}

static int deployment_health(const cJSON *live, char **why)
{
	const cJSON *status = jget(live, "status");
	long long want = jint(jget(live, "spec"), "replicas", 1);
	long long updated = jint(status, "updatedReplicas", 0);
	long long avail = jint(status, "availableReplicas", 0);
	long long total = jint(status, "replicas", 0);
	const char *dl;

	if (behind_generation(live, why))
		return 0;
	if ((dl = deadline_exceeded(status))) {
		*why = *dl ? xstrfmt("progress deadline exceeded: %s", dl)
			   : xstrdup("progress deadline exceeded");
		return -1;
	}
	/* as `kubectl rollout status` reads it */
	if (updated < want)
		*why = xstrfmt("%lld/%lld updated", updated, want);
	else if (total > updated)
		*why = xstrfmt("%lld old replica(s) pending termination", total - updated);
	else if (avail < updated)
		*why = xstrfmt("%lld/%lld available", avail, want);
	else
		return 1;
	return 0;
}

static int statefulset_health(const cJSON *live, char **why)
{
	const cJSON *spec = jget(live, "spec"), *status = jget(live, "status");
	const char *strategy = jstr(jget(spec, "updateStrategy"), "type");
	long long want = jint(spec, "replicas", 1);
	long long ready = jint(status, "readyReplicas", 0);
	long long updated = jint(status, "updatedReplicas", 0);

	if (behind_generation(live, why))
		return 0;
	if (ready < want)
		*why = xstrfmt("%lld/%lld ready", ready, want);
	else if ((!strategy || !strcmp(strategy, "RollingUpdate")) && updated < want)
		*why = xstrfmt("%lld/%lld updated", updated, want);
	else
		return 1;
	return 0;
}

static int daemonset_health(const cJSON *live, char **why)
{
	const cJSON *status = jget(live, "status");
	long long want = jint(status, "desiredNumberScheduled", 0);
	long long ready = jint(status, "numberReady", 0);
	long long updated = jint(status, "updatedNumberScheduled", 0);

	if (behind_generation(live, why))
		return 0;
	if (updated < want)
		*why = xstrfmt("%lld/%lld updated", updated, want);
	else if (ready < want)
		*why = xstrfmt("%lld/%lld ready", ready, want);
	else
		return 1;
	return 0;
}

/* "reason: message" of a condition, as much of it as there is. */
static char *condition_text(const cJSON *c, const char *fallback)
{
	const char *reason = jstr(c, "reason"), *msg = jstr(c, "message");

	if (reason && *reason && msg && *msg)
		return xstrfmt("%s: %s", reason, msg);
	if (msg && *msg)
		return xstrdup(msg);
	return xstrdup(reason && *reason ? reason : fallback);
}

/* A Job is ready once complete; failed once it has failed. */
static int job_health(const cJSON *live, char **why)
{
	const cJSON *status = jget(live, "status"), *c;

	if ((c = condition(status, "Failed")) && condition_true(c)) {
		*why = condition_text(c, "failed");
		return -1;
	}
	if ((c = condition(status, "Complete")) && condition_true(c))
		return 1;
	*why = xstrfmt("%lld/%lld completed", jint(status, "succeeded", 0),
		       jint(jget(live, "spec"), "completions", 1));
	return 0;
}

/*
 * A custom resource, by the conventions its controllers share (those
 * Flux's kstatus reads): the controller has seen the newest generation,
 * Stalled is not True (failed), Reconciling is not True, and Ready, when
 * there is one, is True. One with no conditions is ready once applied.
 */
static int custom_health(const cJSON *live, char **why)
{
	const cJSON *status = jget(live, "status"), *c;
	long long gen = jint(jget(live, "metadata"), "generation", 0);

	if (jget(status, "observedGeneration") && behind_generation(live, why))
		return 0;
	if ((c = condition(status, "Stalled")) && condition_true(c)) {
		*why = condition_text(c, "stalled");
		return -1;
	}
	if ((c = condition(status, "Reconciling")) && condition_true(c)) {
		*why = condition_text(c, "reconciling");
		return 0;
	}
	c = condition(status, "Ready");
	if (c && !condition_true(c)) {
		*why = condition_text(c, "not Ready");
		return 0;
	}
	/* a Ready condition from before the newest spec says nothing of it */
	if (c && jget(c, "observedGeneration") && jint(c, "observedGeneration", 0) < gen) {
		*why = xstrfmt("waiting for the controller to observe generation %lld", gen);
		return 0;
	}
	return 1;
}

/* API groups of Kubernetes itself: "", single words (apps, batch) and *.k8s.io. */
static int builtin_group(const char *group)
{
	size_t n = strlen(group);

	return !strchr(group, '.') || (n >= 7 && !strcmp(group + n - 7, ".k8s.io"));
}

int apply_is_workload(const char *group, const char *kind)
{
	if (!strcmp(group, "apps"))
		return !strcmp(kind, "Deployment") || !strcmp(kind, "StatefulSet") ||
		       !strcmp(kind, "DaemonSet");
	if (!strcmp(group, "batch"))
		return !strcmp(kind, "Job");
	return !builtin_group(group);
}

int apply_health(const char *group, const char *kind, const cJSON *live, char **why)
{
	*why = NULL;
	if (!apply_is_workload(group, kind))
		return 1;
	if (!strcmp(group, "batch"))
		return job_health(live, why);
	if (strcmp(group, "apps"))
		return custom_health(live, why);
	if (!strcmp(kind, "Deployment"))
		return deployment_health(live, why);
	if (!strcmp(kind, "StatefulSet"))
		return statefulset_health(live, why);
	return daemonset_health(live, why);
}

static void set_health(struct apply_object *ob, enum apply_health h, char *why)
{
	ob->health = h;
	free(ob->health_message);
	ob->health_message = why;
}

/*
 * Reads the workloads still waited for (run->objs[idx[0..n)]) in one
 * batch; leaves in idx those to read again and returns their count.
 */
static size_t wait_round(struct apply_run *run, struct kube_client *c, size_t *idx, size_t n)
{
	struct kube_request **reqs = xcalloc(n ? n : 1, sizeof(*reqs));
	size_t k, pending = 0;

	for (k = 0; k < n; k++) {
		char *path = object_path(&run->objs[idx[k]], NULL);

		reqs[k] = kube_request_new("GET", path);
		free(path);
	}
	kube_client_run(c, reqs, n);
	for (k = 0; k < n; k++) {
		struct apply_object *ob = &run->objs[idx[k]];
		struct kube_request *r = reqs[k];
		char *why = NULL;
		int h;

		if (r->status == 200) {
			cJSON *doc = cJSON_ParseWithLength(r->resp.data, r->resp.len);

			h = doc ? apply_health(ob->group, ob->kind, doc, &why) : 0;
			if (!doc)
				why = xstrdup("the server's answer is not JSON");
			cJSON_Delete(doc);
		} else {
			/* gone, forbidden, no answer: worth another look until the timeout */
			h = 0;
			why = r->status == 404 ? xstrdup("not found")
			      : r->status ? kube_request_message(r)
			      : xstrfmt("no answer from the server: %s", r->error ? r->error : "unknown");
		}
		set_health(ob, h > 0 ? APPLY_HEALTH_READY : APPLY_HEALTH_NOT_READY, why);
		if (!h)
			idx[pending++] = idx[k];	/* a failed one is not read again */
		kube_request_free(r);
	}
	free(reqs);
	return pending;
}

size_t apply_wait(struct apply_run *run, struct kube_client *c, int timeout_ms,
		  long long deadline_ms)
{
	long long start = monotonic_ms(), limit = start + timeout_ms, now;
	size_t *idx = xcalloc(run->n + 1, sizeof(*idx)), n = 0, i;

	if (deadline_ms && deadline_ms < limit)
		limit = deadline_ms;
	run->wait_timed_out = 0;
	for (i = 0; i < run->n; i++) {
		struct apply_object *ob = &run->objs[i];

		set_health(ob, APPLY_HEALTH_NONE, NULL);
		if (ob->pruning || (ob->result != APPLY_CREATED && ob->result != APPLY_CONFIGURED &&
				    ob->result != APPLY_UNCHANGED))
			continue;
		if (!apply_is_workload(ob->group, ob->kind)) {
			ob->health = APPLY_HEALTH_READY;
			continue;
		}
		set_health(ob, APPLY_HEALTH_NOT_READY, xstrdup("not checked"));
		idx[n++] = i;
	}
	for (;;) {
		n = n ? wait_round(run, c, idx, n) : 0;
		if (!n)
			break;
		now = monotonic_ms();
		if (now >= limit) {
			run->wait_timed_out = 1;
			break;
		}
		usleep((useconds_t)(limit - now < WAIT_POLL_MS ? limit - now : WAIT_POLL_MS) * 1000);
	}
	for (i = 0; i < n; i++) {
		struct apply_object *ob = &run->objs[idx[i]];

		set_health(ob, APPLY_HEALTH_NOT_READY,
			   xstrfmt("timed out after %llds: %s", (limit - start + 500) / 1000,
				   ob->health_message));
	}
	run->nready = run->nnot_ready = 0;
	for (i = 0; i < run->n; i++) {
		struct apply_object *ob = &run->objs[i];

		if (ob->health == APPLY_HEALTH_READY)
			run->nready++;
		else if (ob->health == APPLY_HEALTH_NOT_READY)
			run->nnot_ready++;
	}
	free(idx);
	return run->nnot_ready;
}
