/*
 * buf.h - a growable byte buffer with a hard size cap.
 *
 * Every input that a stranger controls (a push, a webhook body, a YAML
 * file, a child's output) is read through a struct buf whose cap is set
 * at init: a write that would take it past the cap fails with -1 and sets
 * `toobig`, leaving the contents as they were. The contents are never
 * NULL and always NUL-terminated, so b.data can be used as a C string
 * when the bytes contain no NUL.
 *
 *	struct buf b = BUF_INIT(64 * 1024);
 *	if (buf_add(&b, p, n) < 0)
 *		return error("body over %zu bytes", b.max);
 *	...
 *	buf_release(&b);
 *
 * Ownership: the buffer owns data until buf_release() frees it or
 * buf_detach() hands it to the caller (who frees it with free()).
 */
#ifndef TIDEGATE_BUF_H
#define TIDEGATE_BUF_H

#include <stdarg.h>
#include <stddef.h>

struct buf {
	char *data;	/* never NULL; NUL-terminated at data[len] */
	size_t len;	/* bytes used, excluding the terminator */
	size_t alloc;	/* bytes allocated; 0 while data points at the empty string */
	size_t max;	/* hard cap on len; SIZE_MAX for "no cap" (trusted data only) */
	int toobig;	/* set once a write was refused for the cap */
};

extern char buf_empty[];
#define BUF_INIT(cap) { buf_empty, 0, 0, (cap), 0 }
#define BUF_NOCAP ((size_t)-1)

void buf_init(struct buf *b, size_t max);
/* Frees the contents; the buffer is empty and usable again with the same cap. */
void buf_release(struct buf *b);
/* Empties the buffer, keeping its memory. */
void buf_reset(struct buf *b);
/* Hands out the contents (caller frees; *len_out gets the length if not NULL). */
char *buf_detach(struct buf *b, size_t *len_out);

/* Each returns 0, or -1 (contents unchanged, toobig set) past the cap. */
int buf_add(struct buf *b, const void *data, size_t len);
int buf_addstr(struct buf *b, const char *s);
int buf_addch(struct buf *b, int c);
int buf_addf(struct buf *b, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
int buf_vaddf(struct buf *b, const char *fmt, va_list ap);
/* Makes room for extra more bytes without changing len. */
int buf_grow(struct buf *b, size_t extra);
/* Shortens to len (which must be <= b->len). */
void buf_setlen(struct buf *b, size_t len);
/* Appends s as a JSON string literal, quotes included. */
int buf_add_json_str(struct buf *b, const char *s);

/*
 * Reads all of fd into b. Returns 0 at EOF, -1 on a read error (errno
 * set) or when the cap is reached (toobig set, errno = EFBIG).
 */
int buf_read_fd(struct buf *b, int fd);
/* Reads a whole file; -1 with errno set as buf_read_fd, or from open(). */
int buf_read_file(struct buf *b, const char *path);
/*
 * Writes all len bytes of data to fd, retrying short writes and EINTR.
 * Returns 0, or -1 (errno set; EIO when write() wrote nothing).
 */
int write_all(int fd, const void *data, size_t len);

#endif
