/*
 * kubeconfig.h - where a cluster is and how to prove who we are to it.
 *
 * kubeconfig_load() resolves one context into a struct kubeconfig, the
 * way kubectl does:
 *   - an explicit path (--kubeconfig) is the only file read;
 *   - else every file named in $KUBECONFIG (':'-separated) is read and
 *     merged: the first file that sets current-context, or defines a
 *     cluster, user or context of a given name, wins;
 *   - else ~/.kube/config.
 * The context is the one asked for, else current-context. Fields ending
 * in -data (base64 PEM) win over the path fields; relative paths are
 * relative to the file that holds the entry. Errors name the file and
 * the field.
 *
 * kubeconfig_in_cluster() builds one from a Pod's service account
 * ($KUBERNETES_SERVICE_HOST/PORT and the files in
 * /var/run/secrets/kubernetes.io/serviceaccount, a directory that
 * $TIDEGATE_SA_DIR overrides for tests).
 *
 * Bearer credentials change while a process runs (tokenFile, projected
 * service-account tokens, exec plugins with an expiry), so they are not
 * fields: ask kubeconfig_credentials() before each request; it re-reads
 * files about once a minute and runs an exec plugin again once its
 * credential expired or after kubeconfig_invalidate() (a 401).
 *
 * Secrets (tokens, keys) are wiped when released and never logged.
 */
#ifndef TIDEGATE_KUBECONFIG_H
#define TIDEGATE_KUBECONFIG_H

#include <stddef.h>
#include <time.h>

/* Caps on what is read from files and plugins. */
#define KUBECONFIG_MAX_FILE (4u << 20)	/* one kubeconfig file */
#define KUBECONFIG_MAX_PEM (1u << 20)	/* one certificate, key or CA bundle */
#define KUBECONFIG_MAX_TOKEN (64u << 10)	/* a token file */
#define KUBECONFIG_MAX_EXEC_OUT (1u << 20)	/* an exec plugin's stdout */

struct kube_exec {
	char *api_version;	/* client.authentication.k8s.io/v1 or v1beta1 */
	char *command;
	char **argv;		/* command then args, NULL-terminated */
	char **env;		/* "NAME=value" pairs added to ours, NULL-terminated */
	int interactive;	/* interactiveMode was Always (we never have a tty to give) */
	char *source;		/* file the user entry came from, for messages */
};

/* A credential as an exec plugin or a token source gave it. */
struct kube_creds {
	char *token;		/* bearer token, or NULL */
	char *cert_pem;		/* client certificate from a plugin, or NULL */
	size_t cert_len;
	char *key_pem;
	size_t key_len;
	time_t expires;		/* 0 = no expiry given */
	long long fetched_ms;	/* monotonic time it was read */
};

struct kubeconfig {
	char *source;		/* the file(s) it came from, for messages */
	char *context;		/* context name ("in-cluster" for a service account) */
	char *cluster;		/* cluster entry name */
	char *user;		/* user entry name */
	char *server;		/* "https://host:port" without a trailing slash */
	char *namespace;	/* the context's namespace, or NULL */

	char *ca_pem;		/* CA bundle in PEM, or NULL for the system store */
	size_t ca_len;
	char *cert_pem;		/* client certificate (PEM), or NULL */
	size_t cert_len;
	char *key_pem;		/* client key (PEM), or NULL */
	size_t key_len;
	int insecure;		/* insecure-skip-tls-verify */
	char *tls_server_name;	/* name to verify instead of the server's host */
	char *proxy_url;

	char *token;		/* static bearer token, or NULL */
	char *token_file;	/* file to (re-)read the token from, or NULL */
	char *username, *password;	/* basic auth, or NULL */
	char *impersonate;		/* "as" */
	char **impersonate_groups;	/* "as-groups", NULL-terminated or NULL */
	struct kube_exec *exec;		/* exec credential plugin, or NULL */

	/* runtime: credentials last read from token_file or exec */
	struct kube_creds creds;
	int have_creds;
};
#define KUBECONFIG_INIT { 0 }

/*
 * Loads the context named context (NULL: current-context) from path
 * (NULL: $KUBECONFIG, then ~/.kube/config). Returns 0, or -1 with the
 * problem reported (file and field named).
 */
int kubeconfig_load(struct kubeconfig *kc, const char *path, const char *context);

/* Like kubeconfig_load() but from bytes; base_dir resolves relative paths. */
int kubeconfig_load_data(struct kubeconfig *kc, const char *name, const char *data,
			 size_t len, const char *base_dir, const char *context);

/* The service-account configuration of a Pod. Returns 0 or -1. */
int kubeconfig_in_cluster(struct kubeconfig *kc);

/*
 * Fills *out with the current bearer token and/or client certificate
 * (pointers into kc, valid until the next call). Static settings come
 * back as they are; token files are re-read at most every 60 s; an
 * exec plugin runs when it has no cached credential, the credential
 * expired (or will within 10 s), or after kubeconfig_invalidate().
 * Returns 0, or -1 when a plugin or file failed (reported).
 */
int kubeconfig_credentials(struct kubeconfig *kc, const struct kube_creds **out);

/* Forgets cached credentials (the server answered 401). */
void kubeconfig_invalidate(struct kubeconfig *kc);

void kubeconfig_release(struct kubeconfig *kc);

/* Decodes standard base64 (whitespace ignored). Caller frees; NULL when invalid. */
char *kube_base64_decode(const char *in, size_t inlen, size_t *outlen);

#endif
