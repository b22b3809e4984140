# tests/test-lib.sh - shell integration tests in git's test-lib style.
#
#	#!/usr/bin/env bash
#	. "$(dirname "$0")/test-lib.sh"
#	test_expect_success 'a bad push is refused' '
#		... commands; the last status decides ...
#	'
#	test_done
#
# Each test script runs in its own fresh directory ($TEST_DIR, also the
# cwd), removed at exit unless TIDEGATE_TEST_KEEP=1. Processes registered
# with test_bg_pid are killed at exit, so no script leaves one behind.
# Output is TAP, for prove.

set -u
TIDEGATE_SRC=${TIDEGATE_SRC:-$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)}
TIDEGATE_BUILD=${TIDEGATE_BUILD:-$TIDEGATE_SRC/build}
PATH=$TIDEGATE_BUILD/bin:$PATH
export TIDEGATE_SRC TIDEGATE_BUILD PATH
TEST_NAME=$(basename "$0" .sh)
TEST_DIR=$(mktemp -d "${TMPDIR:-/tmp}/tidegate-$TEST_NAME.XXXXXX")
TEST_DATA=$TIDEGATE_SRC/tests/data
test_count=0
test_failures=0
test_skipped=0
test_bg_pids=()
test_cleanup_cmds=()
# Git must not read the user's or system config in tests.
export GIT_CONFIG_NOSYSTEM=1 HOME="$TEST_DIR/home" GIT_AUTHOR_NAME="Tide Tester" \
	GIT_AUTHOR_EMAIL="tester@example.com" GIT_COMMITTER_NAME="Tide Tester" \
	GIT_COMMITTER_EMAIL="tester@example.com"
mkdir -p "$HOME"
git config --global init.defaultBranch main 2>/dev/null
git config --global protocol.file.allow always 2>/dev/null

# Registers a background process (its group too) to kill at exit.
test_bg_pid() {
	test_bg_pids+=("$1")
}

# Registers a command to run at exit (before the directory is removed).
test_at_exit() {
	test_cleanup_cmds+=("$1")
}

test_exit_handler() {
	local status=$? pid cmd i
	for ((i = ${#test_cleanup_cmds[@]} - 1; i >= 0; i--)); do
		cmd=${test_cleanup_cmds[$i]}
		eval "$cmd" >/dev/null 2>&1 || true
	done
	for pid in "${test_bg_pids[@]}"; do
		kill -TERM "$pid" 2>/dev/null || true
	done
	for pid in "${test_bg_pids[@]}"; do
		for _ in 1 2 3 4 5 6 7 8 9 10; do
			kill -0 "$pid" 2>/dev/null || break
			sleep 0.1
		done
		kill -KILL "$pid" 2>/dev/null || true
		wait "$pid" 2>/dev/null || true
	done
	cd /
	if [ "${TIDEGATE_TEST_KEEP:-}" = 1 ]; then
		echo "# kept $TEST_DIR"
	else
		rm -rf "$TEST_DIR"
	fi
	exit $status
}
trap test_exit_handler EXIT
trap 'exit 130' INT TERM
cd "$TEST_DIR" || exit 1

say() {
	printf '# %s\n' "$*"
}

# Runs the test body in a subshell with -e semantics off (like git):
# the status of the last command decides. Output goes to a log shown
# only when the test fails.
test_expect_success() {
	local desc=$1 body=$2 log
	test_count=$((test_count + 1))
	log="$TEST_DIR/.test-$test_count.log"
	if (eval "$body") >"$log" 2>&1; then
		echo "ok $test_count - $desc"
	else
		echo "not ok $test_count - $desc"
		sed 's/^/#   /' "$log"
		test_failures=$((test_failures + 1))
	fi
}

test_expect_failure_exit() {
	# test_expect_failure_exit CODE 'desc' 'body': body's status must be CODE.
	local want=$1 desc=$2 body=$3 log got
	test_count=$((test_count + 1))
	log="$TEST_DIR/.test-$test_count.log"
	(eval "$body") >"$log" 2>&1
	got=$?
	if [ "$got" = "$want" ]; then
		echo "ok $test_count - $desc"
	else
		echo "not ok $test_count - $desc (exit $got, wanted $want)"
		sed 's/^/#   /' "$log"
		test_failures=$((test_failures + 1))
	fi
}

test_skip() {
	test_count=$((test_count + 1))
	echo "ok $test_count # skip $1"
}

# Skips the whole script (TAP "1..0 # SKIP").
skip_all() {
	echo "1..0 # SKIP $1"
	exit 0
}

test_done() {
	echo "1..$test_count"
	[ "$test_failures" -eq 0 ]
	exit $?
}

# --- helpers tests use ------------------------------------------------

# test_cmp EXPECTED ACTUAL: shows a diff when they differ.
test_cmp() {
	diff -u "$1" "$2"
}

# Greps, printing the file on a miss so the failure says why.
test_grep() {
	if ! grep "$@"; then
		echo "--- no match for: $* ---"
		cat "${@: -1}" 2>/dev/null
		return 1
	fi
}

# Waits up to $2 seconds (default 10) for command $1 to succeed.
test_wait_for() {
	local cmd=$1 limit=${2:-10} i
	for ((i = 0; i < limit * 10; i++)); do
		eval "$cmd" >/dev/null 2>&1 && return 0
		sleep 0.1
	done
	return 1
}

# test_proc_gone PID: true when PID has exited. A killed orphan stays a
# zombie until PID 1 reaps it, which some containers' PID 1 does late: a
# zombie counts as gone (kill -0 would still find it).
test_proc_gone() {
	local st
	st=$(sed -n 's/^[0-9]* (.*) \([A-Za-z]\) .*/\1/p' "/proc/$1/stat" 2>/dev/null) || return 0
	test -z "$st" || test "$st" = Z || test "$st" = X
}

# A free TCP port on 127.0.0.1.
test_free_port() {
	python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()'
}

# Starts a sandbox cluster in $TEST_DIR/$1 (default "cluster") and stops it
# at exit; its kubeconfig and env file are in that directory (source
# "$TEST_DIR/cluster/env" for the server URL and pids). Skips the whole
# script when cluster tests are disabled.
test_need_cluster() {
	local dir=$TEST_DIR/${1:-cluster}
	if [ -n "${TIDEGATE_SKIP_CLUSTER:-}" ]; then
		skip_all "cluster tests disabled (TIDEGATE_SKIP_CLUSTER)"
	fi
	test_at_exit "\"$TIDEGATE_SRC/tests/cluster/sandbox\" down \"$dir\""
	if ! "$TIDEGATE_SRC/tests/cluster/sandbox" up "$dir" >"$TEST_DIR/sandbox-${1:-cluster}.log" 2>&1; then
		echo "Bail out! sandbox did not start: $(tail -5 "$TEST_DIR/sandbox-${1:-cluster}.log")"
		exit 1
	fi
}
