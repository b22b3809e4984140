#!/usr/bin/env bash
# The programs build, run, and report their versions; the test library works.
. "$(dirname "$0")/test-lib.sh"

test_expect_success 'tidegate prints its version' '
	tidegate version >out &&
	test_grep "^tidegate [0-9]" out
'

test_expect_success 'an unknown subcommand is a usage error (exit 2)' '
	tidegate frobnicate 2>err; test $? = 2 &&
	test_grep "unknown command" err
'

test_expect_success 'every program answers --version' '
	for p in tidegated tidegate-pre-receive tidegate-post-receive; do
		$p --version | grep -q "^$p " || exit 1
	done
'

test_expect_success 'no product source calls system(), popen() or a shell' '
	! grep -rnE "\b(system|popen)[[:space:]]*\(|\"(/bin/)?sh\", \"-c\"" \
		"$TIDEGATE_SRC/lib" "$TIDEGATE_SRC/hooks" "$TIDEGATE_SRC/webhookd" "$TIDEGATE_SRC/cli" \
		--include="*.c" | grep -v "^[^:]*:[0-9]*:[[:space:]]*\*"
'

test_expect_success 'the banned-functions header stops a strcpy at compile time' '
	printf "#include <string.h>\nvoid f(char *d, const char *s);\nvoid f(char *d, const char *s) { strcpy(d, s); }\n" >b.c &&
	! cc -std=c11 -include "$TIDEGATE_SRC/lib/banned.h" -c b.c -o b.o 2>err &&
	test_grep "sorry_strcpy_is_a_banned_function" err
'

test_done
