#include "journal.h"
#include "buf.h"
#include "log.h"
#include "xalloc.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cjson/cJSON.h>
#include <event2/event.h>

#define JOURNAL_MAX_READ (256u * 1024 * 1024)
#define COMPACT_AT (4u * 1024 * 1024)

/* An unfinished event, kept in memory for compaction and refcounting. */
struct jentry {
	unsigned long long seq;
	char *line;		/* its "ev" line, newline included */
	unsigned refs;
	int written;		/* on disk (acknowledged) */
	struct jentry *next;
};

/* A write waiting for the group fsync. */
struct jwait {
	unsigned long long seq;
	char *key;
	journal_cb cb;
	void *arg;
	struct jwait *next;
};

/* Delivery ids: a chained hash set with FIFO eviction. */
struct dnode {
	char *key;
	struct dnode *chain;
};

struct journal {
	struct event_base *base;
	char *dir, *path;
	int fd;
	off_t size;
	unsigned long long next_seq;
	struct jentry *entries, **entries_tail;
	size_t nentries;
	struct buf wbuf;			/* lines waiting for the group write */
	struct jwait *waits, **waits_tail;
	size_t nwaits;
	struct event *flush_ev;
	/*
	 * With an event base the fdatasync runs on a thread, so that the loop
	 * reads and parses the next requests meanwhile. One batch at a time:
	 * the events of "syncing" are written and being fsync'ed; new events
	 * wait in wbuf and waits until it is over.
	 */
	int have_thread;
	pthread_t thread;
	pthread_mutex_t mu;
	pthread_cond_t cv;
	int sync_fd;			/* fd to fdatasync, -1 when none is asked for */
	int sync_done, sync_errno, stop;	/* under mu */
	int notify[2];			/* the thread writes a byte here when done */
	struct event *notify_ev;
	struct jwait *syncing;		/* the batch being fsync'ed */
	size_t nsyncing;
	int in_flight;
	off_t batch_start;		/* the file's size before that batch */
	/* dedup */
	struct dnode **buckets;
	size_t nbuckets;
	struct dnode **ring;
	size_t ring_max, ring_head, ring_len;
};

static uint64_t hash_str(const char *s)
{
	uint64_t h = 1469598103934665603ULL;

	for (; *s; s++)
		h = (h ^ (unsigned char)*s) * 1099511628211ULL;
	return h;
}

static struct dnode **dedup_slot(struct journal *j, const char *key)
{
	struct dnode **p = &j->buckets[hash_str(key) % j->nbuckets];

	while (*p && strcmp((*p)->key, key))
		p = &(*p)->chain;
	return p;
}

static void dedup_remove(struct journal *j, const char *key)
{
	struct dnode **p = dedup_slot(j, key), *n = *p;
	size_t i;

	if (!n)
		return;
	*p = n->chain;
	for (i = 0; i < j->ring_len; i++) {
		size_t at = (j->ring_head + i) % j->ring_max;

		if (j->ring[at] == n) {
			/* Close the gap, keeping FIFO order. */
			for (; i + 1 < j->ring_len; i++) {
				size_t a = (j->ring_head + i) % j->ring_max;
				size_t b = (j->ring_head + i + 1) % j->ring_max;

				j->ring[a] = j->ring[b];
			}
			j->ring_len--;
			break;
		}
	}
	free(n->key);
	free(n);
}

static void dedup_add(struct journal *j, const char *key)
{
	struct dnode **p = dedup_slot(j, key), *n;

	if (*p)
		return;
	if (j->ring_len == j->ring_max) {
		struct dnode *old = j->ring[j->ring_head];
		struct dnode **q = dedup_slot(j, old->key);

		*q = old->chain;
		free(old->key);
		free(old);
		j->ring_head = (j->ring_head + 1) % j->ring_max;
		j->ring_len--;
		p = dedup_slot(j, key);
	}
	n = xcalloc(1, sizeof(*n));
	n->key = xstrdup(key);
	*p = n;
	j->ring[(j->ring_head + j->ring_len) % j->ring_max] = n;
	j->ring_len++;
}

int journal_seen(struct journal *j, const char *key)
{
	return key && *dedup_slot(j, key) != NULL;
}

/* The wait of key's event in list w, or NULL. */
static struct jwait *find_wait(struct jwait *w, const char *key)
{
	for (; w; w = w->next)
		if (w->key && !strcmp(w->key, key))
			return w;
	return NULL;
}

/*
 * A follower settles with the batch of the event it follows: same seq, no
 * key (settle() then leaves the dedup set alone), right after it. It is
 * not an append: the counts of queued appends leave it out.
 */
static void follow(struct journal *j, struct jwait *lead, journal_cb cb, void *arg)
{
	struct jwait *w = xcalloc(1, sizeof(*w));

	w->seq = lead->seq;
	w->cb = cb;
	w->arg = arg;
	w->next = lead->next;
	lead->next = w;
	if (j->waits_tail == &lead->next)
		j->waits_tail = &w->next;
}

enum journal_seen_state journal_seen_wait(struct journal *j, const char *key,
					  journal_cb cb, void *arg)
{
	struct jwait *lead;

	if (!journal_seen(j, key))
		return JOURNAL_UNSEEN;
	if ((lead = find_wait(j->waits, key))) {
		follow(j, lead, cb, arg);
		return JOURNAL_WRITING;
	}
	if ((lead = find_wait(j->syncing, key))) {
		follow(j, lead, cb, arg);
		return JOURNAL_WRITING;
	}
	return JOURNAL_DURABLE;
}

static struct jentry *find_entry(struct journal *j, unsigned long long seq, struct jentry **prev)
{
	struct jentry *e, *p = NULL;

	for (e = j->entries; e; p = e, e = e->next)
		if (e->seq == seq)
			break;
	if (prev)
		*prev = p;
	return e;
}

static void remove_entry(struct journal *j, unsigned long long seq)
{
	struct jentry *prev, *e = find_entry(j, seq, &prev);

	if (!e)
		return;
	if (prev)
		prev->next = e->next;
	else
		j->entries = e->next;
	if (j->entries_tail == &e->next)
		j->entries_tail = prev ? &prev->next : &j->entries;
	free(e->line);
	free(e);
	j->nentries--;
}

static struct jentry *add_entry(struct journal *j, unsigned long long seq, const char *line)
{
	struct jentry *e = xcalloc(1, sizeof(*e));

	e->seq = seq;
	e->line = xstrdup(line);
	*j->entries_tail = e;
	j->entries_tail = &e->next;
	j->nentries++;
	return e;
}

static int fsync_dir(const char *dir)
{
	int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	int ret;

	if (fd < 0)
		return -1;
	ret = fsync(fd);
	close(fd);
	return ret;
}

/* Rewrites the file with the remembered ids and the unfinished events. */
static int compact(struct journal *j)
{
	struct buf b = BUF_INIT(BUF_NOCAP);
	char *tmp = xstrfmt("%s.tmp", j->path);
	struct jentry *e;
	size_t i;
	int fd, ret = -1;

	for (i = 0; i < j->ring_len; i++) {
		buf_addstr(&b, "{\"t\":\"seen\",\"key\":");
		buf_add_json_str(&b, j->ring[(j->ring_head + i) % j->ring_max]->key);
		buf_addstr(&b, "}\n");
	}
	for (e = j->entries; e; e = e->next)
		if (e->written)
			buf_addstr(&b, e->line);
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (fd < 0) {
		error_errno("cannot create '%s'", tmp);
		goto out;
	}
	if (write_all(fd, b.data, b.len) < 0 || fdatasync(fd) < 0) {
		error_errno("cannot write '%s'", tmp);
		close(fd);
		unlink(tmp);
		goto out;
	}
	if (rename(tmp, j->path) < 0) {
		error_errno("cannot rename '%s'", tmp);
		close(fd);
		unlink(tmp);
		goto out;
	}
	fsync_dir(j->dir);
	close(fd);
	if (j->fd >= 0)
		close(j->fd);
	j->fd = open(j->path, O_WRONLY | O_APPEND | O_CLOEXEC);
	if (j->fd < 0) {
		error_errno("cannot reopen '%s'", j->path);
		goto out;
	}
	j->size = (off_t)b.len;
	ret = 0;
out:
	free(tmp);
	buf_release(&b);
	return ret;
}

static void replay_line(struct journal *j, const char *line, size_t len)
{
	cJSON *rec = cJSON_ParseWithLength(line, len);
	const cJSON *t = cJSON_GetObjectItemCaseSensitive(rec, "t");
	const cJSON *seq = cJSON_GetObjectItemCaseSensitive(rec, "seq");
	const cJSON *key = cJSON_GetObjectItemCaseSensitive(rec, "key");

	if (!cJSON_IsString(t)) {
		log_warnx("journal: skipping an unreadable line");
		cJSON_Delete(rec);
		return;
	}
	if (cJSON_IsString(key))
		dedup_add(j, key->valuestring);
	if (cJSON_IsNumber(seq) && seq->valuedouble >= 0) {
		unsigned long long s = (unsigned long long)seq->valuedouble;

		if (s >= j->next_seq)
			j->next_seq = s + 1;
		if (!strcmp(t->valuestring, "ev") &&
		    cJSON_IsObject(cJSON_GetObjectItemCaseSensitive(rec, "ev"))) {
			char *copy = xstrndup(line, len + 1);	/* keeps the newline */
			struct jentry *e = add_entry(j, s, copy);

			e->written = 1;
			free(copy);
		} else if (!strcmp(t->valuestring, "done")) {
			remove_entry(j, s);
		}
	}
	cJSON_Delete(rec);
}

static int replay_file(struct journal *j)
{
	struct buf data = BUF_INIT(JOURNAL_MAX_READ);
	size_t start = 0, i;

	if (buf_read_file(&data, j->path) < 0) {
		if (errno == ENOENT) {
			buf_release(&data);
			return 0;
		}
		buf_release(&data);
		return error_errno("cannot read journal '%s'", j->path);
	}
	for (i = 0; i < data.len; i++) {
		if (data.data[i] != '\n')
			continue;
		if (i > start)
			replay_line(j, data.data + start, i - start);
		start = i + 1;
	}
	if (start < data.len)
		log_warnx("journal: dropping a torn last line (%zu bytes, never acknowledged)",
			  data.len - start);
	buf_release(&data);
	return 0;
}

static void start_batch(struct journal *j);
static int start_thread(struct journal *j);
static void stop_thread(struct journal *j);

static void flush_cb(evutil_socket_t fd, short what, void *arg)
{
	struct journal *j = arg;

	(void)fd;
	(void)what;
	if (j->have_thread)
		start_batch(j);
	else
		journal_flush(j);
}

struct journal *journal_open(struct event_base *base, const char *dir, size_t dedup_max)
{
	struct journal *j = xcalloc(1, sizeof(*j));

	j->base = base;
	j->dir = xstrdup(dir);
	j->path = xstrfmt("%s/journal.log", dir);
	j->fd = -1;
	j->next_seq = 1;
	j->entries_tail = &j->entries;
	j->waits_tail = &j->waits;
	buf_init(&j->wbuf, BUF_NOCAP);
	j->ring_max = dedup_max ? dedup_max : 10000;
	j->nbuckets = j->ring_max * 2 + 1;
	j->buckets = xcalloc(j->nbuckets, sizeof(*j->buckets));
	j->ring = xcalloc(j->ring_max, sizeof(*j->ring));
	j->sync_fd = -1;
	j->notify[0] = j->notify[1] = -1;
	if (base)
		j->flush_ev = event_new(base, -1, 0, flush_cb, j);
	if (replay_file(j) < 0 || compact(j) < 0 || (base && start_thread(j) < 0)) {
		journal_free(j);
		return NULL;
	}
	return j;
}

void journal_replay(struct journal *j,
		    void (*fn)(unsigned long long seq, const struct cJSON *ev, void *arg),
		    void *arg)
{
	struct jentry *e;
	unsigned long long *seqs;
	size_t n = 0, i;

	/* fn may finish events (unref to zero) while we walk: walk a copy of the seqs. */
	seqs = xcalloc(j->nentries + 1, sizeof(*seqs));
	for (e = j->entries; e; e = e->next)
		seqs[n++] = e->seq;
	for (i = 0; i < n; i++) {
		cJSON *rec;

		e = find_entry(j, seqs[i], NULL);
		if (!e)
			continue;
		rec = cJSON_Parse(e->line);
		e->refs++;	/* held across fn */
		fn(e->seq, cJSON_GetObjectItemCaseSensitive(rec, "ev"), arg);
		cJSON_Delete(rec);
		journal_unref(j, seqs[i]);
	}
	free(seqs);
}

unsigned long long journal_append(struct journal *j, const char *key, const char *ev_json,
				  journal_cb cb, void *arg)
{
	struct buf line = BUF_INIT(BUF_NOCAP);
	struct jwait *w = xcalloc(1, sizeof(*w));
	unsigned long long seq = j->next_seq++;
	struct jentry *e;

	buf_addf(&line, "{\"t\":\"ev\",\"seq\":%llu,\"key\":", seq);
	if (key)
		buf_add_json_str(&line, key);
	else
		buf_addstr(&line, "null");
	buf_addf(&line, ",\"ev\":%s}\n", ev_json);
	e = add_entry(j, seq, line.data);
	e->refs = 1;
	buf_addstr(&j->wbuf, line.data);
	buf_release(&line);
	if (key)
		dedup_add(j, key);
	w->seq = seq;
	w->key = key ? xstrdup(key) : NULL;
	w->cb = cb;
	w->arg = arg;
	*j->waits_tail = w;
	j->waits_tail = &w->next;
	j->nwaits++;
	if (j->flush_ev)
		event_active(j->flush_ev, 0, 0);
	return seq;
}

/* Rewrites the file once it has grown and nothing waits to be written. */
static void maybe_compact(struct journal *j)
{
	if (j->size > (off_t)COMPACT_AT && !j->nwaits && !j->wbuf.len && !j->in_flight)
		compact(j);
}

/* Writes the queued "done" lines alone: no event waits, so no fsync. */
static void flush_done_lines(struct journal *j)
{
	if (j->fd < 0 || write_all(j->fd, j->wbuf.data, j->wbuf.len) < 0) {
		log_warn("journal: cannot write '%s'", j->path);
		if (j->fd >= 0 && ftruncate(j->fd, j->size) < 0)
			log_warn("journal: cannot truncate '%s'", j->path);
	} else {
		j->size += (off_t)j->wbuf.len;
	}
	buf_reset(&j->wbuf);
	maybe_compact(j);
}

/*
 * Writes wbuf; on success *start gets the size before it. On failure
 * takes back a partial write so the file ends on a whole line.
 */
static int write_batch(struct journal *j, off_t *start)
{
	int ret = 0;

	*start = j->size;
	if (j->fd < 0 || write_all(j->fd, j->wbuf.data, j->wbuf.len) < 0) {
		log_warn("journal: cannot write '%s'", j->path);
		if (j->fd >= 0 && ftruncate(j->fd, j->size) < 0)
			log_warn("journal: cannot truncate '%s'", j->path);
		ret = -1;
	} else {
		j->size += (off_t)j->wbuf.len;
	}
	buf_reset(&j->wbuf);
	return ret;
}

/* Takes the queued waits out of the journal, to be settled by settle(). */
static struct jwait *take_waits(struct journal *j)
{
	struct jwait *w = j->waits;

	j->waits = NULL;
	j->waits_tail = &j->waits;
	j->nwaits = 0;
	return w;
}

/*
 * The batch w is on disk (ok) or not: marks or forgets its events and
 * runs their callbacks. A failed fsync takes the batch back from the file
 * (and any "done" line written after it: one more apply after a crash).
 */
static void settle(struct journal *j, struct jwait *w, int ok, off_t start)
{
	struct jwait *next;

	if (!ok && j->fd >= 0 && j->size > start) {
		if (ftruncate(j->fd, start) < 0)
			log_warn("journal: cannot truncate '%s'", j->path);
		j->size = start;
	}
	for (; w; w = next) {
		struct jentry *e = find_entry(j, w->seq, NULL);

		next = w->next;
		if (ok) {
			if (e)
				e->written = 1;
		} else {
			if (w->key)
				dedup_remove(j, w->key);
			remove_entry(j, w->seq);
		}
		if (w->cb)
			w->cb(w->arg, ok);
		free(w->key);
		free(w);
	}
}

static void *sync_main(void *arg)
{
	struct journal *j = arg;
	char one = 1;

	pthread_mutex_lock(&j->mu);
	for (;;) {
		int fd, err;

		while (j->sync_fd < 0 && !j->stop)
			pthread_cond_wait(&j->cv, &j->mu);
		if (j->stop)
			break;
		fd = j->sync_fd;
		pthread_mutex_unlock(&j->mu);
		err = fdatasync(fd) < 0 ? errno : 0;
		pthread_mutex_lock(&j->mu);
		j->sync_fd = -1;
		j->sync_errno = err;
		j->sync_done = 1;
		pthread_cond_broadcast(&j->cv);
		/* Never fills: one byte per batch, one batch at a time. */
		(void)!write(j->notify[1], &one, 1);
	}
	pthread_mutex_unlock(&j->mu);
	return NULL;
}

/* Settles the batch in flight once its fsync is over; with wait, waits for it. */
static void finish_in_flight(struct journal *j, int wait)
{
	struct jwait *w;
	int err;

	if (!j->in_flight)
		return;
	pthread_mutex_lock(&j->mu);
	while (wait && !j->sync_done)
		pthread_cond_wait(&j->cv, &j->mu);
	if (!j->sync_done) {
		pthread_mutex_unlock(&j->mu);
		return;
	}
	j->sync_done = 0;
	err = j->sync_errno;
	pthread_mutex_unlock(&j->mu);
	j->in_flight = 0;
	w = j->syncing;
	j->syncing = NULL;
	j->nsyncing = 0;
	if (err) {
		errno = err;
		log_warn("journal: cannot fsync '%s'", j->path);
	}
	settle(j, w, !err, j->batch_start);
}

/* Writes what is queued and hands the fsync to the thread. */
static void start_batch(struct journal *j)
{
	off_t start;

	if (j->in_flight)
		return;
	if (!j->nwaits) {
		if (j->wbuf.len)
			flush_done_lines(j);
		else
			maybe_compact(j);
		return;
	}
	if (write_batch(j, &start) < 0) {
		settle(j, take_waits(j), 0, start);
		return;
	}
	j->nsyncing = j->nwaits;
	j->syncing = take_waits(j);
	j->batch_start = start;
	j->in_flight = 1;
	pthread_mutex_lock(&j->mu);
	j->sync_fd = j->fd;
	pthread_cond_signal(&j->cv);
	pthread_mutex_unlock(&j->mu);
}

static void notify_cb(evutil_socket_t fd, short what, void *arg)
{
	struct journal *j = arg;
	char drain[64];

	(void)what;
	while (read(fd, drain, sizeof(drain)) > 0)
		;
	finish_in_flight(j, 0);
	start_batch(j);
}

static int start_thread(struct journal *j)
{
	sigset_t all, old;
	int i, rc;

	if (pipe2(j->notify, O_CLOEXEC | O_NONBLOCK) < 0)
		return error_errno("journal: cannot create a pipe");
	pthread_mutex_init(&j->mu, NULL);
	pthread_cond_init(&j->cv, NULL);
	/* Signals are the loop's business: the thread blocks them all. */
	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &old);
	rc = pthread_create(&j->thread, NULL, sync_main, j);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (rc) {
		for (i = 0; i < 2; i++)
			close(j->notify[i]);
		pthread_cond_destroy(&j->cv);
		pthread_mutex_destroy(&j->mu);
		errno = rc;
		return error_errno("journal: cannot start the fsync thread");
	}
	j->have_thread = 1;
	j->notify_ev = event_new(j->base, j->notify[0], EV_READ | EV_PERSIST, notify_cb, j);
	event_add(j->notify_ev, NULL);
	return 0;
}

static void stop_thread(struct journal *j)
{
	int i;

	if (!j->have_thread)
		return;
	pthread_mutex_lock(&j->mu);
	j->stop = 1;
	pthread_cond_broadcast(&j->cv);
	pthread_mutex_unlock(&j->mu);
	pthread_join(j->thread, NULL);
	event_free(j->notify_ev);
	for (i = 0; i < 2; i++)
		close(j->notify[i]);
	pthread_cond_destroy(&j->cv);
	pthread_mutex_destroy(&j->mu);
	j->have_thread = 0;
}

/* Writes and fsyncs everything queued before returning (shutdown, tests). */
void journal_flush(struct journal *j)
{
	off_t start;
	int ok;

	finish_in_flight(j, 1);
	if (!j->nwaits && !j->wbuf.len)
		return;
	if (!j->nwaits) {
		flush_done_lines(j);
		return;
	}
	ok = write_batch(j, &start) == 0;
	if (ok && fdatasync(j->fd) < 0) {
		log_warn("journal: cannot fsync '%s'", j->path);
		ok = 0;
	}
	settle(j, take_waits(j), ok, start);
	/* The callbacks' "done" lines, unless new events will carry them. */
	if (!j->nwaits && j->wbuf.len)
		flush_done_lines(j);
	else
		maybe_compact(j);
}

void journal_ref(struct journal *j, unsigned long long seq)
{
	struct jentry *e = find_entry(j, seq, NULL);

	if (e)
		e->refs++;
}

void journal_unref(struct journal *j, unsigned long long seq)
{
	struct jentry *e = find_entry(j, seq, NULL);
	char line[64];
	int n;

	if (!e || !e->refs || --e->refs)
		return;
	remove_entry(j, seq);
	/*
	 * No fsync: a lost "done" only means one more (idempotent) apply
	 * after a crash. With an event base the line waits for the flush at
	 * the end of this loop turn, sharing its write with the others.
	 */
	n = snprintf(line, sizeof(line), "{\"t\":\"done\",\"seq\":%llu}\n", seq);
	if (j->flush_ev || j->fd < 0 || j->nwaits || j->wbuf.len) {
		buf_add(&j->wbuf, line, (size_t)n);
		if (j->flush_ev)
			event_active(j->flush_ev, 0, 0);
		return;
	}
	if (write_all(j->fd, line, (size_t)n) == 0)
		j->size += n;
	else
		buf_add(&j->wbuf, line, (size_t)n);
	maybe_compact(j);
}

size_t journal_pending(const struct journal *j)
{
	return j->nentries;
}

size_t journal_queued(const struct journal *j)
{
	return j->nwaits + j->nsyncing;
}

void journal_free(struct journal *j)
{
	size_t i;

	if (!j)
		return;
	journal_flush(j);
	stop_thread(j);
	while (j->entries)
		remove_entry(j, j->entries->seq);
	for (i = 0; i < j->ring_len; i++) {
		struct dnode *n = j->ring[(j->ring_head + i) % j->ring_max];

		free(n->key);
		free(n);
	}
	free(j->ring);
	free(j->buckets);
	if (j->flush_ev)
		event_free(j->flush_ev);
	if (j->fd >= 0)
		close(j->fd);
	buf_release(&j->wbuf);
	free(j->dir);
	free(j->path);
	free(j);
}
