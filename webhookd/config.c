#include "config.h"
#include "buf.h"
#include "finding.h"
#include "log.h"
#include "url.h"
#include "xalloc.h"
#include "yaml.h"

#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* How long an app with `wait: true` waits for its workloads, by default (seconds). */
#define DEFAULT_WAIT_TIMEOUT_S 300

static const char *const provider_names[PROV__COUNT] = {
	"github", "gitlab", "gitea", "bitbucket", "generic",
};

const char *provider_name(enum provider p)
{
	return (unsigned)p < PROV__COUNT ? provider_names[p] : "unknown";
}

int provider_parse_name(const char *name, enum provider *out)
{
	int i;

	for (i = 0; i < PROV__COUNT; i++) {
		if (!strcmp(name, provider_names[i])) {
			*out = (enum provider)i;
			return 0;
		}
	}
	/* Forgejo and Gogs sign like Gitea and share its route. */
	if (!strcmp(name, "forgejo") || !strcmp(name, "gogs")) {
		*out = PROV_GITEA;
		return 0;
	}
	return -1;
}

/* Where the problem is, for messages: "FILE:LINE: FIELD". */
struct cfgctx {
	const char *path;
	char field[128];
};

__attribute__((format(printf, 3, 4)))
static int cfg_error(const struct cfgctx *x, const struct ynode *n, const char *fmt, ...)
{
	char msg[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (n)
		return error("%s:%u: %s: %s", x->path, n->line, x->field, msg);
	return error("%s: %s: %s", x->path, x->field, msg);
}

static void set_field(struct cfgctx *x, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
static void set_field(struct cfgctx *x, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(x->field, sizeof(x->field), fmt, ap);
	va_end(ap);
}

/* A string scalar (not a map, sequence or null); -1 when it is something else. */
static int get_str(struct cfgctx *x, const struct ynode *map, const char *key,
		   const char *prefix, char **out, int required)
{
	const struct ynode *n = ynode_get(map, key);

	set_field(x, "%s%s", prefix, key);
	if (ynode_is_null(n)) {
		if (required)
			return cfg_error(x, map, "missing");
		return 0;
	}
	if (n->kind != YN_SCALAR || !n->str[0] || strlen(n->str) != n->len)
		return cfg_error(x, n, "must be a non-empty string");
	free(*out);
	*out = xstrdup(n->str);
	return 0;
}

static int get_bool(struct cfgctx *x, const struct ynode *map, const char *key,
		    const char *prefix, int *out)
{
	const struct ynode *n = ynode_get(map, key);

	set_field(x, "%s%s", prefix, key);
	if (ynode_is_null(n))
		return 0;
	if (n->kind != YN_SCALAR || n->stype != YS_BOOL)
		return cfg_error(x, n, "must be true or false");
	*out = !strcmp(n->str, "true") || !strcmp(n->str, "True") || !strcmp(n->str, "TRUE");
	return 0;
}

static int get_int(struct cfgctx *x, const struct ynode *map, const char *key,
		   const char *prefix, long long lo, long long hi, long long *out)
{
	const struct ynode *n = ynode_get(map, key);
	long long v;

	set_field(x, "%s%s", prefix, key);
	if (ynode_is_null(n))
		return 0;
	if (ynode_int(n, &v) < 0)
		return cfg_error(x, n, "must be an integer");
	if (v < lo || v > hi)
		return cfg_error(x, n, "must be between %lld and %lld", lo, hi);
	*out = v;
	return 0;
}

/* Refuses keys a section does not know, so a typo is not silently ignored. */
static int check_keys(struct cfgctx *x, const struct ynode *map, const char *prefix,
		      const char *const *known)
{
	size_t i, k;

	if (!map || map->kind != YN_MAP) {
		set_field(x, "%s", *prefix ? prefix : "(top level)");
		return cfg_error(x, map, "must be a map");
	}
	for (i = 0; i < map->n; i++) {
		const struct ynode *key = map->kids[2 * i];
		int found = 0;

		for (k = 0; known[k]; k++)
			if (key->kind == YN_SCALAR && !strcmp(key->str, known[k]))
				found = 1;
		if (!found) {
			set_field(x, "%s%s", prefix, key->kind == YN_SCALAR ? key->str : "?");
			return cfg_error(x, key, "unknown key");
		}
	}
	return 0;
}

static int parse_listen(struct cfgctx *x, const struct ynode *n, struct config *c)
{
	const char *s = c->listen, *colon;
	char *end;
	long port;

	set_field(x, "listen");
	if (s[0] == '[') {
		const char *close = strchr(s, ']');

		if (!close || close[1] != ':')
			return cfg_error(x, n, "'%s' is not ADDRESS:PORT", s);
		c->listen_host = xstrndup(s + 1, (size_t)(close - s - 1));
		colon = close + 1;
	} else {
		colon = strrchr(s, ':');
		if (!colon)
			return cfg_error(x, n, "'%s' is not ADDRESS:PORT", s);
		c->listen_host = colon == s ? xstrdup("0.0.0.0") : xstrndup(s, (size_t)(colon - s));
	}
	errno = 0;
	port = strtol(colon + 1, &end, 10);
	if (errno || *end || end == colon + 1 || port < 0 || port > 65535)
		return cfg_error(x, n, "'%s' has no valid port", s);
	c->listen_port = (int)port;
	return 0;
}

static int load_secrets(struct cfgctx *x, const struct ynode *rn, const char *prefix,
			struct receiver *r)
{
	const struct ynode *one = ynode_get(rn, "secret_file");
	const struct ynode *many = ynode_get(rn, "secret_files");
	const struct ynode **files = NULL;
	size_t n = 0, i;
	int ret = 0;

	if (!ynode_is_null(one)) {
		set_field(x, "%ssecret_file", prefix);
		if (one->kind != YN_SCALAR || !one->str[0])
			return cfg_error(x, one, "must be a file name");
		files = xcalloc(1, sizeof(*files));
		files[n++] = one;
	}
	if (!ynode_is_null(many)) {
		set_field(x, "%ssecret_files", prefix);
		if (many->kind != YN_SEQ || !many->n) {
			free(files);
			return cfg_error(x, many, "must be a list of file names");
		}
		files = xreallocarray(files, n + many->n, sizeof(*files));
		for (i = 0; i < many->n; i++)
			files[n++] = many->kids[i];
	}
	r->secrets = n ? xcalloc(n, sizeof(*r->secrets)) : NULL;
	for (i = 0; i < n; i++) {
		if (files[i]->kind != YN_SCALAR || !files[i]->str[0]) {
			ret = cfg_error(x, files[i], "must be a file name");
			break;
		}
		if (secret_read_file(&r->secrets[i], files[i]->str) < 0) {
			ret = cfg_error(x, files[i], "cannot use secret file '%s'", files[i]->str);
			break;
		}
		r->nsecrets++;
		if (r->provider == PROV_GITLAB) {
			/* Standard Webhooks signing tokens are stored as whsec_<base64>. */
			if (secret_decode_whsec(&r->secrets[i]) < 0) {
				ret = cfg_error(x, files[i], "the whsec_ secret in '%s' is not base64",
						files[i]->str);
				break;
			}
		}
	}
	free(files);
	return ret;
}

static int load_receivers(struct cfgctx *x, const struct ynode *seq, struct config *c)
{
	static const char *const known[] = {
		"provider", "secret_file", "secret_files", "allow_sha1", "insecure", NULL,
	};
	size_t i;

	set_field(x, "receivers");
	if (ynode_is_null(seq))
		return cfg_error(x, NULL, "missing (at least one receiver is needed)");
	if (seq->kind != YN_SEQ || !seq->n)
		return cfg_error(x, seq, "must be a non-empty list");
	for (i = 0; i < seq->n; i++) {
		const struct ynode *rn = seq->kids[i];
		char prefix[64];
		char *prov = NULL;
		enum provider p;
		struct receiver *r;

		snprintf(prefix, sizeof(prefix), "receivers[%zu].", i);
		if (check_keys(x, rn, prefix, known) < 0)
			return -1;
		if (get_str(x, rn, "provider", prefix, &prov, 1) < 0)
			return -1;
		if (provider_parse_name(prov, &p) < 0) {
			cfg_error(x, ynode_get(rn, "provider"),
				  "unknown provider '%s' (github, gitlab, gitea, bitbucket, generic)",
				  prov);
			free(prov);
			return -1;
		}
		free(prov);
		r = &c->receivers[p];
		if (r->configured)
			return cfg_error(x, ynode_get(rn, "provider"),
					 "a second receiver for '%s'", provider_name(p));
		r->configured = 1;
		r->provider = p;
		if (get_bool(x, rn, "allow_sha1", prefix, &r->allow_sha1) < 0 ||
		    get_bool(x, rn, "insecure", prefix, &r->insecure) < 0)
			return -1;
		if (r->allow_sha1 && p != PROV_GITHUB) {
			set_field(x, "%sallow_sha1", prefix);
			return cfg_error(x, ynode_get(rn, "allow_sha1"), "only GitHub signs with SHA-1");
		}
		if (load_secrets(x, rn, prefix, r) < 0)
			return -1;
		if (!r->nsecrets && !r->insecure) {
			set_field(x, "%ssecret_file", prefix);
			return cfg_error(x, rn, "a receiver needs a secret (or insecure: true)");
		}
	}
	return 0;
}

static int load_clusters(struct cfgctx *x, const struct ynode *seq, struct config *c)
{
	static const char *const known[] = {
		"name", "kubeconfig", "context", "in_cluster", NULL,
	};
	size_t i, j;

	set_field(x, "clusters");
	if (ynode_is_null(seq))
		return 0;
	if (seq->kind != YN_SEQ)
		return cfg_error(x, seq, "must be a list");
	c->clusters = seq->n ? xcalloc(seq->n, sizeof(*c->clusters)) : NULL;
	for (i = 0; i < seq->n; i++) {
		const struct ynode *n = seq->kids[i];
		struct cluster_conf *k = &c->clusters[i];
		char prefix[64];

		c->nclusters++;
		snprintf(prefix, sizeof(prefix), "clusters[%zu].", i);
		if (check_keys(x, n, prefix, known) < 0 ||
		    get_str(x, n, "name", prefix, &k->name, 1) < 0 ||
		    get_str(x, n, "kubeconfig", prefix, &k->kubeconfig, 0) < 0 ||
		    get_str(x, n, "context", prefix, &k->context, 0) < 0 ||
		    get_bool(x, n, "in_cluster", prefix, &k->in_cluster) < 0)
			return -1;
		set_field(x, "%skubeconfig", prefix);
		if (!k->kubeconfig && !k->in_cluster)
			return cfg_error(x, n, "missing (or in_cluster: true)");
		if (k->kubeconfig && k->in_cluster)
			return cfg_error(x, n, "kubeconfig and in_cluster: true exclude each other");
		for (j = 0; j < i; j++) {
			if (!strcmp(c->clusters[j].name, k->name)) {
				set_field(x, "%sname", prefix);
				return cfg_error(x, ynode_get(n, "name"), "'%s' is defined twice",
						 k->name);
			}
		}
	}
	return 0;
}

static int valid_name(const char *s)
{
	size_t i;

	if (!s[0] || strlen(s) > 63)
		return 0;
	for (i = 0; s[i]; i++)
		if (!((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= '0' && s[i] <= '9') ||
		      s[i] == '-' || s[i] == '.' || s[i] == '_'))
			return 0;
	return s[0] != '.' && s[0] != '-';
}

static int load_status(struct cfgctx *x, const struct ynode *n, const char *app_prefix,
		       struct app_conf *a)
{
	static const char *const known[] = {
		"provider", "api_url", "repo", "token_file", "target_url", NULL,
	};
	struct status_conf *st;
	char prefix[96], *prov = NULL;

	if (ynode_is_null(n))
		return 0;
	snprintf(prefix, sizeof(prefix), "%sstatus.", app_prefix);
	st = a->status = xcalloc(1, sizeof(*st));
	if (check_keys(x, n, prefix, known) < 0 ||
	    get_str(x, n, "provider", prefix, &prov, 1) < 0)
		return -1;
	if (provider_parse_name(prov, &st->provider) < 0 ||
	    (st->provider != PROV_GITHUB && st->provider != PROV_GITLAB &&
	     st->provider != PROV_GITEA && st->provider != PROV_BITBUCKET)) {
		cfg_error(x, ynode_get(n, "provider"), "'%s' takes no commit statuses "
			  "(github, gitlab, gitea, bitbucket)", prov);
		free(prov);
		return -1;
	}
	free(prov);
	if (get_str(x, n, "api_url", prefix, &st->api_url,
		    st->provider != PROV_GITHUB && st->provider != PROV_BITBUCKET) < 0 ||
	    get_str(x, n, "repo", prefix, &st->repo, 1) < 0 ||
	    get_str(x, n, "token_file", prefix, &st->token_file, 1) < 0 ||
	    /* Bitbucket refuses a build status without a valid link */
	    get_str(x, n, "target_url", prefix, &st->target_url,
		    st->provider == PROV_BITBUCKET) < 0)
		return -1;
	if (st->target_url && strncmp(st->target_url, "https://", 8) &&
	    strncmp(st->target_url, "http://", 7))
		return cfg_error(x, ynode_get(n, "target_url"), "must be an http(s) URL");
	if (!st->api_url)
		st->api_url = xstrdup(st->provider == PROV_BITBUCKET ? "https://api.bitbucket.org"
								      : "https://api.github.com");
	while (*st->api_url && st->api_url[strlen(st->api_url) - 1] == '/')
		st->api_url[strlen(st->api_url) - 1] = '\0';
	set_field(x, "%sapi_url", prefix);
	if (strncmp(st->api_url, "https://", 8) && strncmp(st->api_url, "http://", 7))
		return cfg_error(x, ynode_get(n, "api_url"), "must be an http(s) URL");
	return 0;
}

static int load_app(struct cfgctx *x, const struct ynode *n, size_t i, struct config *c)
{
	static const char *const known[] = {
		"name", "repo", "repo_name", "branch", "path", "cluster", "namespace", "prune",
		"tags", "token_file", "token_user", "ssh_key", "status", "wait", "wait_timeout", NULL,
	};
	struct app_conf *a = &c->apps[i];
	struct buf key = BUF_INIT(16384);
	char prefix[64];
	char *cluster = NULL;
	long long wait_s = DEFAULT_WAIT_TIMEOUT_S;
	size_t j;

	snprintf(prefix, sizeof(prefix), "apps[%zu].", i);
	if (check_keys(x, n, prefix, known) < 0 ||
	    get_str(x, n, "name", prefix, &a->name, 1) < 0 ||
	    get_str(x, n, "repo", prefix, &a->repo, 1) < 0 ||
	    get_str(x, n, "repo_name", prefix, &a->repo_name, 0) < 0 ||
	    get_str(x, n, "branch", prefix, &a->branch, 0) < 0 ||
	    get_str(x, n, "path", prefix, &a->path, 0) < 0 ||
	    get_str(x, n, "cluster", prefix, &cluster, 1) < 0 ||
	    get_str(x, n, "namespace", prefix, &a->namespace, 0) < 0 ||
	    get_bool(x, n, "prune", prefix, &a->prune) < 0 ||
	    get_bool(x, n, "tags", prefix, &a->tags) < 0 ||
	    get_bool(x, n, "wait", prefix, &a->wait) < 0 ||
	    get_int(x, n, "wait_timeout", prefix, 1, 86400, &wait_s) < 0 ||
	    get_str(x, n, "token_file", prefix, &a->token_file, 0) < 0 ||
	    get_str(x, n, "token_user", prefix, &a->token_user, 0) < 0 ||
	    get_str(x, n, "ssh_key", prefix, &a->ssh_key, 0) < 0 ||
	    load_status(x, ynode_get(n, "status"), prefix, a) < 0) {
		free(cluster);
		return -1;
	}
	a->wait_timeout_ms = (int)wait_s * 1000;
	set_field(x, "%sname", prefix);
	if (!valid_name(a->name)) {
		free(cluster);
		return cfg_error(x, ynode_get(n, "name"),
				 "'%s' is not a name (lower-case letters, digits, '-', '.', '_')",
				 a->name);
	}
	for (j = 0; j < i; j++) {
		if (!strcmp(c->apps[j].name, a->name)) {
			free(cluster);
			return cfg_error(x, ynode_get(n, "name"), "'%s' is defined twice", a->name);
		}
	}
	set_field(x, "%srepo", prefix);
	if (url_normalize(a->repo, &key) < 0) {
		free(cluster);
		return cfg_error(x, ynode_get(n, "repo"), "'%s' is not a repository URL or path",
				 a->repo);
	}
	a->repo_key = buf_detach(&key, NULL);
	if (!a->branch)
		a->branch = xstrdup("main");
	if (!a->token_user)
		a->token_user = xstrdup("x-access-token");
	if (!a->path)
		a->path = xstrdup("");
	/* "k8s/web/" and "./k8s/web" name the same directory as "k8s/web". */
	while (!strncmp(a->path, "./", 2))
		memmove(a->path, a->path + 2, strlen(a->path + 2) + 1);
	while (*a->path && a->path[strlen(a->path) - 1] == '/')
		a->path[strlen(a->path) - 1] = '\0';
	if (!strcmp(a->path, "."))
		a->path[0] = '\0';
	set_field(x, "%spath", prefix);
	if (a->path[0] == '/' || strstr(a->path, ".."))
		return free(cluster), cfg_error(x, ynode_get(n, "path"),
						"must be a relative path inside the repository");
	if (a->ssh_key && strpbrk(a->ssh_key, "'\"\\$`\n")) {
		set_field(x, "%sssh_key", prefix);
		free(cluster);
		return cfg_error(x, ynode_get(n, "ssh_key"), "the file name has quotes or '$' in it");
	}
	set_field(x, "%scluster", prefix);
	for (j = 0; j < c->nclusters; j++)
		if (!strcmp(c->clusters[j].name, cluster))
			a->cluster = &c->clusters[j];
	if (!a->cluster) {
		cfg_error(x, ynode_get(n, "cluster"), "unknown cluster '%s'", cluster);
		free(cluster);
		return -1;
	}
	free(cluster);
	return 0;
}

static int load_apps(struct cfgctx *x, const struct ynode *seq, struct config *c)
{
	size_t i;

	set_field(x, "apps");
	if (ynode_is_null(seq))
		return 0;
	if (seq->kind != YN_SEQ)
		return cfg_error(x, seq, "must be a list");
	c->apps = seq->n ? xcalloc(seq->n, sizeof(*c->apps)) : NULL;
	for (i = 0; i < seq->n; i++) {
		c->napps++;
		if (load_app(x, seq->kids[i], i, c) < 0)
			return -1;
	}
	return 0;
}

static int load_limits(struct cfgctx *x, const struct ynode *n, struct config *c)
{
	static const char *const known[] = {
		"max_body", "max_headers", "request_timeout", "max_connections",
		"sync_timeout", "fetch_timeout", "fetch_retries", "dedup_max", "apply_retries",
		"apply_retry_delay", NULL,
	};
	long long body = (long long)c->max_body, headers = (long long)c->max_headers;
	long long rt = c->request_timeout_ms / 1000, mc = c->max_connections;
	long long st = c->sync_timeout_ms / 1000, ft = c->fetch_timeout_ms / 1000;
	long long fr = c->fetch_retries, dm = (long long)c->dedup_max;
	long long ar = c->apply_retries, ad = c->apply_retry_ms / 1000;

	if (ynode_is_null(n))
		return 0;
	if (check_keys(x, n, "limits.", known) < 0 ||
	    get_int(x, n, "max_body", "limits.", 1024, 1LL << 30, &body) < 0 ||
	    get_int(x, n, "max_headers", "limits.", 1024, 1 << 20, &headers) < 0 ||
	    get_int(x, n, "request_timeout", "limits.", 1, 3600, &rt) < 0 ||
	    get_int(x, n, "max_connections", "limits.", 1, 100000, &mc) < 0 ||
	    get_int(x, n, "sync_timeout", "limits.", 1, 86400, &st) < 0 ||
	    get_int(x, n, "fetch_timeout", "limits.", 1, 86400, &ft) < 0 ||
	    get_int(x, n, "fetch_retries", "limits.", 0, 100, &fr) < 0 ||
	    get_int(x, n, "dedup_max", "limits.", 16, 10000000, &dm) < 0 ||
	    get_int(x, n, "apply_retries", "limits.", 0, 100, &ar) < 0 ||
	    get_int(x, n, "apply_retry_delay", "limits.", 1, 3600, &ad) < 0)
		return -1;
	c->max_body = (size_t)body;
	c->max_headers = (size_t)headers;
	c->request_timeout_ms = (int)rt * 1000;
	c->max_connections = (int)mc;
	c->sync_timeout_ms = (int)st * 1000;
	c->fetch_timeout_ms = (int)ft * 1000;
	c->fetch_retries = (int)fr;
	c->dedup_max = (size_t)dm;
	c->apply_retries = (int)ar;
	c->apply_retry_ms = (int)ad * 1000;
	return 0;
}

static int load_root(struct cfgctx *x, const struct ynode *root, struct config *c,
		     const char *default_tidegate)
{
	static const char *const known[] = {
		"listen", "tls", "state_dir", "tidegate", "git", "log_level", "limits",
		"receivers", "clusters", "apps", NULL,
	};
	static const char *const tls_known[] = { "cert", "key", NULL };
	const struct ynode *tls;
	char *level = NULL;

	if (check_keys(x, root, "", known) < 0)
		return -1;
	if (get_str(x, root, "listen", "", &c->listen, 1) < 0 ||
	    parse_listen(x, ynode_get(root, "listen"), c) < 0)
		return -1;
	tls = ynode_get(root, "tls");
	if (!ynode_is_null(tls)) {
		if (check_keys(x, tls, "tls.", tls_known) < 0 ||
		    get_str(x, tls, "cert", "tls.", &c->tls_cert, 1) < 0 ||
		    get_str(x, tls, "key", "tls.", &c->tls_key, 1) < 0)
			return -1;
	}
	if (get_str(x, root, "state_dir", "", &c->state_dir, 1) < 0 ||
	    get_str(x, root, "tidegate", "", &c->tidegate, 0) < 0 ||
	    get_str(x, root, "git", "", &c->git, 0) < 0 ||
	    get_str(x, root, "log_level", "", &level, 0) < 0)
		return -1;
	if (level) {
		enum log_level lv;

		if (log_level_parse(level, &lv) < 0) {
			cfg_error(x, ynode_get(root, "log_level"),
				  "'%s' is not error, warn, info or debug", level);
			free(level);
			return -1;
		}
		c->log_level = (int)lv;
		free(level);
	}
	if (!c->tidegate)
		c->tidegate = xstrdup(default_tidegate ? default_tidegate : "tidegate");
	if (!c->git)
		c->git = xstrdup("git");
	if (load_limits(x, ynode_get(root, "limits"), c) < 0 ||
	    load_receivers(x, ynode_get(root, "receivers"), c) < 0 ||
	    load_clusters(x, ynode_get(root, "clusters"), c) < 0 ||
	    load_apps(x, ynode_get(root, "apps"), c) < 0)
		return -1;
	return 0;
}

int config_load(struct config *c, const char *path, const char *default_tidegate)
{
	struct buf data = BUF_INIT(1024 * 1024);
	struct yfile f = YFILE_INIT;
	struct findings fs = FINDINGS_INIT;
	struct cfgctx x;
	int ret = -1;

	memset(c, 0, sizeof(*c));
	c->path = xstrdup(path);
	c->log_level = LOGL_INFO;
	c->max_body = 25 * 1024 * 1024;
	c->max_headers = 64 * 1024;
	c->request_timeout_ms = 10000;
	c->max_connections = 512;
	c->sync_timeout_ms = 600000;
	c->fetch_timeout_ms = 120000;
	c->fetch_retries = 3;
	c->apply_retries = 5;
	c->apply_retry_ms = 10000;
	c->dedup_max = 10000;
	x.path = path;
	x.field[0] = '\0';

	if (buf_read_file(&data, path) < 0) {
		if (data.toobig)
			error("%s: the configuration is over 1 MiB", path);
		else
			error_errno("cannot read configuration '%s'", path);
		goto out;
	}
	if (yaml_parse(&f, path, data.data, data.len, &yaml_default_limits, &fs) < 0 || fs.nerr) {
		size_t i;

		for (i = 0; i < fs.n; i++) {
			if (fs.v[i].sev == SEV_ERROR) {
				error("%s:%u:%u: %s", path, fs.v[i].line, fs.v[i].col, fs.v[i].msg);
				break;
			}
		}
		if (i == fs.n)
			error("%s: not valid YAML", path);
		goto out;
	}
	if (f.ndocs != 1 || !f.docs[0].root) {
		error("%s: expected one YAML document", path);
		goto out;
	}
	ret = load_root(&x, f.docs[0].root, c, default_tidegate);
out:
	findings_release(&fs);
	yfile_release(&f);
	buf_release(&data);
	return ret;
}

void config_release(struct config *c)
{
	size_t i, j;

	free(c->path);
	free(c->listen);
	free(c->listen_host);
	free(c->tls_cert);
	free(c->tls_key);
	free(c->state_dir);
	free(c->tidegate);
	free(c->git);
	for (i = 0; i < PROV__COUNT; i++) {
		for (j = 0; j < c->receivers[i].nsecrets; j++)
			secret_release(&c->receivers[i].secrets[j]);
		free(c->receivers[i].secrets);
	}
	for (i = 0; i < c->nclusters; i++) {
		free(c->clusters[i].name);
		free(c->clusters[i].kubeconfig);
		free(c->clusters[i].context);
	}
	free(c->clusters);
	for (i = 0; i < c->napps; i++) {
		struct app_conf *a = &c->apps[i];

		free(a->name);
		free(a->repo);
		free(a->repo_key);
		free(a->repo_name);
		free(a->branch);
		free(a->path);
		free(a->namespace);
		free(a->token_file);
		free(a->token_user);
		free(a->ssh_key);
		if (a->status) {
			free(a->status->api_url);
			free(a->status->repo);
			free(a->status->token_file);
			free(a->status->target_url);
			free(a->status);
		}
	}
	free(c->apps);
	memset(c, 0, sizeof(*c));
}

struct app_conf *config_find_app(struct config *c, const char *name)
{
	size_t i;

	for (i = 0; i < c->napps; i++)
		if (!strcmp(c->apps[i].name, name))
			return &c->apps[i];
	return NULL;
}
