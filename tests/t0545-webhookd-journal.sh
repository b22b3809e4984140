#!/usr/bin/env bash
# tidegated never loses an accepted push: the journal survives kill -9 at any
# moment and is replayed at the next start; redeliveries stay recognised; the
# journal is compacted and a torn last line is dropped. The apply step here is
# tests/data/webhooks/fake-tidegate (these tests are about the daemon, not the
# cluster; t0590 runs the real `tidegate apply` against the sandbox); git is real.
. "$(dirname "$0")/test-lib.sh"
. "$TEST_DATA/webhooks/lib.sh"

wh_secrets
wh_repo4 || exit 1
wh_config conf.yaml "  - {name: web, repo: $REPO, branch: main, path: k8s, cluster: one, namespace: web, prune: true}"
export FAKE_APPLY_LOG=$TEST_DIR/apply.log FAKE_APPLY_PIDS=$TEST_DIR/apply.pids FAKE_APPLY_ARGS=$TEST_DIR/apply.args
test_at_exit 'for p in $(cat "$TEST_DIR/apply.pids" 2>/dev/null); do kill -9 -- -$p; done'

push() {	# push COMMIT DELIVERY
	wh_payload generic-push "$1" "$C1" "$REPO" >ev.json &&
	wh_generic ev.json "$2"
}

test_expect_success 'kill -9 during a sync: after a restart the push is applied' '
	: >apply.log &&
	wh_start conf.yaml FAKE_APPLY_SLEEP=30 &&
	test "$(push $C3 d-5)" = 202 &&
	test_wait_for "grep -q \"start web $C3\" apply.log" 10 &&
	orphan=$(tail -1 apply.pids) &&
	wh_kill9 &&
	kill -0 $orphan &&
	test_grep "\"key\":\"generic:d-5\"" state/journal.log &&
	wh_start conf.yaml &&
	test_wait_for "grep -q \"done web $C3\" apply.log" 20 &&
	test_grep "resuming a journaled push" "$TEST_DIR/tidegated.log"
'

test_expect_success 'the apply the killed daemon left running was stopped at the restart' '
	test_grep "stopping an apply left by a previous run" "$TEST_DIR/tidegated.log" &&
	test_wait_for "test_proc_gone $(sed -n 1p apply.pids)" 5 &&
	test "$(grep -c "^done web $C3" apply.log)" = 1
'

test_expect_success 'a second tidegated on the same state_dir refuses to start' '
	sed "s/^listen: .*/listen: 127.0.0.1:$(test_free_port)/" conf.yaml >conf2.yaml &&
	tidegated -c conf2.yaml 2>err; test $? = 1 &&
	test_grep "another tidegated is using state_dir" err
'

test_expect_success 'kill -9 right after the 202: nothing lost either' '
	wh_stop && : >apply.log &&
	wh_start conf.yaml FAKE_APPLY_SLEEP=30 &&
	test "$(push $C4 d-6)" = 202 &&
	wh_kill9 &&
	{ for p in $(cat apply.pids 2>/dev/null); do kill -9 -- -$p 2>/dev/null; done; true; } &&
	wh_start conf.yaml &&
	test_wait_for "grep -q \"done web $C4\" apply.log" 20
'

test_expect_success 'a redelivery of a journaled push is still recognised after the restart' '
	test "$(push $C4 d-6)" = 200 && test_grep duplicate answer
'

test_expect_success 'finished events are compacted out of the journal at start' '
	wh_stop && wh_start conf.yaml &&
	! grep -q "\"t\":\"ev\"" state/journal.log &&
	test_grep "\"t\":\"seen\",\"key\":\"generic:d-6\"" state/journal.log
'

test_expect_success 'a torn last line in the journal is dropped, the rest replayed' '
	wh_stop && : >apply.log &&
	printf "{\"t\":\"ev\",\"seq\":99,\"key\":\"generic:torn\",\"ev\":{\"provi" >>state/journal.log &&
	wh_start conf.yaml &&
	test_grep "torn last line" "$TEST_DIR/tidegated.log" &&
	test "$(push $C2 torn)" = 202
'

test_expect_success 'a stale child file naming a process that is not ours stops nothing' '
	wh_stop && : >tidegated.log &&
	{ sleep 300 & } && other=$! &&
	echo "$other 12345 git" >state/apps/web.child &&
	wh_start conf.yaml &&
	kill -0 $other &&
	! grep -q "left by a previous run" tidegated.log &&
	! test -e state/apps/web.child &&
	kill $other
'

HPORT=$(test_free_port)
python3 -c 'import socket, sys
s = socket.socket()
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("127.0.0.1", int(sys.argv[1])))
s.listen(8)
held = []
while True:
    held.append(s.accept())	# and never answer' "$HPORT" &
test_bg_pid $!
wh_config hang.yaml "  - {name: slow, repo: git://127.0.0.1:$HPORT/app.git, branch: main, path: k8s, cluster: one}"
fetch_pid() {	# the pid of the app's running git fetch, from its child file
	local p
	p=$(cut -d" " -f1 state/apps/slow.child 2>/dev/null) &&
	tr "\0" " " <"/proc/$p/cmdline" 2>/dev/null | grep -q " fetch " && echo "$p"
}

test_expect_success 'kill -9 during a git fetch: the restart stops the fetch left running' '
	wh_stop && : >tidegated.log &&
	wh_start hang.yaml &&
	wh_payload generic-push "$C2" "$C1" "git://127.0.0.1:$HPORT/app.git" >ev.json &&
	test "$(wh_generic ev.json d-30)" = 202 &&
	test_wait_for fetch_pid 20 &&
	fetch=$(fetch_pid) &&
	wh_kill9 &&
	kill -0 $fetch &&
	wh_start hang.yaml &&
	test_wait_for "grep -q \"stopping a git child left by a previous run\" tidegated.log" 20 &&
	test_wait_for "test_proc_gone $fetch" 10
'

test_done
