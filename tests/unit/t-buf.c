#include "tap.h"
#include "../../lib/buf.h"
#include "../../lib/xalloc.h"

#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdlib.h>
#include <unistd.h>

static void test_cap(void)
{
	struct buf b = BUF_INIT(8);

	is_str(b.data, "", "a fresh buffer is the empty string, never NULL");
	ok(buf_addstr(&b, "12345678") == 0, "fills up to the cap exactly");
	is_int(b.len, 8, "length is the cap");
	ok(buf_addch(&b, 'x') < 0, "one byte past the cap is refused");
	ok(b.toobig, "toobig is set");
	is_str(b.data, "12345678", "a refused write leaves the contents as they were");
	buf_release(&b);
	ok(b.len == 0 && b.data[0] == '\0' && b.max == 8,
	   "release empties it and keeps the cap");
	ok(buf_addf(&b, "%s-%d", "abcdef", 42) < 0, "formatted write past the cap is refused");
	is_int(b.len, 0, "nothing of it was written");
	ok(buf_addf(&b, "%d", 1234567) == 0, "formatted write under the cap works");
	is_str(b.data, "1234567", "formatted contents");
	buf_release(&b);
}

static void test_overflow(void)
{
	struct buf b = BUF_INIT(BUF_NOCAP);
	size_t out;

	buf_addstr(&b, "abc");
	ok(buf_grow(&b, SIZE_MAX) < 0, "growth that overflows size_t is refused");
	ok(buf_grow(&b, SIZE_MAX - 2) < 0, "len + extra wrapping to a small number is refused");
	is_str(b.data, "abc", "contents survive the refused growth");
	buf_release(&b);
	ok(size_mul(SIZE_MAX / 2 + 1, 2, &out) < 0, "size_mul reports overflow");
	ok(size_mul(1000, 1000, &out) == 0 && out == 1000000, "size_mul multiplies");
	ok(size_add(SIZE_MAX, 1, &out) < 0, "size_add reports overflow");
}

static void test_detach_and_json(void)
{
	struct buf b = BUF_INIT(1024);
	size_t len;
	char *p;

	buf_add(&b, "a\0b", 3);
	is_int(b.len, 3, "binary data with a NUL is kept");
	p = buf_detach(&b, &len);
	ok(len == 3 && p[0] == 'a' && p[1] == '\0' && p[2] == 'b', "detach hands out the bytes");
	ok(b.len == 0 && b.data[0] == '\0', "the buffer is empty after detach");
	free(p);
	buf_add_json_str(&b, "q\"\\\n\x01");
	is_str(b.data, "\"q\\\"\\\\\\n\\u0001\"", "json string escaping");
	buf_release(&b);
}

static void test_read_fd(void)
{
	struct buf b = BUF_INIT(10);
	int fds[2];

	if (pipe(fds) < 0)
		return;
	(void)!write(fds[1], "0123456789", 10);
	close(fds[1]);
	ok(buf_read_fd(&b, fds[0]) == 0, "reading exactly the cap then EOF succeeds");
	close(fds[0]);
	is_int(b.len, 10, "all ten bytes read");
	buf_release(&b);

	if (pipe(fds) < 0)
		return;
	(void)!write(fds[1], "0123456789A", 11);
	close(fds[1]);
	errno = 0;
	ok(buf_read_fd(&b, fds[0]) < 0 && errno == EFBIG && b.toobig,
	   "one byte more than the cap fails with EFBIG");
	close(fds[0]);
	ok(b.len <= 10, "never holds more than the cap");
	buf_release(&b);
	ok(buf_read_file(&b, "/nonexistent/file") < 0 && errno == ENOENT,
	   "a missing file reports ENOENT");
}

int main(void)
{
	test_cap();
	test_overflow();
	test_detach_and_json();
	test_read_fd();
	return done_testing();
}
