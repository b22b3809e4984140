/*
 * tidegate apply / tidegate diff - lint, then server-side apply the
 * objects in PATH... (files, directories, or a commit's tree) to a
 * cluster, pruning with an ApplySet; diff does the same as a dry run
 * and shows what would change.
 */
#include "cli.h"
#include "apply.h"
#include "buf.h"
#include "discovery.h"
#include "git.h"
#include "kube.h"
#include "kubeconfig.h"
#include "lint.h"
#include "log.h"
#include "manifest.h"
#include "schema.h"
#include "spawn.h"
#include "xalloc.h"
#include "yaml.h"

#include <cjson/cJSON.h>
#include <dirent.h>
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define MAX_INPUT_FILE (8u << 20)
#define MAX_INPUT_FILES 100000
#define DEFAULT_TIMEOUT_S 300
#define DEFAULT_WAIT_TIMEOUT_S 300
#define MAX_STDIN_ARGS (64u << 10)

struct apply_cmd {
	int diff;
	const char *kubeconfig, *context, *namespace, *applyset, *format;
	const char *git_dir, *rev, *schema_dir, *kube_version, *field_manager;
	int prune, dry_run, force, concurrency, cluster_wide, allow_foreign, in_cluster;
	int timeout_s, no_lint;
	int wait, wait_timeout_s;	/* --wait: for the workloads to be ready */
	struct linter *l;
	size_t nfiles;
};

/*
 * What `tidegate apply --serve` keeps from one job to the next: the
 * repository (its cat-file child stays up) and the cluster connection
 * (kubeconfig, the HTTP/2 connection, discovery), each reused only while
 * a job names the same one.
 */
struct warm {
	char *git_dir;
	struct git_repo *repo;
	char *cluster_key;		/* kubeconfig, context, in-cluster, concurrency */
	struct stat kc_st;		/* the kubeconfig file when the client was made */
	long long born_ms;
	struct kubeconfig kc;
	struct kube_client *client;
	struct discovery *disco;
	struct apply_cache *cache;	/* what was applied through this connection */
	struct schema_store *schemas;	/* for the lint, while schema_dir stays the same */
	char *schemas_dir;		/* its --schema-dir, "" for none */
	long long schemas_born_ms;
};

/* A cluster connection older than this is made again (credentials on disk may have changed). */
#define WARM_CLIENT_MAX_AGE_MS (5 * 60 * 1000)
/* Discovery read this recently is used as it is (a kind new since still refreshes it). */
#define WARM_DISCOVERY_MAX_AGE_MS (10 * 1000)

static void warm_drop_repo(struct warm *w)
{
	git_repo_free(w->repo);
	w->repo = NULL;
	free(w->git_dir);
	w->git_dir = NULL;
}

static void warm_drop_client(struct warm *w)
{
	apply_cache_free(w->cache);
	w->cache = NULL;
	discovery_free(w->disco);
	kube_client_free(w->client);
	kubeconfig_release(&w->kc);
	w->disco = NULL;
	w->client = NULL;
	free(w->cluster_key);
	w->cluster_key = NULL;
}

static void warm_drop_schemas(struct warm *w)
{
	schema_store_free(w->schemas);
	w->schemas = NULL;
	free(w->schemas_dir);
	w->schemas_dir = NULL;
}

static void warm_release(struct warm *w)
{
	warm_drop_repo(w);
	warm_drop_client(w);
	warm_drop_schemas(w);
}

/*
 * The schema store for a job's lint: warm's while the job names the same
 * schema directory and the store is younger than WARM_CLIENT_MAX_AGE_MS
 * (so schemas installed meanwhile are read); NULL when none can be
 * opened (the lint then opens its own and says why).
 */
static struct schema_store *warm_schemas(struct warm *w, const char *schema_dir)
{
	const char *dir = schema_dir ? schema_dir : "";

	if (w->schemas && (strcmp(w->schemas_dir, dir) ||
			   monotonic_ms() - w->schemas_born_ms > WARM_CLIENT_MAX_AGE_MS))
		warm_drop_schemas(w);
	if (!w->schemas) {
		w->schemas = schema_store_new(schema_dir);
		if (!w->schemas)
			return NULL;
		w->schemas_dir = xstrdup(dir);
		w->schemas_born_ms = monotonic_ms();
	}
	return w->schemas;
}

static void usage(FILE *f, int diff)
{
	fprintf(f,
		"usage: tidegate %s [--kubeconfig F] [--context C] [-n NS] [--applyset NAME] [--prune]\n"
		"       %*s [--dry-run] [--force-conflicts] [--concurrency N] [--format text|json]\n"
		"       %*s [--git-dir DIR --rev COMMIT] PATH...\n\n"
		"  --kubeconfig F              kubeconfig file (default $KUBECONFIG, ~/.kube/config)\n"
		"  --context C                 kubeconfig context (default current-context)\n"
		"  --in-cluster                use the Pod's service account\n"
		"  -n, --namespace NS          namespace for objects without one, and the ApplySet's\n"
		"  --applyset NAME             record the objects in ApplySet NAME (a Secret in NS)\n"
		"  --prune                     delete members of the ApplySet no longer in PATH...\n"
		"  --prune-allow-cluster-wide  also prune Namespaces and CustomResourceDefinitions\n"
		"  --applyset-allow-foreign    take over an ApplySet another tool manages\n"
		"  --dry-run                   let the server check everything; change nothing\n"
		"  --force-conflicts           take over fields another field manager owns\n"
		"  --field-manager NAME        default tidegate\n"
		"  --concurrency N             requests in flight (default 32)\n"
		"  --timeout SECONDS           give up after this long (default %d)\n"
		"  --wait                      then wait for the applied workloads to be ready\n"
		"  --wait-timeout SECONDS      for at most this long, after --timeout (default %d)\n"
		"  --format text|json          output (default text)\n"
		"  --git-dir DIR --rev COMMIT  read PATH... from a commit instead of the file system\n"
		"  --schema-dir DIR, --kube-version X   for the lint that runs first\n"
		"  --args-from-stdin           (alone) read the arguments from stdin, each ending in NUL\n"
		"  --serve                     (alone) run jobs from stdin until EOF: each job is its\n"
		"                              arguments, each ending in NUL, then one more NUL; each\n"
		"                              answer is \"tidegate-result CODE LEN\\n\" and LEN bytes of JSON\n",
		diff ? "diff" : "apply", diff ? 4 : 5, "", diff ? 4 : 5, "", DEFAULT_TIMEOUT_S,
		DEFAULT_WAIT_TIMEOUT_S);
}

static int has_manifest_ext(const char *p)
{
	size_t n = strlen(p);

	return (n > 5 && !strcmp(p + n - 5, ".yaml")) || (n > 4 && !strcmp(p + n - 4, ".yml")) ||
	       (n > 5 && !strcmp(p + n - 5, ".json"));
}

static int add_bytes(struct apply_cmd *a, const char *path, const char *data, size_t len)
{
	if (++a->nfiles > MAX_INPUT_FILES)
		return error("more than %d input files", MAX_INPUT_FILES);
	linter_add(a->l, path, data, len);
	return 0;
}

static int add_file(struct apply_cmd *a, const char *path)
{
	struct buf b = BUF_INIT(MAX_INPUT_FILE);
	int r;

	if ((!strcmp(path, "-") ? buf_read_fd(&b, 0) : buf_read_file(&b, path)) < 0) {
		if (b.toobig)
			r = error("'%s' is larger than %u bytes", path, MAX_INPUT_FILE);
		else
			r = error_errno("cannot read '%s'", path);
		buf_release(&b);
		return r;
	}
	r = add_bytes(a, !strcmp(path, "-") ? "<stdin>" : path, b.data, b.len);
	buf_release(&b);
	return r;
}

static int cmp_name(const void *x, const void *y)
{
	return strcmp(*(char *const *)x, *(char *const *)y);
}

static int add_path(struct apply_cmd *a, const char *path, int depth)
{
	struct stat st;
	DIR *dir;
	struct dirent *de;
	char **names = NULL;
	size_t n = 0, alloc = 0, i;
	int r = 0;

	if (!strcmp(path, "-"))
		return add_file(a, path);
	if (stat(path, &st) < 0)
		return error_errno("cannot read '%s'", path);
	if (!S_ISDIR(st.st_mode))
		return add_file(a, path);
	if (depth > 32)
		return error("'%s': directories nested too deep", path);
	dir = opendir(path);
	if (!dir)
		return error_errno("cannot read directory '%s'", path);
	while ((de = readdir(dir))) {
		if (de->d_name[0] == '.')
			continue;
		XGROW(names, n + 1, alloc);
		names[n++] = xstrfmt("%s/%s", path, de->d_name);
	}
	closedir(dir);
	qsort(names, n, sizeof(*names), cmp_name);
	for (i = 0; i < n && !r; i++) {
		if (stat(names[i], &st) < 0)
			continue;
		if (S_ISDIR(st.st_mode))
			r = add_path(a, names[i], depth + 1);
		else if (has_manifest_ext(names[i]))
			r = add_file(a, names[i]);
	}
	for (i = 0; i < n; i++)
		free(names[i]);
	free(names);
	return r;
}

struct git_walk {
	struct apply_cmd *a;
	struct git_repo *repo;
	const char *prefix;
	const char *only;	/* take only this path (a file named as PATH) */
	int depth;
	int listed;		/* entries seen */
	int found;
	int failed;
};

static int on_git_entry(const struct git_entry *e, void *data)
{
	struct git_walk *w = data;
	struct buf b = BUF_INIT(MAX_INPUT_FILE);

	if (strcmp(e->type, "blob") || e->mode == GIT_MODE_SYMLINK)
		return 0;
	/* a file named exactly is read whatever its extension */
	if (strcmp(e->path, w->prefix) && !has_manifest_ext(e->path))
		return 0;
	w->found = 1;
	if (git_read_blob(w->repo, e->oid, &b) != 0) {
		error("cannot read '%s' (%s) from the repository%s", e->path, e->oid,
		      b.toobig ? ": too large" : "");
		buf_release(&b);
		w->failed = 1;
		return 1;
	}
	if (add_bytes(w->a, e->path, b.data, b.len) < 0)
		w->failed = 1;
	buf_release(&b);
	return w->failed;
}

/*
 * Directory by directory through the repository's cat-file child (one
 * process for the whole walk, where `ls-tree -r` would be another), in
 * ls-tree's order: an entry's subtree before the entries after it.
 */
static int on_walk_entry(const struct git_entry *e, void *data)
{
	struct git_walk *w = data;
	int r;

	w->listed++;
	if (w->only && strcmp(e->path, w->only))
		return 0;
	if (strcmp(e->type, "tree"))
		return on_git_entry(e, w);
	if (w->depth >= 64) {
		error("'%s': directories nested too deep", e->path);
		w->failed = 1;
		return 1;
	}
	w->depth++;
	r = git_tree_files(w->repo, w->a->rev, e->path, 0, on_walk_entry, w);
	w->depth--;
	if (r < 0)
		w->failed = 1;
	return r ? 1 : w->failed;
}

static int walk_git_path(struct git_walk *w)
{
	const char *slash;
	char *parent;
	int r;

	r = git_tree_files(w->repo, w->a->rev, w->prefix, 0, on_walk_entry, w);
	if (r || w->failed || w->listed || !w->prefix[0])
		return r;
	/* not a directory: a file, found in its parent's listing */
	slash = strrchr(w->prefix, '/');
	parent = slash ? xstrndup(w->prefix, (size_t)(slash - w->prefix)) : xstrdup("");
	w->only = w->prefix;
	r = git_tree_files(w->repo, w->a->rev, parent, 0, on_walk_entry, w);
	free(parent);
	return r;
}

static int add_git_paths(struct apply_cmd *a, char **paths, int n, long long deadline,
			 struct warm *warm)
{
	struct git_repo *repo;
	int i, r = 0;

	if (warm && warm->repo && strcmp(warm->git_dir, a->git_dir))
		warm_drop_repo(warm);
	repo = warm && warm->repo ? warm->repo : git_repo_open(a->git_dir);
	if (!repo)
		return error("cannot open repository '%s'", a->git_dir);
	if (warm && !warm->repo) {
		warm->repo = repo;
		warm->git_dir = xstrdup(a->git_dir);
	}
	git_repo_set_deadline(repo, deadline);
	{
		/* a missing tree lists as empty: say first that the commit is not there */
		struct buf obj = BUF_INIT(1 << 20);
		char *name = xstrfmt("%s^{commit}", a->rev);

		r = git_read_object(repo, name, NULL, &obj);
		if (r == 1)
			r = error("'%s' is not a commit in '%s'", a->rev, a->git_dir);
		else if (r < 0 && obj.toobig)
			r = 0;
		free(name);
		buf_release(&obj);
	}
	for (i = 0; i < n && !r; i++) {
		struct git_walk w = { a, repo, NULL, NULL, 0, 0, 0, 0 };
		char *p = xstrdup(paths[i]);
		size_t len = strlen(p);

		while (len > 1 && p[len - 1] == '/')
			p[--len] = '\0';
		while (!strncmp(p, "./", 2) && p[2]) {
			memmove(p, p + 2, strlen(p + 2) + 1);
			len -= 2;
		}
		w.prefix = strcmp(p, ".") ? p : "";
		if (walk_git_path(&w) < 0 || w.failed)
			r = error("cannot read '%s' at '%s' in '%s'", p, a->rev, a->git_dir);
		else if (!w.found)
			r = error("'%s' has no manifests at '%s' in '%s'", p, a->rev, a->git_dir);
		free(p);
	}
	if (!warm)
		git_repo_free(repo);
	else if (r < 0)
		warm_drop_repo(warm);	/* its cat-file may be in a bad state: start afresh */
	return r;
}

static void print_findings(const struct findings *fs, FILE *f)
{
	size_t i;

	for (i = 0; i < fs->n; i++) {
		const struct finding *x = &fs->v[i];

		if (x->ignored || x->sev < SEV_WARNING)
			continue;
		fprintf(f, "%s:%u:%u: %s: %s [%s]\n", x->path, x->line, x->col,
			severity_name(x->sev), x->msg, x->rule ? x->rule : "");
	}
}

static void json_findings(struct buf *out, const struct findings *fs)
{
	size_t i;
	int first = 1;

	buf_addstr(out, "\"findings\":[");
	for (i = 0; i < fs->n; i++) {
		const struct finding *x = &fs->v[i];

		if (x->ignored || x->sev < SEV_ERROR)
			continue;
		buf_addstr(out, first ? "{\"path\":" : ",{\"path\":");
		first = 0;
		buf_add_json_str(out, x->path);
		buf_addf(out, ",\"line\":%u,\"col\":%u,\"rule\":", x->line, x->col);
		buf_add_json_str(out, x->rule ? x->rule : "");
		buf_addstr(out, ",\"message\":");
		buf_add_json_str(out, x->msg);
		buf_addch(out, '}');
	}
	buf_addstr(out, "]");
}

static void json_result(struct buf *out, const struct apply_cmd *a, const struct apply_run *run,
			int waited, const struct findings *fs, long long ms, const char *fatal)
{
	size_t i;

	buf_addstr(out, "{\"applyset\":");
	if (a->applyset)
		buf_add_json_str(out, a->applyset);
	else
		buf_addstr(out, "null");
	buf_addf(out, ",\"dry_run\":%s,\"diff\":%s,\"objects\":[",
		 a->dry_run || a->diff ? "true" : "false", a->diff ? "true" : "false");
	for (i = 0; run && i < run->n; i++) {
		const struct apply_object *ob = &run->objs[i];

		buf_addstr(out, i ? ",{\"id\":" : "{\"id\":");
		buf_add_json_str(out, ob->id);
		buf_addstr(out, ",\"result\":");
		buf_add_json_str(out, apply_result_name(ob->result));
		buf_addstr(out, ",\"message\":");
		buf_add_json_str(out, ob->message ? ob->message : "");
		if (ob->source) {
			buf_addstr(out, ",\"source\":");
			buf_add_json_str(out, ob->source);
		}
		if (ob->diff) {
			buf_addstr(out, ",\"diff\":");
			buf_add_json_str(out, ob->diff);
		}
		if (ob->health != APPLY_HEALTH_NONE) {
			buf_addf(out, ",\"health\":\"%s\",\"health_message\":",
				 ob->health == APPLY_HEALTH_READY ? "ready" : "not ready");
			buf_add_json_str(out, ob->health_message ? ob->health_message : "");
		}
		buf_addch(out, '}');
	}
	buf_addf(out, "],\"counts\":{\"created\":%zu,\"configured\":%zu,\"unchanged\":%zu,"
		 "\"pruned\":%zu,\"skipped\":%zu,\"failed\":%zu},",
		 run ? run->counts[APPLY_CREATED] : 0, run ? run->counts[APPLY_CONFIGURED] : 0,
		 run ? run->counts[APPLY_UNCHANGED] : 0, run ? run->counts[APPLY_PRUNED] : 0,
		 run ? run->counts[APPLY_SKIPPED] : 0, run ? run->counts[APPLY_FAILED] : 0);
	if (a->wait && run && waited)
		buf_addf(out, "\"wait\":{\"ready\":%zu,\"not_ready\":%zu,\"timed_out\":%s},",
			 run->nready, run->nnot_ready, run->wait_timed_out ? "true" : "false");
	buf_addf(out, "\"lint\":{\"errors\":%zu,\"warnings\":%zu,", fs->nerr, fs->nwarn);
	json_findings(out, fs);
	buf_addf(out, "},\"duration_ms\":%lld", ms);
	if (fatal) {
		buf_addstr(out, ",\"error\":");
		buf_add_json_str(out, fatal);
	}
	buf_addstr(out, "}\n");
}

static void print_text(const struct apply_cmd *a, const struct apply_run *run, long long ms)
{
	static const char *const would[APPLY_NRESULTS] = {
		"pending", "would create", "would change", "unchanged", "would prune", "skipped",
		"failed",
	};
	int dry = a->dry_run || a->diff;
	size_t i;

	for (i = 0; i < run->n; i++) {
		const struct apply_object *ob = &run->objs[i];

		if (a->diff && ob->result == APPLY_UNCHANGED)
			continue;
		printf("%-12s %s%s%s\n", dry ? would[ob->result] : apply_result_name(ob->result),
		       ob->id, ob->message ? ": " : "", ob->message ? ob->message : "");
		if (ob->diff) {
			const char *p = ob->diff, *nl;

			for (; *p; p = nl + 1) {
				nl = strchrnul(p, '\n');
				printf("    %.*s\n", (int)(nl - p), p);
				if (!*nl)
					break;
			}
		}
	}
	printf("%s%zu created, %zu configured, %zu unchanged, %zu pruned, %zu failed (%lld ms)\n",
	       dry ? "dry run: " : "", run->counts[APPLY_CREATED], run->counts[APPLY_CONFIGURED],
	       run->counts[APPLY_UNCHANGED], run->counts[APPLY_PRUNED], run->counts[APPLY_FAILED], ms);
}

/* After --wait: the workloads' health and the tally. */
static void print_health(const struct apply_run *run, long long ms)
{
	size_t i;

	for (i = 0; i < run->n; i++) {
		const struct apply_object *ob = &run->objs[i];

		if (ob->health == APPLY_HEALTH_NONE ||
		    (ob->health == APPLY_HEALTH_READY && !apply_is_workload(ob->group, ob->kind)))
			continue;
		printf("%-12s %s%s%s\n", ob->health == APPLY_HEALTH_READY ? "ready" : "not ready",
		       ob->id, ob->health_message ? ": " : "",
		       ob->health_message ? ob->health_message : "");
	}
	printf("wait: %zu ready, %zu not ready%s (%lld ms)\n", run->nready, run->nnot_ready,
	       run->wait_timed_out ? ", timed out" : "", ms);
}

static int parse_args(struct apply_cmd *a, int argc, char **argv)
{
	enum {
		O_KUBECONFIG = 256, O_CONTEXT, O_APPLYSET, O_PRUNE, O_DRY, O_FORCE, O_CONC, O_FORMAT,
		O_GITDIR, O_REV, O_CW, O_FOREIGN, O_FM, O_TIMEOUT, O_SCHEMA, O_KV, O_INCLUSTER,
		O_NOLINT, O_WAIT, O_WAIT_TIMEOUT,
	};
	static const struct option opts[] = {
		{ "kubeconfig", required_argument, NULL, O_KUBECONFIG },
		{ "context", required_argument, NULL, O_CONTEXT },
		{ "namespace", required_argument, NULL, 'n' },
		{ "applyset", required_argument, NULL, O_APPLYSET },
		{ "prune", no_argument, NULL, O_PRUNE },
		{ "dry-run", no_argument, NULL, O_DRY },
		{ "force-conflicts", no_argument, NULL, O_FORCE },
		{ "concurrency", required_argument, NULL, O_CONC },
		{ "format", required_argument, NULL, O_FORMAT },
		{ "git-dir", required_argument, NULL, O_GITDIR },
		{ "rev", required_argument, NULL, O_REV },
		{ "prune-allow-cluster-wide", no_argument, NULL, O_CW },
		{ "applyset-allow-foreign", no_argument, NULL, O_FOREIGN },
		{ "field-manager", required_argument, NULL, O_FM },
		{ "timeout", required_argument, NULL, O_TIMEOUT },
		{ "schema-dir", required_argument, NULL, O_SCHEMA },
		{ "kube-version", required_argument, NULL, O_KV },
		{ "in-cluster", no_argument, NULL, O_INCLUSTER },
		{ "no-lint", no_argument, NULL, O_NOLINT },
		{ "wait", no_argument, NULL, O_WAIT },
		{ "wait-timeout", required_argument, NULL, O_WAIT_TIMEOUT },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	int c, have_wait_timeout = 0;
	char *end;

	optind = 0;	/* glibc: start afresh, also for the next job of --serve */
	opterr = 0;
	while ((c = getopt_long(argc, argv, "n:h", opts, NULL)) != -1) {
		switch (c) {
		case O_KUBECONFIG: a->kubeconfig = optarg; break;
		case O_CONTEXT: a->context = optarg; break;
		case 'n': a->namespace = optarg; break;
		case O_APPLYSET: a->applyset = optarg; break;
		case O_PRUNE: a->prune = 1; break;
		case O_DRY: a->dry_run = 1; break;
		case O_FORCE: a->force = 1; break;
		case O_CONC:
			a->concurrency = (int)strtol(optarg, &end, 10);
			if (*end || a->concurrency < 1 || a->concurrency > 1000) {
				fprintf(stderr, "tidegate: --concurrency wants 1..1000\n");
				return -1;
			}
			break;
		case O_FORMAT: a->format = optarg; break;
		case O_GITDIR: a->git_dir = optarg; break;
		case O_REV: a->rev = optarg; break;
		case O_CW: a->cluster_wide = 1; break;
		case O_FOREIGN: a->allow_foreign = 1; break;
		case O_FM: a->field_manager = optarg; break;
		case O_TIMEOUT:
			a->timeout_s = (int)strtol(optarg, &end, 10);
			if (*end || a->timeout_s < 1 || a->timeout_s > 86400) {
				fprintf(stderr, "tidegate: --timeout wants 1..86400 seconds\n");
				return -1;
			}
			break;
		case O_SCHEMA: a->schema_dir = optarg; break;
		case O_KV: a->kube_version = optarg; break;
		case O_INCLUSTER: a->in_cluster = 1; break;
		case O_NOLINT: a->no_lint = 1; break;
		case O_WAIT: a->wait = 1; break;
		case O_WAIT_TIMEOUT:
			a->wait_timeout_s = (int)strtol(optarg, &end, 10);
			if (*end || a->wait_timeout_s < 1 || a->wait_timeout_s > 86400) {
				fprintf(stderr, "tidegate: --wait-timeout wants 1..86400 seconds\n");
				return -1;
			}
			have_wait_timeout = 1;
			break;
		case 'h': usage(stdout, a->diff); return 1;
		default:
			fprintf(stderr, "tidegate: unknown or incomplete option '%s'\n", argv[optind - 1]);
			return -1;
		}
	}
	if (strcmp(a->format, "text") && strcmp(a->format, "json")) {
		fprintf(stderr, "tidegate: --format wants text or json\n");
		return -1;
	}
	if (!a->git_dir != !a->rev) {
		fprintf(stderr, "tidegate: --git-dir and --rev go together\n");
		return -1;
	}
	if (a->wait && (a->dry_run || a->diff)) {
		fprintf(stderr, "tidegate: --wait does not go with a dry run or diff\n");
		return -1;
	}
	if (have_wait_timeout && !a->wait) {
		fprintf(stderr, "tidegate: --wait-timeout goes with --wait\n");
		return -1;
	}
	if (a->prune && !a->applyset) {
		fprintf(stderr, "tidegate: --prune needs --applyset NAME\n");
		return -1;
	}
	if (a->applyset && (check_dns1123_subdomain(a->applyset))) {
		fprintf(stderr, "tidegate: --applyset '%s': %s\n", a->applyset,
			check_dns1123_subdomain(a->applyset));
		return -1;
	}
	if (a->namespace && check_dns1123_label(a->namespace)) {
		fprintf(stderr, "tidegate: -n '%s': %s\n", a->namespace, check_dns1123_label(a->namespace));
		return -1;
	}
	if (optind >= argc) {
		fprintf(stderr, "tidegate: no PATH given\n");
		return -1;
	}
	return 0;
}

/* Hands the linted objects to the run (bodies as JSON). */
static void collect_objects(struct apply_cmd *a, struct apply_run *run)
{
	const struct kset *set = linter_objects(a->l);
	size_t i;

	for (i = 0; i < set->nobjs; i++) {
		const struct kobj *ko = &set->objs[i];
		cJSON *body;
		char *src;

		if (!ko->name)
			continue;	/* generateName: apply cannot address it; lint said so */
		body = ynode_to_json(ko->root);
		if (!body)
			continue;
		src = xstrfmt("%s:%u", ko->path, ko->line);
		apply_add(run, body, src);
		free(src);
	}
}

/*
 * The kube client for a job: warm's when it was made for the same
 * cluster, from an unchanged kubeconfig, not too long ago; else a new
 * one (kept in warm when serving). Returns 0 or -1 (*fatal set).
 */
static int warm_client(struct warm *w, const struct apply_cmd *a, long long deadline,
		       struct kubeconfig **kcp, struct kube_client **cp, struct discovery **dp,
		       const char **fatal)
{
	struct kube_client_options co = KUBE_CLIENT_OPTIONS_INIT;
	struct stat st;
	char *key = xstrfmt("%s\n%s\n%d\n%d", a->kubeconfig ? a->kubeconfig : "",
			    a->context ? a->context : "", a->in_cluster, a->concurrency);
	int r, have_st = a->kubeconfig && stat(a->kubeconfig, &st) == 0;

	if (w->client && (strcmp(key, w->cluster_key) ||
			  monotonic_ms() - w->born_ms > WARM_CLIENT_MAX_AGE_MS ||
			  (have_st && (st.st_mtim.tv_sec != w->kc_st.st_mtim.tv_sec ||
				       st.st_mtim.tv_nsec != w->kc_st.st_mtim.tv_nsec ||
				       st.st_ino != w->kc_st.st_ino || st.st_size != w->kc_st.st_size))))
		warm_drop_client(w);
	if (!w->client) {
		struct kubeconfig init = KUBECONFIG_INIT;

		w->kc = init;
		r = a->in_cluster ? kubeconfig_in_cluster(&w->kc)
				  : kubeconfig_load(&w->kc, a->kubeconfig, a->context);
		if (r < 0) {
			kubeconfig_release(&w->kc);
			free(key);
			*fatal = "cannot load the kubeconfig";
			return -1;
		}
		co.concurrency = a->concurrency;
		co.deadline_ms = deadline;
		w->client = kube_client_new(&w->kc, &co);
		if (!w->client) {
			kubeconfig_release(&w->kc);
			free(key);
			*fatal = "cannot start the HTTP client";
			return -1;
		}
		w->disco = discovery_new(w->client, NULL);
		w->cache = apply_cache_new();
		w->cluster_key = key;
		key = NULL;
		w->born_ms = monotonic_ms();
		if (have_st)
			w->kc_st = st;
		else
			memset(&w->kc_st, 0, sizeof(w->kc_st));
	}
	free(key);
	kube_client_set_deadline(w->client, deadline);
	*kcp = &w->kc;
	*cp = w->client;
	*dp = w->disco;
	return 0;
}

/*
 * One apply or diff. With warm (serving), the repository and cluster
 * connection are taken from and left in it, and the JSON result goes
 * to json_out instead of stdout.
 */
static int run_apply(int argc, char **argv, int diff, struct warm *warm, struct buf *json_out)
{
	struct apply_cmd a;
	struct lint_options lo = LINT_OPTIONS_INIT;
	struct findings fs = FINDINGS_INIT;
	struct kubeconfig kc_own = KUBECONFIG_INIT, *kc = &kc_own;
	struct kube_client_options co = KUBE_CLIENT_OPTIONS_INIT;
	struct apply_options ao = APPLY_OPTIONS_INIT;
	struct apply_run run = APPLY_RUN_INIT;
	struct kube_client *client = NULL;
	struct discovery *disco = NULL;
	long long start = monotonic_ms(), deadline;
	int r, i, ret = 2, json, own_client = !warm, waited = 0;
	const char *fatal = NULL;

	memset(&a, 0, sizeof(a));
	a.diff = diff;
	a.format = "text";
	a.timeout_s = DEFAULT_TIMEOUT_S;
	a.wait_timeout_s = DEFAULT_WAIT_TIMEOUT_S;
	r = parse_args(&a, argc, argv);
	if (r) {
		if (r < 0)
			usage(stderr, diff);
		if (json_out)
			json_result(json_out, &a, NULL, 0, &fs, 0, "bad arguments");
		return r < 0 ? 2 : 0;
	}
	if (json_out)
		a.format = "json";	/* the answer to tidegated is always JSON */
	json = !strcmp(a.format, "json");
	/* the wait has a time of its own, after the apply's */
	deadline = start + ((long long)a.timeout_s + (a.wait ? a.wait_timeout_s : 0)) * 1000;

	lo.schema_dir = a.schema_dir;
	lo.kube_version = a.kube_version;
	if (warm && !a.no_lint)
		lo.schemas = warm_schemas(warm, a.schema_dir);
	a.l = linter_new(&lo);
	if (a.git_dir)
		r = add_git_paths(&a, argv + optind, argc - optind, deadline, warm);
	else
		for (i = optind, r = 0; i < argc && !r; i++)
			r = add_path(&a, argv[i], 0);
	if (r < 0) {
		fatal = "cannot read the input";
		goto out;
	}
	if (!a.no_lint && linter_run(a.l, &fs) < 0) {
		fatal = "the lint could not run";
		goto out;
	}
	if (fs.nerr) {
		if (!json) {
			print_findings(&fs, stderr);
			fprintf(stderr, "tidegate: %zu error(s) found; nothing was applied\n", fs.nerr);
		}
		fatal = "lint errors; nothing was applied";
		ret = 1;
		goto out;
	}
	collect_objects(&a, &run);

	if (warm) {
		if (warm_client(warm, &a, deadline, &kc, &client, &disco, &fatal) < 0)
			goto out;
	} else {
		r = a.in_cluster ? kubeconfig_in_cluster(kc) : kubeconfig_load(kc, a.kubeconfig, a.context);
		if (r < 0) {
			fatal = "cannot load the kubeconfig";
			goto out;
		}
		co.concurrency = a.concurrency;
		co.deadline_ms = deadline;
		client = kube_client_new(kc, &co);
		if (!client) {
			fatal = "cannot start the HTTP client";
			goto out;
		}
		disco = discovery_new(client, NULL);
	}
	ao.field_manager = a.field_manager;
	ao.namespace = a.namespace ? a.namespace : kc->namespace ? kc->namespace : "default";
	ao.applyset = a.applyset;
	ao.force_conflicts = a.force;
	ao.dry_run = a.dry_run;
	ao.diff = diff;
	ao.prune = a.prune;
	ao.prune_cluster_wide = a.cluster_wide;
	ao.allow_foreign = a.allow_foreign;
	ao.progress = !json && isatty(2);
	ao.cache = warm ? warm->cache : NULL;
	ao.discovery_max_age_ms = warm ? WARM_DISCOVERY_MAX_AGE_MS : 0;
	if (apply_execute(&run, client, disco, &ao) < 0) {
		fatal = "the run stopped: see the error above";
		ret = 2;
		if (warm)
			warm_drop_client(warm);	/* a fresh connection and discovery next time */
	} else {
		ret = run.counts[APPLY_FAILED] ? 1 : 0;
	}
	if (!json)
		print_text(&a, &run, monotonic_ms() - start);
	if (a.wait && !fatal && !ret) {
		long long wstart = monotonic_ms();

		waited = 1;
		if (apply_wait(&run, client, a.wait_timeout_s * 1000, deadline))
			ret = 1;
		if (!json)
			print_health(&run, monotonic_ms() - wstart);
	}
out:
	if (json_out) {
		json_result(json_out, &a, &run, waited, &fs, monotonic_ms() - start, fatal);
	} else if (json) {
		struct buf out = BUF_INIT(BUF_NOCAP);

		json_result(&out, &a, &run, waited, &fs, monotonic_ms() - start, fatal);
		fwrite(out.data, 1, out.len, stdout);
		buf_release(&out);
	} else if (fatal && ret == 2) {
		fprintf(stderr, "tidegate: %s\n", fatal);
	}
	apply_run_release(&run);
	if (own_client) {
		discovery_free(disco);
		kube_client_free(client);
		kubeconfig_release(kc);
	}
	findings_release(&fs);
	linter_free(a.l);
	return ret;
}

/*
 * Where the job that starts at b->data[0] ends: the offset just past
 * its final NUL, or 0 when more input is needed.
 */
static size_t job_end(const struct buf *b)
{
	size_t i = 0;

	while (i < b->len) {
		const char *nul = memchr(b->data + i, '\0', b->len - i);

		if (!nul)
			return 0;
		if (nul == b->data + i)
			return i + 1;	/* the empty argument ends the job */
		i = (size_t)(nul - b->data) + 1;
	}
	return 0;
}

/*
 * `tidegate apply --serve`: tidegated's warm applier. Jobs come on
 * stdin, one after another: the arguments of one `tidegate apply`, each
 * ending in NUL, then one more NUL. Each is answered on stdout with
 * "tidegate-result CODE LEN\n" and LEN bytes of the JSON result (what
 * `--format json` prints); CODE is what the command would have exited
 * with. Messages go to stderr as usual, before the answer. The program
 * ends at EOF between jobs. Kept from job to job: the repository's
 * cat-file child, the kubeconfig, the HTTP/2 connection, discovery and
 * what was applied (apply.h: an unchanged object is not sent again).
 */
static int apply_serve(char *name)
{
	struct buf in = BUF_INIT(MAX_STDIN_ARGS + 1);
	struct warm w;
	int ret = 0;

	memset(&w, 0, sizeof(w));
	for (;;) {
		size_t end = job_end(&in);
		char chunk[8192];
		ssize_t n;

		if (end > 0) {
			struct buf out = BUF_INIT(BUF_NOCAP);
			char **args = NULL, head[64];
			size_t nargs = 0, alloc = 0, i;
			int code, hlen;

			XGROW(args, 1, alloc);
			args[nargs++] = name;
			for (i = 0; in.data[i]; i += strlen(in.data + i) + 1) {
				XGROW(args, nargs + 2, alloc);
				args[nargs++] = in.data + i;
			}
			args[nargs] = NULL;
			code = run_apply((int)nargs, args, 0, &w, &out);
			free(args);
			fflush(stderr);
			hlen = snprintf(head, sizeof(head), "tidegate-result %d %zu\n", code, out.len);
			if (write_all(1, head, (size_t)hlen) < 0 || write_all(1, out.data, out.len) < 0) {
				buf_release(&out);
				ret = 2;
				break;
			}
			buf_release(&out);
			memmove(in.data, in.data + end, in.len - end);
			buf_setlen(&in, in.len - end);
			continue;
		}
		n = read(0, chunk, sizeof(chunk));
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			fprintf(stderr, "tidegate: cannot read jobs from stdin: %s\n", strerror(errno));
			ret = 2;
			break;
		}
		if (n == 0) {
			if (in.len) {
				fprintf(stderr, "tidegate: stdin ended inside a job\n");
				ret = 2;
			}
			break;
		}
		if (buf_add(&in, chunk, (size_t)n) < 0 || in.toobig) {
			fprintf(stderr, "tidegate: a job's arguments are longer than %u bytes\n",
				MAX_STDIN_ARGS);
			ret = 2;
			break;
		}
	}
	warm_release(&w);
	buf_release(&in);
	return ret;
}

/*
 * `tidegate apply --args-from-stdin`: the arguments come on stdin, each
 * ending in a NUL byte, until EOF. tidegated starts an apply this way
 * before it has a commit to apply, so the program is loaded and linked
 * (libcurl and OpenSSL take tens of milliseconds) by the time a push
 * arrives; then it writes the arguments.
 */
static int apply_from_stdin(char *name)
{
	struct buf b = BUF_INIT(MAX_STDIN_ARGS);
	char **args = NULL;
	size_t n = 0, alloc = 0, i;
	int r;

	if (buf_read_fd(&b, 0) < 0 || b.toobig) {
		fprintf(stderr, "tidegate: cannot read the arguments from stdin%s\n",
			b.toobig ? ": too long" : "");
		buf_release(&b);
		return 2;
	}
	if (!b.len) {
		/* tidegated went away before it had work for us */
		buf_release(&b);
		return 2;
	}
	XGROW(args, n + 1, alloc);
	args[n++] = name;
	for (i = 0; i < b.len; i += strlen(b.data + i) + 1) {
		if (!memchr(b.data + i, '\0', b.len - i)) {
			fprintf(stderr, "tidegate: the arguments on stdin must each end in a NUL\n");
			free(args);
			buf_release(&b);
			return 2;
		}
		XGROW(args, n + 2, alloc);
		args[n++] = b.data + i;
	}
	args[n] = NULL;
	r = run_apply((int)n, args, 0, NULL, NULL);
	free(args);
	buf_release(&b);
	return r;
}

int cmd_apply(int argc, char **argv)
{
	if (argc == 2 && !strcmp(argv[1], "--args-from-stdin"))
		return apply_from_stdin(argv[0]);
	if (argc == 2 && !strcmp(argv[1], "--serve"))
		return apply_serve(argv[0]);
	return run_apply(argc, argv, 0, NULL, NULL);
}

int cmd_diff(int argc, char **argv)
{
	return run_apply(argc, argv, 1, NULL, NULL);
}
