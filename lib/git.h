/*
 * git.h - reading a git repository through git's own plumbing.
 *
 * tidegate never parses git's object store itself: every question goes
 * to a `git` child started with spawn.h, with the parent's environment
 * (so a pre-receive hook's children see the quarantined objects of the
 * push through GIT_OBJECT_DIRECTORY / GIT_ALTERNATE_OBJECT_DIRECTORIES /
 * GIT_QUARANTINE_PATH). Blobs come through ONE long-lived
 * `git cat-file --batch` child per repository handle, started on first
 * use.
 *
 *	struct git_repo *repo = git_repo_open(NULL);	// $GIT_DIR or cwd
 *	git_changed_paths(repo, old, new, on_change, &state);
 *	git_tree_files(repo, new, "k8s/web", GIT_TREE_RECURSIVE, on_entry, &state);
 *	git_read_blob(repo, oid, &bytes);		// bytes: a capped struct buf
 *	git_repo_free(repo);
 *
 * Object ids are lowercase hex strings, 40 characters (SHA-1) or 64
 * (SHA-256). Revisions passed in ("main", "HEAD~2", an id) are given to
 * git after --end-of-options where git allows it, so a name starting
 * with '-' is never taken for an option.
 *
 * Errors: every function returns 0 on success and -1 on failure, with
 * the failure logged (error()). A child killed by a signal, a child
 * exiting non-zero, output over its cap and the deadline passing are
 * all failures. git_repo_timed_out() tells a deadline apart from the rest.
 *
 * Threads: a struct git_repo is used by one thread at a time.
 */
#ifndef TIDEGATE_GIT_H
#define TIDEGATE_GIT_H

#include <stddef.h>

#include "buf.h"

#define GIT_SHA1_HEXSZ 40
#define GIT_SHA256_HEXSZ 64
#define GIT_MAX_HEXSZ GIT_SHA256_HEXSZ

/* Tree entry modes, as git writes them (octal). */
#define GIT_MODE_FILE 0100644
#define GIT_MODE_EXEC 0100755
#define GIT_MODE_SYMLINK 0120000
#define GIT_MODE_GITLINK 0160000	/* a submodule commit */
#define GIT_MODE_TREE 0040000

struct git_repo;

/*
 * Opens a repository handle. git_dir (a bare repository, a .git
 * directory, or a work tree holding .git) is passed to every child as
 * --git-dir; NULL means "whatever git finds" ($GIT_DIR, as in a hook, or
 * the current directory). Only checks that git answers for the
 * directory. Returns NULL (error logged) when it is not a repository.
 * Free with git_repo_free(), which also ends the cat-file child.
 */
struct git_repo *git_repo_open(const char *git_dir);
void git_repo_free(struct git_repo *repo);
/*
 * For hooks, where git has set GIT_DIR: opens the repository and loads
 * its config for config_prefix (as git_config_load), the object format
 * coming from extensions.objectFormat. In the common case no child at
 * all: the config files (system, global, $GIT_DIR/config) are read
 * directly by git's rules; includes, GIT_CONFIG_PARAMETERS and the other
 * cases listed in git.c ("config files read without a child") take ONE
 * `git config` child instead. Without GIT_DIR it falls back to
 * git_repo_open(NULL) and git_config_load(). Returns NULL (error
 * logged) on failure.
 */
struct git_repo *git_repo_open_hook(const char *config_prefix);
/* 1 when repo's config came from a `git config` child, 0 when read directly. */
int git_config_spawned(const struct git_repo *repo);

/*
 * The absolute path of the repository's git directory
 * (`git rev-parse --absolute-git-dir`), owned by repo.
 */
const char *git_repo_dir(struct git_repo *repo);

/*
 * The path git uses for name inside the git directory
 * (`git rev-parse --git-path NAME`, which follows core.hooksPath for
 * "hooks"), made absolute. Returns an allocated string, or NULL.
 */
char *git_repo_git_path(struct git_repo *repo, const char *name);

/*
 * Sets an absolute deadline (monotonic_ms() time) for every later
 * operation on repo; 0 removes it. A child still running at the deadline
 * is killed and the operation fails with git_repo_timed_out() set.
 */
void git_repo_set_deadline(struct git_repo *repo, long long deadline_ms);
/* 1 once an operation failed because the deadline passed. */
int git_repo_timed_out(const struct git_repo *repo);

/* "sha1" or "sha256" (`git rev-parse --show-object-format`); NULL on failure. */
const char *git_object_format(struct git_repo *repo);
/* 40 or 64; 0 on failure. */
size_t git_oid_hexsz(struct git_repo *repo);

/* 1 when hex is all zeros (40 or 64 of them): git's "no object". */
int git_is_zero_oid(const char *hex);
/* 1 when s is exactly 40 or 64 lowercase hex digits. */
int git_is_oid_hex(const char *s);

/*
 * Resolves rev to a commit id (`git rev-parse --verify rev^{commit}`)
 * into out, which holds GIT_MAX_HEXSZ + 1 bytes. Returns -1 when rev
 * does not name a commit.
 */
int git_resolve_commit(struct git_repo *repo, const char *rev,
		       char out[GIT_MAX_HEXSZ + 1]);

/* One changed path between two commits (`git diff-tree -r -z` raw output). */
struct git_change {
	char status;		/* 'A' added, 'M' modified, 'D' deleted, 'T' type changed */
	unsigned old_mode;	/* 0 when added */
	unsigned new_mode;	/* 0 when deleted */
	const char *old_oid;	/* zeros when added */
	const char *new_oid;	/* zeros when deleted */
	const char *path;	/* full path in the tree, no leading '/' */
};
/* Return 0 to go on, non-zero to stop the walk (the caller's result is returned). */
typedef int git_change_fn(const struct git_change *c, void *data);

/*
 * Calls fn for every path that differs between commits old and new,
 * recursively, without rename detection, sorted by path, each path once.
 *   - old all zeros (a new ref): only what the commits not reachable
 *     from any existing ref changed (`git rev-list new --not --all`):
 *     nothing when new is already reachable; otherwise the difference
 *     between the boundary commits and new (through the cat-file stream,
 *     as below), or between the empty tree and new when the whole
 *     history is new (`git diff-tree`, which reads a big tree faster).
 *   - new all zeros (a deleted ref): nothing.
 *   - otherwise (fast-forward or forced): what `git diff-tree -r old new`
 *     reports, computed by comparing the two trees through the cat-file
 *     stream (only differing subtrees are read; no extra child).
 * old and new may also be annotated tags: they are peeled to their trees.
 * Returns 0, -1 on failure, or fn's non-zero value if it stopped.
 */
int git_changed_paths(struct git_repo *repo, const char *old, const char *new,
		      git_change_fn *fn, void *data);

/* One entry of a tree (`git ls-tree -z` output). */
struct git_entry {
	unsigned mode;		/* GIT_MODE_* */
	const char *type;	/* "blob", "tree" or "commit" (gitlink) */
	const char *oid;
	const char *path;	/* full path from the root of the tree */
};
typedef int git_entry_fn(const struct git_entry *e, void *data);

enum {
	GIT_TREE_RECURSIVE = 1 << 0,	/* descend into subtrees (trees themselves not reported) */
};

/*
 * Calls fn for the entries of rev's tree under prefix (a file or a
 * directory, matched literally on whole path components; NULL or ""
 * for the whole tree). Without GIT_TREE_RECURSIVE, prefix names a
 * directory and its direct entries are listed (subtrees as "tree"
 * entries). A prefix that matches nothing gives no call and returns 0.
 * Returns 0, -1 on failure, or fn's non-zero value if it stopped.
 */
int git_tree_files(struct git_repo *repo, const char *rev, const char *prefix,
		   unsigned flags, git_entry_fn *fn, void *data);

/*
 * Reads object name (an id, or "rev:path") through the repository's
 * cat-file child into out (which is reset first; its cap limits the
 * size). type_out, when not NULL, gets "blob", "tree", ... (static).
 * Returns 0, 1 when there is no such object, -1 on failure (also when
 * the object is over out's cap: out->toobig is then set, nothing is
 * logged and the stream stays usable).
 */
int git_read_object(struct git_repo *repo, const char *name, const char **type_out,
		    struct buf *out);

/*
 * Called by git_read_objects() once per name, in order: result is what
 * git_read_object() would return (0, 1 missing, -1 over max_size with
 * content->toobig set), type is "blob", "tree", ... or NULL, content
 * holds the bytes when result is 0 (valid during the call only).
 * Return non-zero to stop.
 */
typedef int git_object_fn(size_t i, int result, const char *type, const struct buf *content,
			  void *data);
/*
 * Reads n objects through the cat-file child with the requests
 * pipelined, for many small blobs. Returns 0, -1 on failure, or fn's
 * non-zero value if it stopped.
 */
int git_read_objects(struct git_repo *repo, const char *const *names, size_t n,
		     size_t max_size, git_object_fn *fn, void *data);
/* git_read_object() that insists on a blob; a tree or commit is an error (-1). */
int git_read_blob(struct git_repo *repo, const char *name, struct buf *out);

/*
 * git config of the repository, loaded once for a key prefix
 * (`git config -z --get-regexp`), e.g. "tidegate.". Keys compare
 * case-insensitively, as git's section and variable names do.
 */
int git_config_load(struct git_repo *repo, const char *prefix);
/* The last value of key, or NULL when not set (or not loaded). */
const char *git_config_get(struct git_repo *repo, const char *key);
/*
 * Iterates over every value of a multi-valued key:
 *	size_t pos = 0; const char *v;
 *	while ((v = git_config_next(repo, "tidegate.paths", &pos)))
 */
const char *git_config_next(struct git_repo *repo, const char *key, size_t *pos);
/* git's boolean spelling (true/yes/on/1, false/no/off/0/""); def when unset; -1 when invalid. */
int git_config_bool(struct git_repo *repo, const char *key, int def);

#endif
