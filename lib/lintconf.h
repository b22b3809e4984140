/*
 * lintconf.h - lint configuration: a repository's .tidegate.yaml, a
 * server's policy file, and how the two combine.
 *
 *	# .tidegate.yaml
 *	rules:                     # rule id: off | info | warning | error
 *	  latest-tag: error
 *	  no-read-only-root: off
 *	include: [k8s, deploy]     # path globs; none means every file
 *	exclude: ["*.tmpl.yaml", charts]
 *	kubeVersion: "1.33"
 *	strict: true               # skips and unknown kinds become errors
 *	requireNamespace: true     # namespaced objects must name their namespace
 *	locked: [privileged]       # server files only: see lint_config_merge()
 *	lockPaths: true            # server files only: the repository cannot
 *	                           # change include/exclude
 *
 * Globs: `*` and `?` stay within one path segment, `**` crosses them
 * (`**` followed by a slash matches zero or more directories), `[...]`
 * is a class. A
 * pattern without '/' matches the file's base name as well; a pattern
 * also matches a file under a directory it matches ("charts" excludes
 * "charts/x/y.yaml"). Paths are relative to `root` when they start with it.
 *
 *	struct lint_config c = LINT_CONFIG_INIT;
 *	lint_config_load(&c, ".tidegate.yaml", &findings);
 *	...
 *	lint_config_release(&c);
 */
#ifndef TIDEGATE_LINTCONF_H
#define TIDEGATE_LINTCONF_H

#include <stddef.h>

#include "finding.h"

struct lint_rule_setting {
	char *id;
	enum severity sev;
};

struct lint_config {
	struct lint_rule_setting *rules;
	size_t nrules, alloc_rules;
	char **include;
	size_t ninclude, alloc_include;
	char **exclude;
	size_t nexclude, alloc_exclude;
	char **locked;			/* rule ids ("*" for all) a repository cannot lower */
	size_t nlocked, alloc_locked;
	int lock_paths;			/* a repository's include/exclude are ignored */
	char *kube_version;		/* or NULL */
	int strict;			/* -1 unset, 0 or 1 */
	int require_namespace;		/* -1 unset, 0 or 1 */
	char *root;			/* directory the path globs are relative to, or NULL */
	char *source;			/* file the settings came from, for messages, or NULL */
};
#define LINT_CONFIG_INIT { NULL, 0, 0, NULL, 0, 0, NULL, 0, 0, NULL, 0, 0, 0, NULL, -1, -1, \
			   NULL, NULL }

void lint_config_init(struct lint_config *c);
void lint_config_release(struct lint_config *c);

/*
 * Reads settings from YAML bytes (path names them in findings) into c,
 * on top of what c holds. Problems are findings: "config-invalid"
 * (errors: bad YAML, bad severity, wrong types) and "config-unknown"
 * (warnings: unknown keys or rule ids). Returns 0, or -1 when the file
 * had errors (c holds what could be read).
 */
int lint_config_parse(struct lint_config *c, const char *path, const char *data, size_t len,
		      struct findings *fs);
/* lint_config_parse() on a file (at most 1 MiB); -1 with a finding when unreadable. */
int lint_config_load(struct lint_config *c, const char *path, struct findings *fs);

/* Sets a rule's severity (replacing an earlier setting). */
void lint_config_set_rule(struct lint_config *c, const char *id, enum severity sev);
/* The configured severity of rule id, or def when the config does not name it. */
enum severity lint_config_severity(const struct lint_config *c, const char *id,
				   enum severity def);
/* Locks rule id ("*": every rule) so that a merged repository file cannot lower it. */
void lint_config_lock(struct lint_config *c, const char *id);
int lint_config_is_locked(const struct lint_config *c, const char *id);

/*
 * out = server's settings overlaid with repo's (either may be NULL),
 * out must be initialized and empty. A locked rule keeps the server's
 * severity (or the rule's default) unless the repository raises it; a
 * lowering is dropped with a "config-locked" warning in fs (may be
 * NULL). strict and requireNamespace can be switched on, not off, by the
 * repository when the server sets them; kubeVersion is the
 * repository's when it names one. Include and exclude: the
 * repository's include replaces the server's unless lockPaths; excludes
 * add up, unless lockPaths (then only the server's count).
 */
void lint_config_merge(struct lint_config *out, const struct lint_config *server,
		       const struct lint_config *repo, struct findings *fs);

/* 1 when path is to be linted under c's include and exclude globs (c may be NULL). */
int lint_config_path_selected(const struct lint_config *c, const char *path);
/* 1 when the glob matches path (see above; without the directory-prefix rule). */
int glob_match(const char *pattern, const char *path);

#endif
