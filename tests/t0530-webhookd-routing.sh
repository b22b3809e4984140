#!/usr/bin/env bash
# tidegated routes a push to apps by normalized repository URL, branch (tags only
# for apps that ask), and changed paths when the provider lists them.
. "$(dirname "$0")/test-lib.sh"
. "$TEST_DATA/webhooks/lib.sh"

wh_secrets
A=1111111111111111111111111111111111111111
B=2222222222222222222222222222222222222222
Z=0000000000000000000000000000000000000000
wh_config conf.yaml '  - {name: web-https, repo: "https://GitHub.com/octo-org/deploy", branch: main, path: k8s/web, cluster: one}
  - {name: web-ssh, repo: "ssh://git@github.com:22/octo-org/deploy.git", branch: main, path: ./k8s/web/, cluster: two}
  - {name: api, repo: "git@github.com:octo-org/deploy.git", branch: main, path: k8s/api, cluster: one}
  - {name: whole, repo: "https://github.com/octo-org/deploy.git", branch: main, cluster: one}
  - {name: prod, repo: "https://github.com/octo-org/deploy.git", branch: production, cluster: one}
  - {name: releases, repo: "https://github.com/octo-org/deploy.git", branch: main, tags: true, cluster: one}
  - {name: other, repo: "https://github.com/octo-org/other.git", branch: main, cluster: one}
  - {name: gl-api, repo: "git@gitlab.example.com:platform/deploy.git", branch: main, path: k8s/api, cluster: one}
  - {name: gt, repo: "ssh://git@gitea.example.com:2222/org/deploy", branch: main, path: k8s/api, cluster: one}
  - {name: bb-api, repo: "https://bitbucket.org/team/deploy.git", branch: main, path: k8s/api, cluster: one}
  - {name: gen-web, repo: /srv/git/deploy.git, branch: main, path: k8s/web, cluster: one}
  - {name: gen-api, repo: /srv/git/deploy.git, branch: main, path: k8s/api, cluster: one}' \
	"git: /bin/true"
wh_start conf.yaml || exit 1

apps() {
	python3 -c 'import json,sys; print(" ".join(sorted(json.load(open(sys.argv[1])).get("apps", []))))' answer
}

test_expect_success 'a push is routed to every app on that repo and branch whose path changed' '
	wh_payload github-push $A $B >p1.json &&
	test "$(wh_github p1.json push r-1)" = 202 &&
	test "$(apps)" = "releases web-https web-ssh whole"
'

test_expect_success 'the app whose path saw no change is logged as skipped' '
	test_grep "changed nothing under the app.s path" "$TEST_DIR/tidegated.log" &&
	test_grep "\"app\":\"api\"" "$TEST_DIR/tidegated.log"
'

test_expect_success 'another branch goes to the app that follows it' '
	wh_payload github-push $A $B | sed "s|refs/heads/main|refs/heads/production|" >p2.json &&
	test "$(wh_github p2.json push r-2)" = 202 && test "$(apps)" = "prod"
'

test_expect_success 'a tag goes only to apps with tags: true' '
	wh_payload github-push $A $B | sed "s|refs/heads/main|refs/tags/v1.2.0|" >p3.json &&
	test "$(wh_github p3.json push r-3)" = 202 && test "$(apps)" = "releases"
'

test_expect_success 'a deleted branch applies nothing (200, ignored)' '
	wh_payload github-push $Z $B | sed "s|\"deleted\": false|\"deleted\": true|" >p4.json &&
	test "$(wh_github p4.json push r-4)" = 200 && test_grep ignored answer
'

test_expect_success 'a repository no app follows: 200, ignored' '
	wh_payload github-push $A $B | sed "s|octo-org/deploy|octo-org/unknown|g" >p5.json &&
	test "$(wh_github p5.json push r-5)" = 200 && test_grep "no app follows" answer
'

test_expect_success 'GitLab: a changed file under the path routes there' '
	wh_payload gitlab-push $A $B | sed "s|k8s/web/deployment.yaml|k8s/api/deployment.yaml|" >g1.json &&
	test "$(wh_post /hooks/gitlab g1.json -H "X-Gitlab-Event: Push Hook" -H "X-Gitlab-Token: gl-token-5f1c" \
		-H "Idempotency-Key: r-g1")" = 202 && test "$(apps)" = "gl-api"
'

test_expect_success 'GitLab: a truncated commit list (total_commits_count > commits) counts as all changed' '
	wh_payload gitlab-push $A $B | sed "s|\"total_commits_count\": 1|\"total_commits_count\": 40|" >g2.json &&
	test "$(wh_post /hooks/gitlab g2.json -H "X-Gitlab-Event: Push Hook" -H "X-Gitlab-Token: gl-token-5f1c" \
		-H "Idempotency-Key: r-g2")" = 202 && test "$(apps)" = "gl-api"
'

test_expect_success 'GitLab: no change under the path: ignored' '
	wh_payload gitlab-push $A $B >g3.json &&
	test "$(wh_post /hooks/gitlab g3.json -H "X-Gitlab-Event: Push Hook" -H "X-Gitlab-Token: gl-token-5f1c" \
		-H "Idempotency-Key: r-g3")" = 200
'

test_expect_success 'Gitea: the ssh form with a port matches its ssh_url; no api file: ignored' '
	wh_payload gitea-push $A $B >t1.json &&
	test "$(wh_post /hooks/gitea t1.json -H "X-Gitea-Event: push" -H "X-Gitea-Delivery: r-t1" \
		-H "X-Gitea-Signature: $(wh_hmac_hex gitea.secret t1.json)")" = 200 &&
	sed "s|k8s/web/deployment.yaml|k8s/api/x.yaml|g" t1.json >t2.json &&
	test "$(wh_post /hooks/gitea t2.json -H "X-Gitea-Event: push" -H "X-Gitea-Delivery: r-t2" \
		-H "X-Gitea-Signature: $(wh_hmac_hex gitea.secret t2.json)")" = 202 && test "$(apps)" = "gt"
'

test_expect_success 'Bitbucket lists no files: every path counts as changed' '
	wh_payload bitbucket-cloud-push $A $B >b1.json &&
	test "$(wh_post /hooks/bitbucket b1.json -H "X-Event-Key: repo:push" -H "X-Request-UUID: r-b1" \
		-H "X-Hub-Signature: sha256=$(wh_hmac_hex bitbucket.secret b1.json)")" = 202 && test "$(apps)" = "bb-api"
'

test_expect_success 'generic (tidegate-post-receive): the files it lists route to the apps under them' '
	wh_payload generic-push $A $B /srv/git/deploy.git |
		sed "s|}\$|, \"files\": [\"k8s/api/deploy.yaml\", \"README.md\"]}|" >n1.json &&
	test "$(wh_generic n1.json 0123456789abcdef0123456789abcd01)" = 202 && test "$(apps)" = "gen-api"
'

test_expect_success 'generic: files naming no app path: ignored; no files: every app' '
	wh_payload generic-push $A $B /srv/git/deploy.git | sed "s|}\$|, \"files\": [\"docs/x.md\"]}|" >n2.json &&
	test "$(wh_generic n2.json 0123456789abcdef0123456789abcd02)" = 200 &&
	wh_payload generic-push $A $B /srv/git/deploy.git >n3.json &&
	test "$(wh_generic n3.json 0123456789abcdef0123456789abcd03)" = 202 && test "$(apps)" = "gen-api gen-web"
'

test_expect_success 'generic: a files member that is not a list of strings counts as all changed' '
	wh_payload generic-push $A $B /srv/git/deploy.git | sed "s|}\$|, \"files\": [\"k8s/api/a.yaml\", 7]}|" >n4.json &&
	test "$(wh_generic n4.json 0123456789abcdef0123456789abcd04)" = 202 && test "$(apps)" = "gen-api gen-web"
'

test_expect_success 'a new branch with an empty commit list counts as all changed' '
	wh_payload github-push $A $Z | python3 -c "import json,sys; d=json.load(sys.stdin); d[\"commits\"]=[]; d[\"created\"]=True; print(json.dumps(d))" >p6.json &&
	test "$(wh_github p6.json push r-6)" = 202 && test "$(apps)" = "api releases web-https web-ssh whole"
'

test_expect_success 'the journal names the routed apps for each accepted delivery' '
	test_grep "\"key\":\"github:r-1\"" state/journal.log &&
	! grep -q "\"key\":\"github:r-5\"" state/journal.log
'

test_done
