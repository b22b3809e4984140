#!/usr/bin/env bash
# `make demo` end to end (install/demo.sh): a refused push, an applied one,
# a scale-up with a pruned file, a rollback; and nothing left running after,
# whether the demo ends normally or is interrupted. One full run (the
# sandbox start dominates: about 15 s on an idle machine).
. "$(dirname "$0")/test-lib.sh"

missing=
tidegate install-hooks --help 2>&1 | grep -q "unknown command" && missing+=" install-hooks"
tidegate apply --help 2>&1 | grep -q "unknown command" && missing+=" apply"
tidegated -n -c /dev/null 2>&1 | grep -q "not built yet" && missing+=" tidegated"
[ -n "$missing" ] && skip_all "not built yet:$missing"
[ -n "${TIDEGATE_SKIP_CLUSTER:-}" ] && skip_all "cluster tests disabled (TIDEGATE_SKIP_CLUSTER)"

demo=$TIDEGATE_SRC/install/demo.sh

# Processes whose command line names this test's directory.
leftovers() {
	local p
	for p in /proc/[0-9]*; do
		{ tr "\\0" " " <"$p/cmdline"; } 2>/dev/null | grep -q "$TEST_DIR/" && echo "${p#/proc/}"
	done
	return 0
}
test_at_exit "\"$TIDEGATE_SRC/tests/cluster/sandbox\" down \"$TEST_DIR/demo/cluster\""

test_expect_success 'the demo runs to the end' '
	DEMO_DIR="$TEST_DIR/demo" "$demo" >out 2>&1; rc=$?
	cat out
	test $rc = 0 &&
	test_grep "The demo ran to the end" out
'

test_expect_success 'the broken push was refused with the reasons shown to the pusher' '
	test_grep "remote: .*mismatching-selector" out &&
	test_grep "remote: .*imagePullPolcy" out &&
	test_grep "pre-receive hook declined" out
'

test_expect_success 'each change reached the cluster, with the time it took' '
	test_grep -E "^Push to applied: [0-9]+ ms \(create\), [0-9]+ ms \(scale and prune\), [0-9]+ ms \(rollback\)" out
'

test_expect_success 'nothing the demo started is left running' '
	test -z "$(leftovers)"
'

test_expect_success 'a demo interrupted while its cluster starts cleans up, and a rerun wipes it' '
	test -e demo/.tidegate-demo || exit 1
	( DEMO_DIR="$TEST_DIR/demo" exec "$demo" >out3 2>&1 ) &
	pid=$!
	test_wait_for "grep -q \"sandbox up\" out3" 30 || { kill $pid; cat out3; exit 1; }
	sleep 3
	kill -TERM $pid
	wait $pid; rc=$?
	cat out3
	test $rc = 143 &&
	test_grep "stopped what it had started" out3 &&
	! test -e demo/work &&
	test_wait_for "test -z \"\$(leftovers)\"" 20
'

test_expect_success 'the demo refuses to wipe a directory it did not make' '
	mkdir -p precious && echo keep >precious/file &&
	DEMO_DIR="$TEST_DIR/precious" "$demo" >out4 2>&1; rc=$?
	test $rc = 1 &&
	test_grep "was not made by the demo" out4 &&
	test "$(cat precious/file)" = keep
'

test_done
