#!/usr/bin/env bash
# End to end on the sandbox clusters with the real `tidegate apply`: a push to a
# bare repository -> tidegate-post-receive (and a curl-sent generic event) ->
# tidegated -> objects in the cluster; a changed file updates, a removed file is
# pruned; kill -9 in mid-sync converges after a restart; one push reaches two
# apps in two clusters.
. "$(dirname "$0")/test-lib.sh"
. "$TEST_DATA/webhooks/lib.sh"

test_need_cluster a
test_need_cluster b
KA=$TEST_DIR/a/kubeconfig KB=$TEST_DIR/b/kubeconfig
ka() { kubectl --kubeconfig "$KA" --request-timeout=20s "$@"; }
kb() { kubectl --kubeconfig "$KB" --request-timeout=20s "$@"; }
ka create namespace e2e >/dev/null && kb create namespace e2e >/dev/null || exit 1

wh_secrets
git init -q --bare repo.git
REPO=$TEST_DIR/repo.git
WH_TIDEGATE=$(command -v tidegate)
wh_config conf.yaml "  - {name: web-a, repo: $REPO, branch: main, path: k8s, cluster: one, namespace: e2e, prune: true}
  - {name: web-b, repo: $REPO, branch: main, path: k8s, cluster: two, namespace: e2e, prune: true}"
# The two clusters of the generated config are the two sandboxes.
sed -i -e "s|kubeconfig: $TEST_DIR/one.kubeconfig|kubeconfig: $KA|" \
	-e "s|kubeconfig: $TEST_DIR/two.kubeconfig, context: ctx-two|kubeconfig: $KB|" conf.yaml
wh_start conf.yaml || exit 1

# The receiving repository tells tidegated about pushes.
cp "$(command -v tidegate-post-receive)" repo.git/hooks/post-receive
git -C repo.git config tidegate.webhookUrl "http://127.0.0.1:$WH_PORT/hooks/generic"
git -C repo.git config tidegate.webhookSecretFile "$TEST_DIR/generic.secret"
git clone -q repo.git work 2>/dev/null

cm() {	# cm NAME VALUE: a ConfigMap manifest
	printf 'apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: %s\ndata:\n  value: "%s"\n' "$1" "$2"
}
value() {	# value KUBECTL-FN NAME: the ConfigMap's data.value, or "absent"
	"$1" -n e2e get configmap "$2" -o jsonpath='{.data.value}' 2>/dev/null || echo absent
}

test_expect_success 'a push through post-receive reaches both clusters' '
	mkdir -p work/k8s && cm settings one >work/k8s/settings.yaml && cm extra x >work/k8s/extra.yaml &&
	(cd work && git add k8s && git commit -q -m one && git push -q origin main 2>push.err) &&
	test_wait_for "test \"\$(value ka settings)\" = one && test \"\$(value kb settings)\" = one" 60 &&
	test "$(value ka extra)" = x
'

test_expect_success 'the apps record the applied commit and its counts' '
	c=$(git -C work rev-parse HEAD) &&
	test_wait_for "grep -q $c state/apps/web-a.json && grep -q $c state/apps/web-b.json" 20 &&
	test_grep "\"result\":\"success\"" state/apps/web-a.json &&
	test_grep "\"created\":2" state/apps/web-a.json
'

test_expect_success 'a changed file updates the object' '
	cm settings two >work/k8s/settings.yaml &&
	(cd work && git commit -q -am two && git push -q origin main 2>push.err) &&
	test_wait_for "test \"\$(value ka settings)\" = two && test \"\$(value kb settings)\" = two" 60
'

test_expect_success 'a removed file is pruned' '
	(cd work && git rm -q k8s/extra.yaml && git commit -q -m rm && git push -q origin main 2>push.err) &&
	test_wait_for "test \"\$(value ka extra)\" = absent && test \"\$(value kb extra)\" = absent" 60 &&
	test "$(value ka settings)" = two
'

test_expect_success 'a curl-sent generic event applies a commit too' '
	cm settings three >work/k8s/settings.yaml &&
	(cd work && git commit -q -am three && git -c core.hooksPath=/dev/null push -q origin main 2>/dev/null; true) &&
	c=$(git -C work rev-parse HEAD) &&
	wh_payload generic-push "$c" 0000000000000000000000000000000000000000 "$REPO" >ev.json &&
	test "$(wh_generic ev.json e2e-curl-1)" = 202 &&
	test_wait_for "test \"\$(value ka settings)\" = three" 60
'

# Cluster a's API server is stopped (SIGSTOP) while the push is synced, so
# that the kill -9 lands in mid-sync however fast an apply is.
APISERVER_A=$(sed -n 's/^SANDBOX_APISERVER_PID=//p' "$TEST_DIR/a/env")
test_at_exit 'kill -CONT '"$APISERVER_A"' 2>/dev/null'
test_expect_success 'kill -9 in mid-sync, restart: the cluster converges' '
	cm settings four >work/k8s/settings.yaml &&
	(cd work && git commit -q -am four) &&
	c=$(git -C work rev-parse HEAD) &&
	(cd work && git -c core.hooksPath=/dev/null push -q origin main 2>/dev/null; true) &&
	test_wait_for "grep -q $c state/apps/web-a.json && grep -q $c state/apps/web-b.json" 20 &&
	wh_payload generic-push "$c" 0000000000000000000000000000000000000000 "$REPO" >ev.json &&
	kill -STOP $APISERVER_A &&
	test "$(wh_generic ev.json e2e-kill-1)" = 202 &&
	test_wait_for "test \$(grep \"sync started\" tidegated.log | grep -c \"web-a.*$c\") = 2" 10 &&
	sleep 0.5 &&
	! grep -q e2e-kill-1 state/apps/web-a.json &&
	wh_kill9 &&
	kill -CONT $APISERVER_A &&
	wh_start conf.yaml &&
	test_wait_for "grep -q e2e-kill-1 state/apps/web-a.json && grep -q e2e-kill-1 state/apps/web-b.json" 60 &&
	test_grep "\"result\":\"success\"" state/apps/web-a.json &&
	test_grep "stopping an apply left by a previous run" tidegated.log &&
	test "$(value ka settings)" = four && test "$(value kb settings)" = four
'

test_expect_success 'metrics show the syncs of both apps' '
	curl -sf http://127.0.0.1:$WH_PORT/metrics >m &&
	test_grep "tidegated_syncs_total{app=\"web-a\",result=\"success\"}" m &&
	test_grep "tidegated_syncs_total{app=\"web-b\",result=\"success\"}" m
'

test_done
