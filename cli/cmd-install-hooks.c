/*
 * tidegate install-hooks - puts the gate (pre-receive) and the notifier
 * (post-receive) into server-side repositories without clobbering the
 * hooks already there, and takes them out again.
 *
 * Layouts:
 *   plain   hooks/pre-receive and hooks/post-receive become links to the
 *           tidegate programs. A hook already there is moved into
 *           hooks/<hook>.d/ as "original-<hook>"; the tidegate program,
 *           run as "<hook>", runs every executable in hooks/<hook>.d/
 *           first, each with the same input (no shell involved).
 *   gitlab  custom_hooks/<hook>.d/tidegate (run by Gitaly).
 *   gitea   hooks/<hook>.d/tidegate (run by Gitea's or Forgejo's
 *           generated hooks/<hook>).
 * --uninstall removes tidegate's links and puts a moved hook back.
 */
#include "cli.h"
#include "git.h"
#include "log.h"
#include "xalloc.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

enum layout {
	LAYOUT_PLAIN,
	LAYOUT_GITLAB,
	LAYOUT_GITEA,
};

struct install_opts {
	enum layout layout;
	int uninstall;
	int copy;		/* copy the programs instead of linking them */
	char *bindir;		/* where tidegate-pre-receive and -post-receive live */
};

static const char *const hook_names[] = { "pre-receive", "post-receive" };

static int install_usage(FILE *f)
{
	fprintf(f,
		"usage: tidegate install-hooks [--layout plain|gitlab|gitea] [--uninstall]\n"
		"                              [--bindir DIR] [--copy] REPO.git...\n"
		"\n"
		"  --layout plain   hooks/pre-receive and hooks/post-receive (default); hooks\n"
		"                   already there move to hooks/<hook>.d/ and still run\n"
		"  --layout gitlab  custom_hooks/<hook>.d/tidegate (GitLab / Gitaly)\n"
		"  --layout gitea   hooks/<hook>.d/tidegate (Gitea, Forgejo)\n"
		"  --uninstall      remove tidegate's hooks and restore what was there\n"
		"  --bindir DIR     where tidegate-pre-receive and tidegate-post-receive are\n"
		"                   (default: next to this program)\n"
		"  --copy           copy the programs instead of linking to them\n");
	return f == stdout ? 0 : 2;
}

/* The directory of the running program, from /proc/self/exe. */
static char *self_dir(void)
{
	char path[PATH_MAX];
	ssize_t n = readlink("/proc/self/exe", path, sizeof(path) - 1);
	char *slash;

	if (n <= 0)
		return NULL;
	path[n] = '\0';
	slash = strrchr(path, '/');
	if (!slash)
		return NULL;
	*slash = '\0';
	return xstrdup(path);
}

static int is_dir(const char *p)
{
	struct stat st;

	return !stat(p, &st) && S_ISDIR(st.st_mode);
}

static int exists(const char *p)
{
	struct stat st;

	return !lstat(p, &st);
}

static int make_dir(const char *p)
{
	if (mkdir(p, 0755) < 0 && errno != EEXIST)
		return error_errno("cannot create '%s'", p);
	return 0;
}

/* 1 when the files at a and b have the same bytes. */
static int same_contents(const char *a, const char *b)
{
	struct buf x = BUF_INIT(256u << 20), y = BUF_INIT(256u << 20);
	int same = buf_read_file(&x, a) == 0 && buf_read_file(&y, b) == 0 && x.len == y.len &&
		   !memcmp(x.data, y.data, x.len);

	buf_release(&x);
	buf_release(&y);
	return same;
}

/*
 * 1 when the hook file at path is tidegate's: a link to a
 * tidegate-<hook> program, or a copy of the program being installed.
 */
static int is_ours(const char *path, const char *prog_name, const char *prog)
{
	char target[PATH_MAX];
	ssize_t n = readlink(path, target, sizeof(target) - 1);

	if (n > 0) {
		const char *base;

		target[n] = '\0';
		base = strrchr(target, '/');
		return !strcmp(base ? base + 1 : target, prog_name);
	}
	return same_contents(path, prog);
}

static int copy_file(const char *from, const char *to)
{
	struct buf b = BUF_INIT(256u << 20);
	char *tmp = xstrfmt("%s.tidegate-tmp", to);
	int fd, ret = -1;
	size_t off = 0;

	if (buf_read_file(&b, from) < 0) {
		error_errno("cannot read '%s'", from);
		goto done;
	}
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0755);
	if (fd < 0) {
		error_errno("cannot create '%s'", tmp);
		goto done;
	}
	while (off < b.len) {
		ssize_t w = write(fd, b.data + off, b.len - off);

		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			break;
		off += (size_t)w;
	}
	if (off < b.len || fsync(fd) < 0) {
		error_errno("cannot write '%s'", tmp);
		close(fd);
		unlink(tmp);
		goto done;
	}
	close(fd);
	if (rename(tmp, to) < 0) {
		error_errno("cannot rename '%s'", tmp);
		unlink(tmp);
		goto done;
	}
	ret = 0;
done:
	free(tmp);
	buf_release(&b);
	return ret;
}

/* Puts the program at path: a symlink (replacing ours) or a copy. */
static int place(const struct install_opts *o, const char *prog, const char *path)
{
	if (o->copy)
		return copy_file(prog, path);
	if (exists(path) && unlink(path) < 0)
		return error_errno("cannot replace '%s'", path);
	if (symlink(prog, path) < 0)
		return error_errno("cannot link '%s'", path);
	return 0;
}

/* plain: hooks/<hook> is ours; a foreign one moves to hooks/<hook>.d/original-<hook>. */
static int plain_install(const struct install_opts *o, const char *hooks, const char *hook,
			 const char *prog, const char *prog_name)
{
	char *path = xstrfmt("%s/%s", hooks, hook);
	char *ddir = xstrfmt("%s/%s.d", hooks, hook);
	char *saved = xstrfmt("%s/original-%s", ddir, hook);
	int ret = -1;

	if (make_dir(hooks) < 0)
		goto done;
	if (exists(path) && !is_ours(path, prog_name, prog)) {
		if (exists(saved)) {
			error("'%s' exists already; not moving '%s' over it", saved, path);
			goto done;
		}
		if (make_dir(ddir) < 0)
			goto done;
		if (rename(path, saved) < 0) {
			error_errno("cannot move '%s' to '%s'", path, saved);
			goto done;
		}
		printf("%s: kept the existing hook as %s (it still runs first)\n", hook, saved);
	}
	if (place(o, prog, path) < 0)
		goto done;
	printf("%s: installed %s\n", hook, path);
	ret = 0;
done:
	free(path);
	free(ddir);
	free(saved);
	return ret;
}

static int plain_uninstall(const char *hooks, const char *hook, const char *prog,
			   const char *prog_name)
{
	char *path = xstrfmt("%s/%s", hooks, hook);
	char *ddir = xstrfmt("%s/%s.d", hooks, hook);
	char *saved = xstrfmt("%s/original-%s", ddir, hook);
	int ret = -1;

	if (!exists(path) || !is_ours(path, prog_name, prog)) {
		printf("%s: not installed in %s\n", hook, hooks);
		ret = 0;
		goto done;
	}
	if (unlink(path) < 0) {
		error_errno("cannot remove '%s'", path);
		goto done;
	}
	if (exists(saved)) {
		if (rename(saved, path) < 0) {
			error_errno("cannot restore '%s'", path);
			goto done;
		}
		printf("%s: restored the previous hook %s\n", hook, path);
	} else {
		printf("%s: removed %s\n", hook, path);
	}
	rmdir(ddir);	/* only when empty */
	ret = 0;
done:
	free(path);
	free(ddir);
	free(saved);
	return ret;
}

/* gitlab and gitea: <base>/<hook>.d/tidegate. */
static int dropin(const struct install_opts *o, const char *base, const char *hook,
		  const char *prog, const char *prog_name)
{
	char *ddir = xstrfmt("%s/%s.d", base, hook);
	char *path = xstrfmt("%s/tidegate", ddir);
	int ret = -1;

	if (o->uninstall) {
		if (!exists(path)) {
			printf("%s: not installed in %s\n", hook, ddir);
		} else if (!is_ours(path, prog_name, prog)) {
			error("'%s' is not tidegate's; left alone", path);
			goto done;
		} else if (unlink(path) < 0) {
			error_errno("cannot remove '%s'", path);
			goto done;
		} else {
			printf("%s: removed %s\n", hook, path);
		}
		rmdir(ddir);	/* only when empty */
		if (o->layout == LAYOUT_GITLAB)
			rmdir(base);
		ret = 0;
		goto done;
	}
	if (make_dir(base) < 0 || make_dir(ddir) < 0)
		goto done;
	if (exists(path) && !is_ours(path, prog_name, prog)) {
		error("'%s' exists and is not tidegate's; left alone", path);
		goto done;
	}
	if (place(o, prog, path) < 0)
		goto done;
	printf("%s: installed %s\n", hook, path);
	ret = 0;
done:
	free(ddir);
	free(path);
	return ret;
}

static int install_repo(const struct install_opts *o, const char *dir)
{
	struct git_repo *repo = git_repo_open(dir);
	char *base = NULL;
	int ret = 0;

	if (!repo)
		return -1;
	if (o->layout == LAYOUT_GITLAB)
		base = xstrfmt("%s/custom_hooks", git_repo_dir(repo));
	else
		base = git_repo_git_path(repo, "hooks");
	if (!base) {
		git_repo_free(repo);
		return -1;
	}
	printf("%s:\n", git_repo_dir(repo));
	for (size_t i = 0; i < sizeof(hook_names) / sizeof(hook_names[0]); i++) {
		char *prog_name = xstrfmt("tidegate-%s", hook_names[i]);
		char *prog = xstrfmt("%s/%s", o->bindir, prog_name);

		if (!o->uninstall && access(prog, X_OK) < 0)
			ret = error("'%s' is not an executable program (see --bindir)", prog);
		else if (o->layout != LAYOUT_PLAIN)
			ret |= dropin(o, base, hook_names[i], prog, prog_name);
		else if (o->uninstall)
			ret |= plain_uninstall(base, hook_names[i], prog, prog_name);
		else
			ret |= plain_install(o, base, hook_names[i], prog, prog_name);
		free(prog);
		free(prog_name);
	}
	free(base);
	git_repo_free(repo);
	return ret ? -1 : 0;
}

int cmd_install_hooks(int argc, char **argv)
{
	struct install_opts o = { LAYOUT_PLAIN, 0, 0, NULL };
	int i, failed = 0;

	for (i = 1; i < argc && argv[i][0] == '-'; i++) {
		const char *a = argv[i];

		if (!strcmp(a, "--")) {
			i++;
			break;
		} else if (!strcmp(a, "--help") || !strcmp(a, "-h")) {
			free(o.bindir);
			return install_usage(stdout);
		} else if (!strcmp(a, "--uninstall")) {
			o.uninstall = 1;
		} else if (!strcmp(a, "--copy")) {
			o.copy = 1;
		} else if (!strcmp(a, "--layout") || !strncmp(a, "--layout=", 9)) {
			const char *v = a[8] == '=' ? a + 9 : (i + 1 < argc ? argv[++i] : "");

			if (!strcmp(v, "plain"))
				o.layout = LAYOUT_PLAIN;
			else if (!strcmp(v, "gitlab"))
				o.layout = LAYOUT_GITLAB;
			else if (!strcmp(v, "gitea") || !strcmp(v, "forgejo"))
				o.layout = LAYOUT_GITEA;
			else {
				fprintf(stderr, "tidegate install-hooks: unknown layout '%s'\n", v);
				free(o.bindir);
				return install_usage(stderr);
			}
		} else if (!strcmp(a, "--bindir") || !strncmp(a, "--bindir=", 9)) {
			const char *v = a[8] == '=' ? a + 9 : (i + 1 < argc ? argv[++i] : NULL);

			if (!v || !*v) {
				free(o.bindir);
				return install_usage(stderr);
			}
			free(o.bindir);
			o.bindir = realpath(v, NULL);
			if (!o.bindir) {
				fprintf(stderr, "tidegate install-hooks: no directory '%s'\n", v);
				return 2;
			}
		} else {
			fprintf(stderr, "tidegate install-hooks: unknown option '%s'\n", a);
			free(o.bindir);
			return install_usage(stderr);
		}
	}
	if (i >= argc) {
		free(o.bindir);
		return install_usage(stderr);
	}
	if (!o.bindir)
		o.bindir = self_dir();
	if (!o.bindir || !is_dir(o.bindir)) {
		fprintf(stderr, "tidegate install-hooks: cannot find the hook programs; use --bindir\n");
		free(o.bindir);
		return 2;
	}
	for (; i < argc; i++)
		if (install_repo(&o, argv[i]) < 0)
			failed = 1;
	free(o.bindir);
	return failed;
}
