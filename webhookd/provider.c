#include "provider.h"
#include "hmac.h"
#include "http.h"
#include "log.h"
#include "xalloc.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <cjson/cJSON.h>

#define MAX_REPO_URLS 8
#define MAX_UPDATES 100
#define MAX_FILES 20000
#define MAX_REF_LEN 1024

/* ------------------------------------------------------------ verify -- */

/* Verifies "sha256=<hex>" (or "sha1=<hex>") against every secret. */
static enum verify_result check_prefixed_hex(const struct receiver *r, const char *hdr,
					     const char *prefix, enum hmac_alg alg,
					     const struct hmac_part *parts, size_t nparts,
					     const char **why)
{
	size_t plen = strlen(prefix), i;

	if (strncasecmp(hdr, prefix, plen)) {
		*why = "signature header without the expected algorithm prefix";
		return VERIFY_BAD;
	}
	for (i = 0; i < r->nsecrets; i++)
		if (hmac_verify_hex(alg, r->secrets[i].data, r->secrets[i].len, parts, nparts,
				    hdr + plen, strlen(hdr + plen)))
			return VERIFY_OK;
	*why = "signature does not match";
	return VERIFY_BAD;
}

static int parse_timestamp(const char *s, time_t now, long long *out)
{
	long long v = 0;
	const char *p;

	if (!s || !*s || strlen(s) > 12)
		return -1;
	for (p = s; *p; p++) {
		if (!isdigit((unsigned char)*p))
			return -1;
		v = v * 10 + (*p - '0');
	}
	*out = v;
	return (v > (long long)now + PROVIDER_CLOCK_SKEW ||
		v < (long long)now - PROVIDER_CLOCK_SKEW) ? 1 : 0;
}

/*
 * The signed-timestamp schemes sign "[ID.]TS.BODY": checks ts against the
 * clock (malformed and stale name the header in *why) and lays that text
 * out in parts (room for 5); *nparts gets their count.
 */
static enum verify_result timestamped_parts(const char *id, const char *ts,
					    const struct http_request *req, time_t now,
					    const char *malformed, const char *stale,
					    struct hmac_part *parts, size_t *nparts,
					    const char **why)
{
	size_t n = 0;
	long long t;

	switch (parse_timestamp(ts, now, &t)) {
	case -1:
		*why = malformed;
		return VERIFY_BAD;
	case 1:
		*why = stale;
		return VERIFY_STALE;
	}
	if (id) {
		parts[n].data = id;
		parts[n++].len = strlen(id);
		parts[n].data = ".";
		parts[n++].len = 1;
	}
	parts[n].data = ts;
	parts[n++].len = strlen(ts);
	parts[n].data = ".";
	parts[n++].len = 1;
	parts[n].data = req->body;
	parts[n++].len = req->body_len;
	*nparts = n;
	return VERIFY_OK;
}

/* Standard Webhooks: webhook-signature "v1,<b64> v1,<b64>" over "id.ts.body". */
static enum verify_result verify_standard(const struct receiver *r,
					  const struct http_request *req, time_t now,
					  const char **why)
{
	const char *id = http_header(req, "webhook-id");
	const char *ts = http_header(req, "webhook-timestamp");
	const char *sigs = http_header(req, "webhook-signature");
	struct hmac_part parts[5];
	size_t nparts;
	enum verify_result v;
	const char *p;

	if (!id || !ts) {
		*why = "webhook-signature without webhook-id or webhook-timestamp";
		return VERIFY_MISSING;
	}
	v = timestamped_parts(id, ts, req, now, "malformed webhook-timestamp",
			      "webhook-timestamp too far from the server's clock",
			      parts, &nparts, why);
	if (v != VERIFY_OK)
		return v;
	for (p = sigs; *p; ) {
		size_t len, i;

		while (*p == ' ' || *p == ',')
			p++;
		len = strcspn(p, " ");
		if (len > 3 && !strncmp(p, "v1,", 3)) {
			for (i = 0; i < r->nsecrets; i++)
				if (hmac_verify_base64(HMAC_SHA256, r->secrets[i].data,
						       r->secrets[i].len, parts, nparts,
						       p + 3, len - 3))
					return VERIFY_OK;
		}
		p += len;
	}
	*why = "no webhook-signature matches";
	return VERIFY_BAD;
}

enum verify_result provider_verify(const struct receiver *r, const struct http_request *req,
				   time_t now, const char **why)
{
	struct hmac_part body = { req->body, req->body_len };
	const char *h;

	*why = NULL;
	if (!r->nsecrets && r->insecure)
		return VERIFY_OK;
	switch (r->provider) {
	case PROV_GITHUB:
		if ((h = http_header(req, "X-Hub-Signature-256")))
			return check_prefixed_hex(r, h, "sha256=", HMAC_SHA256, &body, 1, why);
		if (r->allow_sha1 && (h = http_header(req, "X-Hub-Signature")))
			return check_prefixed_hex(r, h, "sha1=", HMAC_SHA1, &body, 1, why);
		*why = "no X-Hub-Signature-256 header";
		return VERIFY_MISSING;
	case PROV_GITLAB:
		if (http_header(req, "webhook-signature"))
			return verify_standard(r, req, now, why);
		if ((h = http_header(req, "X-Gitlab-Token"))) {
			size_t i;

			for (i = 0; i < r->nsecrets; i++)
				if (hmac_token_equal(h, strlen(h), r->secrets[i].data,
						     r->secrets[i].len))
					return VERIFY_OK;
			*why = "X-Gitlab-Token does not match";
			return VERIFY_BAD;
		}
		*why = "no X-Gitlab-Token or webhook-signature header";
		return VERIFY_MISSING;
	case PROV_GITEA: {
		static const char *const names[] = {
			"X-Gitea-Signature", "X-Forgejo-Signature", "X-Gogs-Signature",
		};
		size_t i, k;

		for (k = 0; k < 3; k++) {
			if (!(h = http_header(req, names[k])))
				continue;
			for (i = 0; i < r->nsecrets; i++)
				if (hmac_verify_hex(HMAC_SHA256, r->secrets[i].data,
						    r->secrets[i].len, &body, 1, h, strlen(h)))
					return VERIFY_OK;
			*why = "signature does not match";
			return VERIFY_BAD;
		}
		if ((h = http_header(req, "X-Hub-Signature-256")))
			return check_prefixed_hex(r, h, "sha256=", HMAC_SHA256, &body, 1, why);
		*why = "no X-Gitea-Signature header";
		return VERIFY_MISSING;
	}
	case PROV_BITBUCKET:
		if ((h = http_header(req, "X-Hub-Signature")) ||
		    (h = http_header(req, "X-Hub-Signature-256")))
			return check_prefixed_hex(r, h, "sha256=", HMAC_SHA256, &body, 1, why);
		*why = "no X-Hub-Signature header";
		return VERIFY_MISSING;
	case PROV_GENERIC: {
		const char *ts = http_header(req, "X-Tidegate-Timestamp");
		struct hmac_part parts[5];
		size_t nparts;
		enum verify_result v;

		h = http_header(req, "X-Tidegate-Signature");
		if (!h || !ts) {
			*why = "no X-Tidegate-Signature or X-Tidegate-Timestamp header";
			return VERIFY_MISSING;
		}
		v = timestamped_parts(NULL, ts, req, now, "malformed X-Tidegate-Timestamp",
				      "X-Tidegate-Timestamp too far from the server's clock",
				      parts, &nparts, why);
		if (v != VERIFY_OK)
			return v;
		return check_prefixed_hex(r, h, "sha256=", HMAC_SHA256, parts, nparts, why);
	}
	default:
		break;
	}
	*why = "unknown provider";
	return VERIFY_BAD;
}

const char *provider_delivery_id(enum provider p, const struct http_request *req)
{
	const char *h = NULL;

	switch (p) {
	case PROV_GITHUB:
		h = http_header(req, "X-GitHub-Delivery");
		break;
	case PROV_GITLAB:
		/* Idempotency-Key stays the same across GitLab's retries. */
		if (!(h = http_header(req, "Idempotency-Key")) &&
		    !(h = http_header(req, "webhook-id")))
			h = http_header(req, "X-Gitlab-Event-UUID");
		break;
	case PROV_GITEA:
		if (!(h = http_header(req, "X-Gitea-Delivery")) &&
		    !(h = http_header(req, "X-Forgejo-Delivery")))
			h = http_header(req, "X-Gogs-Delivery");
		break;
	case PROV_BITBUCKET:
		if (!(h = http_header(req, "X-Request-UUID")))
			h = http_header(req, "X-Request-Id");
		break;
	case PROV_GENERIC:
		h = http_header(req, "X-Tidegate-Delivery");
		break;
	default:
		break;
	}
	if (h && (!*h || strlen(h) > 128))
		return NULL;
	return h;
}

/* ------------------------------------------------------------- parse -- */

static const char *jstr(const cJSON *obj, const char *key)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, key);

	return cJSON_IsString(v) && v->valuestring[0] ? v->valuestring : NULL;
}

static const char *jpath_str(const cJSON *obj, const char *a, const char *b)
{
	return jstr(cJSON_GetObjectItemCaseSensitive(obj, a), b);
}

static int jbool(const cJSON *obj, const char *key)
{
	return cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(obj, key));
}

static int printable(const char *s, size_t max)
{
	size_t n = 0;

	for (; *s; s++, n++)
		if ((unsigned char)*s < ' ' || *s == 0x7f || n >= max)
			return 0;
	return 1;
}

static int is_oid(const char *s)
{
	size_t n = 0;

	for (; s[n]; n++)
		if (!isxdigit((unsigned char)s[n]))
			return 0;
	return n == 40 || n == 64;
}

static int is_zero_oid(const char *s)
{
	return strspn(s, "0") == strlen(s);
}

static void add_url(struct push_event *ev, const char *url)
{
	size_t i;

	if (!url || ev->nrepo_urls >= MAX_REPO_URLS || !printable(url, 4096))
		return;
	for (i = 0; i < ev->nrepo_urls; i++)
		if (!strcmp(ev->repo_urls[i], url))
			return;
	ev->repo_urls = xreallocarray(ev->repo_urls, ev->nrepo_urls + 1, sizeof(char *));
	ev->repo_urls[ev->nrepo_urls++] = xstrdup(url);
}

static void set_str(char **dst, const char *s)
{
	if (*dst || !s || !printable(s, 256))
		return;
	*dst = xstrdup(s);
}

static int add_update(struct push_event *ev, const char *ref, const char *before,
		      const char *after, const char **why)
{
	struct ref_update *u;

	if (!ref || strncmp(ref, "refs/", 5) || !printable(ref, MAX_REF_LEN) || strstr(ref, "..")) {
		*why = "missing or malformed ref";
		return -1;
	}
	if (!after || !is_oid(after)) {
		*why = "missing or malformed commit id (after)";
		return -1;
	}
	if (before && !is_oid(before)) {
		*why = "malformed commit id (before)";
		return -1;
	}
	if (ev->nupdates >= MAX_UPDATES) {
		*why = "too many ref updates in one delivery";
		return -1;
	}
	ev->updates = xreallocarray(ev->updates, ev->nupdates + 1, sizeof(*ev->updates));
	u = &ev->updates[ev->nupdates++];
	u->ref = xstrdup(ref);
	u->before = xstrdup(before ? before : "");
	u->after = xstrdup(after);
	u->deleted = is_zero_oid(after);
	return 0;
}

static void add_file(struct push_event *ev, const char *path)
{
	if (!ev->files_known)
		return;
	if (ev->nfiles >= MAX_FILES || !path || !printable(path, 4096)) {
		ev->files_known = 0;
		return;
	}
	ev->files = xreallocarray(ev->files, ev->nfiles + 1, sizeof(char *));
	ev->files[ev->nfiles++] = xstrdup(path);
}

/*
 * commits[].added/modified/removed of GitHub, Gitea and GitLab. The list
 * is complete only when every commit has all three arrays, the payload
 * was not cut short (total given > commits listed) and no per-commit list
 * reached the provider's cap.
 */
static void read_files(struct push_event *ev, const cJSON *root, long long total, int file_cap)
{
	static const char *const kinds[] = { "added", "modified", "removed" };
	const cJSON *commits = cJSON_GetObjectItemCaseSensitive(root, "commits"), *c;
	int n = cJSON_GetArraySize(commits);
	size_t k;

	ev->files_known = cJSON_IsArray(commits) && n > 0 && (total < 0 || total <= n) &&
			  n < 2048;
	if (!ev->files_known)
		return;
	cJSON_ArrayForEach(c, commits) {
		int count = 0;

		for (k = 0; k < 3; k++) {
			const cJSON *list = cJSON_GetObjectItemCaseSensitive(c, kinds[k]), *f;

			if (!cJSON_IsArray(list)) {
				ev->files_known = 0;
				return;
			}
			cJSON_ArrayForEach(f, list) {
				add_file(ev, cJSON_IsString(f) ? f->valuestring : NULL);
				count++;
			}
		}
		if (file_cap && count >= file_cap)
			ev->files_known = 0;
		if (!ev->files_known)
			return;
	}
}

static int parse_github_like(struct push_event *ev, const cJSON *root, const char **why)
{
	const cJSON *repo = cJSON_GetObjectItemCaseSensitive(root, "repository");
	const cJSON *total = cJSON_GetObjectItemCaseSensitive(root, "total_commits");

	if (!cJSON_IsObject(repo)) {
		*why = "missing repository";
		return -1;
	}
	add_url(ev, jstr(repo, "clone_url"));
	add_url(ev, jstr(repo, "ssh_url"));
	add_url(ev, jstr(repo, "html_url"));
	add_url(ev, jstr(repo, "git_url"));
	if (!ev->nrepo_urls) {
		*why = "missing repository.clone_url";
		return -1;
	}
	set_str(&ev->repo_name, jstr(repo, "full_name"));
	set_str(&ev->pusher, jpath_str(root, "pusher", "name"));
	set_str(&ev->pusher, jpath_str(root, "pusher", "login"));
	set_str(&ev->pusher, jpath_str(root, "pusher", "username"));
	set_str(&ev->pusher, jpath_str(root, "sender", "login"));
	if (add_update(ev, jstr(root, "ref"), jstr(root, "before"), jstr(root, "after"), why) < 0)
		return -1;
	if (jbool(root, "deleted"))
		ev->updates[0].deleted = 1;
	read_files(ev, root, cJSON_IsNumber(total) ? (long long)total->valuedouble : -1,
		   ev->provider == PROV_GITHUB ? 3000 : 0);
	return 0;
}

static int parse_gitlab(struct push_event *ev, const cJSON *root, const char **why)
{
	const cJSON *project = cJSON_GetObjectItemCaseSensitive(root, "project");
	const cJSON *repo = cJSON_GetObjectItemCaseSensitive(root, "repository");
	const cJSON *total = cJSON_GetObjectItemCaseSensitive(root, "total_commits_count");
	const char *kind = jstr(root, "object_kind");

	if (kind && strcmp(kind, "push") && strcmp(kind, "tag_push")) {
		ev->kind = EVENT_OTHER;
		return 0;
	}
	add_url(ev, jstr(project, "git_http_url"));
	add_url(ev, jstr(project, "git_ssh_url"));
	add_url(ev, jstr(project, "web_url"));
	add_url(ev, jstr(repo, "git_http_url"));
	add_url(ev, jstr(repo, "git_ssh_url"));
	add_url(ev, jstr(repo, "homepage"));
	if (!ev->nrepo_urls) {
		*why = "missing project.git_http_url";
		return -1;
	}
	set_str(&ev->repo_name, jstr(project, "path_with_namespace"));
	set_str(&ev->pusher, jstr(root, "user_username"));
	set_str(&ev->pusher, jstr(root, "user_name"));
	if (add_update(ev, jstr(root, "ref"), jstr(root, "before"), jstr(root, "after"), why) < 0)
		return -1;
	read_files(ev, root, cJSON_IsNumber(total) ? (long long)total->valuedouble : -1, 0);
	return 0;
}

static const char *zeros(const char *like)
{
	static const char z64[] =
		"0000000000000000000000000000000000000000000000000000000000000000";

	return like && strlen(like) == 64 ? z64 : z64 + 24;
}

static int parse_bitbucket_cloud(struct push_event *ev, const cJSON *root, const char **why)
{
	const cJSON *repo = cJSON_GetObjectItemCaseSensitive(root, "repository");
	const cJSON *links = cJSON_GetObjectItemCaseSensitive(repo, "links");
	const cJSON *changes = cJSON_GetObjectItemCaseSensitive(
		cJSON_GetObjectItemCaseSensitive(root, "push"), "changes"), *ch;

	add_url(ev, jpath_str(links, "html", "href"));
	if (!ev->nrepo_urls || !cJSON_IsArray(changes)) {
		*why = "missing repository.links.html.href or push.changes";
		return -1;
	}
	set_str(&ev->repo_name, jstr(repo, "full_name"));
	set_str(&ev->pusher, jpath_str(root, "actor", "nickname"));
	set_str(&ev->pusher, jpath_str(root, "actor", "display_name"));
	cJSON_ArrayForEach(ch, changes) {
		const cJSON *nw = cJSON_GetObjectItemCaseSensitive(ch, "new");
		const cJSON *old = cJSON_GetObjectItemCaseSensitive(ch, "old");
		const cJSON *side = cJSON_IsObject(nw) ? nw : old;
		const char *type = jstr(side, "type"), *name = jstr(side, "name");
		const char *before = jpath_str(old, "target", "hash");
		const char *after = jpath_str(nw, "target", "hash");
		char ref[MAX_REF_LEN + 16];

		if (!type || !name) {
			*why = "push.changes[] without new or old";
			return -1;
		}
		snprintf(ref, sizeof(ref), "refs/%s/%s", !strcmp(type, "branch") ||
			 !strcmp(type, "named_branch") ? "heads" : "tags", name);
		if (!cJSON_IsObject(nw))
			after = zeros(before);
		if (add_update(ev, ref, before, after, why) < 0)
			return -1;
	}
	return 0;
}

static int parse_bitbucket_server(struct push_event *ev, const cJSON *root, const char **why)
{
	const cJSON *repo = cJSON_GetObjectItemCaseSensitive(root, "repository");
	const cJSON *links = cJSON_GetObjectItemCaseSensitive(repo, "links"), *l;
	const cJSON *changes = cJSON_GetObjectItemCaseSensitive(root, "changes"), *ch;
	const char *slug = jstr(repo, "slug");
	const char *key = jpath_str(repo, "project", "key");

	if (!slug || !key || !cJSON_IsArray(changes)) {
		*why = "missing repository.slug, repository.project.key or changes";
		return -1;
	}
	{
		char name[600];

		snprintf(name, sizeof(name), "%s/%s", key, slug);
		set_str(&ev->repo_name, name);
	}
	cJSON_ArrayForEach(l, cJSON_GetObjectItemCaseSensitive(links, "clone"))
		add_url(ev, jstr(l, "href"));
	set_str(&ev->pusher, jpath_str(root, "actor", "name"));
	cJSON_ArrayForEach(ch, changes) {
		const char *ref = jstr(ch, "refId");

		if (!ref)
			ref = jpath_str(ch, "ref", "id");
		if (add_update(ev, ref, jstr(ch, "fromHash"), jstr(ch, "toHash"), why) < 0)
			return -1;
		if (jstr(ch, "type") && !strcmp(jstr(ch, "type"), "DELETE"))
			ev->updates[ev->nupdates - 1].deleted = 1;
	}
	return 0;
}

static int parse_generic(struct push_event *ev, const cJSON *root, const char **why)
{
	const char *url = jpath_str(root, "repository", "url");

	if (!url) {
		*why = "missing repository.url";
		return -1;
	}
	add_url(ev, url);
	if (!ev->nrepo_urls) {
		*why = "malformed repository.url";
		return -1;
	}
	set_str(&ev->pusher, jstr(root, "pusher"));
	if (add_update(ev, jstr(root, "ref"), jstr(root, "before"), jstr(root, "after"), why) < 0)
		return -1;
	/* "files": every path the push changed, when the hook could list them all */
	{
		const cJSON *files = cJSON_GetObjectItemCaseSensitive(root, "files"), *f;

		ev->files_known = cJSON_IsArray(files);
		if (ev->files_known)
			cJSON_ArrayForEach(f, files)
				add_file(ev, cJSON_IsString(f) ? f->valuestring : NULL);
	}
	return 0;
}

/* Which event a delivery is, from its headers; EVENT_PUSH means parse the body. */
static enum event_kind classify(struct push_event *ev, const struct http_request *req)
{
	const char *e = NULL;

	switch (ev->provider) {
	case PROV_GITHUB:
		e = http_header(req, "X-GitHub-Event");
		set_str(&ev->event_name, e);
		if (e && !strcmp(e, "ping"))
			return EVENT_PING;
		return e && !strcmp(e, "push") ? EVENT_PUSH : EVENT_OTHER;
	case PROV_GITLAB:
		e = http_header(req, "X-Gitlab-Event");
		set_str(&ev->event_name, e);
		if (e && (!strcmp(e, "Push Hook") || !strcmp(e, "Tag Push Hook") ||
			  !strcmp(e, "System Hook")))
			return EVENT_PUSH;
		return EVENT_OTHER;
	case PROV_GITEA:
		if (!(e = http_header(req, "X-Gitea-Event")) &&
		    !(e = http_header(req, "X-Forgejo-Event")) &&
		    !(e = http_header(req, "X-Gogs-Event")))
			e = http_header(req, "X-GitHub-Event");
		set_str(&ev->event_name, e);
		if (e && !strcmp(e, "ping"))
			return EVENT_PING;
		return e && !strcmp(e, "push") ? EVENT_PUSH : EVENT_OTHER;
	case PROV_BITBUCKET:
		e = http_header(req, "X-Event-Key");
		set_str(&ev->event_name, e);
		if (e && !strcmp(e, "diagnostics:ping"))
			return EVENT_PING;
		return e && (!strcmp(e, "repo:push") || !strcmp(e, "repo:refs_changed")) ?
			EVENT_PUSH : EVENT_OTHER;
	case PROV_GENERIC:
		e = http_header(req, "X-Tidegate-Event");
		set_str(&ev->event_name, e);
		if (e && !strcmp(e, "ping"))
			return EVENT_PING;
		return e && !strcmp(e, "push") ? EVENT_PUSH : EVENT_OTHER;
	default:
		return EVENT_OTHER;
	}
}

int provider_parse(enum provider p, const struct http_request *req, struct push_event *ev,
		   const char **why)
{
	cJSON *root;
	int ret;

	ev->provider = p;
	set_str(&ev->delivery, provider_delivery_id(p, req));
	ev->kind = classify(ev, req);
	if (ev->kind != EVENT_PUSH)
		return 0;
	root = cJSON_ParseWithLength(req->body, req->body_len);
	if (!root || !cJSON_IsObject(root)) {
		cJSON_Delete(root);
		*why = "the body is not a JSON object (is the webhook's content type application/json?)";
		return -1;
	}
	switch (p) {
	case PROV_GITHUB:
	case PROV_GITEA:
		ret = parse_github_like(ev, root, why);
		break;
	case PROV_GITLAB:
		ret = parse_gitlab(ev, root, why);
		break;
	case PROV_BITBUCKET:
		if (cJSON_GetObjectItemCaseSensitive(root, "push"))
			ret = parse_bitbucket_cloud(ev, root, why);
		else
			ret = parse_bitbucket_server(ev, root, why);
		break;
	case PROV_GENERIC:
		ret = parse_generic(ev, root, why);
		break;
	default:
		*why = "unknown provider";
		ret = -1;
	}
	cJSON_Delete(root);
	return ret;
}

void push_event_release(struct push_event *ev)
{
	size_t i;

	free(ev->event_name);
	free(ev->delivery);
	free(ev->pusher);
	free(ev->repo_name);
	for (i = 0; i < ev->nrepo_urls; i++)
		free(ev->repo_urls[i]);
	free(ev->repo_urls);
	for (i = 0; i < ev->nupdates; i++) {
		free(ev->updates[i].ref);
		free(ev->updates[i].before);
		free(ev->updates[i].after);
	}
	free(ev->updates);
	for (i = 0; i < ev->nfiles; i++)
		free(ev->files[i]);
	free(ev->files);
	memset(ev, 0, sizeof(*ev));
}
