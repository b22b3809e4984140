/*
 * provider.h - what each webhook provider sends, checked and read.
 *
 * provider_verify() checks a delivery's signature on the raw body, as
 * the provider signs it, against every secret of the receiver (several
 * during a rotation); nothing about the body is trusted before it
 * returns VERIFY_OK. provider_parse() then turns the body into a
 * struct push_event: the repository (every URL the payload names it
 * by), the updated refs, the changed files when the payload lists them
 * completely, and the delivery id used to recognise a redelivery.
 *
 * Nothing here fetches anything: the repository URLs in a payload are
 * only compared with the configured ones, never contacted.
 */
#ifndef TIDEGATED_PROVIDER_H
#define TIDEGATED_PROVIDER_H

#include <stddef.h>
#include <time.h>

#include "config.h"

struct http_request;

enum verify_result {
	VERIFY_OK = 0,
	VERIFY_MISSING,		/* no signature or token header */
	VERIFY_BAD,		/* a signature that does not match any secret */
	VERIFY_STALE,		/* a signed timestamp too far from our clock */
};

/* Tolerance for signed timestamps (generic, Standard Webhooks), seconds. */
#define PROVIDER_CLOCK_SKEW 300

/*
 * Checks req against r's secrets at time now. *why gets a short reason
 * for the log and the answer (never a secret). A receiver configured
 * `insecure: true` with no secret accepts anything.
 */
enum verify_result provider_verify(const struct receiver *r, const struct http_request *req,
				   time_t now, const char **why);

struct ref_update {
	char *ref;		/* refs/heads/main */
	char *before, *after;	/* hex object ids; after is all zeros on a delete */
	int deleted;
};

enum event_kind {
	EVENT_PUSH = 0,
	EVENT_PING,		/* a test delivery: answer 200, do nothing */
	EVENT_OTHER,		/* an event we do not act on: answer 200, do nothing */
};

struct push_event {
	enum provider provider;
	enum event_kind kind;
	char *event_name;	/* the event header's value, for logs */
	char *delivery;		/* the provider's delivery id, or NULL */
	char *pusher;
	char *repo_name;	/* "owner/name" as the provider names it, or NULL */
	char **repo_urls;	/* every URL the payload gives for the repository */
	size_t nrepo_urls;
	struct ref_update *updates;
	size_t nupdates;
	int files_known;	/* files[] lists every changed path */
	char **files;
	size_t nfiles;
};
#define PUSH_EVENT_INIT { PROV_GITHUB, EVENT_PUSH, NULL, NULL, NULL, NULL, NULL, 0, NULL, 0, 0, NULL, 0 }

/*
 * Reads a verified delivery. Returns 0 (ev filled; check ev->kind), or
 * -1 with *why set to a short reason for a 400 answer (malformed JSON, a
 * missing field). ev must be released either way.
 */
int provider_parse(enum provider p, const struct http_request *req, struct push_event *ev,
		   const char **why);
void push_event_release(struct push_event *ev);

/* The delivery id header a provider sends, looked up in req; NULL if none. */
const char *provider_delivery_id(enum provider p, const struct http_request *req);

#endif
