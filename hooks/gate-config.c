/*
 * The gate's lint configuration: the server-side file (tidegate.config)
 * plus git config (tidegate.lockedRules, strict, kubeVersion), merged
 * with the repository's .tidegate.yaml read from the pushed commit.
 */
#include "gate.h"
#include "lintconf.h"
#include "log.h"
#include "xalloc.h"

#include <stdlib.h>
#include <string.h>

#define REPO_CONFIG ".tidegate.yaml"
#define REPO_CONFIG_MAX (1u << 20)

int gate_config_load_server(struct gate *g)
{
	struct lint_config *cfg = xmalloc(sizeof(*cfg));
	struct findings fs = FINDINGS_INIT;
	int ret = 0;

	lint_config_init(cfg);
	if (g->pol.server_config && lint_config_load(cfg, g->pol.server_config, &fs) < 0) {
		for (size_t i = 0; i < fs.n; i++)
			if (fs.v[i].sev == SEV_ERROR)
				error("%s:%u:%u: %s", fs.v[i].path, fs.v[i].line, fs.v[i].col,
				      fs.v[i].msg);
		ret = error("cannot use the server configuration '%s' (tidegate.config)",
			    g->pol.server_config);
	}
	for (size_t i = 0; i < g->pol.nlocked; i++)
		lint_config_lock(cfg, g->pol.locked[i]);
	if (g->pol.strict)
		cfg->strict = 1;
	if (g->pol.kube_version) {
		free(cfg->kube_version);
		cfg->kube_version = xstrdup(g->pol.kube_version);
	}
	findings_release(&fs);
	gate_config_free(g->server_cfg);
	g->server_cfg = cfg;
	return ret;
}

int gate_config_for_commit(struct gate *g, const char *commit, struct lint_config **out,
			   struct findings *fs)
{
	struct buf data = BUF_INIT(REPO_CONFIG_MAX);
	struct lint_config repo_cfg = LINT_CONFIG_INIT;
	struct lint_config *merged;
	char *name = xstrfmt("%s:%s", commit, REPO_CONFIG);
	int r, have_repo = 0;

	*out = NULL;
	r = git_read_blob(g->repo, name, &data);
	free(name);
	if (r < 0 && data.toobig) {
		findings_add(fs, REPO_CONFIG, 0, 0, SEV_ERROR, "config-invalid", NULL,
			     "file is over %u bytes", REPO_CONFIG_MAX);
	} else if (r < 0) {
		buf_release(&data);
		return -1;
	} else if (r == 0) {
		lint_config_init(&repo_cfg);
		/* errors in it are findings that refuse the push */
		lint_config_parse(&repo_cfg, REPO_CONFIG, data.data, data.len, fs);
		have_repo = 1;
	}
	merged = xmalloc(sizeof(*merged));
	lint_config_init(merged);
	lint_config_merge(merged, g->server_cfg, have_repo ? &repo_cfg : NULL, fs);
	if (have_repo)
		lint_config_release(&repo_cfg);
	buf_release(&data);
	*out = merged;
	return 0;
}

void gate_config_free(struct lint_config *cfg)
{
	if (!cfg)
		return;
	lint_config_release(cfg);
	free(cfg);
}
