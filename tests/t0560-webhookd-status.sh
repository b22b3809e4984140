#!/usr/bin/env bash
# tidegated reports commit statuses (pending, then success or failure) to the
# Git host's API through libcurl on its event loop. The API here is
# tests/data/webhooks/status-stub.py, a recorded-exchange stub server.
. "$(dirname "$0")/test-lib.sh"
. "$TEST_DATA/webhooks/lib.sh"

wh_secrets
printf 'ghp_statustoken\n' >status.token
git init -q --bare repo.git &&
git clone -q repo.git work 2>/dev/null &&
(cd work && mkdir k8s && echo a: 1 >k8s/a.yaml && git add k8s && git commit -q -m one &&
	git push -q origin main) || exit 1
C=$(git -C work rev-parse HEAD)
REPO=$TEST_DIR/repo.git
STUB_PORT=$(test_free_port)
python3 "$WH_DATA/status-stub.py" "$STUB_PORT" "$TEST_DIR/record" &
test_bg_pid $!
test_wait_for "curl -s -o /dev/null http://127.0.0.1:$STUB_PORT/" 10
wh_config conf.yaml "  - {name: web, repo: $REPO, branch: main, path: k8s, cluster: one,
     status: {provider: github, api_url: 'http://127.0.0.1:$STUB_PORT', repo: octo-org/deploy, token_file: $TEST_DIR/status.token}}
  - {name: lab, repo: $REPO, branch: main, path: k8s, cluster: one,
     status: {provider: gitlab, api_url: 'http://127.0.0.1:$STUB_PORT/', repo: platform/deploy, token_file: $TEST_DIR/status.token}}
  - {name: bb, repo: $REPO, branch: main, path: k8s, cluster: one,
     status: {target_url: 'https://ops.example/tidegate/bb', provider: bitbucket,
              api_url: 'http://127.0.0.1:$STUB_PORT', repo: acme-ws/deploy, token_file: $TEST_DIR/status.token}}"
sed -i "s|repo: octo-org/deploy,|repo: octo-org/deploy, target_url: 'https://ops.example/tidegate/web',|" conf.yaml

test_expect_success 'Bitbucket statuses need a target_url (Bitbucket refuses one without a link)' '
	tidegated -n -c conf.yaml &&
	sed "s|target_url: .https://ops.example/tidegate/bb., ||" conf.yaml >nourl.yaml &&
	! grep -q "tidegate/bb" nourl.yaml &&
	tidegated -n -c nourl.yaml 2>err; test $? = 1 &&
	test_grep "apps\[2\].status.target_url" err &&
	sed "s|https://ops.example/tidegate/bb|ops.example|" conf.yaml >badurl.yaml &&
	tidegated -n -c badurl.yaml 2>err; test $? = 1 &&
	test_grep "must be an http(s) URL" err
'

wh_start conf.yaml || exit 1

test_expect_success 'a sync reports pending, then success, to the GitHub statuses API' '
	wh_payload generic-push "$C" 0000000000000000000000000000000000000000 "$REPO" >ev.json &&
	test "$(wh_generic ev.json st-1)" = 202 &&
	test_wait_for "test \$(grep -c /repos/octo-org/deploy/statuses/$C record) = 2" 20 &&
	grep "/repos/octo-org/deploy/statuses/$C" record >gh &&
	head -1 gh | grep -q "\\\\\"state\\\\\":\\\\\"pending\\\\\"" &&
	tail -1 gh | grep -q "\\\\\"state\\\\\":\\\\\"success\\\\\"" &&
	grep -q "tidegate/web" gh &&
	grep -q "\"authorization\": \"Bearer ghp_statustoken\"" gh &&
	grep -q "target_url.*https://ops.example/tidegate/web" gh
'

test_expect_success 'GitLab gets its own API shape (query parameters, PRIVATE-TOKEN)' '
	test_wait_for "grep -q \"/api/v4/projects/platform%2Fdeploy/statuses/$C?state=success\" record" 20 &&
	test_wait_for "grep -q \"/api/v4/projects/platform%2Fdeploy/statuses/$C?state=running&name=tidegate%2Flab\" record" 10 &&
	grep -n "platform%2Fdeploy" record | head -1 | grep -q "state=running" &&
	grep -q "\"private_token\": \"ghp_statustoken\"" record
'

test_expect_success 'Bitbucket Cloud gets a build status: key, INPROGRESS then SUCCESSFUL, its link' '
	test_wait_for "test \$(grep -c /2.0/repositories/acme-ws/deploy/commit/$C/statuses/build record) = 2" 20 &&
	grep "/2.0/repositories/acme-ws/deploy/commit/$C/statuses/build" record >bb &&
	head -1 bb | jq -r .body | jq -e ".state == \"INPROGRESS\" and .key == \"tidegate/bb\" and
		.name == \"tidegate/bb\" and .url == \"https://ops.example/tidegate/bb\"" &&
	tail -1 bb | jq -r .body | jq -e ".state == \"SUCCESSFUL\" and (.description | test(\"applied to one\"))" &&
	head -1 bb | jq -e ".authorization == \"Bearer ghp_statustoken\""
'

test_expect_success 'a failed sync reports failure' '
	wh_stop && : >record &&
	wh_start conf.yaml FAKE_APPLY_EXIT=1 &&
	test "$(wh_generic ev.json st-2)" = 202 &&
	test_wait_for "grep -q \"statuses/$C.*failure\" record" 20 &&
	test_wait_for "grep -q \"statuses/build.*FAILED\" record" 20
'

test_expect_success 'the token never reaches the log' '
	! grep -q ghp_statustoken tidegated.log
'

test_expect_success 'an unreachable status API does not hold up syncs' '
	wh_stop && : >apply.log &&
	sed -i "s|127.0.0.1:$STUB_PORT|127.0.0.1:1|" conf.yaml &&
	wh_start conf.yaml FAKE_APPLY_LOG=$TEST_DIR/apply.log &&
	test "$(wh_generic ev.json st-3)" = 202 &&
	test_wait_for "grep -q \"done web $C\" apply.log && grep -q \"done lab $C\" apply.log" 20 &&
	test_wait_for "grep -q \"commit status not sent\" tidegated.log" 20
'

test_done
