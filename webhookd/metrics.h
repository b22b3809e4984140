/*
 * metrics.h - counters for GET /metrics (Prometheus text format 0.0.4).
 *
 *	tidegated_deliveries_total{provider,result}   webhooks received, by outcome
 *	tidegated_syncs_total{app,result}             syncs finished, by outcome
 *	tidegated_sync_retries_total{app}             failed syncs tried again
 *	tidegated_sync_duration_seconds               histogram of sync durations
 *	tidegated_queue_depth                         apps with a sync waiting or running
 *	tidegated_journal_pending                     accepted events not yet synced
 *	tidegated_connections                         open HTTP connections
 */
#ifndef TIDEGATED_METRICS_H
#define TIDEGATED_METRICS_H

#include <stddef.h>

#include "buf.h"
#include "config.h"

struct metrics;

struct metrics *metrics_new(void);
void metrics_free(struct metrics *m);

/* result: accepted, duplicate, ping, ignored, unauthorized, bad_request, error */
void metrics_delivery(struct metrics *m, enum provider p, const char *result);
/* result: success, failed */
void metrics_sync(struct metrics *m, const char *app, const char *result, double seconds);
/* A failed sync of app is being tried again. */
void metrics_sync_retry(struct metrics *m, const char *app);

struct metrics_gauges {
	size_t queue_depth;
	size_t journal_pending;
	size_t connections;
	size_t syncs_running;
};
void metrics_render(const struct metrics *m, const struct metrics_gauges *g, struct buf *out);

#endif
