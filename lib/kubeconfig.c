#include "kubeconfig.h"
#include "hmac.h"
#include "buf.h"
#include "finding.h"
#include "log.h"
#include "spawn.h"
#include "xalloc.h"
#include "yaml.h"

#include <cjson/cJSON.h>
#include <errno.h>
#include <limits.h>
#include <openssl/crypto.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define SA_DIR "/var/run/secrets/kubernetes.io/serviceaccount"
#define TOKEN_REREAD_MS 60000
#define EXEC_TIMEOUT_MS 60000
#define EXPIRY_SLACK_S 10

/* ---------------------------------------------------------------- base64 */

/*
 * kubeconfig *-data fields and Secret data: base64 that may be wrapped
 * over lines. The line breaks go; lib/hmac.c's decoder does the rest.
 */
char *kube_base64_decode(const char *in, size_t inlen, size_t *outlen)
{
	char *clean = xmalloc(inlen + 1), *out;
	size_t n = 0, i;
	int len;

	for (i = 0; i < inlen; i++)
		if (!strchr(" \n\r\t", in[i]) || !in[i])
			clean[n++] = in[i];
	out = xmalloc(n / 4 * 3 + 4);
	len = base64_decode(clean, n, (unsigned char *)out, n / 4 * 3 + 3);
	free(clean);
	if (len < 0) {
		free(out);
		return NULL;
	}
	out[len] = '\0';
	if (outlen)
		*outlen = (size_t)len;
	return out;
}

/* ---------------------------------------------------------------- helpers */

static void free_secret(char **p, size_t len)
{
	if (*p) {
		OPENSSL_cleanse(*p, len ? len : strlen(*p));
		free(*p);
		*p = NULL;
	}
}

static void creds_release(struct kube_creds *c)
{
	free_secret(&c->token, 0);
	free_secret(&c->cert_pem, c->cert_len);
	free_secret(&c->key_pem, c->key_len);
	memset(c, 0, sizeof(*c));
}

static void strv_free(char **v)
{
	size_t i;

	for (i = 0; v && v[i]; i++)
		free(v[i]);
	free(v);
}

static char *dirname_of(const char *path)
{
	const char *slash = strrchr(path, '/');

	if (!slash)
		return xstrdup(".");
	if (slash == path)
		return xstrdup("/");
	return xstrndup(path, (size_t)(slash - path));
}

static char *resolve_path(const char *base_dir, const char *p)
{
	if (p[0] == '/' || !base_dir)
		return xstrdup(p);
	if (p[0] == '~' && p[1] == '/' && getenv("HOME"))
		return xstrfmt("%s/%s", getenv("HOME"), p + 2);
	return xstrfmt("%s/%s", base_dir, p);
}

/* Reads a whole file with a cap; returns 0 or -1 (reported with field). */
static int read_capped(const char *path, size_t cap, const char *file, const char *field,
		       char **out, size_t *outlen)
{
	struct buf b = BUF_INIT(cap);

	if (buf_read_file(&b, path) < 0) {
		int e = errno;

		buf_release(&b);
		if (e == EFBIG)
			return error("%s: %s: '%s' is larger than %zu bytes", file, field, path, (size_t)cap);
		errno = e;
		return error_errno("%s: %s: cannot read '%s'", file, field, path);
	}
	*out = buf_detach(&b, outlen);
	return 0;
}

/* ---------------------------------------------------------------- loading */

struct kcfile {
	char *path;
	char *dir;
	struct yfile yf;
	const struct ynode *root;
};

struct kcset {
	struct kcfile *f;
	size_t n, alloc;
};

static void kcset_release(struct kcset *s)
{
	size_t i;

	for (i = 0; i < s->n; i++) {
		free(s->f[i].path);
		free(s->f[i].dir);
		yfile_release(&s->f[i].yf);
	}
	free(s->f);
	memset(s, 0, sizeof(*s));
}

static int kcset_add_data(struct kcset *s, const char *name, const char *data, size_t len,
			  const char *dir)
{
	struct findings fs = FINDINGS_INIT;
	struct kcfile *f;
	int r;

	XGROW(s->f, s->n + 1, s->alloc);
	f = &s->f[s->n];
	memset(f, 0, sizeof(*f));
	f->path = xstrdup(name);
	f->dir = xstrdup(dir ? dir : ".");
	r = yaml_parse(&f->yf, name, data, len, &yaml_default_limits, &fs);
	s->n++;
	if (r < 0 || f->yf.failed) {
		size_t i;
		const char *why = "not valid YAML";

		for (i = 0; i < fs.n; i++)
			if (fs.v[i].sev == SEV_ERROR) {
				why = fs.v[i].msg;
				break;
			}
		error("kubeconfig '%s': %s%s", name, why,
		      i < fs.n ? "" : "");
		findings_release(&fs);
		return -1;
	}
	findings_release(&fs);
	if (f->yf.ndocs > 0 && f->yf.docs[0].root) {
		f->root = f->yf.docs[0].root;
		if (f->root->kind != YN_MAP)
			return error("kubeconfig '%s': the document is not a map", name);
	}
	return 0;
}

static int kcset_add_file(struct kcset *s, const char *path, int must_exist)
{
	char *data = NULL, *dir;
	size_t len = 0;
	int r;

	if (access(path, F_OK) < 0 && !must_exist)
		return 0;
	if (read_capped(path, KUBECONFIG_MAX_FILE, path, "file", &data, &len) < 0)
		return -1;
	dir = dirname_of(path);
	r = kcset_add_data(s, path, data, len, dir);
	free(dir);
	free_secret(&data, len);
	return r;
}

/*
 * Finds the entry named name in the list `list` ("clusters", "users",
 * "contexts") of the first file that has it; returns its inner map
 * (under key `inner`) and sets *file.
 */
static const struct ynode *kcset_find(const struct kcset *s, const char *list, const char *inner,
				      const char *name, const struct kcfile **file)
{
	size_t i, j;

	for (i = 0; i < s->n; i++) {
		const struct ynode *seq = ynode_get(s->f[i].root, list);

		if (!seq || seq->kind != YN_SEQ)
			continue;
		for (j = 0; j < seq->n; j++) {
			const char *n = ynode_str(ynode_get(seq->kids[j], "name"));

			if (n && !strcmp(n, name)) {
				*file = &s->f[i];
				return ynode_get(seq->kids[j], inner);
			}
		}
	}
	return NULL;
}

static const char *get_str(const struct ynode *map, const char *key)
{
	const struct ynode *v = ynode_get(map, key);

	if (!v || v->kind != YN_SCALAR || v->stype == YS_NULL)
		return NULL;
	return v->str && *v->str ? v->str : NULL;
}

static int get_bool(const struct ynode *map, const char *key)
{
	const struct ynode *v = ynode_get(map, key);

	return v && v->kind == YN_SCALAR && v->str && !strcmp(v->str, "true");
}

/* Loads a PEM from key-data (base64) or key (path). */
static int load_pem(const struct kcfile *f, const struct ynode *map, const char *what,
		    char **out, size_t *outlen)
{
	char field[64];
	const char *data, *path;

	snprintf(field, sizeof(field), "%s-data", what);
	data = get_str(map, field);
	if (data) {
		if (strlen(data) > KUBECONFIG_MAX_PEM * 4 / 3 + 4)
			return error("%s: %s: larger than %u bytes", f->path, field, KUBECONFIG_MAX_PEM);
		*out = kube_base64_decode(data, strlen(data), outlen);
		if (!*out)
			return error("%s: %s: not valid base64", f->path, field);
		return 0;
	}
	path = get_str(map, what);
	if (path) {
		char *full = resolve_path(f->dir, path);
		int r = read_capped(full, KUBECONFIG_MAX_PEM, f->path, what, out, outlen);

		free(full);
		return r;
	}
	return 0;
}

static int load_exec(struct kubeconfig *kc, const struct kcfile *f, const struct ynode *ex)
{
	struct kube_exec *e = xcalloc(1, sizeof(*e));
	const struct ynode *args = ynode_get(ex, "args"), *env = ynode_get(ex, "env");
	const char *cmd = get_str(ex, "command"), *mode;
	size_t i, n = 0;

	kc->exec = e;
	e->source = xstrdup(f->path);
	if (!cmd)
		return error("%s: user '%s': exec.command is missing", f->path, kc->user);
	e->api_version = xstrdup(get_str(ex, "apiVersion") ? get_str(ex, "apiVersion")
			 : "client.authentication.k8s.io/v1");
	if (strcmp(e->api_version, "client.authentication.k8s.io/v1") &&
	    strcmp(e->api_version, "client.authentication.k8s.io/v1beta1"))
		return error("%s: user '%s': exec.apiVersion '%s' is not supported", f->path,
			     kc->user, e->api_version);
	/* a command with a slash but not absolute is relative to the file, as kubectl does */
	if (cmd[0] != '/' && strchr(cmd, '/'))
		e->command = resolve_path(f->dir, cmd);
	else
		e->command = xstrdup(cmd);
	if (args && args->kind != YN_SEQ)
		return error("%s: user '%s': exec.args is not a list", f->path, kc->user);
	e->argv = xcalloc((args ? args->n : 0) + 2, sizeof(char *));
	e->argv[n++] = xstrdup(e->command);
	for (i = 0; args && i < args->n; i++) {
		const char *a = ynode_str(args->kids[i]);

		e->argv[n++] = xstrdup(a ? a : "");
	}
	if (env && env->kind != YN_SEQ)
		return error("%s: user '%s': exec.env is not a list", f->path, kc->user);
	e->env = xcalloc((env ? env->n : 0) + 1, sizeof(char *));
	for (i = 0, n = 0; env && i < env->n; i++) {
		const char *name = get_str(env->kids[i], "name");
		const char *val = ynode_str(ynode_get(env->kids[i], "value"));

		if (!name || strchr(name, '='))
			return error("%s: user '%s': exec.env[%zu].name is missing or invalid",
				     f->path, kc->user, i);
		e->env[n++] = xstrfmt("%s=%s", name, val ? val : "");
	}
	mode = get_str(ex, "interactiveMode");
	e->interactive = mode && !strcmp(mode, "Always");
	return 0;
}

static int load_user(struct kubeconfig *kc, const struct kcfile *f, const struct ynode *u)
{
	const char *s;
	const struct ynode *groups, *ex;

	if (!u)
		return 0;	/* a user entry without fields: anonymous */
	if (u->kind != YN_MAP)
		return error("%s: user '%s': not a map", f->path, kc->user);
	if (load_pem(f, u, "client-certificate", &kc->cert_pem, &kc->cert_len) < 0 ||
	    load_pem(f, u, "client-key", &kc->key_pem, &kc->key_len) < 0)
		return -1;
	if (!kc->cert_pem != !kc->key_pem)
		return error("%s: user '%s': client-certificate and client-key go together",
			     f->path, kc->user);
	if ((s = get_str(u, "token")))
		kc->token = xstrdup(s);
	if ((s = get_str(u, "tokenFile")))
		kc->token_file = resolve_path(f->dir, s);
	if ((s = get_str(u, "username")))
		kc->username = xstrdup(s);
	if ((s = get_str(u, "password")))
		kc->password = xstrdup(s);
	if ((s = get_str(u, "as")))
		kc->impersonate = xstrdup(s);
	groups = ynode_get(u, "as-groups");
	if (groups && groups->kind == YN_SEQ) {
		size_t i;

		kc->impersonate_groups = xcalloc(groups->n + 1, sizeof(char *));
		for (i = 0; i < groups->n; i++) {
			const char *g = ynode_str(groups->kids[i]);

			kc->impersonate_groups[i] = xstrdup(g ? g : "");
		}
	}
	if (ynode_get(u, "auth-provider"))
		return error("%s: user '%s': auth-provider plugins are not supported; use exec",
			     f->path, kc->user);
	ex = ynode_get(u, "exec");
	if (ex && ex->kind == YN_MAP && load_exec(kc, f, ex) < 0)
		return -1;
	return 0;
}

static int load_cluster(struct kubeconfig *kc, const struct kcfile *f, const struct ynode *c)
{
	const char *s;
	size_t len;

	if (!c || c->kind != YN_MAP)
		return error("%s: cluster '%s': missing or not a map", f->path, kc->cluster);
	s = get_str(c, "server");
	if (!s)
		return error("%s: cluster '%s': server is missing", f->path, kc->cluster);
	if (strncmp(s, "https://", 8) && strncmp(s, "http://", 7))
		return error("%s: cluster '%s': server '%s' is not an http(s) URL", f->path,
			     kc->cluster, s);
	kc->server = xstrdup(s);
	len = strlen(kc->server);
	while (len > 0 && kc->server[len - 1] == '/')
		kc->server[--len] = '\0';
	if (load_pem(f, c, "certificate-authority", &kc->ca_pem, &kc->ca_len) < 0)
		return -1;
	kc->insecure = get_bool(c, "insecure-skip-tls-verify");
	if ((s = get_str(c, "tls-server-name")))
		kc->tls_server_name = xstrdup(s);
	if ((s = get_str(c, "proxy-url")))
		kc->proxy_url = xstrdup(s);
	return 0;
}

static int kubeconfig_resolve(struct kubeconfig *kc, const struct kcset *s, const char *context)
{
	const struct kcfile *f = NULL;
	const struct ynode *ctx, *user, *cluster;
	const char *name = context, *str;
	size_t i;
	struct buf src = BUF_INIT(BUF_NOCAP);

	for (i = 0; i < s->n; i++)
		buf_addf(&src, "%s%s", i ? ":" : "", s->f[i].path);
	kc->source = buf_detach(&src, NULL);
	if (!name) {
		for (i = 0; i < s->n && !name; i++)
			name = get_str(s->f[i].root, "current-context");
		if (!name)
			return error("%s: no current-context set; use --context", kc->source);
	}
	kc->context = xstrdup(name);
	ctx = kcset_find(s, "contexts", "context", name, &f);
	if (!ctx || ctx->kind != YN_MAP)
		return error("%s: context '%s' not found", kc->source, name);
	str = get_str(ctx, "cluster");
	if (!str)
		return error("%s: context '%s': cluster is missing", f->path, name);
	kc->cluster = xstrdup(str);
	if ((str = get_str(ctx, "namespace")))
		kc->namespace = xstrdup(str);
	str = get_str(ctx, "user");
	kc->user = xstrdup(str ? str : "");

	f = NULL;
	cluster = kcset_find(s, "clusters", "cluster", kc->cluster, &f);
	if (!f)
		return error("%s: context '%s': cluster '%s' not found", kc->source, name, kc->cluster);
	if (load_cluster(kc, f, cluster) < 0)
		return -1;
	if (*kc->user) {
		f = NULL;
		user = kcset_find(s, "users", "user", kc->user, &f);
		if (!f)
			return error("%s: context '%s': user '%s' not found", kc->source, name, kc->user);
		if (load_user(kc, f, user) < 0)
			return -1;
	}
	return 0;
}

int kubeconfig_load_data(struct kubeconfig *kc, const char *name, const char *data,
			 size_t len, const char *base_dir, const char *context)
{
	struct kcset s = { 0 };
	int r = -1;

	if (len > KUBECONFIG_MAX_FILE)
		return error("kubeconfig '%s' is larger than %u bytes", name, KUBECONFIG_MAX_FILE);
	if (kcset_add_data(&s, name, data, len, base_dir) == 0)
		r = kubeconfig_resolve(kc, &s, context);
	kcset_release(&s);
	return r;
}

int kubeconfig_load(struct kubeconfig *kc, const char *path, const char *context)
{
	struct kcset s = { 0 };
	const char *env = getenv("KUBECONFIG");
	int r = -1;

	if (path && *path) {
		if (kcset_add_file(&s, path, 1) < 0)
			goto out;
	} else if (env && *env) {
		char *copy = xstrdup(env), *p = copy, *end;

		for (; p; p = end) {
			end = strchr(p, ':');
			if (end)
				*end++ = '\0';
			if (*p && kcset_add_file(&s, p, 0) < 0) {
				free(copy);
				goto out;
			}
		}
		free(copy);
		if (!s.n) {
			error("none of the files in KUBECONFIG exist ('%s')", env);
			goto out;
		}
	} else {
		const char *home = getenv("HOME");
		char *def;

		if (!home) {
			error("no kubeconfig: HOME is not set; use --kubeconfig");
			goto out;
		}
		def = xstrfmt("%s/.kube/config", home);
		r = kcset_add_file(&s, def, 1);
		free(def);
		if (r < 0)
			goto out;
		r = -1;
	}
	r = kubeconfig_resolve(kc, &s, context);
out:
	kcset_release(&s);
	return r;
}

int kubeconfig_in_cluster(struct kubeconfig *kc)
{
	const char *host = getenv("KUBERNETES_SERVICE_HOST");
	const char *port = getenv("KUBERNETES_SERVICE_PORT");
	const char *dir = getenv("TIDEGATE_SA_DIR");
	char *path, *ns = NULL;
	size_t len;

	if (!dir || !*dir)
		dir = SA_DIR;
	if (!host || !*host || !port || !*port)
		return error("not in a cluster: KUBERNETES_SERVICE_HOST and KUBERNETES_SERVICE_PORT are not set");
	kc->source = xstrdup(dir);
	kc->context = xstrdup("in-cluster");
	kc->cluster = xstrdup("in-cluster");
	kc->user = xstrdup("service-account");
	if (strchr(host, ':'))
		kc->server = xstrfmt("https://[%s]:%s", host, port);
	else
		kc->server = xstrfmt("https://%s:%s", host, port);
	kc->token_file = xstrfmt("%s/token", dir);
	if (access(kc->token_file, R_OK) < 0)
		return error_errno("in-cluster: cannot read '%s'", kc->token_file);
	path = xstrfmt("%s/ca.crt", dir);
	if (read_capped(path, KUBECONFIG_MAX_PEM, dir, "ca.crt", &kc->ca_pem, &kc->ca_len) < 0) {
		free(path);
		return -1;
	}
	free(path);
	path = xstrfmt("%s/namespace", dir);
	if (!access(path, R_OK) &&
	    read_capped(path, 256, dir, "namespace", &ns, &len) == 0) {
		while (len && (ns[len - 1] == '\n' || ns[len - 1] == ' '))
			ns[--len] = '\0';
		if (len)
			kc->namespace = ns;
		else
			free(ns);
	}
	free(path);
	return 0;
}

/* ------------------------------------------------------------ credentials */

static int read_token_file(struct kubeconfig *kc)
{
	char *tok = NULL;
	size_t len = 0;

	if (read_capped(kc->token_file, KUBECONFIG_MAX_TOKEN, kc->source, "tokenFile", &tok, &len) < 0)
		return -1;
	while (len && (tok[len - 1] == '\n' || tok[len - 1] == '\r' || tok[len - 1] == ' '))
		tok[--len] = '\0';
	if (!len || memchr(tok, '\n', len) || memchr(tok, '\0', len)) {
		free_secret(&tok, len);
		return error("%s: tokenFile '%s' is empty or holds more than one line",
			     kc->source, kc->token_file);
	}
	creds_release(&kc->creds);
	kc->creds.token = tok;
	kc->creds.fetched_ms = monotonic_ms();
	kc->have_creds = 1;
	return 0;
}

/* RFC 3339 ("2026-01-02T03:04:05Z", fractions and offsets allowed) to time_t. */
static int parse_rfc3339(const char *s, time_t *out)
{
	struct tm tm;
	const char *p;
	long off = 0;

	memset(&tm, 0, sizeof(tm));
	p = strptime(s, "%Y-%m-%dT%H:%M:%S", &tm);
	if (!p)
		return -1;
	if (*p == '.')
		for (p++; *p >= '0' && *p <= '9'; p++)
			;
	if (*p == 'Z' || *p == 'z') {
		p++;
	} else if (*p == '+' || *p == '-') {
		int h, m;

		if (sscanf(p + 1, "%2d:%2d", &h, &m) != 2)
			return -1;
		off = (h * 60 + m) * 60L * (*p == '+' ? 1 : -1);
		p += 6;
	} else {
		return -1;
	}
	if (*p)
		return -1;
	*out = timegm(&tm) - off;
	return 0;
}

/* The KUBERNETES_EXEC_INFO variable for a plugin (caller frees). */
static char *exec_env_info(const struct kube_exec *e, int interactive)
{
	return xstrfmt("KUBERNETES_EXEC_INFO={\"apiVersion\":\"%s\",\"kind\":\"ExecCredential\","
		       "\"spec\":{\"interactive\":%s}}", e->api_version,
		       interactive ? "true" : "false");
}

extern char **environ;

static int run_exec(struct kubeconfig *kc)
{
	struct kube_exec *e = kc->exec;
	struct spawn sp = SPAWN_INIT;
	struct spawn_result res = SPAWN_RESULT_INIT(KUBECONFIG_MAX_EXEC_OUT, 64 * 1024);
	const char **env;
	char *info = exec_env_info(e, 0);
	size_t n = 0, i, k;
	cJSON *doc = NULL, *status;
	const char *s;
	int r = -1;

	for (i = 0; environ[i]; i++)
		n++;
	for (k = 0; e->env[k]; k++)
		n++;
	env = xcalloc(n + 2, sizeof(char *));
	n = 0;
	for (i = 0; environ[i]; i++)
		if (strncmp(environ[i], "KUBERNETES_EXEC_INFO=", 21))
			env[n++] = environ[i];
	for (k = 0; e->env[k]; k++)
		env[n++] = e->env[k];
	env[n++] = info;
	sp.argv = (const char *const *)e->argv;
	sp.env = env;
	sp.flags = SPAWN_NULL_IN | SPAWN_NEW_PGRP;
	if (spawn_run(&sp, NULL, 0, EXEC_TIMEOUT_MS, &res) < 0) {
		error("%s: user '%s': exec plugin '%s' could not be started", e->source, kc->user,
		      e->command);
		goto out;
	}
	if (res.timed_out) {
		error("%s: user '%s': exec plugin '%s' timed out", e->source, kc->user, e->command);
		goto out;
	}
	if (!spawn_result_ok(&res)) {
		size_t l = res.err.len;

		while (l && res.err.data[l - 1] == '\n')
			l--;
		error("%s: user '%s': exec plugin '%s' failed (%s %d): %.*s", e->source, kc->user,
		      e->command, res.exited ? "exit" : "signal", res.exited ? res.code : res.signo,
		      (int)(l > 400 ? 400 : l), res.err.data);
		goto out;
	}
	doc = cJSON_ParseWithLength(res.out.data, res.out.len);
	if (!doc || !cJSON_IsObject(doc)) {
		error("%s: user '%s': exec plugin '%s' printed no JSON ExecCredential", e->source,
		      kc->user, e->command);
		goto out;
	}
	s = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(doc, "kind"));
	if (!s || strcmp(s, "ExecCredential")) {
		error("%s: user '%s': exec plugin '%s' printed kind '%s', not ExecCredential",
		      e->source, kc->user, e->command, s ? s : "");
		goto out;
	}
	s = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(doc, "apiVersion"));
	if (!s || strcmp(s, e->api_version)) {
		error("%s: user '%s': exec plugin '%s' answered apiVersion '%s', wanted '%s'",
		      e->source, kc->user, e->command, s ? s : "", e->api_version);
		goto out;
	}
	status = cJSON_GetObjectItemCaseSensitive(doc, "status");
	if (!cJSON_IsObject(status)) {
		error("%s: user '%s': exec plugin '%s': ExecCredential has no status", e->source,
		      kc->user, e->command);
		goto out;
	}
	creds_release(&kc->creds);
	kc->have_creds = 0;
	if ((s = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(status, "token"))) && *s)
		kc->creds.token = xstrdup(s);
	if ((s = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(status, "clientCertificateData"))) && *s) {
		kc->creds.cert_pem = xstrdup(s);
		kc->creds.cert_len = strlen(s);
	}
	if ((s = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(status, "clientKeyData"))) && *s) {
		kc->creds.key_pem = xstrdup(s);
		kc->creds.key_len = strlen(s);
	}
	if (!kc->creds.cert_pem != !kc->creds.key_pem) {
		creds_release(&kc->creds);
		error("%s: user '%s': exec plugin '%s' gave a client certificate without key or "
		      "the other way round", e->source, kc->user, e->command);
		goto out;
	}
	if (!kc->creds.token && !kc->creds.cert_pem) {
		error("%s: user '%s': exec plugin '%s' gave neither a token nor a certificate",
		      e->source, kc->user, e->command);
		goto out;
	}
	if ((s = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(status, "expirationTimestamp"))) &&
	    parse_rfc3339(s, &kc->creds.expires) < 0) {
		creds_release(&kc->creds);
		error("%s: user '%s': exec plugin '%s': bad expirationTimestamp '%s'", e->source,
		      kc->user, e->command, s);
		goto out;
	}
	kc->creds.fetched_ms = monotonic_ms();
	kc->have_creds = 1;
	r = 0;
out:
	if (doc) {
		/* the parsed tree holds the token too */
		char *p = cJSON_PrintUnformatted(doc);

		if (p)
			free_secret(&p, 0);
		cJSON_Delete(doc);
	}
	OPENSSL_cleanse(res.out.data, res.out.len);
	spawn_result_release(&res);
	free(env);
	free(info);
	return r;
}

int kubeconfig_credentials(struct kubeconfig *kc, const struct kube_creds **out)
{
	static const struct kube_creds none;

	if (kc->exec) {
		time_t now = time(NULL);

		if (!kc->have_creds ||
		    (kc->creds.expires && kc->creds.expires - EXPIRY_SLACK_S <= now)) {
			if (run_exec(kc) < 0)
				return -1;
		}
		*out = &kc->creds;
		return 0;
	}
	if (kc->token_file && !kc->token) {
		if (!kc->have_creds || monotonic_ms() - kc->creds.fetched_ms >= TOKEN_REREAD_MS) {
			if (read_token_file(kc) < 0) {
				if (!kc->have_creds)
					return -1;
				/* keep the last good token; the file may be mid-rotation */
			}
		}
		*out = &kc->creds;
		return 0;
	}
	if (kc->token && !kc->have_creds) {
		kc->creds.token = xstrdup(kc->token);
		kc->have_creds = 1;
	}
	*out = kc->have_creds ? &kc->creds : &none;
	return 0;
}

void kubeconfig_invalidate(struct kubeconfig *kc)
{
	if (kc->exec || (kc->token_file && !kc->token)) {
		creds_release(&kc->creds);
		kc->have_creds = 0;
	}
}

void kubeconfig_release(struct kubeconfig *kc)
{
	free(kc->source);
	free(kc->context);
	free(kc->cluster);
	free(kc->user);
	free(kc->server);
	free(kc->namespace);
	free(kc->ca_pem);
	free(kc->cert_pem);
	free_secret(&kc->key_pem, kc->key_len);
	free(kc->tls_server_name);
	free(kc->proxy_url);
	free_secret(&kc->token, 0);
	free(kc->token_file);
	free(kc->username);
	free_secret(&kc->password, 0);
	free(kc->impersonate);
	strv_free(kc->impersonate_groups);
	if (kc->exec) {
		free(kc->exec->api_version);
		free(kc->exec->command);
		strv_free(kc->exec->argv);
		strv_free(kc->exec->env);
		free(kc->exec->source);
		free(kc->exec);
	}
	creds_release(&kc->creds);
	memset(kc, 0, sizeof(*kc));
}
