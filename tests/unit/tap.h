/*
 * tap.h - a tiny TAP producer for tidegate's C unit tests (run by prove).
 *
 *	int main(void)
 *	{
 *		ok(1 + 1 == 2, "arithmetic works");
 *		is_int(buf.len, 3, "three bytes");
 *		is_str(s, "abc", "contents");
 *		return done_testing();
 *	}
 *
 * done_testing() prints the plan and returns the exit status (non-zero
 * when any test failed), so main() can return it.
 */
#ifndef TIDEGATE_TAP_H
#define TIDEGATE_TAP_H

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

static int tap_count, tap_failed;

__attribute__((format(printf, 2, 3), unused))
static int ok(int cond, const char *fmt, ...)
{
	va_list ap;

	tap_count++;
	if (!cond)
		tap_failed++;
	printf("%sok %d - ", cond ? "" : "not ", tap_count);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	printf("\n");
	fflush(stdout);
	return cond;
}

#define is_int(got, want, ...) do { \
	long long tap_g_ = (long long)(got), tap_w_ = (long long)(want); \
	if (!ok(tap_g_ == tap_w_, __VA_ARGS__)) \
		printf("#   got: %lld\n#   expected: %lld\n", tap_g_, tap_w_); \
} while (0)

#define is_str(got, want, ...) do { \
	const char *tap_g_ = (got), *tap_w_ = (want); \
	int tap_eq_ = (tap_g_ && tap_w_) ? !strcmp(tap_g_, tap_w_) : tap_g_ == tap_w_; \
	if (!ok(tap_eq_, __VA_ARGS__)) \
		printf("#   got: '%s'\n#   expected: '%s'\n", \
		       tap_g_ ? tap_g_ : "(null)", tap_w_ ? tap_w_ : "(null)"); \
} while (0)

__attribute__((unused))
static void diag(const char *msg)
{
	printf("# %s\n", msg);
}

__attribute__((unused))
static int done_testing(void)
{
	printf("1..%d\n", tap_count);
	return tap_failed ? 1 : 0;
}

#endif
