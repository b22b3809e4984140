#include "log.h"
#include "buf.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

static const char *log_prog = "tidegate";
static enum log_level log_threshold = LOGL_INFO;
static enum log_format log_format = LOG_FORMAT_AUTO;
static int log_fd = 2;

static const char *const level_names[] = { "error", "warn", "info", "debug" };

void log_init(const char *prog, enum log_level level, enum log_format format)
{
	if (prog)
		log_prog = prog;
	log_threshold = level;
	log_format = format;
}

void log_set_fd(int fd)
{
	log_fd = fd;
}

void log_set_level(enum log_level level)
{
	log_threshold = level;
}

enum log_level log_get_level(void)
{
	return log_threshold;
}

int log_level_parse(const char *name, enum log_level *out)
{
	size_t i;

	for (i = 0; i < sizeof(level_names) / sizeof(level_names[0]); i++) {
		if (!strcmp(name, level_names[i])) {
			*out = (enum log_level)i;
			return 0;
		}
	}
	if (!strcmp(name, "warning")) {
		*out = LOGL_WARN;
		return 0;
	}
	return -1;
}

static int use_json(void)
{
	if (log_format == LOG_FORMAT_AUTO)
		return !isatty(log_fd);
	return log_format == LOG_FORMAT_JSON;
}

static void add_time(struct buf *b, int json)
{
	struct timeval tv;
	struct tm tm;
	char stamp[32];

	gettimeofday(&tv, NULL);
	gmtime_r(&tv.tv_sec, &tm);
	strftime(stamp, sizeof(stamp), "%Y-%m-%dT%H:%M:%S", &tm);
	if (json)
		buf_addf(b, "{\"time\":\"%s.%03ldZ\",", stamp, (long)tv.tv_usec / 1000);
	else
		buf_addf(b, "%s.%03ldZ ", stamp, (long)tv.tv_usec / 1000);
}

static void emit(enum log_level level, const char *msg, va_list *fields)
{
	struct buf b = BUF_INIT(BUF_NOCAP);
	int json = use_json();
	const char *k, *v;
	ssize_t r;
	size_t off = 0;

	add_time(&b, json);
	if (json) {
		buf_addf(&b, "\"level\":\"%s\",\"prog\":", level_names[level]);
		buf_add_json_str(&b, log_prog);
		buf_addstr(&b, ",\"msg\":");
		buf_add_json_str(&b, msg);
	} else {
		buf_addf(&b, "%s: %s: %s", log_prog, level_names[level], msg);
	}
	while (fields && (k = va_arg(*fields, const char *))) {
		v = va_arg(*fields, const char *);
		if (!v)
			v = "";
		if (json) {
			buf_addch(&b, ',');
			buf_add_json_str(&b, k);
			buf_addch(&b, ':');
			buf_add_json_str(&b, v);
		} else {
			buf_addf(&b, " %s=%s", k, v);
		}
	}
	buf_addstr(&b, json ? "}\n" : "\n");
	while (off < b.len) {
		r = write(log_fd, b.data + off, b.len - off);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			break;
		off += (size_t)r;
	}
	buf_release(&b);
}

void log_vmsg(enum log_level level, int with_errno, const char *fmt, va_list ap)
{
	struct buf msg = BUF_INIT(BUF_NOCAP);
	int saved = errno;

	if (level > log_threshold)
		return;
	buf_vaddf(&msg, fmt, ap);
	if (with_errno)
		buf_addf(&msg, ": %s", strerror(saved));
	emit(level, msg.data, NULL);
	buf_release(&msg);
	errno = saved;
}

#define LOG_FN(name, level, with_errno)				\
	void name(const char *fmt, ...)				\
	{							\
		va_list ap;					\
		va_start(ap, fmt);				\
		log_vmsg(level, with_errno, fmt, ap);		\
		va_end(ap);					\
	}

LOG_FN(log_warn, LOGL_WARN, 1)
LOG_FN(log_warnx, LOGL_WARN, 0)
LOG_FN(log_info, LOGL_INFO, 0)
LOG_FN(log_debug, LOGL_DEBUG, 0)

int error(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	log_vmsg(LOGL_ERROR, 0, fmt, ap);
	va_end(ap);
	return -1;
}

int error_errno(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	log_vmsg(LOGL_ERROR, 1, fmt, ap);
	va_end(ap);
	return -1;
}

void log_fields(enum log_level level, const char *msg, ...)
{
	va_list ap;

	if (level > log_threshold)
		return;
	va_start(ap, msg);
	emit(level, msg, &ap);
	va_end(ap);
}
