/*
 * cmd-lint.c - `tidegate lint`: check manifests in files, directories
 * or stdin and report the findings.
 */
#include "buf.h"
#include "cli.h"
#include "lint.h"
#include "lintconf.h"
#include "log.h"
#include "report.h"
#include "rules.h"
#include "xalloc.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define LINT_MAX_DIR_DEPTH 64

static const char lint_usage[] =
	"usage: tidegate lint [--format text|json|sarif] [--schema-dir DIR] [--kube-version X]\n"
	"                     [--strict] [--config FILE] [--list-rules] PATH...\n"
	"\n"
	"Checks Kubernetes manifests: files, directories (recursively: *.yaml, *.yml,\n"
	"*.json; hidden entries skipped) or - for stdin. A .tidegate.yaml at the root of\n"
	"a linted directory configures the run unless --config names one.\n"
	"Exit status: 0 no errors, 1 errors found, 2 usage or I/O error.\n";

struct file_id {
	dev_t dev;
	ino_t ino;
	int used;
};

struct lint_run {
	struct linter *l;
	struct findings extra;	/* I/O problems, configuration findings */
	const struct lint_config *conf;
	struct file_id *seen;	/* files read, by device and inode: open addressing */
	size_t nseen, alloc_seen;
	size_t files;
	size_t max_bytes;
	int io_error;
};

static int has_manifest_ext(const char *name)
{
	size_t len = strlen(name);

	return (len > 5 && !strcmp(name + len - 5, ".yaml")) ||
		(len > 4 && !strcmp(name + len - 4, ".yml")) ||
		(len > 5 && !strcmp(name + len - 5, ".json"));
}

static void lint_bytes(struct lint_run *r, const char *path, struct buf *b)
{
	r->files++;
	linter_add(r->l, path, b->data, b->len);
}

/* 1 when the file was read already (a path named twice, or overlapping directories). */
static int seen_before(struct lint_run *r, const struct stat *st)
{
	size_t i, mask;

	if ((r->nseen + 1) * 2 > r->alloc_seen) {
		struct file_id *old = r->seen;
		size_t oldn = r->alloc_seen;

		r->alloc_seen = oldn ? oldn * 2 : 256;
		r->seen = xcalloc(r->alloc_seen, sizeof(*r->seen));
		for (i = 0; i < oldn; i++)
			if (old[i].used) {
				size_t j, m = r->alloc_seen - 1;

				for (j = (old[i].ino * 31 + old[i].dev) & m; r->seen[j].used; j = (j + 1) & m)
					;
				r->seen[j] = old[i];
			}
		free(old);
	}
	mask = r->alloc_seen - 1;
	for (i = (st->st_ino * 31 + st->st_dev) & mask; r->seen[i].used; i = (i + 1) & mask)
		if (r->seen[i].dev == st->st_dev && r->seen[i].ino == st->st_ino)
			return 1;
	r->seen[i].dev = st->st_dev;
	r->seen[i].ino = st->st_ino;
	r->seen[i].used = 1;
	r->nseen++;
	return 0;
}

static void lint_fd(struct lint_run *r, const char *path, int fd)
{
	struct buf b = BUF_INIT(r->max_bytes);

	if (buf_read_fd(&b, fd) < 0) {
		if (b.toobig) {
			r->files++;
			findings_add(&r->extra, path, 0, 0, SEV_ERROR, "yaml-limit",
				     "split the file, or raise the limit",
				     "file too big: over the limit of %zu bytes", r->max_bytes);
		} else {
			fprintf(stderr, "tidegate lint: cannot read '%s': %s\n", path,
				strerror(errno));
			r->io_error = 1;
		}
	} else {
		lint_bytes(r, path, &b);
	}
	buf_release(&b);
}

static void lint_file(struct lint_run *r, const char *path)
{
	struct stat st;
	int fd;

	if (r->conf && !lint_config_path_selected(r->conf, path))
		return;	/* excluded: not read, not counted */
	fd = open(path, O_RDONLY | O_CLOEXEC);

	if (fd < 0) {
		fprintf(stderr, "tidegate lint: cannot open '%s': %s\n", path, strerror(errno));
		r->io_error = 1;
		return;
	}
	if (!fstat(fd, &st) && S_ISREG(st.st_mode) && seen_before(r, &st)) {
		close(fd);
		return;
	}
	lint_fd(r, path, fd);
	close(fd);
}

static int cmp_names(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static void lint_dir(struct lint_run *r, const char *dir, int depth)
{
	DIR *d;
	struct dirent *de;
	char **names = NULL;
	size_t n = 0, alloc = 0, i;

	if (depth > LINT_MAX_DIR_DEPTH) {
		fprintf(stderr, "tidegate lint: '%s': directories nested too deep\n", dir);
		r->io_error = 1;
		return;
	}
	if (!(d = opendir(dir))) {
		fprintf(stderr, "tidegate lint: cannot open directory '%s': %s\n", dir,
			strerror(errno));
		r->io_error = 1;
		return;
	}
	while ((de = readdir(d))) {
		if (de->d_name[0] == '.')
			continue;	/* ., .., .git, .tidegate.yaml, editor files */
		XGROW(names, n + 1, alloc);
		names[n++] = xstrdup(de->d_name);
	}
	closedir(d);
	qsort(names, n, sizeof(*names), cmp_names);
	for (i = 0; i < n; i++) {
		size_t dlen = strlen(dir);
		char *path = !strcmp(dir, ".") ? xstrdup(names[i]) :
			dlen && dir[dlen - 1] == '/' ? xstrfmt("%s%s", dir, names[i]) :
			xstrfmt("%s/%s", dir, names[i]);
		struct stat st;

		if (lstat(path, &st) < 0) {
			/* vanished since readdir */
		} else if (S_ISDIR(st.st_mode)) {
			lint_dir(r, path, depth + 1);
		} else if (has_manifest_ext(names[i])) {
			if (S_ISLNK(st.st_mode) && (stat(path, &st) < 0 || !S_ISREG(st.st_mode))) {
				/* a link to a directory or nothing: not followed */
			} else if (S_ISREG(st.st_mode)) {
				lint_file(r, path);
			}
		}
		free(path);
		free(names[i]);
	}
	free(names);
}

static void list_rules(void)
{
	const struct rule *rules;
	const struct engine_rule *eng;
	size_t n, ne, i, j;

	rules = rules_all(&n);
	eng = engine_rules(&ne);
	printf("%-34s %-8s %s\n", "RULE", "DEFAULT", "CHECKS THAT");
	/* merge the two sorted lists */
	for (i = 0, j = 0; i < n || j < ne;) {
		if (j >= ne || (i < n && strcmp(rules[i].id, eng[j].id) < 0)) {
			printf("%-34s %-8s %s\n", rules[i].id, severity_name(rules[i].sev),
			       rules[i].summary);
			i++;
		} else {
			printf("%-34s %-8s %s\n", eng[j].id, severity_name(eng[j].sev),
			       eng[j].summary);
			j++;
		}
	}
}

/* "1.33", "v1.33", "1.33.2" */
static int valid_version(const char *s)
{
	int dots = 0, digits = 0;

	if (*s == 'v')
		s++;
	for (; *s; s++) {
		if (*s == '.') {
			if (!digits || ++dots > 2)
				return 0;
			digits = 0;
		} else if (*s >= '0' && *s <= '9') {
			digits++;
		} else {
			return 0;
		}
	}
	return dots >= 1 && digits > 0;
}

static int is_dir(const char *path)
{
	struct stat st;

	return strcmp(path, "-") && !stat(path, &st) && S_ISDIR(st.st_mode);
}

static char *dir_of(const char *path)
{
	const char *slash = strrchr(path, '/');

	if (!slash)
		return xstrdup(".");
	if (slash == path)
		return xstrdup("/");
	return xstrndup(path, slash - path);
}

/* Reads --config, or the first linted directory's .tidegate.yaml. -1: unusable. */
static int load_config(struct lint_config *c, const char *file, char **paths, int npaths,
		       struct findings *extra, int *have)
{
	int i;

	*have = 0;
	if (file) {
		struct findings cf = FINDINGS_INIT;
		int ret = lint_config_load(c, file, &cf);

		c->root = dir_of(file);
		if (ret < 0 || cf.nerr) {
			struct buf b = BUF_INIT(BUF_NOCAP);
			struct report_summary zero = { 0, 0, 0 };

			findings_sort(&cf);
			report_write(&b, REPORT_TEXT, &cf, &zero);
			fputs(b.data, stderr);
			buf_release(&b);
			findings_release(&cf);
			return -1;
		}
		findings_move(extra, &cf);
		*have = 1;
		return 0;
	}
	for (i = 0; i < npaths; i++) {
		char *cand;
		struct stat st;

		if (!is_dir(paths[i]))
			continue;
		cand = !strcmp(paths[i], ".") ? xstrdup(".tidegate.yaml") :
			xstrfmt("%s/.tidegate.yaml", paths[i]);
		if (!stat(cand, &st)) {
			lint_config_load(c, cand, extra);	/* its errors fail the run */
			free(c->root);
			c->root = xstrdup(paths[i]);
			*have = 1;
			free(cand);
			return 0;
		}
		free(cand);
	}
	return 0;
}

int cmd_lint(int argc, char **argv)
{
	struct lint_options opts = LINT_OPTIONS_INIT;
	struct lint_config conf = LINT_CONFIG_INIT;
	enum report_format fmt = REPORT_TEXT;
	const char *config_file = NULL;
	struct findings out = FINDINGS_INIT;
	struct lint_run run;
	struct report_summary sum;
	struct buf rep = BUF_INIT(BUF_NOCAP);
	char **paths;
	int npaths = 0, i, have_conf = 0, status, stdin_used = 0;

	opts.shrink = 1;	/* each file checked as it is read: memory stays flat */
	paths = xcalloc(argc > 0 ? argc : 1, sizeof(*paths));
	for (i = 1; i < argc; i++) {
		const char *a = argv[i], *val = NULL;

#define OPT_VALUE(name) \
	((!strcmp(a, name) && i + 1 < argc && (val = argv[++i])) || \
	 (!strncmp(a, name "=", strlen(name) + 1) && (val = a + strlen(name) + 1)))
		if (!strcmp(a, "--")) {
			for (i++; i < argc; i++)
				paths[npaths++] = argv[i];
			break;
		} else if (!strcmp(a, "-h") || !strcmp(a, "--help")) {
			fputs(lint_usage, stdout);
			free(paths);
			return 0;
		} else if (!strcmp(a, "--list-rules")) {
			list_rules();
			free(paths);
			return 0;
		} else if (!strcmp(a, "--strict")) {
			opts.strict = 1;
		} else if (OPT_VALUE("--format")) {
			if (report_format_parse(val, &fmt) < 0) {
				fprintf(stderr, "tidegate lint: unknown format '%s' (text, json, sarif)\n",
					val);
				free(paths);
				return 2;
			}
		} else if (OPT_VALUE("--schema-dir")) {
			opts.schema_dir = val;
		} else if (OPT_VALUE("--kube-version")) {
			if (!valid_version(val)) {
				fprintf(stderr, "tidegate lint: --kube-version '%s' is not a version such as 1.33\n",
					val);
				free(paths);
				return 2;
			}
			opts.kube_version = val;
		} else if (OPT_VALUE("--config")) {
			config_file = val;
		} else if (a[0] == '-' && a[1]) {
			fprintf(stderr, "tidegate lint: unknown or incomplete option '%s'\n\n%s", a,
				lint_usage);
			free(paths);
			return 2;
		} else {
			paths[npaths++] = argv[i];
		}
#undef OPT_VALUE
	}
	if (!npaths) {
		fputs(lint_usage, stderr);
		free(paths);
		return 2;
	}

	memset(&run, 0, sizeof(run));
	run.extra.max = 100000;
	if (load_config(&conf, config_file, paths, npaths, &run.extra, &have_conf) < 0) {
		lint_config_release(&conf);
		findings_release(&run.extra);
		free(paths);
		return 2;
	}
	if (have_conf) {
		opts.config = &conf;
		run.conf = &conf;
		if (!opts.kube_version)
			opts.kube_version = conf.kube_version;
	}
	opts.limits = yaml_default_limits;
	run.max_bytes = opts.limits.max_bytes;
	run.l = linter_new(&opts);

	for (i = 0; i < npaths; i++) {
		struct stat st;

		if (!strcmp(paths[i], "-")) {
			if (stdin_used++) {
				fprintf(stderr, "tidegate lint: '-' given twice\n");
				run.io_error = 1;
				continue;
			}
			lint_fd(&run, "<stdin>", 0);
		} else if (stat(paths[i], &st) < 0) {
			fprintf(stderr, "tidegate lint: cannot read '%s': %s\n", paths[i],
				strerror(errno));
			run.io_error = 1;
		} else if (S_ISDIR(st.st_mode)) {
			lint_dir(&run, paths[i], 0);
		} else {
			lint_file(&run, paths[i]);
		}
	}

	if (linter_run(run.l, &out) < 0) {
		free(run.seen);
		linter_free(run.l);
		lint_config_release(&conf);
		findings_release(&run.extra);
		findings_release(&out);
		free(paths);
		return 2;
	}
	findings_move(&out, &run.extra);
	findings_sort(&out);
	sum.objects = linter_objects(run.l)->nobjs;
	sum.skipped = linter_objects(run.l)->skipped;
	sum.files = run.files;
	report_write(&rep, fmt, &out, &sum);
	fwrite(rep.data, 1, rep.len, stdout);
	fflush(stdout);

	status = run.io_error ? 2 : out.nerr ? 1 : 0;
	buf_release(&rep);
	free(run.seen);
	linter_free(run.l);
	lint_config_release(&conf);
	findings_release(&out);
	free(paths);
	return status;
}
