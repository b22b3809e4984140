/*
 * changes.h - the paths an update changed, handed from the gate to the
 * post-receive hook so that it need not start git to list them again.
 *
 * The gate lists every path that differs between an update's old and
 * new commits (git_changed_paths) before it checks them; when the
 * repository sends webhooks it saves that list as
 * GIT_DIR/tidegate/changes/<old>-<new>. tidegate-post-receive takes the
 * file for the same update (and removes it), else lists the paths itself.
 * The list depends only on the two commits, so a file left by a refused
 * push is never wrong, only stale: post-receive removes files older than
 * CHANGES_MAX_AGE seconds.
 *
 * File format: "tidegate-changes 1\n", then each path followed by a NUL
 * byte (git paths hold no NUL), in git_changed_paths order. A file that
 * does not start so, or is longer than CHANGES_BYTES, is not used.
 */
#ifndef TIDEGATE_CHANGES_H
#define TIDEGATE_CHANGES_H

#include <stddef.h>

#include "buf.h"

#define CHANGES_BYTES (1u << 20)
#define CHANGES_MAX_AGE 3600

struct changes {
	struct buf raw;		/* header, then NUL-terminated paths */
	size_t n;
};
#define CHANGES_INIT { BUF_INIT(CHANGES_BYTES), 0 }

void changes_add(struct changes *c, const char *path);
void changes_release(struct changes *c);

/* Saves c for the update old -> new. 0, or -1 (nothing left behind; not logged). */
int changes_save(const char *git_dir, const char *old, const char *new, const struct changes *c);

/*
 * Reads and removes the saved list of old -> new, calling fn for each path
 * in order (a non-zero return stops the walk). Returns 0 when a complete
 * list was read (fn saw every path, unless it stopped), 1 when none is
 * usable (absent, foreign or damaged: fn was not called).
 */
int changes_take(const char *git_dir, const char *old, const char *new,
		 int (*fn)(const char *path, void *data), void *data);

/* Removes saved lists older than max_age seconds. */
void changes_prune(const char *git_dir, long max_age);

#endif
