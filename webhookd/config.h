/*
 * config.h - tidegated's configuration (YAML, `tidegated -c FILE`).
 *
 * config_load() reads and checks the whole file: every error names the
 * file, the line and the field ("tidegated.yaml:12: apps[1].cluster:
 * unknown cluster 'prod'"), so `tidegated -n` can tell an operator
 * what to fix. Secret files are read here, once; a receiver without a
 * secret is refused unless it says `insecure: true`.
 *
 * Ownership: struct config owns every string and secret in it;
 * config_release() frees them and wipes the secrets.
 */
#ifndef TIDEGATED_CONFIG_H
#define TIDEGATED_CONFIG_H

#include <stddef.h>

#include "hmac.h"

enum provider {
	PROV_GITHUB = 0,
	PROV_GITLAB,
	PROV_GITEA,
	PROV_BITBUCKET,
	PROV_GENERIC,
	PROV__COUNT,
};

/* "github", "gitlab", ...; provider_parse_name() returns -1 when unknown. */
const char *provider_name(enum provider p);
int provider_parse_name(const char *name, enum provider *out);

struct receiver {
	int configured;
	enum provider provider;
	struct secret *secrets;		/* several while a secret is rotated */
	size_t nsecrets;
	int allow_sha1;			/* GitHub: accept X-Hub-Signature (SHA-1) alone */
	int insecure;			/* accept unsigned deliveries (tests, trusted networks) */
};

struct cluster_conf {
	char *name;
	char *kubeconfig;		/* NULL with in_cluster */
	char *context;
	int in_cluster;
};

/* Where an app's commit statuses go (status.h). */
struct status_conf {
	enum provider provider;		/* github, gitlab, gitea or bitbucket (Cloud) */
	char *api_url;			/* https://api.github.com, https://gitlab.example.com */
	char *repo;			/* owner/name (GitLab: the project path; Bitbucket: workspace/slug) */
	char *token_file;
	char *target_url;		/* the status's link, or NULL (Bitbucket requires one) */
};

struct app_conf {
	char *name;
	char *repo;			/* as written */
	char *repo_key;			/* url_normalize(repo) */
	char *repo_name;		/* optional "owner/name" also matched (Bitbucket Server) */
	char *branch;
	char *path;			/* "" for the whole tree */
	struct cluster_conf *cluster;	/* points into config.clusters */
	char *namespace;
	int prune;
	int wait;			/* the sync waits for the workloads to be ready */
	int wait_timeout_ms;		/* for at most this long (after sync_timeout) */
	int tags;			/* follow tag pushes too */
	char *token_file;		/* https fetch token */
	char *token_user;		/* user name sent with the token (x-access-token) */
	char *ssh_key;			/* ssh deploy key file */
	struct status_conf *status;	/* NULL: no commit statuses */
};

struct config {
	char *path;
	char *listen;			/* as written */
	char *listen_host;
	int listen_port;
	char *tls_cert, *tls_key;
	char *state_dir;
	char *tidegate;			/* the command a sync runs */
	char *git;			/* the git program */
	int log_level;			/* enum log_level */

	/* limits */
	size_t max_body;
	size_t max_headers;
	int request_timeout_ms;
	int max_connections;
	int sync_timeout_ms;
	int fetch_timeout_ms;
	int fetch_retries;
	int apply_retries;		/* a failed sync is tried again this many times */
	int apply_retry_ms;		/* after this long, doubling each time (at most 10 min) */
	size_t dedup_max;		/* delivery ids remembered */

	struct receiver receivers[PROV__COUNT];
	struct cluster_conf *clusters;
	size_t nclusters;
	struct app_conf *apps;
	size_t napps;
};

/*
 * Reads path into c (which must be zeroed or released). default_tidegate
 * is used when the file names no `tidegate:` command. Returns 0, or -1
 * with one error logged naming the field.
 */
int config_load(struct config *c, const char *path, const char *default_tidegate);
void config_release(struct config *c);

struct app_conf *config_find_app(struct config *c, const char *name);

#endif
