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

test_expect_success 'apply, diff and schema hand over to tidegate-kube with the same arguments' '
	tidegate apply --help >out 2>&1; test $? -le 2 &&
	test_grep -i "applyset" out &&
	tidegate-kube apply --help >direct 2>&1; test $? -le 2 &&
	test_cmp direct out &&
	tidegate schema 2>err; test $? = 2 &&
	test_grep -i "usage" err
'

test_expect_success 'a missing tidegate-kube is a clear error (exit 2), lint still works' '
	TIDEGATE_KUBE=$TEST_DIR/nothing-here tidegate diff x.yaml 2>err; test $? = 2 &&
	test_grep "cannot run .*nothing-here.* for .diff." err &&
	printf "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: c}\n" >c.yaml &&
	TIDEGATE_KUBE=$TEST_DIR/nothing-here tidegate lint c.yaml
'

test_expect_success 'tidegate lint and the gate do not load libcurl or OpenSSL' '
	ldd "$(command -v tidegate)" "$(command -v tidegate-pre-receive)" >libs &&
	! grep -E "libcurl|libssl|libcrypto|libevent" libs &&
	ldd "$(command -v tidegate-kube)" | grep -q libcurl
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
