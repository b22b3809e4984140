/*
 * hook.h - what tidegate's two git server hooks share: the pusher's
 * output channel, who is pushing, chaining to other hooks, small parsers.
 *
 * Everything a hook prints on stdout or stderr reaches the pusher as
 * "remote: " lines, so the hooks write plain text lines through
 * hook_say() and keep library log lines (timestamps, levels) out of the
 * pusher's way: hook_log_capture() sends them to a memory file that
 * hook_log_replay() prints as "tidegate: <message>" lines.
 */
#ifndef TIDEGATE_HOOK_H
#define TIDEGATE_HOOK_H

#include <stddef.h>

#include "buf.h"

/* 1 when running under GitLab (GL_ID or GL_REPOSITORY set). */
int hook_is_gitlab(void);

/*
 * Prints one line to stderr. With is_error under GitLab the line is
 * prefixed "GL-HOOK-ERR: " so GitLab shows it in its web UI too.
 */
void hook_say(int is_error, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Routes log lines to a memory file (falls back to stderr). */
void hook_log_capture(const char *prog);
/* Prints the captured log lines as pusher lines ("tidegate: msg"), then empties the capture. */
void hook_log_replay(int is_error);

/*
 * The pushing user: GL_USERNAME, GITHUB_USER_LOGIN, REMOTE_USER, else
 * the name of the process's user. Never NULL; owned by the caller.
 */
char *hook_user(void);

/*
 * Reads the whole hook input (stdin) into out, capped. Returns 0 or -1.
 */
int hook_read_input(struct buf *out);

/* One "<old> SP <new> SP <ref>" update. */
struct hook_update {
	char *old_oid, *new_oid, *ref;
};
struct hook_updates {
	struct hook_update *v;
	size_t n, alloc;
};
#define HOOK_UPDATES_INIT { NULL, 0, 0 }
/*
 * Parses the update lines of in. hexsz (40 or 64) is the repository's
 * id length. Returns 0, or -1 (error logged) on a malformed line.
 */
int hook_parse_updates(const struct buf *in, size_t hexsz, struct hook_updates *out);
void hook_updates_release(struct hook_updates *u);

/*
 * Chaining: when the program runs as a git hook called `name`
 * (basename of argv0 is name, e.g. "pre-receive") and a directory
 * `<dir of argv0>/<name>.d` exists, runs every executable file in it in
 * name order (hidden files skipped), each with `input` on its stdin and
 * the hook's environment. Returns 0 when all succeeded (or there was
 * nothing to run), -1 when one failed (it is named; later ones do not
 * run). *ran counts the programs started.
 */
int hook_run_chain(const char *argv0, const char *name, const struct buf *input, int *ran);

/*
 * Parses a duration: "4000" or "4000ms" (milliseconds), "4s", "1.5s".
 * Returns 0 with *ms set, -1 when malformed or out of range.
 */
int hook_parse_duration(const char *s, long *ms);

/*
 * fnmatch()-style glob on a whole path where '*' also crosses '/'; a
 * pattern with no glob characters also matches as a directory prefix
 * ("k8s" matches "k8s/web/a.yaml"). A leading '!' is not handled here.
 */
int hook_path_match(const char *pattern, const char *path);

/* The current UTC time as "2026-01-02T03:04:05Z" into out (24 bytes). */
void hook_utc_now(char out[24]);

#endif
