#include "git.h"
#include "hmac.h"
#include "log.h"
#include "spawn.h"
#include "xalloc.h"

#include <errno.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

/* Caps on what one git child may print; more is refused, never truncated. */
#define GIT_OUT_MAX (64u << 20)
#define GIT_ERR_MAX (16u << 10)
/* A new ref with more boundary commits than this is checked whole. */
#define GIT_MAX_BOUNDARIES 32

static const char empty_tree_sha1[] = "4b825dc642cb6eb9a060e54bf8d69288fbee4904";
static const char empty_tree_sha256[] =
	"6ef19b41225c5369f1c104d45d8d85efa9b057b53b14b4b9b939dd74decc5321";

struct git_config_entry {
	char *key;	/* lowercased as git prints it */
	char *value;	/* NULL for a bare "key" (an implicit true) */
};

struct cat_file {
	struct spawn sp;
	int running;
	int broken;		/* the stream is out of step: never use it again */
	char rbuf[65536];
	size_t rpos, rlen;
};

struct git_repo {
	char *git_dir;		/* as given to --git-dir, or NULL */
	char *abs_dir;
	char format[8];		/* "sha1" / "sha256" */
	size_t hexsz;
	long long deadline;
	int timed_out;
	struct cat_file cat;
	struct git_config_entry *cfg;
	size_t ncfg, alloc_cfg;
	int cfg_spawned;	/* the config came from a `git config` child */
};

/* ---- running git ---------------------------------------------------- */

/* Milliseconds left before the deadline; -1 when there is none, 0 when passed. */
static long long time_left(struct git_repo *repo)
{
	long long left;

	if (!repo->deadline)
		return -1;
	left = repo->deadline - monotonic_ms();
	return left > 0 ? left : 0;
}

static int deadline_passed(struct git_repo *repo, const char *what)
{
	repo->timed_out = 1;
	return error("git %s: deadline passed", what);
}

/* Trims a child's stderr to its first line for a message. */
static const char *first_line(struct buf *b)
{
	char *nl = memchr(b->data, '\n', b->len);

	if (nl)
		*nl = '\0';
	return b->len ? b->data : "no message";
}

/*
 * Runs `git [--git-dir D] --literal-pathspecs args...` to completion,
 * stdout into out (reset first, capped). ok_codes is a bit set of exit
 * codes that count as success besides 0 (bit n = code n); the code is
 * stored in *code_out when not NULL.
 */
static int git_run(struct git_repo *repo, const char *const *args, struct buf *out,
		   unsigned ok_codes, int *code_out)
{
	const char *argv[32];
	size_t n = 0, i;
	struct spawn sp = SPAWN_INIT;
	struct spawn_result res = SPAWN_RESULT_INIT(out->max, GIT_ERR_MAX);
	long long left = time_left(repo);
	int ret = -1;

	if (left == 0)
		return deadline_passed(repo, args[0]);
	argv[n++] = "git";
	if (repo->git_dir) {
		argv[n++] = "--git-dir";
		argv[n++] = repo->git_dir;
	}
	argv[n++] = "--literal-pathspecs";
	for (i = 0; args[i]; i++) {
		if (n + 2 > sizeof(argv) / sizeof(argv[0]))
			return error("git %s: too many arguments", args[0]);
		argv[n++] = args[i];
	}
	argv[n] = NULL;
	sp.argv = argv;
	/* res.out is moved into out below, so out's old contents go first */
	buf_release(out);
	if (spawn_run(&sp, NULL, 0, left > 0 ? (int)(left > 1000000 ? 1000000 : left) : 0,
		      &res) < 0)
		goto done;
	if (res.timed_out) {
		deadline_passed(repo, args[0]);
		goto done;
	}
	if (!res.exited) {
		error("git %s: killed by signal %d", args[0], res.signo);
		goto done;
	}
	if (res.out.toobig) {
		error("git %s: output over %zu bytes", args[0], out->max);
		goto done;
	}
	if (res.code != 0 && (res.code > 31 || !(ok_codes & (1u << res.code)))) {
		error("git %s failed (exit %d): %s", args[0], res.code, first_line(&res.err));
		goto done;
	}
	if (code_out)
		*code_out = res.code;
	*out = res.out;
	buf_init(&res.out, out->max);
	ret = 0;
done:
	spawn_result_release(&res);
	return ret;
}

static int check_rev(const char *rev)
{
	if (!rev || !*rev || *rev == '-' || strchr(rev, '\n'))
		return error("invalid revision '%s'", rev ? rev : "");
	return 0;
}

/* ---- the repository -------------------------------------------------- */

struct git_repo *git_repo_open(const char *git_dir)
{
	struct git_repo *repo = xcalloc(1, sizeof(*repo));
	const char *args[] = { "rev-parse", "--absolute-git-dir", "--show-object-format", NULL };
	struct buf out = BUF_INIT(64 * 1024);
	char *nl, *fmt;

	if (git_dir) {
		struct stat st;
		char *dotgit = xstrfmt("%s/.git", git_dir);

		/* a work tree: its git directory is .git inside */
		if (!stat(dotgit, &st) && S_ISDIR(st.st_mode))
			repo->git_dir = dotgit;
		else {
			repo->git_dir = xstrdup(git_dir);
			free(dotgit);
		}
	}
	repo->cat.sp = (struct spawn)SPAWN_INIT;
	if (git_run(repo, args, &out, 0, NULL) < 0)
		goto fail;
	nl = strchr(out.data, '\n');
	if (!nl)
		goto bad;
	*nl = '\0';
	repo->abs_dir = xstrdup(out.data);
	fmt = nl + 1;
	nl = strchr(fmt, '\n');
	if (nl)
		*nl = '\0';
	if (!strcmp(fmt, "sha1"))
		repo->hexsz = GIT_SHA1_HEXSZ;
	else if (!strcmp(fmt, "sha256"))
		repo->hexsz = GIT_SHA256_HEXSZ;
	else
		goto bad;
	snprintf(repo->format, sizeof(repo->format), "%s", fmt);
	if (repo->git_dir) {
		/* from now on name it absolutely: git's answers come back absolute */
		free(repo->git_dir);
		repo->git_dir = xstrdup(repo->abs_dir);
	}
	buf_release(&out);
	return repo;
bad:
	error("git rev-parse: unexpected output '%s'", out.data);
fail:
	error("not a git repository: '%s'", git_dir ? git_dir : ".");
	buf_release(&out);
	git_repo_free(repo);
	return NULL;
}

static void cat_file_stop(struct git_repo *repo)
{
	struct cat_file *c = &repo->cat;

	if (!c->running)
		return;
	if (c->broken)
		spawn_kill(&c->sp, SIGKILL);
	spawn_finish(&c->sp);	/* closing its stdin ends a healthy child */
	c->running = 0;
}

void git_repo_free(struct git_repo *repo)
{
	size_t i;

	if (!repo)
		return;
	cat_file_stop(repo);
	for (i = 0; i < repo->ncfg; i++) {
		free(repo->cfg[i].key);
		free(repo->cfg[i].value);
	}
	free(repo->cfg);
	free(repo->git_dir);
	free(repo->abs_dir);
	free(repo);
}

const char *git_repo_dir(struct git_repo *repo)
{
	return repo->abs_dir;
}

char *git_repo_git_path(struct git_repo *repo, const char *name)
{
	const char *args[] = { "rev-parse", "--git-path", name, NULL };
	struct buf out = BUF_INIT(PATH_MAX + 1);
	char *ret = NULL;

	if (!name || !*name || strchr(name, '\n')) {
		error("invalid git path '%s'", name ? name : "");
		return NULL;
	}
	if (git_run(repo, args, &out, 0, NULL) < 0)
		goto done;
	while (out.len && out.data[out.len - 1] == '\n')
		buf_setlen(&out, out.len - 1);
	if (!out.len)
		error("git rev-parse --git-path: no answer for '%s'", name);
	else if (out.data[0] == '/')
		ret = buf_detach(&out, NULL);
	else if (repo->git_dir)
		/* a relative core.hooksPath: relative to the repository */
		ret = xstrfmt("%s/%s", repo->abs_dir, out.data);
	else {
		char cwd[PATH_MAX];

		if (getcwd(cwd, sizeof(cwd)))
			ret = xstrfmt("%s/%s", cwd, out.data);
		else
			error_errno("getcwd");
	}
done:
	buf_release(&out);
	return ret;
}

void git_repo_set_deadline(struct git_repo *repo, long long deadline_ms)
{
	repo->deadline = deadline_ms;
}

int git_repo_timed_out(const struct git_repo *repo)
{
	return repo->timed_out;
}

const char *git_object_format(struct git_repo *repo)
{
	return repo->format[0] ? repo->format : NULL;
}

size_t git_oid_hexsz(struct git_repo *repo)
{
	return repo->hexsz;
}

static int is_hex_run(const char *s, size_t n, int zeros_only)
{
	size_t i;

	for (i = 0; i < n; i++) {
		char c = s[i];

		if (zeros_only ? c != '0' : !((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f')))
			return 0;
	}
	return 1;
}

int git_is_zero_oid(const char *hex)
{
	size_t n = hex ? strlen(hex) : 0;

	return (n == GIT_SHA1_HEXSZ || n == GIT_SHA256_HEXSZ) && is_hex_run(hex, n, 1);
}

int git_is_oid_hex(const char *s)
{
	size_t n = s ? strlen(s) : 0;

	return (n == GIT_SHA1_HEXSZ || n == GIT_SHA256_HEXSZ) && is_hex_run(s, n, 0);
}

int git_resolve_commit(struct git_repo *repo, const char *rev, char out[GIT_MAX_HEXSZ + 1])
{
	struct buf b = BUF_INIT(4096);
	char *spec;
	int code = 0, ret = -1;

	out[0] = '\0';
	if (check_rev(rev) < 0)
		return -1;
	spec = xstrfmt("%s^{commit}", rev);
	{
		const char *args[] = { "rev-parse", "--verify", "--quiet", "--end-of-options",
				       spec, NULL };

		if (git_run(repo, args, &b, 1u << 1, &code) < 0)
			goto done;
	}
	if (code != 0) {
		error("'%s' does not name a commit", rev);
		goto done;
	}
	if (b.len && b.data[b.len - 1] == '\n')
		buf_setlen(&b, b.len - 1);
	if (b.len != repo->hexsz || !git_is_oid_hex(b.data)) {
		error("git rev-parse: unexpected output for '%s'", rev);
		goto done;
	}
	memcpy(out, b.data, b.len + 1);
	ret = 0;
done:
	free(spec);
	buf_release(&b);
	return ret;
}

/* ---- changed paths --------------------------------------------------- */

struct change_list {
	struct git_change *v;
	size_t n, alloc;
};

static void change_list_release(struct change_list *cl)
{
	size_t i;

	for (i = 0; i < cl->n; i++) {
		free((char *)cl->v[i].old_oid);
		free((char *)cl->v[i].new_oid);
		free((char *)cl->v[i].path);
	}
	free(cl->v);
	cl->v = NULL;
	cl->n = cl->alloc = 0;
}

static int parse_mode(const char *s, size_t len, unsigned *out)
{
	unsigned m = 0;
	size_t i;

	if (!len || len > 7)
		return -1;
	for (i = 0; i < len; i++) {
		if (s[i] < '0' || s[i] > '7')
			return -1;
		m = m * 8 + (unsigned)(s[i] - '0');
	}
	*out = m;
	return 0;
}

/*
 * Parses `git diff-tree -r -z --no-renames` raw output:
 * ":<omode> SP <nmode> SP <ooid> SP <noid> SP <status> NUL <path> NUL"...
 */
static int parse_diff_tree(struct git_repo *repo, const struct buf *out,
			   struct change_list *cl)
{
	const char *p = out->data, *end = out->data + out->len;
	size_t hx = repo->hexsz;

	while (p < end) {
		const char *hdr = p, *hend = memchr(p, '\0', (size_t)(end - p));
		const char *path, *pend;
		struct git_change c;

		if (!hend)
			goto bad;
		path = hend + 1;
		pend = path < end ? memchr(path, '\0', (size_t)(end - path)) : NULL;
		if (!pend || pend == path)
			goto bad;
		/* ":" 6 " " 6 " " hx " " hx " " status */
		if ((size_t)(hend - hdr) < 1 + 6 + 1 + 6 + 1 + 2 * hx + 1 + 1 + 1 || hdr[0] != ':')
			goto bad;
		{
			const char *m1 = hdr + 1, *sp1 = memchr(m1, ' ', (size_t)(hend - m1));
			const char *m2, *sp2, *o1, *o2;

			if (!sp1 || parse_mode(m1, (size_t)(sp1 - m1), &c.old_mode) < 0)
				goto bad;
			m2 = sp1 + 1;
			sp2 = memchr(m2, ' ', (size_t)(hend - m2));
			if (!sp2 || parse_mode(m2, (size_t)(sp2 - m2), &c.new_mode) < 0)
				goto bad;
			o1 = sp2 + 1;
			if ((size_t)(hend - o1) < 2 * hx + 3 || o1[hx] != ' ' || o1[2 * hx + 1] != ' ')
				goto bad;
			o2 = o1 + hx + 1;
			if (!is_hex_run(o1, hx, 0) || !is_hex_run(o2, hx, 0))
				goto bad;
			c.status = o2[hx + 1];
			if (!strchr("AMDT", c.status))
				goto bad;
			c.old_oid = xstrndup(o1, hx);
			c.new_oid = xstrndup(o2, hx);
		}
		c.path = xstrndup(path, (size_t)(pend - path));
		XGROW(cl->v, cl->n + 1, cl->alloc);
		cl->v[cl->n++] = c;
		p = pend + 1;
	}
	return 0;
bad:
	return error("git diff-tree: cannot parse its output");
}

static int diff_trees(struct git_repo *repo, const char *a, const char *b,
		      struct change_list *cl)
{
	const char *args[] = { "diff-tree", "-r", "-z", "--no-renames", "--no-commit-id",
			       a, b, "--", NULL };
	struct buf out = BUF_INIT(GIT_OUT_MAX);
	int ret;

	ret = git_run(repo, args, &out, 0, NULL);
	if (!ret)
		ret = parse_diff_tree(repo, &out, cl);
	buf_release(&out);
	return ret;
}

static int cmp_change(const void *a, const void *b)
{
	return strcmp(((const struct git_change *)a)->path, ((const struct git_change *)b)->path);
}

static int diff_trees_cat(struct git_repo *repo, const char *old, const char *new,
			  struct change_list *cl);

/* Fills cl with the changes a new ref brings (see git.h). */
static int new_ref_changes(struct git_repo *repo, const char *new, struct change_list *cl)
{
	const char *args[] = { "rev-list", "--boundary", new, "--not", "--all", NULL };
	struct buf out = BUF_INIT(GIT_OUT_MAX);
	const char **bounds = NULL;
	size_t nb = 0, alloc = 0, i;
	int any_new = 0, ret = -1;
	char *p, *line;

	if (git_run(repo, args, &out, 0, NULL) < 0)
		goto done;
	for (p = out.data; *p; p = line) {
		char *nl = strchr(p, '\n');

		line = nl ? nl + 1 : p + strlen(p);
		if (nl)
			*nl = '\0';
		if (*p == '-') {
			XGROW(bounds, nb + 1, alloc);
			bounds[nb++] = p + 1;
		} else if (*p) {
			any_new = 1;
		}
	}
	if (!any_new) {
		ret = 0;
		goto done;
	}
	if (!nb || nb > GIT_MAX_BOUNDARIES) {
		ret = diff_trees(repo, repo->hexsz == GIT_SHA256_HEXSZ ? empty_tree_sha256 :
				 empty_tree_sha1, new, cl);
		goto done;
	}
	for (i = 0; i < nb; i++) {
		if (!git_is_oid_hex(bounds[i])) {
			error("git rev-list: unexpected boundary '%s'", bounds[i]);
			goto done;
		}
		/* a branch off existing history: usually a small difference, no child for it */
		if (diff_trees_cat(repo, bounds[i], new, cl) < 0)
			goto done;
	}
	ret = 0;
done:
	free(bounds);
	buf_release(&out);
	return ret;
}

int git_changed_paths(struct git_repo *repo, const char *old, const char *new,
		      git_change_fn *fn, void *data)
{
	struct change_list cl = { NULL, 0, 0 };
	size_t i;
	int ret;

	if (!git_is_oid_hex(old) || !git_is_oid_hex(new) ||
	    strlen(old) != repo->hexsz || strlen(new) != repo->hexsz)
		return error("invalid object ids '%s' '%s' for a %s repository",
			     old ? old : "", new ? new : "", repo->format);
	if (git_is_zero_oid(new))
		return 0;
	if (git_is_zero_oid(old))
		ret = new_ref_changes(repo, new, &cl);
	else
		ret = diff_trees_cat(repo, old, new, &cl);
	if (ret < 0)
		goto done;
	if (cl.n)
		qsort(cl.v, cl.n, sizeof(*cl.v), cmp_change);
	for (i = 0; i < cl.n; i++) {
		if (i && !strcmp(cl.v[i].path, cl.v[i - 1].path))
			continue;
		ret = fn(&cl.v[i], data);
		if (ret)
			break;
	}
done:
	change_list_release(&cl);
	return ret;
}

/* ---- trees ----------------------------------------------------------- */

/*
 * One directory's entries, read as a raw tree object through the
 * cat-file child (no extra process): "<mode> SP <name> NUL <raw id>"...
 */

static int tree_entries_cat(struct git_repo *repo, const char *rev, const char *dir,
			    size_t dirlen, git_entry_fn *fn, void *data)
{
	struct buf tree = BUF_INIT(GIT_OUT_MAX);
	struct buf path = BUF_INIT(PATH_MAX * 4);
	char *name = dirlen ? xstrfmt("%s:%.*s", rev, (int)dirlen, dir) : xstrfmt("%s^{tree}", rev);
	const char *type, *p, *end;
	size_t raw = repo->hexsz / 2;
	int r, ret = -1;

	r = git_read_object(repo, name, &type, &tree);
	if (r == 1 || (r == 0 && strcmp(type, "tree"))) {
		ret = 0;	/* no such directory: nothing listed, as ls-tree */
		goto done;
	}
	if (r < 0) {
		if (tree.toobig)
			error("tree '%s' is over %u bytes", name, GIT_OUT_MAX);
		goto done;
	}
	for (p = tree.data, end = tree.data + tree.len; p < end; ) {
		const char *sp = memchr(p, ' ', (size_t)(end - p));
		const char *nul = sp ? memchr(sp, '\0', (size_t)(end - sp)) : NULL;
		struct git_entry e;
		char oid[GIT_MAX_HEXSZ + 1];

		if (!nul || nul == sp + 1 || (size_t)(end - nul - 1) < raw ||
		    parse_mode(p, (size_t)(sp - p), &e.mode) < 0) {
			error("tree '%s' is malformed", name);
			goto done;
		}
		hex_encode((const unsigned char *)nul + 1, raw, oid);
		e.type = e.mode == GIT_MODE_TREE ? "tree" : e.mode == GIT_MODE_GITLINK ? "commit" :
			 "blob";
		e.oid = oid;
		buf_reset(&path);
		if (dirlen)
			buf_addf(&path, "%.*s/", (int)dirlen, dir);
		if (buf_add(&path, sp + 1, (size_t)(nul - sp - 1)) < 0) {
			error("tree '%s': path too long", name);
			goto done;
		}
		e.path = path.data;
		r = fn(&e, data);
		if (r) {
			ret = r;
			goto done;
		}
		p = nul + 1 + raw;
	}
	ret = 0;
done:
	free(name);
	buf_release(&tree);
	buf_release(&path);
	return ret;
}

/* ---- comparing two trees through the cat-file stream ------------------ */

struct raw_entry {
	unsigned mode;
	const char *name;
	size_t namelen;
	const unsigned char *id;
};

/* The next entry of a raw tree at *p; 1, 0 at the end, -1 when malformed. */
static int raw_entry_next(const char **p, const char *end, size_t raw, struct raw_entry *e)
{
	const char *sp, *nul;

	if (*p >= end)
		return 0;
	sp = memchr(*p, ' ', (size_t)(end - *p));
	nul = sp ? memchr(sp, '\0', (size_t)(end - sp)) : NULL;
	if (!nul || nul == sp + 1 || (size_t)(end - nul - 1) < raw ||
	    parse_mode(*p, (size_t)(sp - *p), &e->mode) < 0)
		return -1;
	e->name = sp + 1;
	e->namelen = (size_t)(nul - sp - 1);
	e->id = (const unsigned char *)nul + 1;
	*p = nul + 1 + raw;
	return 1;
}

/* git's tree order: names compare as if a directory's had a trailing '/'. */
static int raw_entry_cmp(const struct raw_entry *a, const struct raw_entry *b)
{
	size_t len = a->namelen < b->namelen ? a->namelen : b->namelen;
	int c = memcmp(a->name, b->name, len);
	unsigned char c1, c2;

	if (c)
		return c;
	c1 = a->namelen > len ? (unsigned char)a->name[len] : a->mode == GIT_MODE_TREE ? '/' : 0;
	c2 = b->namelen > len ? (unsigned char)b->name[len] : b->mode == GIT_MODE_TREE ? '/' : 0;
	return c1 < c2 ? -1 : c1 > c2;
}

static void add_raw_change(struct git_repo *repo, struct change_list *cl, char status,
			   const struct buf *prefix, const struct raw_entry *a,
			   const struct raw_entry *b)
{
	size_t raw = repo->hexsz / 2;
	const struct raw_entry *e = b ? b : a;
	struct git_change c;
	char *o = xcalloc(1, repo->hexsz + 1), *n = xcalloc(1, repo->hexsz + 1);

	memset(o, '0', repo->hexsz);
	memset(n, '0', repo->hexsz);
	if (a)
		hex_encode(a->id, raw, o);
	if (b)
		hex_encode(b->id, raw, n);
	c.status = status;
	c.old_mode = a ? a->mode : 0;
	c.new_mode = b ? b->mode : 0;
	c.old_oid = o;
	c.new_oid = n;
	c.path = xstrfmt("%s%.*s", prefix->data, (int)e->namelen, e->name);
	XGROW(cl->v, cl->n + 1, cl->alloc);
	cl->v[cl->n++] = c;
}

#define GIT_MAX_TREE_DEPTH 256
/* Pairs of trees whose objects are asked for in one pipelined request. */
#define GIT_TREE_BATCH 16

/* Two trees to compare: either name may be "" for "no tree". */
struct tree_pair {
	char *prefix;		/* "" or ending in '/' */
	char a[GIT_MAX_HEXSZ + 8], b[GIT_MAX_HEXSZ + 8];	/* ids, or "<commit>^{tree}" */
	int depth;
	struct buf ta, tb;
};

struct tree_stack {
	struct tree_pair *v;
	size_t n, alloc;
};

static void tree_pair_push(struct tree_stack *ts, const char *prefix, const char *a,
			   const char *b, int depth)
{
	struct tree_pair *p;

	XGROW(ts->v, ts->n + 1, ts->alloc);
	p = &ts->v[ts->n++];
	p->prefix = xstrdup(prefix);
	snprintf(p->a, sizeof(p->a), "%s", a ? a : "");
	snprintf(p->b, sizeof(p->b), "%s", b ? b : "");
	p->depth = depth;
	buf_init(&p->ta, GIT_OUT_MAX);
	buf_init(&p->tb, GIT_OUT_MAX);
}

static void tree_pair_release(struct tree_pair *p)
{
	free(p->prefix);
	buf_release(&p->ta);
	buf_release(&p->tb);
}

struct batch_read {
	struct tree_pair *v;
	size_t *slot;		/* names[i] is pair slot[i] / 2, side slot[i] % 2 */
	size_t missing;		/* index + 1 of the first name that is not a tree, or 0 */
	int toobig;
};

static int on_tree_object(size_t i, int result, const char *type, const struct buf *content,
			  void *data)
{
	struct batch_read *br = data;
	struct tree_pair *p = &br->v[br->slot[i] / 2];
	struct buf *dst = br->slot[i] % 2 ? &p->tb : &p->ta;

	if (result < 0 && content->toobig) {
		br->toobig = 1;
		return 1;
	}
	if (result != 0 || !type || strcmp(type, "tree")) {
		br->missing = i + 1;
		return 1;
	}
	if (buf_add(dst, content->data, content->len) < 0) {
		br->toobig = 1;
		return 1;
	}
	return 0;
}

/*
 * Reads the trees of pairs v[0..n) through one pipelined cat-file
 * request. Returns 0, 1 when an object is missing or not a tree (its
 * name in *bad, the pair's path in *where), -1 on failure (logged).
 */
static int read_tree_pairs(struct git_repo *repo, struct tree_pair *v, size_t n,
			   const char **bad, const char **where)
{
	const char **names = xcalloc(2 * n, sizeof(*names));
	size_t *slot = xcalloc(2 * n, sizeof(*slot));
	struct batch_read br = { v, slot, 0, 0 };
	size_t i, k = 0;
	int r;

	for (i = 0; i < n; i++) {
		if (*v[i].a) {
			slot[k] = 2 * i;
			names[k++] = v[i].a;
		}
		if (*v[i].b) {
			slot[k] = 2 * i + 1;
			names[k++] = v[i].b;
		}
	}
	r = git_read_objects(repo, names, k, GIT_OUT_MAX, on_tree_object, &br);
	if (br.toobig) {
		error("a tree under '%s' is over %u bytes", v[slot[0] / 2].prefix, GIT_OUT_MAX);
		r = -1;
	} else if (br.missing) {
		*bad = names[br.missing - 1];
		*where = v[slot[br.missing - 1] / 2].prefix;
		r = 1;
	}
	free(names);
	free(slot);
	return r < 0 ? -1 : r;
}

/*
 * Adds the differences between the trees of pair p (already read) to cl;
 * differing subtrees go on ts to be read and compared in turn.
 */
static int diff_tree_pair(struct git_repo *repo, struct tree_pair *p, struct tree_stack *ts,
			  struct change_list *cl)
{
	struct buf prefix = BUF_INIT(PATH_MAX * 4);
	size_t raw = repo->hexsz / 2;
	const char *pa = p->ta.data, *ea = p->ta.data + p->ta.len;
	const char *pb = p->tb.data, *eb = p->tb.data + p->tb.len;
	struct raw_entry x, y;
	int hx, hy, ret = -1;

	buf_addstr(&prefix, p->prefix);
	hx = raw_entry_next(&pa, ea, raw, &x);
	hy = raw_entry_next(&pb, eb, raw, &y);
	while (hx > 0 || hy > 0) {
		int c = hx <= 0 ? 1 : hy <= 0 ? -1 : raw_entry_cmp(&x, &y);
		const struct raw_entry *ea_ = c <= 0 ? &x : NULL, *eb_ = c >= 0 ? &y : NULL;

		if (hx < 0 || hy < 0)
			break;
		if (ea_ && eb_ && x.mode == y.mode && !memcmp(x.id, y.id, raw)) {
			/* unchanged */
		} else if ((ea_ && ea_->mode == GIT_MODE_TREE) || (eb_ && eb_->mode == GIT_MODE_TREE)) {
			/* same name on both sides means both are trees (see raw_entry_cmp) */
			char ha[GIT_MAX_HEXSZ + 1], hb[GIT_MAX_HEXSZ + 1];
			const struct raw_entry *e = ea_ ? ea_ : eb_;

			if (p->depth >= GIT_MAX_TREE_DEPTH) {
				error("trees nested deeper than %d", GIT_MAX_TREE_DEPTH);
				goto fail;
			}
			if (ea_)
				hex_encode(ea_->id, raw, ha);
			if (eb_)
				hex_encode(eb_->id, raw, hb);
			buf_setlen(&prefix, strlen(p->prefix));
			if (buf_add(&prefix, e->name, e->namelen) < 0 || buf_addch(&prefix, '/') < 0) {
				error("path too long under '%s'", p->prefix);
				goto fail;
			}
			tree_pair_push(ts, prefix.data, ea_ ? ha : NULL, eb_ ? hb : NULL, p->depth + 1);
		} else if (ea_ && eb_) {
			add_raw_change(repo, cl, (x.mode & 0170000) == (y.mode & 0170000) ? 'M' : 'T',
				       &prefix, ea_, eb_);
		} else {
			add_raw_change(repo, cl, ea_ ? 'D' : 'A', &prefix, ea_, eb_);
		}
		buf_setlen(&prefix, strlen(p->prefix));
		if (ea_)
			hx = raw_entry_next(&pa, ea, raw, &x);
		if (eb_)
			hy = raw_entry_next(&pb, eb, raw, &y);
	}
	if (hx < 0 || hy < 0) {
		error("malformed tree under '%s'", *p->prefix ? p->prefix : "/");
		goto fail;
	}
	ret = 0;
fail:
	buf_release(&prefix);
	return ret;
}

/*
 * old..new for two commits (or trees), without starting a git
 * diff-tree: the two trees are compared through the cat-file stream,
 * descending only into subtrees whose ids differ, the subtrees of a
 * level asked for together (one round trip per batch, not per tree).
 */
static int diff_trees_cat(struct git_repo *repo, const char *old, const char *new,
			  struct change_list *cl)
{
	struct tree_stack ts = { NULL, 0, 0 };
	struct tree_pair batch[GIT_TREE_BATCH];
	char a[GIT_MAX_HEXSZ + 8], b[GIT_MAX_HEXSZ + 8];
	size_t nb = 0, i;
	int first = 1, ret = 0;

	snprintf(a, sizeof(a), "%s^{tree}", old);
	snprintf(b, sizeof(b), "%s^{tree}", new);
	tree_pair_push(&ts, "", a, b, 0);
	while (ts.n && !ret) {
		const char *bad = NULL, *where = NULL;
		int r, fallback = 0;

		/* the newest pairs first: depth-first, so the stack stays small */
		for (nb = 0; nb < GIT_TREE_BATCH && ts.n; nb++)
			batch[nb] = ts.v[--ts.n];
		r = read_tree_pairs(repo, batch, nb, &bad, &where);
		if (r > 0 && first) {
			/* not two commits (or trees): let git say why */
			fallback = 1;
			ret = diff_trees(repo, old, new, cl);
		} else if (r > 0) {
			ret = error("tree '%s' under '%s' is missing or not a tree", bad,
				    *where ? where : "/");
		} else if (r < 0) {
			ret = -1;
		}
		for (i = 0; i < nb; i++) {
			if (!ret && !fallback && diff_tree_pair(repo, &batch[i], &ts, cl) < 0)
				ret = -1;
			tree_pair_release(&batch[i]);
		}
		first = 0;
		if (fallback)
			break;
	}
	for (i = 0; i < ts.n; i++)
		tree_pair_release(&ts.v[i]);
	free(ts.v);
	return ret;
}

int git_tree_files(struct git_repo *repo, const char *rev, const char *prefix,
		   unsigned flags, git_entry_fn *fn, void *data)
{
	const char *args[12];
	struct buf out = BUF_INIT(GIT_OUT_MAX);
	char *spec = NULL;
	const char *p, *end;
	size_t n = 0;
	int ret = -1;

	if (check_rev(rev) < 0)
		return -1;
	if (!(flags & GIT_TREE_RECURSIVE) && !strchr(rev, ':')) {
		size_t len = prefix ? strlen(prefix) : 0;

		while (len && prefix[len - 1] == '/')
			len--;
		if (!memchr(prefix ? prefix : "", '\n', len))
			return tree_entries_cat(repo, rev, prefix, len, fn, data);
	}
	args[n++] = "ls-tree";
	args[n++] = "-z";
	args[n++] = "--full-tree";
	if (flags & GIT_TREE_RECURSIVE)
		args[n++] = "-r";
	args[n++] = rev;
	if (prefix) {
		size_t len = strlen(prefix);

		while (len && prefix[len - 1] == '/')
			len--;
		if (len) {
			/* a trailing slash lists a directory's entries, not the directory */
			spec = xstrfmt("%.*s%s", (int)len, prefix,
				       (flags & GIT_TREE_RECURSIVE) ? "" : "/");
			args[n++] = "--";
			args[n++] = spec;
		}
	}
	args[n] = NULL;
	if (git_run(repo, args, &out, 0, NULL) < 0)
		goto done;
	for (p = out.data, end = out.data + out.len; p < end; ) {
		const char *rec_end = memchr(p, '\0', (size_t)(end - p));
		const char *sp1, *sp2, *tab;
		struct git_entry e;
		char type[8], oid[GIT_MAX_HEXSZ + 1];
		int r;

		if (!rec_end)
			goto bad;
		sp1 = memchr(p, ' ', (size_t)(rec_end - p));
		sp2 = sp1 ? memchr(sp1 + 1, ' ', (size_t)(rec_end - sp1 - 1)) : NULL;
		tab = sp2 ? memchr(sp2 + 1, '\t', (size_t)(rec_end - sp2 - 1)) : NULL;
		if (!tab || parse_mode(p, (size_t)(sp1 - p), &e.mode) < 0 ||
		    (size_t)(sp2 - sp1 - 1) >= sizeof(type) ||
		    (size_t)(tab - sp2 - 1) != repo->hexsz || !is_hex_run(sp2 + 1, repo->hexsz, 0) ||
		    tab + 1 == rec_end)
			goto bad;
		memcpy(type, sp1 + 1, (size_t)(sp2 - sp1 - 1));
		type[sp2 - sp1 - 1] = '\0';
		memcpy(oid, sp2 + 1, repo->hexsz);
		oid[repo->hexsz] = '\0';
		e.type = !strcmp(type, "blob") ? "blob" : !strcmp(type, "tree") ? "tree" :
			 !strcmp(type, "commit") ? "commit" : NULL;
		if (!e.type)
			goto bad;
		e.oid = oid;
		e.path = tab + 1;
		r = fn(&e, data);
		if (r) {
			ret = r;
			goto done;
		}
		p = rec_end + 1;
	}
	ret = 0;
	goto done;
bad:
	error("git ls-tree: cannot parse its output");
done:
	free(spec);
	buf_release(&out);
	return ret;
}

/* ---- the cat-file child ---------------------------------------------- */

static int cat_file_start(struct git_repo *repo)
{
	struct cat_file *c = &repo->cat;
	const char *argv[6];
	size_t n = 0;

	if (c->running)
		return c->broken ? error("git cat-file: stream broken by an earlier failure") : 0;
	if (c->broken)
		return error("git cat-file: stream broken by an earlier failure");
	argv[n++] = "git";
	if (repo->git_dir) {
		argv[n++] = "--git-dir";
		argv[n++] = repo->git_dir;
	}
	argv[n++] = "cat-file";
	argv[n++] = "--batch";
	argv[n] = NULL;
	/* the child may die; a write to its pipe must then fail, not kill us */
	signal(SIGPIPE, SIG_IGN);
	c->sp = (struct spawn)SPAWN_INIT;
	c->sp.argv = argv;
	c->sp.flags = SPAWN_PIPE_IN | SPAWN_PIPE_OUT;
	if (spawn_start(&c->sp) < 0) {
		c->broken = 1;
		return -1;
	}
	c->sp.argv = NULL;	/* argv lived on our stack */
	c->running = 1;
	c->rpos = c->rlen = 0;
	return 0;
}

static int cat_file_fail(struct git_repo *repo, int timed_out, const char *why)
{
	repo->cat.broken = 1;
	if (timed_out)
		return deadline_passed(repo, "cat-file");
	return error("git cat-file: %s", why);
}

/* Waits for fd to be ready for events under the deadline. */
static int wait_fd(struct git_repo *repo, int fd, short events)
{
	for (;;) {
		long long left = time_left(repo);
		struct pollfd pfd = { fd, events, 0 };
		int r;

		if (left == 0)
			return cat_file_fail(repo, 1, NULL);
		r = poll(&pfd, 1, left < 0 ? -1 : (int)(left > 1000000 ? 1000000 : left));
		if (r > 0)
			return 0;
		if (r < 0 && errno != EINTR)
			return cat_file_fail(repo, 0, "poll failed");
	}
}

static int cat_file_fill(struct git_repo *repo)
{
	struct cat_file *c = &repo->cat;
	ssize_t n;

	if (wait_fd(repo, c->sp.out, POLLIN) < 0)
		return -1;
	do
		n = read(c->sp.out, c->rbuf, sizeof(c->rbuf));
	while (n < 0 && errno == EINTR);
	if (n <= 0)
		return cat_file_fail(repo, 0, n < 0 ? "read failed" : "child exited");
	c->rpos = 0;
	c->rlen = (size_t)n;
	return 0;
}

static int cat_file_write(struct git_repo *repo, const char *s, size_t len)
{
	struct cat_file *c = &repo->cat;

	while (len) {
		ssize_t n;

		if (wait_fd(repo, c->sp.in, POLLOUT) < 0)
			return -1;
		n = write(c->sp.in, s, len);
		if (n < 0 && (errno == EINTR || errno == EAGAIN))
			continue;
		if (n <= 0)
			return cat_file_fail(repo, 0, "write failed");
		s += n;
		len -= (size_t)n;
	}
	return 0;
}

/* Reads one header line (without its LF) into line (capped). */
static int cat_file_line(struct git_repo *repo, struct buf *line)
{
	struct cat_file *c = &repo->cat;

	buf_reset(line);
	for (;;) {
		char *nl;
		size_t take;

		if (c->rpos == c->rlen && cat_file_fill(repo) < 0)
			return -1;
		nl = memchr(c->rbuf + c->rpos, '\n', c->rlen - c->rpos);
		take = nl ? (size_t)(nl - (c->rbuf + c->rpos)) : c->rlen - c->rpos;
		if (buf_add(line, c->rbuf + c->rpos, take) < 0)
			return cat_file_fail(repo, 0, "header line too long");
		c->rpos += take;
		if (nl) {
			c->rpos++;
			return 0;
		}
	}
}

/* Reads len bytes into out, or discards them when out is NULL. */
static int cat_file_body(struct git_repo *repo, size_t len, struct buf *out)
{
	struct cat_file *c = &repo->cat;

	if (out && buf_grow(out, len) < 0)
		return -1;
	while (len) {
		size_t take;

		if (c->rpos == c->rlen) {
			/* large bodies go straight into out, skipping rbuf */
			if (out && len >= sizeof(c->rbuf)) {
				ssize_t n;

				if (wait_fd(repo, c->sp.out, POLLIN) < 0)
					return -1;
				do
					n = read(c->sp.out, out->data + out->len, len);
				while (n < 0 && errno == EINTR);
				if (n <= 0)
					return cat_file_fail(repo, 0, "child exited");
				out->len += (size_t)n;
				out->data[out->len] = '\0';
				len -= (size_t)n;
				continue;
			}
			if (cat_file_fill(repo) < 0)
				return -1;
		}
		take = c->rlen - c->rpos < len ? c->rlen - c->rpos : len;
		if (out)
			buf_add(out, c->rbuf + c->rpos, take);	/* room reserved above */
		c->rpos += take;
		len -= take;
	}
	return 0;
}

static const char *static_type(const char *t, size_t n)
{
	static const char *const types[] = { "blob", "tree", "commit", "tag" };
	size_t i;

	for (i = 0; i < sizeof(types) / sizeof(types[0]); i++)
		if (strlen(types[i]) == n && !memcmp(types[i], t, n))
			return types[i];
	return NULL;
}

/*
 * Reads the answer to one request for name. Returns 0, 1 (missing), or
 * -1: over out's cap (out->toobig set, nothing logged, stream in step)
 * or a broken stream (logged).
 */
static int cat_file_response(struct git_repo *repo, const char *name, const char **type_out,
			     struct buf *out, struct buf *line)
{
	const char *type, *sp2, *sp1;
	char *endp;
	unsigned long long size;

	buf_reset(out);
	if (type_out)
		*type_out = NULL;
	if (cat_file_line(repo, line) < 0)
		return -1;
	/* "<name> missing", "<name> ambiguous", or "<oid> <type> <size>" */
	if (line->len >= 8 && !strcmp(line->data + line->len - 8, " missing"))
		return 1;
	if (line->len >= 10 && !strcmp(line->data + line->len - 10, " ambiguous"))
		return error("git cat-file: '%s' is ambiguous", name);
	sp2 = strrchr(line->data, ' ');
	if (!sp2)
		goto bad;
	sp1 = sp2 - 1;
	while (sp1 > line->data && *sp1 != ' ')
		sp1--;
	if (*sp1 != ' ' || (size_t)(sp1 - line->data) != repo->hexsz)
		goto bad;
	type = static_type(sp1 + 1, (size_t)(sp2 - sp1 - 1));
	errno = 0;
	size = strtoull(sp2 + 1, &endp, 10);
	if (!type || *endp || endp == sp2 + 1 || errno || size > (unsigned long long)SIZE_MAX - 2)
		goto bad;
	if (size > out->max) {
		/* stay in step with the stream: swallow the body */
		if (cat_file_body(repo, (size_t)size + 1, NULL) < 0)
			return -1;
		out->toobig = 1;
		return -1;
	}
	if (cat_file_body(repo, (size_t)size, out) < 0)
		return -1;
	{
		struct buf lf = BUF_INIT(1);
		int bad_lf = cat_file_body(repo, 1, &lf) < 0 || lf.data[0] != '\n';

		buf_release(&lf);
		if (bad_lf)
			return cat_file_fail(repo, 0, "stream out of step");
	}
	if (type_out)
		*type_out = type;
	return 0;
bad:
	return cat_file_fail(repo, 0, "unexpected header");
}

static int check_object_name(const char *name)
{
	if (!name || !*name || strchr(name, '\n') || strlen(name) > 4096)
		return error("git cat-file: invalid object name");
	return 0;
}

int git_read_object(struct git_repo *repo, const char *name, const char **type_out,
		    struct buf *out)
{
	struct buf line = BUF_INIT(8192);
	struct buf req = BUF_INIT(8192);
	int ret = -1;

	buf_reset(out);
	if (type_out)
		*type_out = NULL;
	if (check_object_name(name) < 0 || cat_file_start(repo) < 0)
		return -1;
	buf_addstr(&req, name);
	buf_addch(&req, '\n');
	if (cat_file_write(repo, req.data, req.len) == 0)
		ret = cat_file_response(repo, name, type_out, out, &line);
	buf_release(&line);
	buf_release(&req);
	return ret;
}

/*
 * Requests go out in batches small enough to sit in the pipe whole, so
 * writing a batch never waits for us to read answers: no deadlock, and
 * one write and a few reads per batch instead of per object.
 */
#define CAT_BATCH_BYTES 16384

int git_read_objects(struct git_repo *repo, const char *const *names, size_t n,
		     size_t max_size, git_object_fn *fn, void *data)
{
	struct buf line = BUF_INIT(8192);
	struct buf req = BUF_INIT(CAT_BATCH_BYTES + 8192);
	struct buf out = BUF_INIT(max_size);
	size_t i = 0, j;
	int stop = 0, ret = 0;

	for (j = 0; j < n; j++)
		if (check_object_name(names[j]) < 0)
			return -1;
	if (n && cat_file_start(repo) < 0)
		return -1;
	while (i < n && !ret) {
		size_t end = i;

		buf_reset(&req);
		while (end < n && (end == i || req.len + strlen(names[end]) + 1 <= CAT_BATCH_BYTES)) {
			buf_addstr(&req, names[end]);
			buf_addch(&req, '\n');
			end++;
		}
		if (cat_file_write(repo, req.data, req.len) < 0) {
			ret = -1;
			break;
		}
		for (; i < end; i++) {
			const char *type = NULL;
			int r = cat_file_response(repo, names[i], &type, &out, &line);

			if (r < 0 && !out.toobig) {
				ret = -1;	/* the stream is broken */
				break;
			}
			/* after a stop, keep reading this batch's answers to stay in step */
			if (!stop)
				stop = fn(i, r, type, &out, data);
		}
		if (stop && !ret)
			ret = stop;
	}
	buf_release(&line);
	buf_release(&req);
	buf_release(&out);
	return ret;
}

int git_read_blob(struct git_repo *repo, const char *name, struct buf *out)
{
	const char *type;
	int ret = git_read_object(repo, name, &type, out);

	if (ret == 0 && strcmp(type, "blob")) {
		buf_reset(out);
		return error("'%s' is a %s, not a file", name, type);
	}
	return ret;
}

/* ---- config ---------------------------------------------------------- */

/* Loads the config entries whose key matches the extended regex re. */
static int config_load_re(struct git_repo *repo, const char *re)
{
	const char *args[] = { "config", "-z", "--get-regexp", re, NULL };
	struct buf out = BUF_INIT(1u << 20);
	const char *p, *end;
	int code = 0;

	repo->cfg_spawned = 1;
	/* exit 1: nothing matched */
	if (git_run(repo, args, &out, 1u << 1, &code) < 0) {
		buf_release(&out);
		return -1;
	}
	for (p = out.data, end = out.data + out.len; p < end; ) {
		const char *rec_end = memchr(p, '\0', (size_t)(end - p));
		const char *nl;
		struct git_config_entry e;

		if (!rec_end)
			break;
		nl = memchr(p, '\n', (size_t)(rec_end - p));
		e.key = xstrndup(p, nl ? (size_t)(nl - p) : (size_t)(rec_end - p));
		e.value = nl ? xstrndup(nl + 1, (size_t)(rec_end - nl - 1)) : NULL;
		XGROW(repo->cfg, repo->ncfg + 1, repo->alloc_cfg);
		repo->cfg[repo->ncfg++] = e;
		p = rec_end + 1;
	}
	buf_release(&out);
	return 0;
}

/* Appends prefix to re with regex metacharacters escaped. */
static int regex_quote(struct buf *re, const char *prefix)
{
	for (const char *p = prefix; *p; p++) {
		if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
		      (*p >= '0' && *p <= '9') || *p == '-'))
			buf_addch(re, '\\');
		if (buf_addch(re, *p) < 0)
			return error("config prefix too long");
	}
	return 0;
}

int git_config_load(struct git_repo *repo, const char *prefix)
{
	struct buf re = BUF_INIT(1024);
	int ret = -1;

	buf_addch(&re, '^');
	if (regex_quote(&re, prefix) == 0)
		ret = config_load_re(repo, re.data);
	buf_release(&re);
	return ret;
}

/* ---- config files read without a child ------------------------------- */

/*
 * A hook's first question is its settings, and a `git config` child
 * costs a process start (several ms, a good part of a typical push's
 * check). In the common case the answer is in a few small files, which
 * config_read_files() reads itself by git's rules (config.c,
 * git_parse_source), in git's order:
 *   system  $GIT_CONFIG_SYSTEM, else /etc/gitconfig when the git that
 *           would run is installed under /usr (prefix /usr means
 *           sysconfdir /etc); not read with GIT_CONFIG_NOSYSTEM true;
 *   global  $GIT_CONFIG_GLOBAL, else $XDG_CONFIG_HOME/git/config (or
 *           $HOME/.config/git/config), then $HOME/.gitconfig;
 *   local   $GIT_DIR/config.
 * Whatever it is not sure of goes to `git config` instead (the caller
 * falls back when it returns -1): include and includeIf sections,
 * GIT_CONFIG, GIT_CONFIG_PARAMETERS or GIT_CONFIG_COUNT set, a linked
 * worktree (commondir, GIT_COMMON_DIR, extensions.worktreeConfig), a git
 * installed elsewhere, a file that cannot be read, is over
 * CFG_FILE_MAX, holds a NUL byte or does not parse, a variable outside
 * any section, a directory that does not look like a git directory.
 * Nothing is logged on a fallback: git config then reports any error.
 */
#define CFG_FILE_MAX (1u << 20)
#define CFG_KEY_MAX 4096

struct cfg_src {
	const char *p, *end;
	int eof;
};

/* git's get_next_char(): CRLF reads as LF, the end of the file as a final LF. */
static int cfg_getc(struct cfg_src *s)
{
	int c;

	if (s->p >= s->end) {
		s->eof = 1;
		return '\n';
	}
	c = (unsigned char)*s->p++;
	if (c == '\r' && s->p < s->end && *s->p == '\n')
		c = (unsigned char)*s->p++;
	return c;
}

/* git's own ctype (sane_ctype), ASCII only. */
static int cfg_space(int c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

static int cfg_alpha(int c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

static int cfg_keychar(int c)
{
	return cfg_alpha(c) || (c >= '0' && c <= '9') || c == '-';
}

static int cfg_lower(int c)
{
	return c >= 'A' && c <= 'Z' ? c + ('a' - 'A') : c;
}

/* parse_value(): the rest of the line after '=' into v; -1 when malformed. */
static int cfg_value(struct cfg_src *s, struct buf *v)
{
	int quote = 0, comment = 0;
	size_t trim = 0;

	buf_reset(v);
	for (;;) {
		int c = cfg_getc(s);

		if (c == '\n') {
			if (quote)
				return -1;
			if (trim)
				buf_setlen(v, trim);
			return 0;
		}
		if (comment)
			continue;
		if (cfg_space(c) && !quote) {
			if (!trim)
				trim = v->len;
			if (v->len && buf_addch(v, c) < 0)
				return -1;
			continue;
		}
		if (!quote && (c == ';' || c == '#')) {
			comment = 1;
			continue;
		}
		trim = 0;
		if (c == '\\') {
			c = cfg_getc(s);
			switch (c) {
			case '\n':
				continue;	/* a continued line */
			case 't':
				c = '\t';
				break;
			case 'b':
				c = '\b';
				break;
			case 'n':
				c = '\n';
				break;
			case '\\':
			case '"':
				break;
			default:
				return -1;
			}
		} else if (c == '"') {
			quote = !quote;
			continue;
		}
		if (buf_addch(v, c) < 0)
			return -1;
	}
}

/* get_base_var() and get_extended_base_var(): a section header after '['. */
static int cfg_section(struct cfg_src *s, struct buf *name)
{
	int c;

	for (;;) {
		c = cfg_getc(s);
		if (s->eof)
			return -1;
		if (c == ']')
			return 0;
		if (cfg_space(c))
			break;
		if (!cfg_keychar(c) && c != '.')
			return -1;
		if (buf_addch(name, cfg_lower(c)) < 0)
			return -1;
	}
	/* [section "subsection"]: the subsection keeps its case */
	do {
		if (c == '\n')
			return -1;
		c = cfg_getc(s);
	} while (cfg_space(c));
	if (c != '"' || buf_addch(name, '.') < 0)
		return -1;
	for (;;) {
		c = cfg_getc(s);
		if (c == '\n')
			return -1;
		if (c == '"')
			break;
		if (c == '\\') {
			c = cfg_getc(s);
			if (c == '\n')
				return -1;
		}
		if (buf_addch(name, c) < 0)
			return -1;
	}
	return cfg_getc(s) == ']' ? 0 : -1;
}

static void config_add(struct git_repo *repo, const char *key, const char *value)
{
	struct git_config_entry e;

	e.key = xstrdup(key);
	e.value = value ? xstrdup(value) : NULL;
	XGROW(repo->cfg, repo->ncfg + 1, repo->alloc_cfg);
	repo->cfg[repo->ncfg++] = e;
}

static void config_clear(struct git_repo *repo)
{
	for (size_t i = 0; i < repo->ncfg; i++) {
		free(repo->cfg[i].key);
		free(repo->cfg[i].value);
	}
	repo->ncfg = 0;
}

/* 1 for the keys git_repo_open_hook() asks `git config` for. */
static int config_wanted(const char *key, const char *prefix)
{
	return !strncmp(key, prefix, strlen(prefix)) || !strcmp(key, "extensions.objectformat");
}

/*
 * Parses one config file's text (git_parse_source()), adding the wanted
 * entries to repo. Returns 0, or -1 when git config must answer instead.
 */
static int config_parse(struct git_repo *repo, const char *prefix, const char *data,
			size_t len)
{
	struct cfg_src s = { data, data + len, 0 };
	struct buf key = BUF_INIT(CFG_KEY_MAX), val = BUF_INIT(CFG_FILE_MAX);
	size_t baselen = 0;
	int comment = 0, ret = -1;

	if (memchr(data, '\0', len))
		goto done;
	if (len && (unsigned char)data[0] == 0xef) {
		if (len < 3 || memcmp(data, "\xef\xbb\xbf", 3))
			goto done;	/* git refuses a partial byte order mark */
		s.p += 3;
	}
	for (;;) {
		int c = cfg_getc(&s);

		if (c == '\n') {
			if (s.eof)
				break;
			comment = 0;
			continue;
		}
		if (comment || cfg_space(c))
			continue;
		if (c == '#' || c == ';') {
			comment = 1;
			continue;
		}
		if (c == '[') {
			size_t dot;

			buf_reset(&key);
			if (cfg_section(&s, &key) < 0 || !key.len)
				goto done;
			/* include.path and includeIf.*.path pull in other files */
			dot = strcspn(key.data, ".");
			if ((dot == 7 && !memcmp(key.data, "include", 7)) ||
			    (dot == 9 && !memcmp(key.data, "includeif", 9)))
				goto done;
			if (buf_addch(&key, '.') < 0)
				goto done;
			baselen = key.len;
			continue;
		}
		if (!cfg_alpha(c) || !baselen)
			goto done;
		/* get_value(): the variable name, then "= value" or nothing (true) */
		buf_setlen(&key, baselen);
		if (buf_addch(&key, cfg_lower(c)) < 0)
			goto done;
		for (;;) {
			c = cfg_getc(&s);
			if (s.eof || !cfg_keychar(c))
				break;
			if (buf_addch(&key, cfg_lower(c)) < 0)
				goto done;
		}
		while (c == ' ' || c == '\t')
			c = cfg_getc(&s);
		if (c != '\n' && (c != '=' || cfg_value(&s, &val) < 0))
			goto done;
		if (!strcmp(key.data, "extensions.worktreeconfig"))
			goto done;	/* config.worktree would be read too */
		if (config_wanted(key.data, prefix))
			config_add(repo, key.data, c == '\n' ? NULL : val.data);
	}
	ret = 0;
done:
	buf_release(&key);
	buf_release(&val);
	return ret;
}

/* Reads one file; a missing one is no error (git skips it). */
static int config_file(struct git_repo *repo, const char *prefix, const char *path)
{
	struct buf b = BUF_INIT(CFG_FILE_MAX);
	int ret;

	if (buf_read_file(&b, path) < 0) {
		ret = errno == ENOENT || errno == ENOTDIR ? 0 : -1;
		buf_release(&b);
		return ret;
	}
	ret = config_parse(repo, prefix, b.data, b.len);
	buf_release(&b);
	return ret;
}

/* git_env_bool(): 1, 0, or -1 when not a plain boolean. */
static int env_bool(const char *name)
{
	const char *v = getenv(name);

	if (!v || !*v || !strcasecmp(v, "false") || !strcasecmp(v, "no") ||
	    !strcasecmp(v, "off") || !strcmp(v, "0"))
		return 0;
	if (!strcasecmp(v, "true") || !strcasecmp(v, "yes") || !strcasecmp(v, "on") ||
	    !strcmp(v, "1"))
		return 1;
	return -1;
}

static int env_set(const char *name)
{
	return getenv(name) != NULL;
}

/*
 * The system config file: *path NULL when none is read, else allocated.
 * Returns -1 when it is not known here.
 */
static int system_config(char **path)
{
	const char *v = getenv("GIT_CONFIG_SYSTEM");
	char *git, *real;
	int ret = -1;

	*path = NULL;
	switch (env_bool("GIT_CONFIG_NOSYSTEM")) {
	case 1:
		return 0;
	case -1:
		return -1;
	}
	if (v) {
		if (!*v)
			return -1;
		*path = xstrdup(v);
		return 0;
	}
	/* the compiled-in $(sysconfdir)/gitconfig: /etc/gitconfig for prefix /usr */
	git = spawn_find_program("git", NULL);
	real = git ? realpath(git, NULL) : NULL;
	if (real && (!strcmp(real, "/usr/bin/git") || !strcmp(real, "/usr/lib/git-core/git") ||
		     !strcmp(real, "/usr/libexec/git-core/git"))) {
		*path = xstrdup("/etc/gitconfig");
		ret = 0;
	}
	free(git);
	free(real);
	return ret;
}

/* git's is_git_directory(), roughly: enough that git would accept dir. */
static int looks_like_git_dir(const char *dir)
{
	const char *objs = getenv("GIT_OBJECT_DIRECTORY");
	char *p;
	int ok;

	p = xstrfmt("%s/commondir", dir);
	ok = access(p, F_OK) < 0 && errno == ENOENT;
	free(p);
	p = objs && *objs ? xstrdup(objs) : xstrfmt("%s/objects", dir);
	ok = ok && !access(p, X_OK);
	free(p);
	p = xstrfmt("%s/refs", dir);
	ok = ok && !access(p, X_OK);
	free(p);
	p = xstrfmt("%s/HEAD", dir);
	ok = ok && !access(p, R_OK);
	free(p);
	return ok;
}

/*
 * What `git config -z --get-regexp '^(PREFIX|extensions\.objectformat$)'`
 * would load for the hook's repository dir, without the child. Returns
 * 0, or -1 (nothing logged, nothing kept) when git config must answer.
 */
static int config_read_files(struct git_repo *repo, const char *dir, const char *prefix)
{
	const char *global = getenv("GIT_CONFIG_GLOBAL");
	const char *xdg = getenv("XDG_CONFIG_HOME"), *home = getenv("HOME");
	char *paths[4] = { NULL, NULL, NULL, NULL };
	size_t i;
	int ret = -1;

	if (env_set("GIT_CONFIG") || env_set("GIT_CONFIG_PARAMETERS") ||
	    env_set("GIT_CONFIG_COUNT") || env_set("GIT_COMMON_DIR") ||
	    (global && !*global) || (home && !*home) || !looks_like_git_dir(dir) ||
	    system_config(&paths[0]) < 0)
		goto done;
	if (global) {
		paths[1] = xstrdup(global);
	} else {
		if (xdg && *xdg)
			paths[1] = xstrfmt("%s/git/config", xdg);
		else if (home)
			paths[1] = xstrfmt("%s/.config/git/config", home);
		if (home)
			paths[2] = xstrfmt("%s/.gitconfig", home);
	}
	paths[3] = xstrfmt("%s/config", dir);
	for (i = 0; i < 4; i++)
		if (paths[i] && config_file(repo, prefix, paths[i]) < 0)
			goto done;
	ret = 0;
done:
	if (ret < 0)
		config_clear(repo);
	for (i = 0; i < 4; i++)
		free(paths[i]);
	return ret;
}

int git_config_spawned(const struct git_repo *repo)
{
	return repo->cfg_spawned;
}

struct git_repo *git_repo_open_hook(const char *config_prefix)
{
	const char *gd = getenv("GIT_DIR");
	struct git_repo *repo;
	struct buf re = BUF_INIT(1024);
	const char *fmt;
	char *abs = gd && *gd ? realpath(gd, NULL) : NULL;

	if (!abs) {
		repo = git_repo_open(NULL);
		if (repo && git_config_load(repo, config_prefix) < 0) {
			git_repo_free(repo);
			repo = NULL;
		}
		return repo;
	}
	repo = xcalloc(1, sizeof(*repo));
	repo->cat.sp = (struct spawn)SPAWN_INIT;
	repo->abs_dir = abs;
	if (config_read_files(repo, gd, config_prefix) < 0) {
		buf_addstr(&re, "^(");
		if (regex_quote(&re, config_prefix) < 0 ||
		    buf_addstr(&re, "|extensions\\.objectformat$)") < 0 ||
		    config_load_re(repo, re.data) < 0)
			goto fail;
	}
	fmt = git_config_get(repo, "extensions.objectFormat");
	if (!fmt || !strcasecmp(fmt, "sha1")) {
		repo->hexsz = GIT_SHA1_HEXSZ;
		snprintf(repo->format, sizeof(repo->format), "sha1");
	} else if (!strcasecmp(fmt, "sha256")) {
		repo->hexsz = GIT_SHA256_HEXSZ;
		snprintf(repo->format, sizeof(repo->format), "sha256");
	} else {
		error("unknown object format '%s'", fmt);
		goto fail;
	}
	buf_release(&re);
	return repo;
fail:
	error("cannot read the repository '%s'", abs);
	buf_release(&re);
	git_repo_free(repo);
	return NULL;
}

static const struct git_config_entry *config_find(struct git_repo *repo, const char *key,
						  size_t *pos)
{
	for (; *pos < repo->ncfg; (*pos)++)
		if (!strcasecmp(repo->cfg[*pos].key, key))
			return &repo->cfg[(*pos)++];
	return NULL;
}

const char *git_config_get(struct git_repo *repo, const char *key)
{
	const struct git_config_entry *e, *last = NULL;
	size_t pos = 0;

	while ((e = config_find(repo, key, &pos)))
		last = e;
	if (!last)
		return NULL;
	return last->value ? last->value : "true";
}

const char *git_config_next(struct git_repo *repo, const char *key, size_t *pos)
{
	const struct git_config_entry *e = config_find(repo, key, pos);

	if (!e)
		return NULL;
	return e->value ? e->value : "true";
}

int git_config_bool(struct git_repo *repo, const char *key, int def)
{
	const char *v = git_config_get(repo, key);

	if (!v)
		return def;
	if (!strcasecmp(v, "true") || !strcasecmp(v, "yes") || !strcasecmp(v, "on") ||
	    !strcmp(v, "1"))
		return 1;
	if (!*v || !strcasecmp(v, "false") || !strcasecmp(v, "no") || !strcasecmp(v, "off") ||
	    !strcmp(v, "0"))
		return 0;
	error("bad boolean value '%s' for '%s'", v, key);
	return -1;
}
