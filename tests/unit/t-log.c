#include "tap.h"
#include "../../lib/log.h"
#include "../../lib/buf.h"

#include <errno.h>
#include <stdlib.h>
#include <unistd.h>

static void capture(struct buf *out, void (*fn)(void))
{
	int fds[2];

	if (pipe(fds) < 0)
		return;
	log_set_fd(fds[1]);
	fn();
	close(fds[1]);
	buf_read_fd(out, fds[0]);
	close(fds[0]);
}

static void emit_json(void)
{
	log_init("t-log", LOGL_INFO, LOG_FORMAT_JSON);
	log_info("hello \"%s\"", "world");
	log_debug("hidden");
	log_fields(LOGL_WARN, "synced", "app", "web", "commit", "abc", NULL);
	errno = ENOENT;
	log_warn("open '%s'", "x");
}

static void emit_text(void)
{
	log_init("t-log", LOGL_DEBUG, LOG_FORMAT_TEXT);
	log_debug("shown %d", 1);
	if (error("bad '%s'", "thing") == -1)
		log_info("error returned -1");
}

int main(void)
{
	struct buf out = BUF_INIT(1 << 16);
	enum log_level lv;

	capture(&out, emit_json);
	ok(strstr(out.data, "\"level\":\"info\",\"prog\":\"t-log\",\"msg\":\"hello \\\"world\\\"\"}\n") != NULL,
	   "JSON line with escaped message");
	ok(strstr(out.data, "hidden") == NULL, "below the threshold is not written");
	ok(strstr(out.data, "\"msg\":\"synced\",\"app\":\"web\",\"commit\":\"abc\"}") != NULL,
	   "fields become JSON members");
	ok(strstr(out.data, "open 'x': No such file or directory") != NULL, "log_warn adds strerror");
	ok(out.data[0] == '{' && strstr(out.data, "\"time\":\"") != NULL, "every line starts with a time");
	buf_reset(&out);
	capture(&out, emit_text);
	ok(strstr(out.data, "t-log: debug: shown 1\n") != NULL, "text format");
	ok(strstr(out.data, "t-log: error: bad 'thing'\n") != NULL, "error() logs at error level");
	ok(strstr(out.data, "error returned -1") != NULL, "error() returns -1");
	ok(log_level_parse("debug", &lv) == 0 && lv == LOGL_DEBUG, "level names parse");
	ok(log_level_parse("loud", &lv) < 0, "unknown level names are refused");
	buf_release(&out);
	return done_testing();
}
