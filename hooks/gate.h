/*
 * gate.h - the check the pre-receive hook runs on one pushed ref.
 *
 * What is read: only the paths the push changed (git_changed_paths),
 * filtered to *.yaml, *.yml and *.json under the configured paths; plus,
 * for every directory D holding a changed (or deleted) manifest, the
 * other manifests directly in D at the new tip, so cross-object rules
 * see the whole app directory. Findings in those unchanged files are
 * kept only for cross-object rules. A push that changes the
 * repository's .tidegate.yaml is checked whole (new rules apply to
 * every manifest). Binary files (a NUL byte), symlinks and submodules
 * are skipped.
 *
 *	struct gate g = GATE_INIT;
 *	gate_load_policy(&g, repo);		// git config tidegate.*
 *	gate_check_ref(&g, old, new, ref, &findings, &stats);
 *	gate_release(&g);
 */
#ifndef TIDEGATE_GATE_H
#define TIDEGATE_GATE_H

#include <stddef.h>

#include "finding.h"
#include "git.h"

struct lint_config;

struct gate_policy {
	char **refs;		/* ref globs, e.g. refs/heads/ and a star; "!glob" excludes */
	size_t nrefs;
	char **paths;		/* path globs; none = every path */
	size_t npaths;
	char **locked;		/* rule ids the repository's file cannot change */
	size_t nlocked;
	long deadline_ms;	/* default 4000 */
	int fail_open;		/* accept when the check cannot finish in time */
	int allow_bypass;	/* honour push option tidegate.skip */
	int strict;
	char *kube_version;	/* or NULL */
	char *schema_dir;	/* or NULL */
	char *server_config;	/* a server-side .tidegate.yaml, or NULL */
	char *audit_log;	/* path of the bypass audit log */
};

struct gate {
	struct git_repo *repo;
	struct gate_policy pol;
	struct lint_config *server_cfg;	/* parsed server_config, or NULL */
	int save_changes;		/* leave each update's changed paths for post-receive (changes.h) */
};
#define GATE_INIT { NULL, { NULL, 0, NULL, 0, NULL, 0, 4000, 0, 0, 0, NULL, NULL, NULL, NULL }, NULL, 0 }

struct gate_stats {
	size_t changed;		/* manifests the push changed */
	size_t context;		/* unchanged manifests read for cross-object rules */
	size_t skipped;		/* binary files, symlinks, submodules */
};

/*
 * Reads the policy from git config tidegate.* (already loaded into repo
 * with git_config_load) and the server-side config file. Returns 0, or
 * -1 on a bad value (named in the error).
 */
int gate_load_policy(struct gate *g, struct git_repo *repo);
/* 1 when the policy selects ref for checking. */
int gate_ref_selected(const struct gate *g, const char *ref);
/* 1 when path is a manifest the policy checks (extension and paths). */
int gate_path_selected(const struct gate *g, const char *path);
/*
 * Checks one update (old/new ids, either may be all zeros). Findings go
 * to out. Returns 0 when the check ran (look at out->nerr), -1 when it
 * could not (git failure, deadline: see git_repo_timed_out()).
 */
int gate_check_ref(struct gate *g, const char *old, const char *new, struct findings *out,
		   struct gate_stats *stats);
void gate_release(struct gate *g);

/*
 * The lint configuration (gate-config.c): the server-side file
 * (tidegate.config) merged with the repository's .tidegate.yaml read
 * from the pushed commit, locked rules keeping the server's setting.
 */
int gate_config_load_server(struct gate *g);
/*
 * *out gets the configuration for checking commit (NULL: defaults).
 * A .tidegate.yaml that does not parse becomes an error finding in fs.
 * Returns 0, or -1 when git failed.
 */
int gate_config_for_commit(struct gate *g, const char *commit, struct lint_config **out,
			   struct findings *fs);
void gate_config_free(struct lint_config *cfg);

#endif
