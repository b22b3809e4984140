/*
 * status.h - commit statuses reported back to the Git host
 * (pending when a sync starts, success or failure when it ends).
 *
 * Requests go through libcurl's multi interface driven by the daemon's
 * libevent base (curl's hiperfifo pattern): nothing blocks the loop, every
 * request has a 10 s deadline, a failure is logged and otherwise ignored.
 * The API URL, repository and token come from the app's configuration,
 * never from a payload; the token is read from its file for each request
 * and never logged.
 *
 *	GitHub  POST {api}/repos/{repo}/statuses/{sha}        Authorization: Bearer
 *	Gitea   POST {api}/api/v1/repos/{repo}/statuses/{sha} Authorization: token
 *	GitLab  POST {api}/api/v4/projects/{repo, url-encoded}/statuses/{sha}  PRIVATE-TOKEN
 */
#ifndef TIDEGATED_STATUS_H
#define TIDEGATED_STATUS_H

#include <stddef.h>

struct event_base;
struct status_conf;
struct status_reporter;

enum commit_state {
	STATE_PENDING,
	STATE_SUCCESS,
	STATE_FAILURE,
};

struct status_reporter *status_new(struct event_base *base);
void status_free(struct status_reporter *s);

/* Queues one status update for commit sha of app (context "tidegate/APP"). */
void status_post(struct status_reporter *s, const struct status_conf *conf, const char *app,
		 const char *sha, enum commit_state state, const char *description);

size_t status_in_flight(const struct status_reporter *s);

#endif
