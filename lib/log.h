/*
 * log.h - the logger every tidegate program uses.
 *
 * Vocabulary from OpenBSD httpd: log_warn() appends strerror(errno),
 * log_warnx() does not; log_info(), log_debug(). error() logs at error
 * level and returns -1, so a failing function can `return error(...)`.
 *
 * Format: human text when the output is a terminal, one JSON object per
 * line otherwise ({"time":..., "level":..., "prog":..., "msg":..., and
 * any fields}), so a daemon's log is machine-readable by default.
 * Each line is written with a single write, so lines from several
 * threads or processes sharing the fd do not interleave.
 *
 * Messages must never contain secrets.
 */
#ifndef TIDEGATE_LOG_H
#define TIDEGATE_LOG_H

#include <stdarg.h>

enum log_level {
	LOGL_ERROR = 0,
	LOGL_WARN,
	LOGL_INFO,
	LOGL_DEBUG,
};

enum log_format {
	LOG_FORMAT_AUTO = 0,	/* text on a terminal, JSON lines otherwise */
	LOG_FORMAT_TEXT,
	LOG_FORMAT_JSON,
};

/* Sets the program name, threshold, format and fd (default: stderr). */
void log_init(const char *prog, enum log_level level, enum log_format format);
void log_set_fd(int fd);
void log_set_level(enum log_level level);
enum log_level log_get_level(void);
/* Parses "error", "warn", "info", "debug"; -1 when unknown. */
int log_level_parse(const char *name, enum log_level *out);

void log_warn(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void log_warnx(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void log_info(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void log_debug(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* Logs at error level; returns -1. */
int error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* Logs at error level with strerror(errno) appended; returns -1. */
int error_errno(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/*
 * Logs msg with extra string fields given as key, value pairs ending in
 * NULL: log_fields(LOGL_INFO, "synced", "app", name, "commit", id, NULL).
 * In text form the fields follow the message as key=value.
 */
void log_fields(enum log_level level, const char *msg, ...);

void log_vmsg(enum log_level level, int with_errno, const char *fmt, va_list ap);

#endif
