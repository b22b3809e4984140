#include "applyset.h"
#include "kubeconfig.h"
#include "log.h"
#include "xalloc.h"

#include <cjson/cJSON.h>
#include <openssl/evp.h>
#include <openssl/sha.h>
#include <stdlib.h>
#include <string.h>

#define MAX_INVENTORY (1u << 20)	/* a Secret holds at most 1 MiB */

static void strv_free_n(char **v, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		free(v[i]);
	free(v);
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Sorts and removes duplicates (freeing them); returns the new count. */
static size_t sort_uniq(char **v, size_t n)
{
	size_t i, k = 0;

	if (!n)
		return 0;
	qsort(v, n, sizeof(*v), cmp_str);
	for (i = 1; i < n; i++) {
		if (!strcmp(v[i], v[k]))
			free(v[i]);
		else
			v[++k] = v[i];
	}
	return k + 1;
}

static char *b64(const unsigned char *in, size_t n)
{
	char *out = xmalloc(4 * ((n + 2) / 3) + 1);

	EVP_EncodeBlock((unsigned char *)out, in, (int)n);
	return out;
}

char *applyset_id(const char *name, const char *ns)
{
	unsigned char md[SHA256_DIGEST_LENGTH];
	char *src = xstrfmt("%s.%s.Secret.", name, ns), *enc, *p, *id;

	SHA256((const unsigned char *)src, strlen(src), md);
	free(src);
	enc = b64(md, sizeof(md));
	for (p = enc; *p; p++) {
		if (*p == '+')
			*p = '-';
		else if (*p == '/')
			*p = '_';
		else if (*p == '=')
			*p = '\0';
		if (!*p)
			break;
	}
	id = xstrfmt("applyset-%s-v1", enc);
	free(enc);
	return id;
}

char *applyset_member(const char *group, const char *kind, const char *ns, const char *name)
{
	return xstrfmt("%s/%s/%s/%s", group ? group : "", kind, ns ? ns : "", name);
}

int applyset_member_parse(const char *m, char **group, char **kind, char **ns, char **name)
{
	const char *a = strchr(m, '/'), *b, *c;

	if (!a || !(b = strchr(a + 1, '/')) || !(c = strchr(b + 1, '/')) || strchr(c + 1, '/') ||
	    b == a + 1 || !c[1])
		return -1;
	*group = xstrndup(m, (size_t)(a - m));
	*kind = xstrndup(a + 1, (size_t)(b - a - 1));
	*ns = xstrndup(b + 1, (size_t)(c - b - 1));
	*name = xstrdup(c + 1);
	return 0;
}

/* "Kind" or "Kind.group" for a member. */
static char *member_gk(const char *m)
{
	char *g, *k, *ns, *n, *out;

	if (applyset_member_parse(m, &g, &k, &ns, &n) < 0)
		return NULL;
	out = *g ? xstrfmt("%s.%s", k, g) : xstrdup(k);
	free(g);
	free(k);
	free(ns);
	free(n);
	return out;
}

static char *member_ns(const char *m)
{
	char *g, *k, *ns, *n;

	if (applyset_member_parse(m, &g, &k, &ns, &n) < 0)
		return NULL;
	free(g);
	free(k);
	free(n);
	return ns;
}

/* Splits a comma-separated list into *out (allocated). */
static size_t split_list(const char *s, char ***out)
{
	size_t n = 0, alloc = 0;
	const char *p = s, *end;

	*out = NULL;
	while (p && *p) {
		end = strchr(p, ',');
		if (!end)
			end = p + strlen(p);
		if (end > p) {
			XGROW(*out, n + 1, alloc);
			(*out)[n++] = xstrndup(p, (size_t)(end - p));
		}
		p = *end ? end + 1 : end;
	}
	return n;
}

static const cJSON *jget(const cJSON *o, const char *k)
{
	return cJSON_GetObjectItemCaseSensitive(o, k);
}

static char *secret_path(const char *name, const char *ns, const char *query)
{
	struct buf b = BUF_INIT(BUF_NOCAP);

	buf_addstr(&b, "/api/v1/namespaces/");
	buf_add_urlenc(&b, ns);
	buf_addstr(&b, "/secrets/");
	buf_add_urlenc(&b, name);
	if (query)
		buf_addf(&b, "?%s", query);
	return buf_detach(&b, NULL);
}

static char *parent_state(const char *tooling, const char *gks, const char *nsl,
			  const char *inv)
{
	return xstrfmt("%s\n%s\n%s\n%s", tooling, gks, nsl, inv);
}

static int parse_inventory(struct applyset *s, const char *b64data, const char *tooling,
			   const char *gks, const char *nsl)
{
	size_t len, alloc = 0;
	char *text = kube_base64_decode(b64data, strlen(b64data), &len), *p, *nl;

	if (!text)
		return error("applyset '%s': inventory in the parent is not valid base64", s->name);
	if (tooling && gks && nsl && strlen(text) == len)
		s->state = parent_state(tooling, gks, nsl, text);
	for (p = text; *p; p = nl) {
		nl = strchr(p, '\n');
		if (nl)
			*nl++ = '\0';
		else
			nl = p + strlen(p);
		if (!*p)
			continue;
		XGROW(s->members, s->nmembers + 1, alloc);
		s->members[s->nmembers++] = xstrdup(p);
	}
	free(text);
	s->nmembers = sort_uniq(s->members, s->nmembers);
	s->has_inventory = 1;
	return 0;
}

int applyset_fetch(struct applyset *s, struct kube_client *c, const char *name, const char *ns,
		   int allow_foreign)
{
	struct kube_request *r = applyset_fetch_request(s, name, ns);
	int ret;

	kube_client_run(c, &r, 1);
	ret = applyset_fetch_finish(s, r, allow_foreign);
	kube_request_free(r);
	return ret;
}

struct kube_request *applyset_fetch_request(struct applyset *s, const char *name, const char *ns)
{
	char *path = secret_path(name, ns, NULL);
	struct kube_request *r = kube_request_new("GET", path);

	free(path);
	s->name = xstrdup(name);
	s->namespace = xstrdup(ns);
	s->id = applyset_id(name, ns);
	return r;
}

int applyset_fetch_finish(struct applyset *s, const struct kube_request *r, int allow_foreign)
{
	const char *name = s->name, *ns = s->namespace;
	cJSON *doc = NULL;
	const cJSON *meta, *labels, *ann, *data;
	const char *v;
	int ret = -1;

	if (!r->status) {
		error("applyset '%s': cannot read the parent secret %s/%s: %s", name, ns, name,
		      r->error ? r->error : "no answer");
		goto out;
	}
	if (r->status == 404) {
		ret = 0;
		goto out;
	}
	if (r->status != 200) {
		char *m = kube_request_message(r);

		error("applyset '%s': cannot read the parent secret %s/%s: %s", name, ns, name, m);
		free(m);
		goto out;
	}
	doc = cJSON_ParseWithLength(r->resp.data, r->resp.len);
	meta = jget(doc, "metadata");
	labels = jget(meta, "labels");
	ann = jget(meta, "annotations");
	v = cJSON_GetStringValue(jget(labels, APPLYSET_ID_LABEL));
	if (!v || strcmp(v, s->id)) {
		error("applyset '%s': secret %s/%s exists but is not this ApplySet's parent "
		      "(label %s is '%s', wanted '%s')", name, ns, name, APPLYSET_ID_LABEL,
		      v ? v : "", s->id);
		goto out;
	}
	s->exists = 1;
	v = cJSON_GetStringValue(jget(ann, APPLYSET_TOOLING_ANN));
	if (v)
		s->tooling = xstrdup(v);
	if (v && strncmp(v, "tidegate/", 9) && !allow_foreign) {
		error("applyset '%s': the set is managed by '%s', not tidegate; "
		      "use --applyset-allow-foreign to take it over", name, v);
		goto out;
	}
	v = cJSON_GetStringValue(jget(ann, APPLYSET_GK_ANN));
	if (v)
		s->ngk = split_list(v, &s->group_kinds);
	v = cJSON_GetStringValue(jget(ann, APPLYSET_NS_ANN));
	if (v)
		s->nns = split_list(v, &s->namespaces);
	data = jget(doc, "data");
	v = cJSON_GetStringValue(jget(data, APPLYSET_INVENTORY_KEY));
	if (v && parse_inventory(s, v, s->tooling, cJSON_GetStringValue(jget(ann, APPLYSET_GK_ANN)),
				 cJSON_GetStringValue(jget(ann, APPLYSET_NS_ANN))) < 0)
		goto out;
	ret = 0;
out:
	cJSON_Delete(doc);
	return ret;
}

static char *join(char **v, size_t n, const char *sep)
{
	struct buf b = BUF_INIT(BUF_NOCAP);
	size_t i;

	for (i = 0; i < n; i++)
		buf_addf(&b, "%s%s", i ? sep : "", v[i]);
	return buf_detach(&b, NULL);
}

int applyset_write(struct applyset *s, struct kube_client *c, char **members, size_t n,
		   int dry_run)
{
	char **m = xcalloc(n + 1, sizeof(char *)), **gk = xcalloc(n + 1, sizeof(char *));
	char **nss = xcalloc(n + 1, sizeof(char *));
	size_t i, ngk = 0, nns = 0;
	char *gks, *nsl, *inv, *inv64, *body, *path, *state;
	cJSON *o, *meta, *labels, *ann, *data;
	struct kube_request *r;
	int ret = 0;

	for (i = 0; i < n; i++) {
		char *g = member_gk(members[i]), *ns = member_ns(members[i]);

		m[i] = xstrdup(members[i]);
		if (g)
			gk[ngk++] = g;
		if (ns && *ns && strcmp(ns, s->namespace))
			nss[nns++] = ns;
		else
			free(ns);
	}
	n = sort_uniq(m, n);
	ngk = sort_uniq(gk, ngk);
	nns = sort_uniq(nss, nns);
	gks = join(gk, ngk, ",");
	nsl = join(nss, nns, ",");
	inv = join(m, n, "\n");
	if (n) {
		char *t = xstrfmt("%s\n", inv);

		free(inv);
		inv = t;
	}
	if (strlen(inv) > MAX_INVENTORY * 3 / 4 - 1024) {
		ret = error("applyset '%s': %zu members do not fit in the parent secret", s->name, n);
		goto out_free;
	}
	state = parent_state(APPLYSET_TOOLING, gks, nsl, inv);
	if (!dry_run && s->exists && s->state && !strcmp(s->state, state)) {
		free(state);
		goto out_free;	/* the parent holds exactly this already */
	}
	inv64 = b64((const unsigned char *)inv, strlen(inv));

	o = cJSON_CreateObject();
	cJSON_AddStringToObject(o, "apiVersion", "v1");
	cJSON_AddStringToObject(o, "kind", "Secret");
	meta = cJSON_AddObjectToObject(o, "metadata");
	cJSON_AddStringToObject(meta, "name", s->name);
	cJSON_AddStringToObject(meta, "namespace", s->namespace);
	labels = cJSON_AddObjectToObject(meta, "labels");
	cJSON_AddStringToObject(labels, APPLYSET_ID_LABEL, s->id);
	ann = cJSON_AddObjectToObject(meta, "annotations");
	cJSON_AddStringToObject(ann, APPLYSET_TOOLING_ANN, APPLYSET_TOOLING);
	cJSON_AddStringToObject(ann, APPLYSET_GK_ANN, gks);
	cJSON_AddStringToObject(ann, APPLYSET_NS_ANN, nsl);
	cJSON_AddStringToObject(o, "type", "Opaque");
	data = cJSON_AddObjectToObject(o, "data");
	cJSON_AddStringToObject(data, APPLYSET_INVENTORY_KEY, inv64);
	body = cJSON_PrintUnformatted(o);
	cJSON_Delete(o);
	free(inv64);

	path = secret_path(s->name, s->namespace, dry_run
			   ? "fieldManager=tidegate&force=true&fieldValidation=Strict&dryRun=All"
			   : "fieldManager=tidegate&force=true&fieldValidation=Strict");
	r = kube_request_new("PATCH", path);
	free(path);
	kube_request_set_body(r, body, strlen(body), "application/apply-patch+yaml");
	if (kube_client_run(c, &r, 1) < 0) {
		ret = error("applyset '%s': cannot write the parent secret %s/%s: %s", s->name,
			    s->namespace, s->name, r->error ? r->error : "no answer");
	} else if (r->status != 200 && r->status != 201) {
		char *msg = kube_request_message(r);

		ret = error("applyset '%s': cannot write the parent secret %s/%s: %s", s->name,
			    s->namespace, s->name, msg);
		free(msg);
	} else if (!dry_run) {
		s->exists = 1;
		free(s->state);
		s->state = state;
		state = NULL;
	}
	free(state);
	kube_request_free(r);
out_free:
	free(gks);
	free(nsl);
	free(inv);
	strv_free_n(m, n);
	strv_free_n(gk, ngk);
	strv_free_n(nss, nns);
	return ret;
}

void applyset_release(struct applyset *s)
{
	free(s->name);
	free(s->namespace);
	free(s->id);
	free(s->tooling);
	strv_free_n(s->members, s->nmembers);
	strv_free_n(s->group_kinds, s->ngk);
	strv_free_n(s->namespaces, s->nns);
	free(s->state);
	memset(s, 0, sizeof(*s));
}
