#include "buf.h"
#include "xalloc.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

char buf_empty[1];

void buf_init(struct buf *b, size_t max)
{
	b->data = buf_empty;
	b->len = 0;
	b->alloc = 0;
	b->max = max;
	b->toobig = 0;
}

void buf_release(struct buf *b)
{
	if (b->alloc)
		free(b->data);
	buf_init(b, b->max);
}

void buf_reset(struct buf *b)
{
	buf_setlen(b, 0);
	b->toobig = 0;
}

char *buf_detach(struct buf *b, size_t *len_out)
{
	char *p;

	if (len_out)
		*len_out = b->len;
	p = b->alloc ? b->data : xstrdup("");
	buf_init(b, b->max);
	return p;
}

int buf_grow(struct buf *b, size_t extra)
{
	size_t need, n;

	if (size_add(b->len, extra, &need) < 0 || need > b->max) {
		b->toobig = 1;
		return -1;
	}
	if (need + 1 <= b->alloc)
		return 0;
	n = b->alloc < 64 ? 64 : b->alloc;
	while (n < need + 1)
		n = n > ((size_t)-1) / 2 ? need + 1 : n * 2;
	if (!b->alloc) {
		b->data = xmalloc(n);
		b->data[0] = '\0';
	} else {
		b->data = xreallocarray(b->data, n, 1);
	}
	b->alloc = n;
	return 0;
}

void buf_setlen(struct buf *b, size_t len)
{
	if (!b->alloc)
		return;
	b->len = len < b->len ? len : b->len;
	b->data[b->len] = '\0';
}

int buf_add(struct buf *b, const void *data, size_t len)
{
	if (!len)
		return 0;
	if (buf_grow(b, len) < 0)
		return -1;
	memmove(b->data + b->len, data, len);
	b->len += len;
	b->data[b->len] = '\0';
	return 0;
}

int buf_addstr(struct buf *b, const char *s)
{
	return buf_add(b, s, strlen(s));
}

int buf_addch(struct buf *b, int c)
{
	char ch = (char)c;

	return buf_add(b, &ch, 1);
}

int buf_vaddf(struct buf *b, const char *fmt, va_list ap)
{
	va_list cp;
	int n;

	va_copy(cp, ap);
	n = vsnprintf(NULL, 0, fmt, cp);
	va_end(cp);
	if (n < 0)
		return -1;
	if (buf_grow(b, (size_t)n) < 0)
		return -1;
	vsnprintf(b->data + b->len, (size_t)n + 1, fmt, ap);
	b->len += (size_t)n;
	return 0;
}

int buf_addf(struct buf *b, const char *fmt, ...)
{
	va_list ap;
	int r;

	va_start(ap, fmt);
	r = buf_vaddf(b, fmt, ap);
	va_end(ap);
	return r;
}

int buf_add_json_str(struct buf *b, const char *s)
{
	static const char hex[] = "0123456789abcdef";
	const unsigned char *p = (const unsigned char *)s, *run;

	if (buf_addch(b, '"') < 0)
		return -1;
	for (;;) {
		char esc[7];
		size_t n = 0;

		/* the characters that need no escape go in one piece */
		for (run = p; *p >= 0x20 && *p != '"' && *p != '\\'; p++)
			;
		if (p > run && buf_add(b, run, (size_t)(p - run)) < 0)
			return -1;
		if (!*p)
			break;
		switch (*p) {
		case '"': esc[n++] = '\\'; esc[n++] = '"'; break;
		case '\\': esc[n++] = '\\'; esc[n++] = '\\'; break;
		case '\n': esc[n++] = '\\'; esc[n++] = 'n'; break;
		case '\r': esc[n++] = '\\'; esc[n++] = 'r'; break;
		case '\t': esc[n++] = '\\'; esc[n++] = 't'; break;
		default:
			memcpy(esc, "\\u00", 4);
			n = 4;
			esc[n++] = hex[*p >> 4];
			esc[n++] = hex[*p & 15];
		}
		if (buf_add(b, esc, n) < 0)
			return -1;
		p++;
	}
	return buf_addch(b, '"');
}

int write_all(int fd, const void *data, size_t len)
{
	const char *p = data;

	while (len) {
		ssize_t n = write(fd, p, len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			if (!n)
				errno = EIO;
			return -1;
		}
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

int buf_read_fd(struct buf *b, int fd)
{
	for (;;) {
		ssize_t n;
		size_t room;

		if (b->len >= b->max) {
			/* At the cap: one more byte means too big, EOF means fine. */
			char c;

			do
				n = read(fd, &c, 1);
			while (n < 0 && errno == EINTR);
			if (n < 0)
				return -1;
			if (n == 0)
				return 0;
			b->toobig = 1;
			errno = EFBIG;
			return -1;
		}
		room = b->max - b->len;
		if (room > 65536)
			room = 65536;
		if (buf_grow(b, room) < 0) {
			errno = EFBIG;
			return -1;
		}
		n = read(fd, b->data + b->len, room);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		if (n == 0)
			return 0;
		b->len += (size_t)n;
		b->data[b->len] = '\0';
	}
}

int buf_read_file(struct buf *b, const char *path)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	int r, saved;

	if (fd < 0)
		return -1;
	r = buf_read_fd(b, fd);
	saved = errno;
	close(fd);
	errno = saved;
	return r;
}
