#!/usr/bin/env bash
# The gate's policy in a real git server: the repository's .tidegate.yaml,
# server settings (locked rules, config file, deadline, fail-open) and
# the break-glass push option with its audit log.
. "$(dirname "$0")/test-lib.sh"
. "$TEST_DATA/hooks/lib.sh"

test_expect_success 'the repository .tidegate.yaml in the push changes a rule' '
	hk_server s9 && hk_work w9 s9 &&
	hk_put w9 k8s/d.yaml good-deploy.yaml && hk_commit w9 one && hk_push w9 origin main &&
	hk_put w9 k8s/d.yaml warn-deploy.yaml &&
	printf "rules:\n  latest-tag: error\n" >w9/.tidegate.yaml && hk_commit w9 stricter &&
	! hk_push w9 origin main &&
	test_grep "^k8s/d.yaml:20:18: error: .*\[latest-tag\]$" remote.out &&
	printf "rules:\n  privileged-container: off\n" >w9/.tidegate.yaml &&
	hk_put w9 k8s/d.yaml bad-deploy.yaml && hk_commit w9 relaxed &&
	hk_push w9 origin main &&
	! grep "privileged-container" remote.out
'

test_expect_success 'a .tidegate.yaml change rechecks every manifest at the new tip' '
	hk_server s10 && hk_work w10 s10 &&
	hk_put w10 k8s/d.yaml warn-deploy.yaml && hk_commit w10 one && hk_push w10 origin main &&
	printf "rules:\n  latest-tag: error\n" >w10/.tidegate.yaml && hk_commit w10 policy &&
	! hk_push w10 origin main &&
	test_grep "^k8s/d.yaml:.*error: .*\[latest-tag\]" remote.out
'

test_expect_success 'a locked rule cannot be switched off by the repository' '
	hk_server s11 && hk_work w11 s11 &&
	git -C s11.git config tidegate.lockedRules privileged-container &&
	printf "rules:\n  privileged-container: off\n" >w11/.tidegate.yaml &&
	hk_put w11 k8s/d.yaml bad-deploy.yaml && hk_commit w11 sneaky &&
	! hk_push w11 origin main &&
	test_grep "error: .*\[privileged-container\]$" remote.out
'

test_expect_success 'a broken .tidegate.yaml refuses the push' '
	hk_server s12 && hk_work w12 s12 &&
	printf "rules: [unclosed\n" >w12/.tidegate.yaml && hk_commit w12 broken &&
	! hk_push w12 origin main &&
	test_grep "^.tidegate.yaml:" remote.out
'

test_expect_success 'break-glass: tidegate.skip is honoured when allowed, and audited' '
	hk_server s18 && hk_work w18 s18 &&
	git -C s18.git config receive.advertisePushOptions true &&
	git -C s18.git config tidegate.allowBypass true &&
	hk_put w18 k8s/d.yaml bad-deploy.yaml && hk_commit w18 hotfix &&
	REMOTE_USER=alice hk_push w18 -o "tidegate.skip=prod is down" origin main &&
	test_grep "checks skipped on request (prod is down)" remote.out &&
	log=s18.git/tidegate/audit.log && test_line_count() { test $(wc -l <"$2") -eq "$1"; } &&
	test_line_count 1 "$log" &&
	"$HK_PYTHON" -c "
import json, sys
e = json.loads(open(sys.argv[1]).readline())
assert e[\"user\"] == \"alice\", e
assert e[\"ref\"] == \"refs/heads/main\", e
assert e[\"reason\"] == \"prod is down\", e
assert e[\"old\"] == \"0\" * 40 and len(e[\"new\"]) == 40, e
assert e[\"repo\"].endswith(\"/s18.git\"), e
assert e[\"time\"].endswith(\"Z\"), e
" "$log"
'

test_expect_success 'break-glass: tidegate.skip is refused when not allowed' '
	hk_server s19 && hk_work w19 s19 &&
	git -C s19.git config receive.advertisePushOptions true &&
	hk_put w19 k8s/d.yaml good-deploy.yaml && hk_commit w19 fine &&
	! hk_push w19 -o tidegate.skip=because origin main &&
	test_grep "^tidegate: push refused: the push option tidegate.skip is not allowed" remote.out &&
	test ! -e s19.git/tidegate/audit.log
'

test_expect_success 'break-glass: a skip without a reason is refused' '
	hk_server s20 && hk_work w20 s20 &&
	git -C s20.git config receive.advertisePushOptions true &&
	git -C s20.git config tidegate.allowBypass true &&
	hk_put w20 k8s/d.yaml bad-deploy.yaml && hk_commit w20 x &&
	! hk_push w20 -o tidegate.skip origin main &&
	test_grep "say why" remote.out
'

test_expect_success 'a deadline the check cannot meet refuses the push' '
	hk_server s21 && hk_work w21 s21 &&
	git -C s21.git config tidegate.deadline 1ms &&
	hk_put w21 k8s/d.yaml good-deploy.yaml && hk_commit w21 slow &&
	! hk_push w21 origin main &&
	test_grep "^tidegate: push refused: the manifest check did not finish within 1 ms" remote.out
'

test_expect_success 'a deadline miss is let through only with tidegate.failOpen' '
	hk_server s22 && hk_work w22 s22 &&
	git -C s22.git config tidegate.deadline 1ms &&
	git -C s22.git config tidegate.failOpen true &&
	hk_put w22 k8s/d.yaml bad-deploy.yaml && hk_commit w22 slow &&
	hk_push w22 origin main &&
	test_grep "push accepted unchecked (tidegate.failOpen)" remote.out
'

test_expect_success 'a bad server setting refuses the push with a clear message' '
	hk_server s23 && hk_work w23 s23 &&
	git -C s23.git config tidegate.deadline soon &&
	hk_put w23 k8s/d.yaml good-deploy.yaml && hk_commit w23 x &&
	! hk_push w23 origin main &&
	test_grep "tidegate.deadline: bad duration" remote.out &&
	test_grep "^tidegate: push refused: bad tidegate configuration" remote.out
'

test_expect_success 'a server-side config file applies and its errors refuse' '
	hk_server s24 && hk_work w24 s24 &&
	printf "rules:\n  latest-tag: error\n" >server.yaml &&
	git -C s24.git config tidegate.config "$TEST_DIR/server.yaml" &&
	hk_put w24 k8s/d.yaml warn-deploy.yaml && hk_commit w24 x &&
	! hk_push w24 origin main &&
	test_grep "error: .*\[latest-tag\]" remote.out &&
	git -C s24.git config tidegate.config "$TEST_DIR/missing.yaml" &&
	! hk_push w24 origin main && test_grep "tidegate.config" remote.out
'

test_done
