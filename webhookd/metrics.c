#include "metrics.h"
#include "xalloc.h"

#include <stdlib.h>
#include <string.h>

static const char *const delivery_results[] = {
	"accepted", "duplicate", "ping", "ignored", "unauthorized", "bad_request", "error",
};
#define NDELIVERY (sizeof(delivery_results) / sizeof(delivery_results[0]))

static const double buckets[] = { 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 600 };
#define NBUCKETS (sizeof(buckets) / sizeof(buckets[0]))

struct sync_counter {
	char *app;
	unsigned long long success, failed, retries;
};

struct metrics {
	unsigned long long deliveries[PROV__COUNT][NDELIVERY];
	struct sync_counter *syncs;
	size_t nsyncs, alloc;
	unsigned long long hist[NBUCKETS + 1];
	double hist_sum;
	unsigned long long hist_count;
};

struct metrics *metrics_new(void)
{
	return xcalloc(1, sizeof(struct metrics));
}

void metrics_free(struct metrics *m)
{
	size_t i;

	if (!m)
		return;
	for (i = 0; i < m->nsyncs; i++)
		free(m->syncs[i].app);
	free(m->syncs);
	free(m);
}

void metrics_delivery(struct metrics *m, enum provider p, const char *result)
{
	size_t i;

	if ((unsigned)p >= PROV__COUNT)
		return;
	for (i = 0; i < NDELIVERY; i++)
		if (!strcmp(delivery_results[i], result))
			m->deliveries[p][i]++;
}

static struct sync_counter *sync_counter(struct metrics *m, const char *app)
{
	size_t i;

	for (i = 0; i < m->nsyncs; i++)
		if (!strcmp(m->syncs[i].app, app))
			return &m->syncs[i];
	XGROW(m->syncs, m->nsyncs + 1, m->alloc);
	m->syncs[m->nsyncs].app = xstrdup(app);
	m->syncs[m->nsyncs].success = m->syncs[m->nsyncs].failed = 0;
	m->syncs[m->nsyncs].retries = 0;
	return &m->syncs[m->nsyncs++];
}

void metrics_sync_retry(struct metrics *m, const char *app)
{
	sync_counter(m, app)->retries++;
}

void metrics_sync(struct metrics *m, const char *app, const char *result, double seconds)
{
	struct sync_counter *c = sync_counter(m, app);
	size_t i;

	if (!strcmp(result, "success"))
		c->success++;
	else
		c->failed++;
	for (i = 0; i < NBUCKETS && seconds > buckets[i]; i++)
		;
	m->hist[i]++;
	m->hist_sum += seconds;
	m->hist_count++;
}

void metrics_render(const struct metrics *m, const struct metrics_gauges *g, struct buf *out)
{
	unsigned long long cum = 0;
	size_t p, i;

	buf_addstr(out, "# HELP tidegated_deliveries_total Webhook deliveries received, by outcome.\n"
		   "# TYPE tidegated_deliveries_total counter\n");
	for (p = 0; p < PROV__COUNT; p++)
		for (i = 0; i < NDELIVERY; i++)
			buf_addf(out, "tidegated_deliveries_total{provider=\"%s\",result=\"%s\"} %llu\n",
				 provider_name((enum provider)p), delivery_results[i],
				 m->deliveries[p][i]);
	buf_addstr(out, "# HELP tidegated_syncs_total Syncs finished, by app and outcome.\n"
		   "# TYPE tidegated_syncs_total counter\n");
	for (i = 0; i < m->nsyncs; i++) {
		/* App names are checked at config load: no quotes or backslashes. */
		buf_addf(out, "tidegated_syncs_total{app=\"%s\",result=\"success\"} %llu\n",
			 m->syncs[i].app, m->syncs[i].success);
		buf_addf(out, "tidegated_syncs_total{app=\"%s\",result=\"failed\"} %llu\n",
			 m->syncs[i].app, m->syncs[i].failed);
	}
	buf_addstr(out, "# HELP tidegated_sync_retries_total Failed syncs tried again, by app.\n"
		   "# TYPE tidegated_sync_retries_total counter\n");
	for (i = 0; i < m->nsyncs; i++)
		buf_addf(out, "tidegated_sync_retries_total{app=\"%s\"} %llu\n", m->syncs[i].app,
			 m->syncs[i].retries);
	buf_addstr(out, "# HELP tidegated_sync_duration_seconds Time from the start of a sync to its end.\n"
		   "# TYPE tidegated_sync_duration_seconds histogram\n");
	for (i = 0; i < NBUCKETS; i++) {
		cum += m->hist[i];
		buf_addf(out, "tidegated_sync_duration_seconds_bucket{le=\"%g\"} %llu\n",
			 buckets[i], cum);
	}
	buf_addf(out, "tidegated_sync_duration_seconds_bucket{le=\"+Inf\"} %llu\n", m->hist_count);
	buf_addf(out, "tidegated_sync_duration_seconds_sum %.3f\n", m->hist_sum);
	buf_addf(out, "tidegated_sync_duration_seconds_count %llu\n", m->hist_count);
	buf_addf(out, "# HELP tidegated_queue_depth Apps with a sync waiting or running.\n"
		 "# TYPE tidegated_queue_depth gauge\ntidegated_queue_depth %zu\n", g->queue_depth);
	buf_addf(out, "# HELP tidegated_syncs_running Syncs running now.\n"
		 "# TYPE tidegated_syncs_running gauge\ntidegated_syncs_running %zu\n",
		 g->syncs_running);
	buf_addf(out, "# HELP tidegated_journal_pending Accepted events not yet synced.\n"
		 "# TYPE tidegated_journal_pending gauge\ntidegated_journal_pending %zu\n",
		 g->journal_pending);
	buf_addf(out, "# HELP tidegated_connections Open HTTP connections.\n"
		 "# TYPE tidegated_connections gauge\ntidegated_connections %zu\n", g->connections);
}
