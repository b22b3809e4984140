/*
 * journal.h - accepted pushes on disk before "202 Accepted".
 *
 * One append-only file, state_dir/journal.log, of JSON lines:
 *	{"t":"ev","seq":7,"key":"github:<delivery>","ev":{...}}   an accepted event
 *	{"t":"done","seq":7}                                      its syncs are over
 *	{"t":"seen","key":"github:<delivery>"}                    a remembered delivery id
 * An event is acknowledged only after its line is written and
 * fdatasync'ed (group commit: the events accepted in one turn of the
 * event loop share one write and one fdatasync). At start the file is
 * replayed: events without a "done" line are handed back to be synced
 * again, so a kill -9 at any moment loses nothing that was answered 202.
 * A torn last line (a crash in mid-write, never acknowledged) is dropped.
 * The file is rewritten (temp file, fsync, rename, directory fsync) at
 * start and whenever it grows past a few MiB, keeping only unfinished
 * events and the newest dedup_max delivery ids.
 *
 * Each unfinished event carries a reference count: one per app sync it
 * is waiting for. journal_unref() to zero writes its "done" line.
 *
 * With an event base, appends are flushed by an event made active on the
 * base (after the callbacks of the current loop turn): the lines are
 * written there and the fdatasync runs on a thread of the journal's own,
 * so the loop reads and parses the next requests meanwhile; the
 * callbacks run from the loop once it is over. One batch is in flight
 * at a time; events appended meanwhile form the next. "done" lines are
 * never fsync'ed and go out with the next write. With base NULL the
 * caller flushes with journal_flush() (tests, tools).
 */
#ifndef TIDEGATE_JOURNAL_H
#define TIDEGATE_JOURNAL_H

#include <stddef.h>

struct event_base;
struct cJSON;
struct journal;

/* Opens (creating) dir/journal.log and replays it. NULL on failure (logged). */
struct journal *journal_open(struct event_base *base, const char *dir, size_t dedup_max);
void journal_free(struct journal *j);

/*
 * Calls fn for every event still unfinished after the replay, oldest
 * first, with its seq and the "ev" object (valid during the call). The
 * events start with a reference count of zero: fn takes references for
 * the syncs it starts; an event still at zero afterwards is done.
 */
void journal_replay(struct journal *j,
		    void (*fn)(unsigned long long seq, const struct cJSON *ev, void *arg),
		    void *arg);

/* 1 when a delivery key was accepted before (or is being written now). */
int journal_seen(struct journal *j, const char *key);

typedef void (*journal_cb)(void *arg, int ok);

enum journal_seen_state {
	JOURNAL_UNSEEN,		/* a new delivery */
	JOURNAL_DURABLE,	/* accepted before and on disk */
	JOURNAL_WRITING,	/* accepted, its write or fsync not over yet */
};

/*
 * As journal_seen(), for answering a redelivery: a delivery whose first
 * copy is still being written must not be acknowledged before that copy
 * is on disk. On JOURNAL_WRITING, cb(arg, ok) runs when the first copy's
 * batch settles (ok 0: it was not written and is forgotten; the caller
 * asks the sender to try again); otherwise cb is never called.
 */
enum journal_seen_state journal_seen_wait(struct journal *j, const char *key,
					  journal_cb cb, void *arg);
/*
 * Queues an event (ev_json: a JSON object, key: its dedup key or NULL)
 * and returns its seq; cb(arg, 1) runs once it is on disk, cb(arg, 0)
 * if writing failed (the event is then forgotten). The event starts with
 * one reference, held for the caller until it calls journal_unref().
 */
unsigned long long journal_append(struct journal *j, const char *key, const char *ev_json,
				  journal_cb cb, void *arg);
void journal_ref(struct journal *j, unsigned long long seq);
void journal_unref(struct journal *j, unsigned long long seq);

/* Events written and not yet done; appends waiting for their fsync. */
size_t journal_pending(const struct journal *j);
size_t journal_queued(const struct journal *j);
/* Waits for the batch in flight, then writes and fsyncs what is queued (at shutdown). */
void journal_flush(struct journal *j);

#endif
