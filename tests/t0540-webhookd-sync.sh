#!/usr/bin/env bash
# tidegated syncs an accepted push: read the commit from the app's repository
# when it is on this host (else fetch it into a mirror), apply, record state,
# audit and metrics; pushes to a busy app coalesce (newest wins); SIGTERM lets a
# running sync finish; a commit not yet fetchable is retried. The apply step here is
# tests/data/webhooks/fake-tidegate (these tests are about the daemon, not the
# cluster; t0590 runs the real `tidegate apply` against the sandbox); git is real.
. "$(dirname "$0")/test-lib.sh"
. "$TEST_DATA/webhooks/lib.sh"

wh_secrets
wh_repo4 || exit 1
wh_config conf.yaml "  - {name: web, repo: $REPO, branch: main, path: k8s, cluster: one, namespace: web, prune: true}" "limits: {fetch_retries: 2}"
export FAKE_APPLY_LOG=$TEST_DIR/apply.log FAKE_APPLY_PIDS=$TEST_DIR/apply.pids FAKE_APPLY_ARGS=$TEST_DIR/apply.args
test_at_exit 'for p in $(cat "$TEST_DIR/apply.pids" 2>/dev/null); do kill -9 -- -$p; done'

push() {	# push COMMIT DELIVERY
	wh_payload generic-push "$1" "$C1" "$REPO" >ev.json &&
	wh_generic ev.json "$2"
}

test_expect_success 'a push to a local repository is applied from it; state and audit recorded' '
	wh_start conf.yaml &&
	test "$(push $C2 d-1)" = 202 &&
	test_wait_for "grep -q \"done web $C2\" apply.log" 20 &&
	test_wait_for "grep -q $C2 state/apps/web.json" 5 &&
	test_grep "\"result\":\"success\"" state/apps/web.json &&
	test_grep "\"delivery\":\"d-1\"" state/apps/web.json &&
	test_grep "\"configured\":2" state/apps/web.json &&
	test_wait_for "grep -q \"\\\"commit\\\":\\\"$C2\\\"\" state/audit.log" 5 &&
	test_grep "\"pusher\":\"alice\"" state/audit.log &&
	! test -d state/mirrors
'

test_expect_success 'the apply command got the documented arguments' '
	test_grep -- "apply --git-dir $REPO --rev $C2 --applyset web --force-conflicts --format json --kubeconfig $TEST_DIR/one.kubeconfig -n web --prune k8s" apply.args
'

test_expect_success 'pushes to a busy app coalesce: the newest commit wins' '
	wh_stop && : >apply.log && rm -f gate &&
	wh_start conf.yaml FAKE_APPLY_GATE=$TEST_DIR/gate &&
	test "$(push $C2 d-2)" = 202 &&
	test_wait_for "grep -q \"start web $C2\" apply.log" 10 &&
	test "$(push $C3 d-3)" = 202 &&
	test "$(push $C4 d-4)" = 202 &&
	touch gate &&
	test_wait_for "grep -q \"done web $C4\" apply.log" 20 &&
	cat apply.log &&
	! grep -q "$C3" apply.log &&
	test "$(grep -c "^start" apply.log)" = 2 &&
	test_grep "newer push replaces a waiting one" "$TEST_DIR/tidegated.log"
'

test_expect_success 'SIGTERM waits for the running sync, then exits 0' '
	wh_stop && : >apply.log &&
	rm -f gate &&
	wh_start conf.yaml FAKE_APPLY_GATE=$TEST_DIR/gate &&
	test "$(push $C3 d-7)" = 202 &&
	test_wait_for "grep -q \"start web $C3\" apply.log" 10 &&
	kill -TERM $(wh_pid) &&
	sleep 1 && kill -0 $(wh_pid) && touch gate &&
	wh_wait_exit 20 &&
	test "$(cat tidegated.rc)" = 0 &&
	test_grep "done web $C3" apply.log &&
	! curl -s --max-time 1 http://127.0.0.1:$WH_PORT/healthz
'

test_expect_success 'a commit that is not in the repository yet is fetched on a retry' '
	: >apply.log && : >apply.args &&
	(cd work && echo "n: 5" >k8s/cm.yaml && git commit -q -am c5 && git rev-parse HEAD >../c5) &&
	C5=$(cat c5) &&
	wh_start conf.yaml &&
	test "$(push $C5 d-8)" = 202 &&
	sleep 0.5 && (cd work && git push -q origin main) &&
	test_wait_for "grep -q \"done web $C5\" apply.log" 20 &&
	test_grep "commit not fetchable yet; retrying" "$TEST_DIR/tidegated.log" &&
	test_grep -- "--git-dir $TEST_DIR/state/mirrors/[0-9a-f]*.git --rev $C5" apply.args &&
	git --git-dir=$(ls -d state/mirrors/*.git) cat-file -e "$C5^{commit}"
'

test_expect_success 'a packed commit of a local repository is found by git, not fetched' '
	: >apply.log && : >apply.args &&
	git --git-dir=$REPO gc -q && ! test -e $REPO/objects/${C3:0:2}/${C3:2} &&
	test "$(push $C3 d-11)" = 202 &&
	test_wait_for "grep -q \"done web $C3\" apply.log" 20 &&
	test_grep -- "--git-dir $REPO --rev $C3" apply.args
'

test_expect_success 'a commit that never appears fails the sync, recorded as failed' '
	: >apply.log &&
	test "$(push 1234567890123456789012345678901234567890 d-9)" = 202 &&
	test_wait_for "grep -q 1234567890123456789012345678901234567890 state/apps/web.json" 30 &&
	test_grep "\"result\":\"failed\"" state/apps/web.json &&
	test_grep "cannot fetch" state/apps/web.json &&
	! test -s apply.log &&
	test_grep "sync failed; trying again later" tidegated.log
'

test_expect_success 'a failing apply is recorded as failed with its counts' '
	wh_stop && : >apply.log &&
	wh_start conf.yaml FAKE_APPLY_EXIT=1 &&
	test "$(push $C2 d-10)" = 202 &&
	test_wait_for "grep -q \"d-10\" state/apps/web.json" 20 &&
	test_grep "\"result\":\"failed\"" state/apps/web.json &&
	test_grep "\"failed\":1" state/apps/web.json &&
	curl -sf http://127.0.0.1:$WH_PORT/metrics >m &&
	test_grep "tidegated_syncs_total{app=\"web\",result=\"failed\"} 2" m
'

test_expect_success 'the retry waiting at the stop was tried again at the start, then left for the newer push' '
	test "$(grep -c "\"msg\":\"sync started\".*1234567890123456789012345678901234567890" tidegated.log)" = 2 &&
	test_grep "tidegated_sync_retries_total{app=\"web\"} 0" m
'

wh_config retry.yaml "  - {name: web, repo: $REPO, branch: main, path: k8s, cluster: one, namespace: web, prune: true}" "limits: {apply_retries: 2, apply_retry_delay: 1}"
wh_config retry-slow.yaml "  - {name: web, repo: $REPO, branch: main, path: k8s, cluster: one, namespace: web, prune: true}" "limits: {apply_retries: 2, apply_retry_delay: 600}"
state_is() {	# state_is DELIVERY RESULT: the app's state file records them
	grep -q "\"delivery\":\"$1\"" state/apps/web.json &&
	grep -q "\"result\":\"$2\"" state/apps/web.json
}
count() {	# count STRING FILE: lines holding STRING
	grep -c -F -- "$1" "$2"
}

test_expect_success 'a failed apply is tried again, logged and counted, until it works' '
	wh_stop && : >apply.log && : >tidegated.log && touch failing &&
	wh_start retry.yaml FAKE_APPLY_FAIL_WHILE=$TEST_DIR/failing &&
	test "$(push $C2 d-20)" = 202 &&
	test_wait_for "test \$(count \"done web $C2\" apply.log) -ge 2" 20 &&
	rm failing &&
	test_wait_for "state_is d-20 success" 20 &&
	test_grep "sync failed; trying again later" tidegated.log &&
	test_grep "trying a failed sync again" tidegated.log &&
	curl -sf http://127.0.0.1:$WH_PORT/metrics >m &&
	test_grep "tidegated_sync_retries_total{app=\"web\"} [12]" m
'

test_expect_success 'a sync that keeps failing is tried apply_retries times, then left' '
	wh_stop && : >apply.log && : >tidegated.log &&
	wh_start retry.yaml FAKE_APPLY_EXIT=1 &&
	test "$(push $C3 d-21)" = 202 &&
	test_wait_for "test \$(count \"sync failed\\\"\" tidegated.log) = 3" 30 &&
	test "$(count "done web $C3" apply.log)" = 3 &&
	test "$(count "trying a failed sync again" tidegated.log)" = 2 &&
	test "$(count "sync failed; trying again later" tidegated.log)" = 2 &&
	state_is d-21 failed &&
	curl -sf http://127.0.0.1:$WH_PORT/metrics >m &&
	test_grep "tidegated_sync_retries_total{app=\"web\"} 2" m &&
	test_grep "tidegated_syncs_total{app=\"web\",result=\"failed\"} 3" m
'

test_expect_success 'a newer push replaces a failed sync waiting to be tried again' '
	wh_stop && : >apply.log && : >tidegated.log && touch failing &&
	wh_start retry-slow.yaml FAKE_APPLY_FAIL_WHILE=$TEST_DIR/failing &&
	test "$(push $C2 d-22)" = 202 &&
	test_wait_for "grep -q \"sync failed; trying again later\" tidegated.log" 20 &&
	rm failing &&
	test "$(push $C4 d-23)" = 202 &&
	test_wait_for "state_is d-23 success" 20 &&
	test_grep "newer push replaces a failed sync waiting to be tried again" tidegated.log &&
	test "$(count "start web $C2" apply.log)" = 1 &&
	curl -sf http://127.0.0.1:$WH_PORT/metrics >m &&
	test_grep "tidegated_sync_retries_total{app=\"web\"} 0" m
'

test_expect_success 'the warm applier serves sync after sync in one process' '
	wh_stop && : >apply.log && : >apply.pids && : >tidegated.log &&
	wh_start conf.yaml &&
	test "$(push $C2 d-50)" = 202 &&
	test_wait_for "state_is d-50 success" 20 &&
	test "$(push $C3 d-51)" = 202 &&
	test_wait_for "state_is d-51 success" 20 &&
	test "$(sort -u apply.pids | wc -l)" = 1 &&
	test_grep -- "--serve" /proc/$(tail -1 apply.pids)/cmdline
'

test_expect_success 'a killed warm applier is replaced; the next sync is applied by the new one' '
	old=$(tail -1 apply.pids) &&
	kill -9 -- -$old &&
	test_wait_for "test_proc_gone $old" 10 &&
	test_wait_for "pgrep -P $(cat tidegated.pid) -f \"apply --serve\" >serve.pid" 10 &&
	new=$(cat serve.pid) &&
	test "$new" != "$old" &&
	test "$(push $C4 d-52)" = 202 &&
	test_wait_for "state_is d-52 success" 20 &&
	test "$(tail -1 apply.pids)" = "$new" &&
	test_grep "done web $C4" apply.log
'

test_expect_success 'a warm applier that exits right after its answer: the sync succeeds, the next applier takes the next' '
	wh_stop && : >apply.log && : >apply.pids && : >tidegated.log &&
	wh_start conf.yaml FAKE_SERVE_EXIT_AFTER=1 &&
	test "$(push $C2 d-55)" = 202 &&
	test_wait_for "state_is d-55 success" 20 &&
	test "$(push $C3 d-56)" = 202 &&
	test_wait_for "state_is d-56 success" 20 &&
	test "$(push $C4 d-57)" = 202 &&
	test_wait_for "state_is d-57 success" 20 &&
	test "$(sort -u apply.pids | wc -l)" = 3 &&
	! test_grep "ended before it had work" tidegated.log
'

wh_config deadline.yaml "  - {name: web, repo: $REPO, branch: main, path: k8s, cluster: one, namespace: web, prune: true}" "limits: {sync_timeout: 2, apply_retries: 0}"

test_expect_success 'a warm applier past the sync deadline is killed: the sync fails as timed out, the next one is applied' '
	wh_stop && : >apply.log && : >apply.pids && : >tidegated.log && rm -f gate &&
	wh_start deadline.yaml FAKE_APPLY_GATE=$TEST_DIR/gate &&
	test "$(push $C2 d-60)" = 202 &&
	test_wait_for "state_is d-60 failed" 20 &&
	test_grep "timed out" state/apps/web.json &&
	test_wait_for "test_proc_gone $(head -1 apply.pids)" 10 &&
	touch gate &&
	test "$(push $C3 d-61)" = 202 &&
	test_wait_for "state_is d-61 success" 20 &&
	test "$(tail -1 apply.pids)" != "$(head -1 apply.pids)"
'

test_expect_success 'a tidegate without --serve or --args-from-stdin: warned once each, every apply started afresh' '
	wh_stop && : >apply.log && : >tidegated.log &&
	printf "#!/bin/sh\ncase \"\$2\" in --args-from-stdin|--serve) echo \"unknown option\" >&2; exit 2;; esac\nexec %s \"\$@\"\n" \
		"$WH_DATA/fake-tidegate" >old-tidegate && chmod +x old-tidegate &&
	sed "s|^tidegate: .*|tidegate: $TEST_DIR/old-tidegate|" conf.yaml >old.yaml &&
	wh_start old.yaml &&
	test "$(push $C3 d-40)" = 202 &&
	test_wait_for "state_is d-40 success" 20 &&
	test "$(push $C4 d-41)" = 202 &&
	test_wait_for "state_is d-41 success" 20 &&
	test "$(count "the prepared apply ended before it had work" tidegated.log)" = 1 &&
	test "$(count "the warm applier ended before it had work" tidegated.log)" = 1 &&
	test_grep "unknown option" tidegated.log
'

test_done
