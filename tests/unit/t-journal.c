#include "tap.h"
#include "../../lib/journal.h"
#include "../../lib/buf.h"
#include "../../lib/log.h"

#include <cjson/cJSON.h>
#include <event2/event.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static char dir[] = "/tmp/t-journal.XXXXXX";
static char path[256];

static int acks, nacks;
static void on_disk(void *arg, int ok)
{
	(void)arg;
	if (ok)
		acks++;
	else
		nacks++;
}

/* Redeliveries answered once their first copy is on disk. */
static int dup_ok[2] = {-1, -1};
static void on_dup(void *arg, int ok)
{
	*(int *)arg = ok;
}

static unsigned long long replayed[16];
static size_t nreplayed;
static char replayed_repo[64];
static void on_replay(unsigned long long seq, const cJSON *ev, void *arg)
{
	const cJSON *repo = cJSON_GetObjectItemCaseSensitive(ev, "repo");

	(void)arg;
	if (nreplayed < 16)
		replayed[nreplayed++] = seq;
	if (cJSON_IsString(repo))
		snprintf(replayed_repo, sizeof(replayed_repo), "%s", repo->valuestring);
}

static size_t count(const char *needle)
{
	struct buf b = BUF_INIT(1 << 20);
	size_t n = 0;
	const char *p;

	if (buf_read_file(&b, path) < 0)
		return 0;
	for (p = b.data; (p = strstr(p, needle)); p++)
		n++;
	buf_release(&b);
	return n;
}

static void append_raw(const char *s)
{
	int fd = open(path, O_WRONLY | O_APPEND);

	if (fd < 0 || write(fd, s, strlen(s)) != (ssize_t)strlen(s))
		abort();
	close(fd);
}

int main(void)
{
	struct journal *j;
	unsigned long long s1, s2, s3;

	log_init("t-journal", LOGL_ERROR, LOG_FORMAT_TEXT);
	log_set_fd(open("/dev/null", O_WRONLY | O_CLOEXEC));
	if (!mkdtemp(dir))
		abort();
	snprintf(path, sizeof(path), "%s/journal.log", dir);

	j = journal_open(NULL, dir, 4);
	ok(j != NULL, "a journal opens in an empty directory");
	s1 = journal_append(j, "github:a", "{\"repo\":\"one\"}", on_disk, NULL);
	s2 = journal_append(j, "github:b", "{\"repo\":\"two\"}", on_disk, NULL);
	ok(s2 == s1 + 1, "sequence numbers count up");
	ok(journal_seen(j, "github:a"), "a delivery id is seen as soon as it is queued");
	is_int(acks, 0, "nothing is acknowledged before the flush");
	is_int(journal_queued(j), 2, "two appends wait for the group write");
	journal_flush(j);
	is_int(acks, 2, "one flush acknowledges both (group commit)");
	is_int(count("\"t\":\"ev\""), 2, "both event lines are on disk");
	is_int(journal_pending(j), 2, "both are unfinished");
	journal_unref(j, s1);
	is_int(journal_pending(j), 1, "dropping the last reference finishes an event");
	is_int(count("{\"t\":\"done\",\"seq\":1}"), 1, "and writes its done line");
	journal_ref(j, s2);
	journal_unref(j, s2);
	is_int(journal_pending(j), 1, "an event with a reference left stays");
	journal_free(j);

	/* A crash: reopen and replay. */
	j = journal_open(NULL, dir, 4);
	ok(j != NULL, "the journal reopens");
	nreplayed = 0;
	journal_replay(j, on_replay, NULL);
	ok(nreplayed == 1 && replayed[0] == s2, "only the unfinished event is replayed");
	is_str(replayed_repo, "two", "with its event object");
	is_int(journal_pending(j), 0, "an event nobody took a reference on is done after replay");
	ok(journal_seen(j, "github:a") && journal_seen(j, "github:b"),
	   "delivery ids survive the restart");
	ok(!journal_seen(j, "github:c"), "an unknown id is not seen");
	s3 = journal_append(j, "github:c", "{\"repo\":\"three\"}", on_disk, NULL);
	ok(s3 > s2, "new sequence numbers continue after the replayed ones");
	journal_flush(j);
	journal_free(j);

	/* A torn last line is dropped, the rest kept. */
	append_raw("{\"t\":\"ev\",\"seq\":50,\"key\":\"github:torn\",\"ev\":{\"re");
	j = journal_open(NULL, dir, 4);
	ok(j != NULL, "a torn last line does not stop the open");
	ok(!journal_seen(j, "github:torn"), "the torn event is not taken");
	nreplayed = 0;
	journal_replay(j, on_replay, NULL);
	ok(nreplayed == 1 && replayed[0] == s3, "the whole event before it is replayed");
	is_int(count("github:torn"), 0, "compaction removed the torn line");
	is_int(count("\"repo\":\"one\""), 0, "finished events are compacted away");
	is_int(count("\"repo\":\"three\""), 1, "an unfinished one is kept");

	/* The dedup set is bounded: the oldest ids go first. */
	journal_append(j, "github:d", "{}", on_disk, NULL);
	journal_append(j, "github:e", "{}", on_disk, NULL);
	journal_append(j, "github:f", "{}", on_disk, NULL);
	journal_flush(j);
	ok(journal_seen(j, "github:f") && journal_seen(j, "github:e"), "new ids are remembered");
	ok(!journal_seen(j, "github:a"), "past dedup_max the oldest id is forgotten");
	journal_free(j);

	/* With an event base the fdatasync runs on the journal's thread. */
	{
		struct event_base *base = event_base_new();
		unsigned long long t1;
		int before = acks, i;
		char done[64];

		j = journal_open(base, dir, 4);
		ok(j != NULL, "a journal opens with an event base");
		t1 = journal_append(j, "github:g", "{\"repo\":\"g\"}", on_disk, NULL);
		journal_append(j, "github:h", "{\"repo\":\"h\"}", on_disk, NULL);
		is_int(acks, before, "nothing is acknowledged in the loop turn of the appends");
		for (i = 0; i < 5000 && acks < before + 2 && !nacks; i++) {
			event_base_loop(base, EVLOOP_NONBLOCK);
			usleep(1000);
		}
		is_int(acks, before + 2, "the loop acknowledges both once the thread's fsync is over");
		is_int(count("\"repo\":\"h\""), 1, "and they are on disk");
		journal_unref(j, t1);
		snprintf(done, sizeof(done), "{\"t\":\"done\",\"seq\":%llu}", t1);
		is_int(count(done), 0, "a done line waits for the end of the loop turn");
		event_base_loop(base, EVLOOP_NONBLOCK);
		is_int(count(done), 1, "and is written then");
		journal_append(j, "github:i", "{}", on_disk, NULL);
		event_base_loop(base, EVLOOP_NONBLOCK);
		journal_append(j, "github:k", "{}", on_disk, NULL);
		is_int(journal_queued(j), 2, "one batch in flight, the next one waiting");
		ok(journal_seen_wait(j, "github:i", on_dup, &dup_ok[0]) == JOURNAL_WRITING,
		   "a redelivery of the event being fsync'ed waits for it");
		ok(journal_seen_wait(j, "github:k", on_dup, &dup_ok[1]) == JOURNAL_WRITING,
		   "a redelivery of a queued event waits for it");
		ok(journal_seen_wait(j, "github:g", on_dup, NULL) == JOURNAL_DURABLE,
		   "a redelivery of an event on disk is answered at once");
		ok(journal_seen_wait(j, "github:zz", on_dup, NULL) == JOURNAL_UNSEEN,
		   "an unknown delivery is new");
		is_int(journal_queued(j), 2, "waiting redeliveries are not appends");
		ok(dup_ok[0] == -1 && dup_ok[1] == -1, "no redelivery is answered before its first copy is on disk");
		journal_flush(j);
		is_int(acks, before + 4, "journal_flush waits for the one in flight and writes the next");
		ok(dup_ok[0] == 1 && dup_ok[1] == 1, "both redeliveries are told once their first copies are on disk");
		is_int(journal_queued(j), 0, "nothing is left queued");
		journal_free(j);
		event_base_free(base);
	}

	/* Hostile content: garbage lines are skipped, not fatal. */
	append_raw("not json at all\n{\"t\":7}\n{\"t\":\"ev\",\"seq\":-5,\"ev\":{}}\n[1,2]\n");
	j = journal_open(NULL, dir, 4);
	ok(j != NULL, "garbage lines do not stop the open");
	nreplayed = 0;
	journal_replay(j, on_replay, NULL);
	ok(nreplayed == 6, "the six unfinished events are replayed, garbage is not");
	journal_free(j);

	/* A journal that cannot be written refuses appends (read-only directory). */
	if (geteuid() != 0) {
		chmod(dir, 0500);
		ok(journal_open(NULL, dir, 4) == NULL, "an unwritable directory is an error");
		chmod(dir, 0700);
	} else {
		ok(1, "# skip: root can write anywhere");
	}
	unlink(path);
	rmdir(dir);
	is_int(nacks, 0, "no write failed");
	return done_testing();
}
