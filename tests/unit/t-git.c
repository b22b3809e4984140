/*
 * Unit tests for lib/git.c against real repositories made in a
 * temporary directory with the git command.
 */
#include "tap.h"
#include "../../lib/git.h"
#include "../../lib/log.h"
#include "../../lib/spawn.h"
#include "../../lib/xalloc.h"

#include <fcntl.h>
#include <stdarg.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

static char tmp[256];

/* Runs git -C dir args... (NULL-terminated); stdout into out if not NULL. */
static int git(const char *dir, struct buf *out, ...)
{
	const char *argv[32];
	struct spawn sp = SPAWN_INIT;
	struct spawn_result res = SPAWN_RESULT_INIT(1 << 20, 1 << 16);
	va_list ap;
	size_t n = 0;
	int ok_;

	argv[n++] = "git";
	argv[n++] = "-C";
	argv[n++] = dir;
	argv[n++] = "-c";
	argv[n++] = "user.name=Tide Tester";
	argv[n++] = "-c";
	argv[n++] = "user.email=tester@example.com";
	va_start(ap, out);
	while (n < 31 && (argv[n] = va_arg(ap, const char *)))
		n++;
	va_end(ap);
	argv[n] = NULL;
	sp.argv = argv;
	if (spawn_run(&sp, NULL, 0, 20000, &res) < 0)
		return -1;
	ok_ = spawn_result_ok(&res);
	if (!ok_)
		printf("# git %s failed: %s\n", argv[7], res.err.data);
	if (out) {
		buf_reset(out);
		buf_add(out, res.out.data, res.out.len);
		while (out->len && out->data[out->len - 1] == '\n')
			buf_setlen(out, out->len - 1);
	}
	spawn_result_release(&res);
	return ok_ ? 0 : -1;
}

static void write_file(const char *repo, const char *path, const char *content, size_t len)
{
	char *full = xstrfmt("%s/%s", repo, path);
	FILE *f;

	/* make parent directories */
	for (char *p = strchr(full + strlen(repo) + 1, '/'); p; p = strchr(p + 1, '/')) {
		*p = '\0';
		mkdir(full, 0755);
		*p = '/';
	}
	f = fopen(full, "wb");
	if (f) {
		fwrite(content, 1, len, f);
		fclose(f);
	}
	free(full);
}

#define WRITE(repo, path, s) write_file(repo, path, s, strlen(s))

struct seen {
	char list[4096];
};

static int on_change(const struct git_change *c, void *data)
{
	struct seen *s = data;
	size_t n = strlen(s->list);

	snprintf(s->list + n, sizeof(s->list) - n, "%s%c:%s", n ? " " : "", c->status, c->path);
	return 0;
}

static int on_entry(const struct git_entry *e, void *data)
{
	struct seen *s = data;
	size_t n = strlen(s->list);

	snprintf(s->list + n, sizeof(s->list) - n, "%s%s:%o:%s", n ? " " : "", e->type,
		 e->mode, e->path);
	return 0;
}

struct batch_seen {
	size_t n, found, missing, toobig, stop_at;
	int order_ok;
};

static int on_object(size_t i, int result, const char *type, const struct buf *content,
		     void *data)
{
	struct batch_seen *bs = data;

	if (i == 0)
		bs->order_ok = 1;
	if (i != bs->n)
		bs->order_ok = 0;
	bs->n++;
	if (result == 0 && type && !strcmp(type, "blob") && content->len)
		bs->found++;
	else if (result == 1)
		bs->missing++;
	else if (result < 0 && content->toobig)
		bs->toobig++;
	if (bs->stop_at && bs->n == bs->stop_at)
		return 7;
	return 0;
}

static int stop_at_first(const struct git_entry *e, void *data)
{
	(void)e;
	(*(int *)data)++;
	return 42;
}

static char *head(const char *dir, const char *rev)
{
	struct buf b = BUF_INIT(1024);

	git(dir, &b, "rev-parse", rev, NULL);
	return buf_detach(&b, NULL);
}

static void test_basics(void)
{
	ok(git_is_zero_oid("0000000000000000000000000000000000000000"), "40 zeros is the null id");
	ok(git_is_zero_oid("0000000000000000000000000000000000000000000000000000000000000000"),
	   "64 zeros is the null id");
	ok(!git_is_zero_oid("000000000000000000000000000000000000000"), "39 zeros is not");
	ok(!git_is_zero_oid("0000000000000000000000000000000000000001"), "a non-zero id is not");
	ok(git_is_oid_hex("4b825dc642cb6eb9a060e54bf8d69288fbee4904"), "a sha1 id is hex");
	ok(!git_is_oid_hex("4B825DC642CB6EB9A060E54BF8D69288FBEE4904"), "uppercase is refused");
	ok(!git_is_oid_hex("main"), "a name is not an id");
	ok(!git_is_oid_hex(NULL), "NULL is not an id");
}

static void test_sha1_repo(void)
{
	char *dir = xstrfmt("%s/r1", tmp);
	struct git_repo *repo;
	struct seen s;
	struct buf b = BUF_INIT(1 << 20), small = BUF_INIT(4);
	char *c1, *c2, *c3, *c4;
	char oid[GIT_MAX_HEXSZ + 1];
	const char *type;
	int n;

	git(tmp, NULL, "init", "-q", "-b", "main", dir, NULL);
	WRITE(dir, "k8s/web/deploy.yaml", "kind: Deployment\n");
	WRITE(dir, "k8s/web/svc.yaml", "kind: Service\n");
	WRITE(dir, "k8s/webapp/x.yaml", "kind: ConfigMap\n");
	WRITE(dir, "k8s/top.yaml", "kind: Namespace\n");
	WRITE(dir, "README", "hello\n");
	git(dir, NULL, "add", ".", NULL);
	git(dir, NULL, "commit", "-q", "-m", "one", NULL);
	c1 = head(dir, "HEAD");

	WRITE(dir, "k8s/web/deploy.yaml", "kind: Deployment\nmetadata: {}\n");
	git(dir, NULL, "rm", "-q", "k8s/web/svc.yaml", NULL);
	WRITE(dir, "k8s/web/new.yaml", "kind: Secret\n");
	git(dir, NULL, "add", ".", NULL);
	git(dir, NULL, "commit", "-q", "-m", "two", NULL);
	c2 = head(dir, "HEAD");

	repo = git_repo_open(dir);
	ok(repo != NULL, "a work tree opens");
	if (!repo)
		return;
	is_str(git_object_format(repo), "sha1", "object format sha1");
	is_int(git_oid_hexsz(repo), 40, "ids are 40 hex digits");
	ok(strstr(git_repo_dir(repo), "/r1/.git") != NULL, "absolute git dir %s",
	   git_repo_dir(repo));

	ok(git_resolve_commit(repo, "HEAD~1", oid) == 0 && !strcmp(oid, c1), "HEAD~1 resolves");
	ok(git_resolve_commit(repo, "no-such-branch", oid) < 0, "a missing rev fails");
	ok(git_resolve_commit(repo, "--output=/tmp/x", oid) < 0, "an option-like rev is refused");

	memset(&s, 0, sizeof(s));
	ok(git_changed_paths(repo, c1, c2, on_change, &s) == 0, "diff c1..c2 runs");
	is_str(s.list, "M:k8s/web/deploy.yaml A:k8s/web/new.yaml D:k8s/web/svc.yaml",
	       "changed paths, sorted, with status");

	memset(&s, 0, sizeof(s));
	ok(git_changed_paths(repo, c2, "0000000000000000000000000000000000000000", on_change,
			     &s) == 0 && !s.list[0], "a deleted ref changes nothing");
	memset(&s, 0, sizeof(s));
	ok(git_changed_paths(repo, "0000000000000000000000000000000000000000", c2, on_change,
			     &s) == 0 && !s.list[0], "a new ref at an existing commit changes nothing");
	ok(git_changed_paths(repo, "abc", c2, on_change, &s) < 0, "a malformed id is refused");

	/* a commit on no ref: like a new branch being pushed */
	git(dir, NULL, "checkout", "-q", "-b", "topic", NULL);
	WRITE(dir, "k8s/webapp/x.yaml", "kind: ConfigMap\ndata: {}\n");
	git(dir, NULL, "commit", "-q", "-am", "three", NULL);
	c3 = head(dir, "HEAD");
	WRITE(dir, "k8s/top.yaml", "kind: Namespace\nmetadata: {}\n");
	git(dir, NULL, "commit", "-q", "-am", "four", NULL);
	c4 = head(dir, "HEAD");
	git(dir, NULL, "checkout", "-q", "main", NULL);
	git(dir, NULL, "branch", "-q", "-D", "topic", NULL);
	memset(&s, 0, sizeof(s));
	ok(git_changed_paths(repo, "0000000000000000000000000000000000000000", c4, on_change,
			     &s) == 0, "new ref runs");
	is_str(s.list, "M:k8s/top.yaml M:k8s/webapp/x.yaml",
	       "a new ref reports only what its new commits changed");
	/* a forced update from c3 back to c1 */
	memset(&s, 0, sizeof(s));
	ok(git_changed_paths(repo, c3, c1, on_change, &s) == 0, "forced update runs");
	is_str(s.list, "M:k8s/web/deploy.yaml D:k8s/web/new.yaml A:k8s/web/svc.yaml "
	       "M:k8s/webapp/x.yaml", "a forced update diffs the two tips");
	memset(&s, 0, sizeof(s));
	git_changed_paths(repo, c2, c3, on_change, &s);
	is_str(s.list, "M:k8s/webapp/x.yaml", "a fast-forward diffs old..new");

	/* the in-process tree diff agrees with git diff-tree on awkward changes */
	{
		struct buf want = BUF_INIT(1 << 20);
		char *d1, *d2;
		struct seen s2;

		git(dir, NULL, "checkout", "-q", "-b", "awkward", NULL);
		WRITE(dir, "x/a.yaml", "a\n");
		WRITE(dir, "x/b/c/d.yaml", "d\n");
		WRITE(dir, "foo", "plain file\n");
		WRITE(dir, "foo.txt", "t\n");
		WRITE(dir, "run.sh", "echo\n");
		WRITE(dir, "link", "target\n");
		git(dir, NULL, "add", "-A", NULL);
		git(dir, NULL, "commit", "-q", "-m", "awk1", NULL);
		d1 = head(dir, "HEAD");
		git(dir, NULL, "rm", "-q", "foo", "link", NULL);
		WRITE(dir, "foo/inner.yaml", "now a directory\n");
		{
			char *l = xstrfmt("%s/link", dir);	/* a file becomes a symlink */

			symlink("x/a.yaml", l);
			free(l);
		}
		WRITE(dir, "x/b/c/d.yaml", "changed\n");
		WRITE(dir, "x/b/e/new.yaml", "new\n");
		git(dir, NULL, "rm", "-q", "x/a.yaml", NULL);
		git(dir, NULL, "update-index", "--chmod=+x", "run.sh", NULL);
		git(dir, NULL, "add", "-A", NULL);
		git(dir, NULL, "commit", "-q", "-m", "awk2", NULL);
		d2 = head(dir, "HEAD");
		git(dir, &want, "diff-tree", "-r", "--no-renames", "--name-status", d1, d2, NULL);
		{
			/* "M\tpath\n..." -> "M:path M:path" */
			for (size_t i = 0; i < want.len; i++)
				if (want.data[i] == '\t')
					want.data[i] = ':';
				else if (want.data[i] == '\n')
					want.data[i] = ' ';
		}
		memset(&s2, 0, sizeof(s2));
		ok(git_changed_paths(repo, d1, d2, on_change, &s2) == 0, "awkward diff runs");
		is_str(s2.list, want.data, "same changes as git diff-tree");
		memset(&s2, 0, sizeof(s2));
		git_changed_paths(repo, d2, d1, on_change, &s2);
		git(dir, &want, "diff-tree", "-r", "--no-renames", "--name-status", d2, d1, NULL);
		for (size_t i = 0; i < want.len; i++)
			if (want.data[i] == '\t')
				want.data[i] = ':';
			else if (want.data[i] == '\n')
				want.data[i] = ' ';
		is_str(s2.list, want.data, "and the other way round");
		git(dir, NULL, "checkout", "-q", "main", NULL);
		free(d1);
		free(d2);
		buf_release(&want);
	}

	/* trees */
	memset(&s, 0, sizeof(s));
	ok(git_tree_files(repo, c2, "k8s/web", GIT_TREE_RECURSIVE, on_entry, &s) == 0, "ls-tree");
	is_str(s.list, "blob:100644:k8s/web/deploy.yaml blob:100644:k8s/web/new.yaml",
	       "a prefix matches whole components (not k8s/webapp)");
	memset(&s, 0, sizeof(s));
	git_tree_files(repo, c2, "k8s/", 0, on_entry, &s);
	is_str(s.list, "blob:100644:k8s/top.yaml tree:40000:k8s/web tree:40000:k8s/webapp",
	       "a directory's direct entries");
	memset(&s, 0, sizeof(s));
	git_tree_files(repo, c2, NULL, 0, on_entry, &s);
	is_str(s.list, "blob:100644:README tree:40000:k8s", "the root's entries");
	memset(&s, 0, sizeof(s));
	ok(git_tree_files(repo, c2, "nope", GIT_TREE_RECURSIVE, on_entry, &s) == 0 && !s.list[0],
	   "a missing prefix lists nothing");
	memset(&s, 0, sizeof(s));
	git_tree_files(repo, c2, "k8s/top.yaml", GIT_TREE_RECURSIVE, on_entry, &s);
	is_str(s.list, "blob:100644:k8s/top.yaml", "a file prefix lists the file");
	memset(&s, 0, sizeof(s));
	git_tree_files(repo, c2, "k8s/*", GIT_TREE_RECURSIVE, on_entry, &s);
	is_str(s.list, "", "prefixes are literal, not globs");
	n = 0;
	is_int(git_tree_files(repo, c2, NULL, GIT_TREE_RECURSIVE, stop_at_first, &n), 42,
	       "the callback can stop the walk");
	is_int(n, 1, "after one entry");

	/* blobs */
	ok(git_read_blob(repo, "HEAD:k8s/web/deploy.yaml", &b) == 0, "read rev:path");
	is_str(b.data, "kind: Deployment\nmetadata: {}\n", "its bytes");
	is_int(git_read_blob(repo, "HEAD:no/such/file", &b), 1, "a missing path is 1");
	ok(git_read_blob(repo, "HEAD:k8s", &b) < 0, "a tree is not a blob");
	ok(git_read_object(repo, "HEAD:k8s", &type, &b) == 0 && !strcmp(type, "tree"),
	   "but it is an object");
	ok(git_read_blob(repo, "HEAD:README", &small) < 0 && small.toobig, "over the cap fails");
	ok(git_read_blob(repo, "HEAD:README", &b) == 0 && !strcmp(b.data, "hello\n"),
	   "and the stream is still in step");
	ok(git_read_blob(repo, "bad\nname", &b) < 0, "a name with a newline is refused");

	/* many objects, pipelined */
	{
		const char *names[300];
		struct batch_seen bs;
		size_t i;

		for (i = 0; i < 300; i++)
			names[i] = i % 3 == 0 ? "HEAD:README" : i % 3 == 1 ? "HEAD:k8s/top.yaml" :
				   "HEAD:nope";
		memset(&bs, 0, sizeof(bs));
		ok(git_read_objects(repo, names, 300, 1 << 20, on_object, &bs) == 0,
		   "300 objects read in batches");
		ok(bs.n == 300 && bs.order_ok, "each answered once, in order");
		is_int(bs.found, 200, "found ones have content");
		is_int(bs.missing, 100, "missing ones are 1");
		memset(&bs, 0, sizeof(bs));
		ok(git_read_objects(repo, names, 300, 4, on_object, &bs) == 0 && bs.toobig == 200,
		   "over max_size is -1 with toobig, and the walk goes on");
		memset(&bs, 0, sizeof(bs));
		bs.stop_at = 5;
		is_int(git_read_objects(repo, names, 300, 1 << 20, on_object, &bs), 7,
		       "the callback can stop");
		ok(git_read_blob(repo, "HEAD:README", &b) == 0 && !strcmp(b.data, "hello\n"),
		   "the stream is in step after a stop mid-batch");
	}
	{
		char *hooks = git_repo_git_path(repo, "hooks");

		ok(hooks && hooks[0] == '/' && strstr(hooks, "/r1/.git/hooks"), "git path of hooks: %s",
		   hooks ? hooks : "(null)");
		free(hooks);
	}

	/* config */
	git(dir, NULL, "config", "tidegate.failOpen", "yes", NULL);
	git(dir, NULL, "config", "--add", "tidegate.paths", "k8s/*", NULL);
	git(dir, NULL, "config", "--add", "tidegate.paths", "apps/**", NULL);
	git(dir, NULL, "config", "tidegate.strict", "maybe", NULL);
	git(dir, NULL, "config", "other.key", "x", NULL);
	ok(git_config_load(repo, "tidegate.") == 0, "config loads");
	is_int(git_config_bool(repo, "tidegate.failopen", 0), 1, "bool yes, case-insensitive key");
	is_int(git_config_bool(repo, "tidegate.allowBypass", 0), 0, "an unset bool is the default");
	is_int(git_config_bool(repo, "tidegate.strict", 0), -1, "a bad bool is -1");
	is_str(git_config_get(repo, "other.key"), NULL, "keys outside the prefix are not loaded");
	{
		size_t pos = 0;
		const char *a = git_config_next(repo, "tidegate.paths", &pos);
		const char *b2 = git_config_next(repo, "tidegate.paths", &pos);

		ok(a && b2 && !strcmp(a, "k8s/*") && !strcmp(b2, "apps/**") &&
		   !git_config_next(repo, "tidegate.paths", &pos), "multi-valued key in order");
	}

	/* deadline */
	git_repo_set_deadline(repo, monotonic_ms() - 1);
	ok(git_tree_files(repo, c2, NULL, 0, on_entry, &s) < 0 && git_repo_timed_out(repo),
	   "a passed deadline fails the operation and says so");
	ok(git_read_blob(repo, "HEAD:README", &b) < 0, "cat-file too");

	git_repo_free(repo);
	buf_release(&b);
	buf_release(&small);
	free(c1);
	free(c2);
	free(c3);
	free(c4);
	free(dir);
}

static void test_sha256_repo(void)
{
	char *dir = xstrfmt("%s/r256", tmp);
	const char *zero64 = "0000000000000000000000000000000000000000000000000000000000000000";
	struct git_repo *repo;
	struct seen s;
	struct buf b = BUF_INIT(1024);
	char *c1, *c2, *c3;

	if (git(tmp, NULL, "init", "-q", "--bare", "--object-format=sha256", dir, NULL) < 0) {
		ok(1, "# skip sha256 repositories unsupported");
		free(dir);
		return;
	}
	free(dir);
	dir = xstrfmt("%s/w256", tmp);
	git(tmp, NULL, "init", "-q", "-b", "main", "--object-format=sha256", dir, NULL);
	WRITE(dir, "a.yaml", "a: 1\n");
	git(dir, NULL, "add", ".", NULL);
	git(dir, NULL, "commit", "-q", "-m", "one", NULL);
	c1 = head(dir, "HEAD");
	repo = git_repo_open(dir);
	ok(repo && !strcmp(git_object_format(repo), "sha256"), "sha256 repository");
	if (repo) {
		is_int(strlen(c1), 64, "64-digit ids");
		ok(git_changed_paths(repo, "0000000000000000000000000000000000000000", c1,
				     on_change, &s) < 0, "a 40-zero id is refused in sha256");
		/* the branch exists, so detach and drop it to see c1 as new history */
		git(dir, NULL, "update-ref", "-d", "refs/heads/main", NULL);
		memset(&s, 0, sizeof(s));
		ok(git_changed_paths(repo, zero64, c1, on_change, &s) == 0, "new root history");
		is_str(s.list, "A:a.yaml", "diffed against the sha256 empty tree");
		ok(git_read_blob(repo, c1, &b) < 0, "a commit is not a blob");
		memset(&s, 0, sizeof(s));
		git_tree_files(repo, c1, NULL, GIT_TREE_RECURSIVE, on_entry, &s);
		is_str(s.list, "blob:100644:a.yaml", "ls-tree with 64-digit ids");
		memset(&s, 0, sizeof(s));
		git_tree_files(repo, c1, NULL, 0, on_entry, &s);
		is_str(s.list, "blob:100644:a.yaml", "a raw sha256 tree read through cat-file");

		/* a fast-forward in nested directories: 32-byte ids in raw trees */
		WRITE(dir, "k8s/web/d.yaml", "d: 1\n");
		WRITE(dir, "k8s/db/s.yaml", "s: 1\n");
		git(dir, NULL, "add", ".", NULL);
		git(dir, NULL, "commit", "-q", "-m", "two", NULL);
		c2 = head(dir, "HEAD");
		WRITE(dir, "k8s/web/d.yaml", "d: 2\n");
		WRITE(dir, "k8s/web/new/n.yaml", "n: 1\n");
		git(dir, NULL, "rm", "-q", "a.yaml", NULL);
		git(dir, NULL, "add", ".", NULL);
		git(dir, NULL, "commit", "-q", "-m", "three", NULL);
		c3 = head(dir, "HEAD");
		memset(&s, 0, sizeof(s));
		ok(git_changed_paths(repo, c2, c3, on_change, &s) == 0, "sha256 fast-forward runs");
		is_str(s.list, "D:a.yaml M:k8s/web/d.yaml A:k8s/web/new/n.yaml",
		       "sha256 trees compared through the cat-file stream");
		free(c2);
		free(c3);
	}
	git_repo_free(repo);
	{
		char *gd = xstrfmt("%s/.git", dir);

		git(dir, NULL, "config", "tidegate.x", "y", NULL);
		setenv("GIT_DIR", gd, 1);
		repo = git_repo_open_hook("tidegate.");
		unsetenv("GIT_DIR");
		ok(repo && !strcmp(git_object_format(repo), "sha256") &&
		   git_oid_hexsz(repo) == 64, "the hook opener reads the format from the config");
		ok(repo && !strcmp(git_repo_dir(repo), gd), "and the directory from GIT_DIR");
		ok(repo && git_config_get(repo, "tidegate.x") && !strcmp(git_config_get(repo, "tidegate.x"), "y"),
		   "with the config loaded in the same go");
		git_repo_free(repo);
		free(gd);
	}
	buf_release(&b);
	free(c1);
	free(dir);
}

/* ---- the hook's config, read without a git config child ---------------- */

/* Every value of the keys the config tests use, in order, as one string. */
static void cfg_dump(struct git_repo *repo, struct buf *out)
{
	static const char *const keys[] = {
		"tidegate.refs", "tidegate.paths", "tidegate.deadline", "tidegate.x",
		"tidegate.y", "tidegate.failopen", "tidegate.strict", "tidegate.sub.x",
		"tidegate.dep.y", "tidegate.g", "tidegate.p", "other.key",
		"extensions.objectformat", NULL
	};

	buf_reset(out);
	if (!repo) {
		buf_addstr(out, "(no repository)");
		return;
	}
	for (size_t i = 0; keys[i]; i++) {
		size_t pos = 0;
		const char *v;

		while ((v = git_config_next(repo, keys[i], &pos)))
			buf_addf(out, "%s=[%s] ", keys[i], v);
	}
}

/*
 * Opens dir as the hook does, twice: directly (the file reader unless
 * it must fall back) and with `git config` forced (GIT_CONFIG_COUNT=0
 * means nothing to git, but sends the reader to git config). Both must
 * give the same settings; *spawned says which way the first one went.
 */
static int cfg_same(const char *gd, struct buf *fast, int *spawned)
{
	struct buf ref = BUF_INIT(1 << 16);
	struct git_repo *repo;
	int same;

	setenv("GIT_DIR", gd, 1);
	repo = git_repo_open_hook("tidegate.");
	*spawned = repo ? git_config_spawned(repo) : -1;
	cfg_dump(repo, fast);
	git_repo_free(repo);
	setenv("GIT_CONFIG_COUNT", "0", 1);
	repo = git_repo_open_hook("tidegate.");
	unsetenv("GIT_CONFIG_COUNT");
	unsetenv("GIT_DIR");
	if (repo && !git_config_spawned(repo))
		printf("# the forced open did not use git config\n");
	cfg_dump(repo, &ref);
	git_repo_free(repo);
	same = !strcmp(fast->data, ref.data);
	if (!same)
		printf("# read: %s\n# git:  %s\n", fast->data, ref.data);
	buf_release(&ref);
	return same;
}

static void test_config_files(void)
{
	static const struct {
		const char *name, *text;
		int spawned;	/* 1: must go to git config; -1: which refuses it */
		const char *want;	/* part of the settings, or NULL */
	} cases[] = {
		{ "plain values, several of a key, comments",
		  "[core]\n\trepositoryformatversion = 0\n\tbare = true\n[tidegate]\n"
		  "\trefs = refs/heads/*\n\tpaths = k8s\n\tpaths = apps # a comment\n"
		  "; a comment line\n# another\n\tdeadline=4s;c\n",
		  0, "tidegate.paths=[k8s] tidegate.paths=[apps]" },
		{ "quotes, escapes, continued lines, blanks kept inside",
		  "[tidegate]\n\tdeadline = \" 4s \"\n\tx = a\\tb\\\\c\\\"d \"#not\" e\n"
		  "\ty = one \\\n   two  \n\trefs = in  side  \n",
		  0, "tidegate.x=[a\tb\\c\"d #not e]" },
		{ "case of sections and names, bare and empty values",
		  "[TideGate]\n\tFailOpen\n\tSTRICT =\n[other]\n\tkey = x\n",
		  0, "tidegate.failopen=[true] tidegate.strict=[]" },
		{ "subsections, old and new style, a header sharing its line",
		  "[tidegate \"Sub\"]\n\tx = 1\n[tidegate.Dep]\n\ty = 2\n[tidegate] refs = r\n"
		  "[tidegate \"q\\\"uo\\\\te\"]\n\tx = 3\n",
		  0, "tidegate.sub.x=[1]" },
		{ "CRLF line ends and a byte order mark",
		  "\xef\xbb\xbf[tidegate]\r\n\tpaths = a\r\n\tpaths = b \r\n",
		  0, "tidegate.paths=[a] tidegate.paths=[b]" },
		{ "the object format",
		  "[core]\n\trepositoryformatversion = 1\n[extensions]\n\tobjectFormat = sha1\n",
		  0, "extensions.objectformat=[sha1]" },
		{ "an include goes to git config",
		  "[include]\n\tpath = extra.cfg\n[tidegate]\n\tx = local\n",
		  1, "tidegate.x=[included] tidegate.x=[local]" },
		{ "an includeIf goes to git config",
		  "[includeIf \"gitdir:/\"]\n\tpath = extra.cfg\n",
		  1, "tidegate.x=[included]" },
		{ "worktreeConfig goes to git config",
		  "[extensions]\n\tworktreeConfig = false\n[tidegate]\n\tx = 1\n", 1, NULL },
		{ "an unknown escape goes to git config (which refuses it)",
		  "[tidegate]\n\tx = a\\qb\n", -1, "(no repository)" },
		{ "an unclosed section goes to git config (which refuses it)",
		  "[tidegate\n\tx = 1\n", -1, "(no repository)" },
		{ "an unclosed quote goes to git config (which refuses it)",
		  "[tidegate]\n\tx = \"a\n", -1, "(no repository)" },
		{ "a name then a comment goes to git config (which refuses it)",
		  "[tidegate]\n\tx # c\n", -1, "(no repository)" },
		{ "a partial byte order mark goes to git config (which refuses it)",
		  "\xef\xbb[tidegate]\n", -1, "(no repository)" },
	};
	char *dir = xstrfmt("%s/cfg.git", tmp), *cfg = xstrfmt("%s/config", dir);
	char *home = xstrfmt("%s/home", tmp), *sys = xstrfmt("%s/system.cfg", tmp);
	struct buf got = BUF_INIT(1 << 16);
	int spawned;

	git(tmp, NULL, "init", "-q", "--bare", dir, NULL);
	WRITE(dir, "extra.cfg", "[tidegate]\n\tx = included\n");
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		write_file(dir, "config", cases[i].text, strlen(cases[i].text));
		ok(cfg_same(dir, &got, &spawned), "config: %s: as git config reads it", cases[i].name);
		is_int(spawned, cases[i].spawned, "config: %s: %s", cases[i].name,
		       cases[i].spawned > 0 ? "git config answers" : cases[i].spawned < 0 ?
		       "no repository opened" : "no git config child");
		if (cases[i].want)
			ok(strstr(got.data, cases[i].want) != NULL, "config: %s: %s", cases[i].name,
			   cases[i].want);
	}
	/* the other files, in git's order: system, global (xdg, then ~/.gitconfig), local */
	WRITE(dir, "config", "[tidegate]\n\tg = local\n");
	WRITE(home, ".gitconfig", "[tidegate]\n\tg = home\n");
	WRITE(home, ".config/git/config", "[tidegate]\n\tg = xdg\n");
	WRITE(tmp, "system.cfg", "[tidegate]\n\tg = system\n");
	setenv("GIT_CONFIG_NOSYSTEM", "0", 1);
	setenv("GIT_CONFIG_SYSTEM", sys, 1);
	ok(cfg_same(dir, &got, &spawned) && !spawned, "config: system and global files read directly");
	is_str(got.data, "tidegate.g=[system] tidegate.g=[xdg] tidegate.g=[home] tidegate.g=[local] ",
	       "config: in git's order");
	setenv("GIT_CONFIG_NOSYSTEM", "1", 1);
	ok(cfg_same(dir, &got, &spawned) && !spawned && !strstr(got.data, "system"),
	   "config: GIT_CONFIG_NOSYSTEM skips the system file");
	unsetenv("GIT_CONFIG_SYSTEM");
	setenv("GIT_CONFIG_GLOBAL", sys, 1);
	ok(cfg_same(dir, &got, &spawned) && !spawned, "config: GIT_CONFIG_GLOBAL read directly");
	is_str(got.data, "tidegate.g=[system] tidegate.g=[local] ", "config: instead of the global files");
	unsetenv("GIT_CONFIG_GLOBAL");
	/* the installed git's own system file: read (git under /usr) or left to git config */
	unsetenv("GIT_CONFIG_NOSYSTEM");
	ok(cfg_same(dir, &got, &spawned), "config: with the installed git's system file");
	setenv("GIT_CONFIG_NOSYSTEM", "1", 1);
	setenv("GIT_CONFIG_PARAMETERS", "'tidegate.p'='from-c'", 1);
	ok(cfg_same(dir, &got, &spawned) && spawned == 1 && strstr(got.data, "tidegate.p=[from-c]"),
	   "config: git -c settings (GIT_CONFIG_PARAMETERS) go to git config");
	unsetenv("GIT_CONFIG_PARAMETERS");
	unlink(cfg);
	ok(cfg_same(dir, &got, &spawned) && !spawned, "config: no repository config file is fine");
	WRITE(dir, "config", "[tidegate]\n\tx = 1\n");
	{
		char *head = xstrfmt("%s/HEAD", dir), *moved = xstrfmt("%s/HEAD.away", dir);

		rename(head, moved);
		ok(cfg_same(dir, &got, &spawned) && spawned == 1,
		   "config: not a git directory: left to git config");
		rename(moved, head);
		free(head);
		free(moved);
	}
	{
		char *h = xstrfmt("%s/.gitconfig", home), *x = xstrfmt("%s/.config/git/config", home);

		unlink(h);
		unlink(x);
		free(h);
		free(x);
	}
	buf_release(&got);
	free(dir);
	free(cfg);
	free(home);
	free(sys);
}

static int on_change_modes(const struct git_change *c, void *data)
{
	struct seen *s = data;
	size_t n = strlen(s->list);

	snprintf(s->list + n, sizeof(s->list) - n, "%s%c:%o:%o:%s", n ? " " : "", c->status,
		 c->old_mode, c->new_mode, c->path);
	return 0;
}

/* Appends the raw tree entry "<mode> <name>\0<id>" (id in hex, any length) to b. */
static void tree_entry(struct buf *b, const char *mode, const char *name, const char *hex)
{
	buf_addf(b, "%s %s", mode, name);
	buf_addch(b, '\0');
	for (size_t i = 0; hex[i] && hex[i + 1]; i += 2) {
		char two[3] = { hex[i], hex[i + 1], '\0' };

		buf_addch(b, (int)strtol(two, NULL, 16));
	}
}

/* Writes raw as a tree object (unchecked) and a commit of it; returns the commit id. */
static char *raw_commit(const char *dir, const struct buf *raw)
{
	struct buf out = BUF_INIT(1024);
	char *tree, *commit;

	write_file(dir, "raw.tree", raw->data, raw->len);
	git(dir, &out, "hash-object", "-w", "-t", "tree", "--literally", "raw.tree", NULL);
	tree = xstrdup(out.data);
	git(dir, &out, "commit-tree", tree, "-m", "raw", NULL);
	commit = xstrdup(out.data);
	free(tree);
	buf_release(&out);
	return commit;
}

/* "M\tpath\n..." from git diff-tree --name-status -> "M:path M:path" */
static void name_status_words(struct buf *b)
{
	for (size_t i = 0; i < b->len; i++)
		if (b->data[i] == '\t')
			b->data[i] = ':';
		else if (b->data[i] == '\n')
			b->data[i] = ' ';
}

/*
 * The tree diff read through the cat-file stream: nested directories
 * added, removed and changed, mode changes, symlinks and submodule
 * entries as git diff-tree reports them; malformed or hostile tree
 * objects fail cleanly and leave the stream usable.
 */
static void test_tree_diff(void)
{
	char *dir = xstrfmt("%s/r3", tmp);
	struct buf out = BUF_INIT(1 << 20), raw = BUF_INIT(1 << 16);
	struct git_repo *repo;
	struct seen s;
	char *e0, *e1, *e2, *blob, *good, *bad, *sub1, *sub2;

	git(tmp, NULL, "init", "-q", "-b", "main", dir, NULL);
	WRITE(dir, "seed", "0\n");
	git(dir, NULL, "add", ".", NULL);
	git(dir, NULL, "commit", "-q", "-m", "zero", NULL);
	e0 = head(dir, "HEAD");
	sub1 = xstrdup(e0);
	WRITE(dir, "seed", "1\n");
	git(dir, NULL, "commit", "-q", "-am", "sub2", NULL);
	sub2 = head(dir, "HEAD");

	WRITE(dir, "a/x.yaml", "x\n");
	WRITE(dir, "a/b/y.yaml", "y\n");
	WRITE(dir, "gone/deep/q.yaml", "q\n");
	WRITE(dir, "top.yaml", "t\n");
	{
		char *l = xstrfmt("%s/ln", dir);

		symlink("top.yaml", l);
		free(l);
	}
	git(dir, NULL, "add", "-A", NULL);
	{
		char *ci = xstrfmt("160000,%s,sub", sub1);

		git(dir, NULL, "update-index", "--add", "--cacheinfo", ci, NULL);
		free(ci);
	}
	git(dir, NULL, "commit", "-q", "-m", "e1", NULL);
	e1 = head(dir, "HEAD");

	WRITE(dir, "a/b/y.yaml", "y2\n");
	git(dir, NULL, "rm", "-q", "a/x.yaml", NULL);
	git(dir, NULL, "rm", "-q", "-r", "gone", NULL);
	WRITE(dir, "a/c/z.yaml", "z\n");
	{
		char *x = xstrfmt("%s/top.yaml", dir);

		chmod(x, 0755);
		free(x);
	}
	{
		char *l = xstrfmt("%s/ln", dir);

		unlink(l);
		symlink("a/b/y.yaml", l);
		free(l);
	}
	git(dir, NULL, "add", "-A", NULL);
	{
		char *ci = xstrfmt("160000,%s,sub", sub2);

		git(dir, NULL, "update-index", "--add", "--cacheinfo", ci, NULL);
		free(ci);
	}
	git(dir, NULL, "commit", "-q", "-m", "e2", NULL);
	e2 = head(dir, "HEAD");

	repo = git_repo_open(dir);
	ok(repo != NULL, "the tree-diff repository opens");
	if (!repo)
		goto out;
	memset(&s, 0, sizeof(s));
	ok(git_changed_paths(repo, e1, e2, on_change_modes, &s) == 0, "e1..e2 runs");
	is_str(s.list, "M:100644:100644:a/b/y.yaml A:0:100644:a/c/z.yaml D:100644:0:a/x.yaml "
	       "D:100644:0:gone/deep/q.yaml M:120000:120000:ln M:160000:160000:sub "
	       "M:100644:100755:top.yaml",
	       "nested adds and deletes, a symlink, a submodule and a mode change, with modes");
	memset(&s, 0, sizeof(s));
	git_changed_paths(repo, e1, e2, on_change, &s);
	git(dir, &out, "diff-tree", "-r", "--no-renames", "--name-status", e1, e2, NULL);
	name_status_words(&out);
	is_str(s.list, out.data, "the same paths as git diff-tree");
	memset(&s, 0, sizeof(s));
	git_changed_paths(repo, e2, e1, on_change, &s);
	git(dir, &out, "diff-tree", "-r", "--no-renames", "--name-status", e2, e1, NULL);
	name_status_words(&out);
	is_str(s.list, out.data, "and backwards");
	memset(&s, 0, sizeof(s));
	ok(git_changed_paths(repo, e2, e2, on_change, &s) == 0 && !s.list[0],
	   "a commit against itself changes nothing");

	/* hostile trees: each fails, none crashes, the stream stays in step */
	git(dir, &out, "rev-parse", "HEAD:top.yaml", NULL);
	blob = xstrdup(out.data);
	{
		static const struct {
			const char *mode, *name, *what;
			int id;		/* 0 a blob's id, 1 a missing object's, 2 truncated */
		} cases[] = {
			{ "100644", "a", "an entry whose id is cut short", 2 },
			{ "10x644", "a", "an entry with a bad mode", 0 },
			{ "40000", "a", "a directory entry naming a blob", 0 },
			{ "40000", "a", "a directory entry naming a missing object", 1 },
			{ "100644", "", "an entry with no name", 0 },
		};

		for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
			buf_reset(&raw);
			tree_entry(&raw, cases[i].mode, cases[i].name,
				   cases[i].id == 0 ? blob :
				   cases[i].id == 1 ? "0123456789abcdef0123456789abcdef01234567" :
				   "abcdef");
			bad = raw_commit(dir, &raw);
			memset(&s, 0, sizeof(s));
			ok(git_changed_paths(repo, e1, bad, on_change, &s) < 0, "refused: %s",
			   cases[i].what);
			free(bad);
		}
		buf_reset(&raw);
		buf_addstr(&raw, "100644 a");	/* no NUL, no id */
		bad = raw_commit(dir, &raw);
		ok(git_changed_paths(repo, e1, bad, on_change, &s) < 0, "refused: an unended entry");
		free(bad);
	}
	/* nested deeper than the walk goes */
	buf_reset(&raw);
	tree_entry(&raw, "100644", "f", blob);
	good = raw_commit(dir, &raw);
	git(dir, &out, "rev-parse", "HEAD^{tree}", NULL);
	{
		char *t = NULL;

		buf_reset(&raw);
		tree_entry(&raw, "100644", "f", blob);
		write_file(dir, "raw.tree", raw.data, raw.len);
		git(dir, &out, "hash-object", "-w", "-t", "tree", "--literally", "raw.tree", NULL);
		t = xstrdup(out.data);
		for (int d = 0; d < 258; d++) {
			buf_reset(&raw);
			tree_entry(&raw, "40000", "d", t);
			write_file(dir, "raw.tree", raw.data, raw.len);
			git(dir, &out, "hash-object", "-w", "-t", "tree", "--literally", "raw.tree",
			    NULL);
			free(t);
			t = xstrdup(out.data);
		}
		git(dir, &out, "commit-tree", t, "-m", "deep", NULL);
		free(t);
		bad = xstrdup(out.data);
		ok(git_changed_paths(repo, good, bad, on_change, &s) < 0,
		   "trees nested 258 deep are refused");
		free(bad);
	}
	memset(&s, 0, sizeof(s));
	ok(git_changed_paths(repo, e1, e2, on_change, &s) == 0 &&
	   !strcmp(s.list, "M:a/b/y.yaml A:a/c/z.yaml D:a/x.yaml D:gone/deep/q.yaml M:ln M:sub "
		   "M:top.yaml"), "after all that the stream still answers");
	free(good);
	free(blob);
	git_repo_free(repo);
out:
	free(e0);
	free(e1);
	free(e2);
	free(sub1);
	free(sub2);
	free(dir);
	buf_release(&out);
	buf_release(&raw);
}

static void test_not_a_repo(void)
{
	struct git_repo *repo;

	log_set_level(LOGL_ERROR + 0);
	repo = git_repo_open(tmp);
	ok(repo == NULL, "a plain directory is not a repository");
	git_repo_free(repo);
}

int main(void)
{
	char *home;

	log_init("t-git", LOGL_ERROR, LOG_FORMAT_TEXT);
	/* the failures tested below log errors on purpose: keep them out of the TAP stream */
	if (!getenv("TIDEGATE_TEST_VERBOSE"))
		log_set_fd(open("/dev/null", O_WRONLY | O_CLOEXEC));
	snprintf(tmp, sizeof(tmp), "%s/t-git.XXXXXX", getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp");
	if (!mkdtemp(tmp)) {
		printf("Bail out! mkdtemp\n");
		return 1;
	}
	home = xstrfmt("%s/home", tmp);
	mkdir(home, 0755);
	setenv("HOME", home, 1);
	setenv("GIT_CONFIG_NOSYSTEM", "1", 1);
	unsetenv("GIT_DIR");
	test_basics();
	test_not_a_repo();
	test_sha1_repo();
	test_sha256_repo();
	test_tree_diff();
	test_config_files();
	{
		const char *rm[] = { "rm", "-rf", tmp, NULL };
		struct spawn sp = SPAWN_INIT;
		struct spawn_result r = SPAWN_RESULT_INIT(1024, 1024);

		sp.argv = rm;
		spawn_run(&sp, NULL, 0, 20000, &r);
		spawn_result_release(&r);
	}
	free(home);
	return done_testing();
}
