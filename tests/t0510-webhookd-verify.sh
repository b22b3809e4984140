#!/usr/bin/env bash
# tidegated verifies every provider's signature on the raw body: right ones are
# accepted (202), wrong, missing and stale ones refused (401) with nothing queued;
# pings answered 200; redeliveries recognised; malformed bodies refused (400).
. "$(dirname "$0")/test-lib.sh"
. "$TEST_DATA/webhooks/lib.sh"

wh_secrets
A=1111111111111111111111111111111111111111
B=2222222222222222222222222222222222222222
# Syncs in this script never reach git or a cluster: the git command is a no-op.
wh_config conf.yaml '  - {name: gh, repo: "git@github.com:octo-org/deploy.git", branch: main, cluster: one}
  - {name: gl, repo: "https://gitlab.example.com/platform/deploy", branch: main, cluster: one}
  - {name: gt, repo: "https://gitea.example.com:3000/org/deploy.git", branch: main, cluster: one}
  - {name: bbc, repo: "git@bitbucket.org:team/deploy.git", branch: main, cluster: one}
  - {name: bbs, repo: "ssh://git@bitbucket.example.com:7999/ops/deploy.git", repo_name: OPS/deploy, branch: main, cluster: one}
  - {name: gen, repo: /srv/git/deploy.git, branch: main, cluster: one}' "git: /bin/true"
export FAKE_APPLY_LOG=$TEST_DIR/apply.log
wh_start conf.yaml || exit 1

test_expect_success 'GitHub test vector: the signature of "Hello, World!" verifies (then 400: not JSON)' '
	printf "Hello, World!" >hello &&
	test "$(wh_post /hooks/github hello -H "X-GitHub-Event: push" \
		-H "X-Hub-Signature-256: sha256=757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17")" = 400 &&
	test_grep "not a JSON object" answer
'

test_expect_success 'GitHub test vector with one digit changed: 401' '
	test "$(wh_post /hooks/github hello -H "X-GitHub-Event: push" \
		-H "X-Hub-Signature-256: sha256=757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e18")" = 401
'

test_expect_success 'GitHub push, signed: 202 and the app named' '
	wh_payload github-push $A $B >gh.json &&
	test "$(wh_github gh.json push d-gh-1)" = 202 &&
	test_grep "\"apps\":\[\"gh\"\]" answer
'

test_expect_success 'the same delivery again (a redelivery): 200 duplicate, not queued' '
	test "$(wh_github gh.json push d-gh-1)" = 200 &&
	test_grep duplicate answer
'

test_expect_success 'GitHub push with a wrong secret: 401, nothing queued' '
	printf "wrong\n" >wrong.secret &&
	test "$(wh_post /hooks/github gh.json -H "X-GitHub-Event: push" -H "X-GitHub-Delivery: d-gh-2" \
		-H "X-Hub-Signature-256: sha256=$(wh_hmac_hex wrong.secret gh.json)")" = 401 &&
	test_grep unauthorized answer
'

test_expect_success 'GitHub push without a signature: 401' '
	test "$(wh_post /hooks/github gh.json -H "X-GitHub-Event: push" -H "X-GitHub-Delivery: d-gh-3")" = 401
'

test_expect_success 'GitHub SHA-1 signature alone is refused unless allow_sha1' '
	test "$(wh_post /hooks/github gh.json -H "X-GitHub-Event: push" -H "X-GitHub-Delivery: d-gh-4" \
		-H "X-Hub-Signature: sha1=$(wh_hmac_sha1_hex github.secret gh.json)")" = 401
'

test_expect_success 'a body changed after signing: 401' '
	sed "s/octocat/mallory/" gh.json >tampered.json &&
	test "$(wh_post /hooks/github tampered.json -H "X-GitHub-Event: push" -H "X-GitHub-Delivery: d-gh-5" \
		-H "X-Hub-Signature-256: sha256=$(wh_hmac_hex github.secret gh.json)")" = 401
'

test_expect_success 'GitHub ping: 200 pong' '
	cp "$WH_DATA/github-ping.json" ping.json &&
	test "$(wh_github ping.json ping d-ping-1)" = 200 &&
	test_grep pong answer
'

test_expect_success 'a GitHub event other than push: 200 ignored' '
	test "$(wh_github ping.json issues d-iss-1)" = 200 && test_grep ignored answer
'

test_expect_success 'malformed JSON, correctly signed: 400 with a reason' '
	printf "{\"ref\": \"refs/heads/main\", " >bad.json &&
	test "$(wh_github bad.json push d-bad-1)" = 400 && test_grep "not a JSON object" answer
'

test_expect_success 'a push without a ref, correctly signed: 400 naming it' '
	wh_payload github-push $A $B | sed "s/\"ref\": \"refs\/heads\/main\",//" >noref.json &&
	test "$(wh_github noref.json push d-bad-2)" = 400 && test_grep "ref" answer
'

test_expect_success 'a commit id that is not hex: 400' '
	wh_payload github-push "zz$A" $B >badsha.json &&
	test "$(wh_github badsha.json push d-bad-3)" = 400
'

test_expect_success 'GitLab push with X-Gitlab-Token: 202' '
	wh_payload gitlab-push $A $B >gl.json &&
	test "$(wh_post /hooks/gitlab gl.json -H "X-Gitlab-Event: Push Hook" -H "X-Gitlab-Token: gl-token-5f1c" \
		-H "X-Gitlab-Event-UUID: 6f0d4c6a-1" -H "Idempotency-Key: 5e3b1c2a-1")" = 202 &&
	test_grep "\"gl\"" answer
'

test_expect_success 'GitLab retry with the same Idempotency-Key: duplicate' '
	test "$(wh_post /hooks/gitlab gl.json -H "X-Gitlab-Event: Push Hook" -H "X-Gitlab-Token: gl-token-5f1c" \
		-H "X-Gitlab-Event-UUID: 6f0d4c6a-2" -H "Idempotency-Key: 5e3b1c2a-1")" = 200 &&
	test_grep duplicate answer
'

test_expect_success 'GitLab with a wrong token: 401' '
	test "$(wh_post /hooks/gitlab gl.json -H "X-Gitlab-Event: Push Hook" -H "X-Gitlab-Token: gl-token-5f1d" \
		-H "Idempotency-Key: 5e3b1c2a-3")" = 401
'

# Standard Webhooks: v1,<base64 HMAC-SHA256 of "id.ts.body"> with the whsec_ key (second secret file).
sw_sig() {
	{ printf "%s.%s." "$1" "$2"; cat "$3"; } >sw.signed
	openssl dgst -sha256 -mac HMAC -macopt \
		"hexkey:$(printf %s MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw | base64 -d | od -An -v -tx1 | tr -d " \n")" \
		-binary sw.signed | base64
}

test_expect_success 'GitLab signing token (Standard Webhooks), one of several signatures: 202' '
	ts=$(date +%s) &&
	sig=$(sw_sig msg_2 "$ts" gl.json) &&
	test "$(wh_post /hooks/gitlab gl.json -H "X-Gitlab-Event: Push Hook" -H "webhook-id: msg_2" \
		-H "webhook-timestamp: $ts" -H "webhook-signature: v1,AAAAbm90IHRoaXMgb25l v1,$sig")" = 202
'

test_expect_success 'Standard Webhooks with a timestamp 10 minutes old: 401' '
	ts=$(( $(date +%s) - 600 )) &&
	sig=$(sw_sig msg_3 "$ts" gl.json) &&
	test "$(wh_post /hooks/gitlab gl.json -H "X-Gitlab-Event: Push Hook" -H "webhook-id: msg_3" \
		-H "webhook-timestamp: $ts" -H "webhook-signature: v1,$sig")" = 401 &&
	test_grep "too far" answer
'

test_expect_success 'Standard Webhooks signed over another id: 401' '
	ts=$(date +%s) &&
	sig=$(sw_sig msg_4 "$ts" gl.json) &&
	test "$(wh_post /hooks/gitlab gl.json -H "X-Gitlab-Event: Push Hook" -H "webhook-id: msg_5" \
		-H "webhook-timestamp: $ts" -H "webhook-signature: v1,$sig")" = 401
'

test_expect_success 'Gitea, Forgejo and Gogs signatures: 202 each' '
	wh_payload gitea-push $A $B >gt.json &&
	sig=$(wh_hmac_hex gitea.secret gt.json) &&
	test "$(wh_post /hooks/gitea gt.json -H "X-Gitea-Event: push" -H "X-Gitea-Delivery: g-1" -H "X-Gitea-Signature: $sig")" = 202 &&
	test "$(wh_post /hooks/forgejo gt.json -H "X-Forgejo-Event: push" -H "X-Forgejo-Delivery: g-2" -H "X-Forgejo-Signature: $sig")" = 202 &&
	test "$(wh_post /hooks/gogs gt.json -H "X-Gogs-Event: push" -H "X-Gogs-Delivery: g-3" -H "X-Gogs-Signature: $sig")" = 202
'

test_expect_success 'Gitea with a wrong signature: 401' '
	test "$(wh_post /hooks/gitea gt.json -H "X-Gitea-Event: push" -H "X-Gitea-Delivery: g-4" \
		-H "X-Gitea-Signature: $(wh_hmac_hex github.secret gt.json)")" = 401
'

test_expect_success 'Bitbucket Cloud repo:push with X-Hub-Signature sha256=: 202' '
	wh_payload bitbucket-cloud-push $A $B >bbc.json &&
	test "$(wh_post /hooks/bitbucket bbc.json -H "X-Event-Key: repo:push" -H "X-Request-UUID: 0c5a7a4e-1" \
		-H "X-Attempt-Number: 1" -H "X-Hub-Signature: sha256=$(wh_hmac_hex bitbucket.secret bbc.json)")" = 202 &&
	test_grep "\"bbc\"" answer
'

test_expect_success 'Bitbucket Server repo:refs_changed: 202, routed by project/slug' '
	wh_payload bitbucket-server-refs-changed $A $B >bbs.json &&
	test "$(wh_post /hooks/bitbucket bbs.json -H "X-Event-Key: repo:refs_changed" -H "X-Request-Id: 9f1e-1" \
		-H "X-Hub-Signature: sha256=$(wh_hmac_hex bitbucket.secret bbs.json)")" = 202 &&
	test_grep "\"bbs\"" answer
'

test_expect_success 'Bitbucket Server test connection (diagnostics:ping): 200' '
	cp "$WH_DATA/bitbucket-server-ping.json" bbping.json &&
	test "$(wh_post /hooks/bitbucket bbping.json -H "X-Event-Key: diagnostics:ping" -H "X-Request-Id: 9f1e-2" \
		-H "X-Hub-Signature: sha256=$(wh_hmac_hex bitbucket.secret bbping.json)")" = 200
'

test_expect_success 'generic event from tidegate-post-receive: 202' '
	wh_payload generic-push $A $B /srv/git/deploy.git >gen.json &&
	test "$(wh_generic gen.json 0123456789abcdef0123456789abcdef)" = 202 &&
	test_grep "\"gen\"" answer
'

test_expect_success 'generic event resent with the same delivery id: 200 duplicate' '
	test "$(wh_generic gen.json 0123456789abcdef0123456789abcdef)" = 200
'

test_expect_success 'generic event with a replayed (old) timestamp: 401' '
	test "$(wh_generic gen.json fedcba9876543210fedcba9876543210 $(( $(date +%s) - 301 )))" = 401 &&
	test_grep "too far" answer
'

test_expect_success 'unknown provider route: 404; GET on a hook: 405' '
	test "$(wh_post /hooks/svn gen.json)" = 404 &&
	test "$(curl -s -o /dev/null -w "%{http_code}" http://127.0.0.1:$WH_PORT/hooks/github)" = 405
'

test_expect_success 'metrics count deliveries by provider and result' '
	curl -sf http://127.0.0.1:$WH_PORT/metrics >metrics &&
	test_grep "tidegated_deliveries_total{provider=\"github\",result=\"accepted\"} 1" metrics &&
	test_grep "tidegated_deliveries_total{provider=\"github\",result=\"duplicate\"} 1" metrics &&
	test_grep "tidegated_deliveries_total{provider=\"github\",result=\"unauthorized\"} 5" metrics &&
	test_grep "tidegated_deliveries_total{provider=\"gitea\",result=\"accepted\"} 3" metrics
'

test_expect_success 'no secret ever reaches the log' '
	! grep -e "Secret to Everybody" -e gl-token-5f1c -e gitea-secret-77 -e bb-secret-42 \
		-e generic-secret-9 -e MfKQ9r8 "$TEST_DIR/tidegated.log"
'

test_expect_success 'the daemon is still alive after all of it' '
	kill -0 $WH_PID && curl -sf http://127.0.0.1:$WH_PORT/healthz
'

test_done
