#!/usr/bin/env bash
# An app with `wait: true`: the sync applies, then waits for its workloads to be
# ready (`tidegate apply --wait`), its deadline longer by wait_timeout. On the
# sandbox no Pod ever runs (no kubelet), so a Deployment of one replica is
# never available: the sync fails naming it; one of no replicas succeeds.
. "$(dirname "$0")/test-lib.sh"
. "$TEST_DATA/webhooks/lib.sh"

test_need_cluster
KC=$TEST_DIR/cluster/kubeconfig
kc() { kubectl --kubeconfig "$KC" --request-timeout=20s "$@"; }
kc create namespace waits >/dev/null || exit 1

wh_secrets
git init -q --bare repo.git
REPO=$TEST_DIR/repo.git
WH_TIDEGATE=$(command -v tidegate)
# A sync_timeout shorter than the wait: the wait's own time is added to it.
wh_config conf.yaml "  - {name: api, repo: $REPO, branch: main, path: k8s, cluster: one, namespace: waits, wait: true, wait_timeout: 4}" \
	"limits: {sync_timeout: 3, apply_retries: 3, apply_retry_delay: 1}"
sed -i -e "s|kubeconfig: $TEST_DIR/one.kubeconfig|kubeconfig: $KC|" conf.yaml

cp "$(command -v tidegate-post-receive)" repo.git/hooks/post-receive
git -C repo.git config tidegate.webhookUrl "http://127.0.0.1:$WH_PORT/hooks/generic"
git -C repo.git config tidegate.webhookSecretFile "$TEST_DIR/generic.secret"
git clone -q repo.git work 2>/dev/null

deploy() {	# deploy REPLICAS: the Deployment "api"
	printf 'apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: api\n'
	printf 'spec:\n  replicas: %s\n  selector:\n    matchLabels: {app: api}\n' "$1"
	printf '  template:\n    metadata:\n      labels: {app: api}\n'
	printf '    spec:\n      containers:\n      - name: main\n        image: registry.example/api:1.0.0\n'
	printf '        resources:\n          requests: {cpu: 10m, memory: 32Mi}\n          limits: {memory: 64Mi}\n'
}
push() {	# push MESSAGE: commits work/ and pushes it; the commit id goes to ./head
	(cd work && git add k8s && git commit -q -m "$1" && git push -q origin main 2>../push.err) &&
	git -C work rev-parse HEAD >head
}

test_expect_success 'tidegated -n checks wait and wait_timeout' '
	tidegated -n -c conf.yaml &&
	sed "s/wait_timeout: 4/wait_timeout: 0/" conf.yaml >bad1.yaml &&
	tidegated -n -c bad1.yaml 2>err; test $? = 1 &&
	test_grep "apps\[0\].wait_timeout: must be between 1 and 86400" err &&
	sed "s/wait: true/wait: soon/" conf.yaml >bad2.yaml &&
	tidegated -n -c bad2.yaml 2>err; test $? = 1 &&
	test_grep "apps\[0\].wait: must be true or false" err &&
	sed "s/wait_timeout: 4/wait_timeout: 4m/" conf.yaml >bad3.yaml &&
	tidegated -n -c bad3.yaml 2>err; test $? = 1 &&
	test_grep "apps\[0\].wait_timeout: must be an integer" err
'

wh_start conf.yaml || exit 1

test_expect_success 'a Deployment that never becomes available: the sync fails, naming it' '
	mkdir -p work/k8s && deploy 1 >work/k8s/api.yaml &&
	t0=$(date +%s) &&
	push one &&
	test_wait_for "grep -q $(cat head) state/apps/api.json" 60 &&
	t1=$(date +%s) &&
	cat state/apps/api.json &&
	test $((t1 - t0)) -ge 4 &&
	jq -e ".result == \"failed\" and
		.message == \"applied; not ready: Deployment/waits/api: timed out after 4s: 0/1 available\" and
		.counts.created == 1 and .counts.failed == 0" state/apps/api.json &&
	grep "$(cat head)" state/audit.log >audit &&
	test_grep "\"message\":\"applied; not ready: Deployment/waits/api: timed out after 4s" audit &&
	kc get deployment -n waits api &&
	# applied but not ready is final: no retry (apply_retry_delay is 1 s)
	sleep 3 &&
	curl -sf http://127.0.0.1:$WH_PORT/metrics >m1 &&
	! grep "tidegated_sync_retries_total{app=\"api\"} [1-9]" m1 &&
	test "$(grep -c "$(cat head)" state/audit.log)" = 1
'

test_expect_success 'the same Deployment with no replicas: the sync succeeds' '
	deploy 0 >work/k8s/api.yaml &&
	push zero &&
	test_wait_for "grep -q $(cat head) state/apps/api.json" 60 &&
	cat state/apps/api.json &&
	jq -e ".result == \"success\" and .counts.configured == 1" state/apps/api.json
'

test_expect_success 'the metrics count one failed and one successful sync' '
	curl -sf http://127.0.0.1:$WH_PORT/metrics >m &&
	test_grep "tidegated_syncs_total{app=\"api\",result=\"failed\"} 1" m &&
	test_grep "tidegated_syncs_total{app=\"api\",result=\"success\"} 1" m &&
	# applied but not ready is final: a retry would apply the same again
	! grep "tidegated_sync_retries_total{app=\"api\"} [1-9]" m
'

test_done
