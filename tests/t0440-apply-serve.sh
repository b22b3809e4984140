#!/usr/bin/env bash
# `tidegate apply --serve`, the warm applier tidegated keeps per cluster:
# one process answers job after job (framed JSON answers), and what it keeps
# between jobs (the connection, discovery, what it applied) never hides a
# change made in the cluster meanwhile: an edited or deleted object is
# applied again, pruning still prunes, a bad job is answered and serving goes on.
. "$(dirname "$0")/test-lib.sh"

test_need_cluster
set -a; . "$TEST_DIR/cluster/env"; set +a
D=$TEST_DATA/kube
kc() { kubectl --kubeconfig "$KUBECONFIG" "$@"; }

. "$TIDEGATE_SRC/tests/lib-serve.sh"
serve_start TIDEGATE_HTTP_TRACE=1

count() {	# count JSON RESULT: how many objects had RESULT
	jq -r ".counts.$2" "$1"
}
result_of() {	# result_of JSON ID
	jq -r --arg id "$2" ".objects[] | select(.id == \$id) | .result" "$1"
}

test_expect_success 'the first job applies everything' '
	job --applyset web -n tide-app --prune --force-conflicts --kubeconfig "$KUBECONFIG" "$D/app" &&
	answer 1 >a1.json &&
	wc -l <errors >errors.job1 &&
	test "$(code 1)" = 0 &&
	test "$(count a1.json created)" = 4
'

test_expect_success 'the same job again, by the same process: every object unchanged' '
	job --applyset web -n tide-app --prune --force-conflicts --kubeconfig "$KUBECONFIG" "$D/app" &&
	answer 2 >a2.json &&
	test "$(code 2)" = 0 &&
	test "$(count a2.json unchanged)" = 4 &&
	! test -e serve.rc
'

test_expect_success 'a warm job reads the members from the watch cache, not behind it' '
	# the first job asked for the current revision (a consistent LIST);
	# the second lists members not older than its own last writes, which
	# the API server answers at once instead of waiting for its cache to
	# catch up with etcd, and takes its baseline revision from those lists
	sed "1,$(cat errors.job1)d" errors >warm &&
	head -n "$(cat errors.job1)" errors >cold &&
	grep "^tidegate: http GET /api/v1/namespaces?limit=1: 200" cold &&
	grep "configmaps?labelSelector=.*&resourceVersion=[1-9][0-9]*&resourceVersionMatch=NotOlderThan: 200" warm &&
	! grep "namespaces?limit=1" warm &&
	! grep "labelSelector=[^ ]*: " warm | grep -v resourceVersionMatch=NotOlderThan
'

test_expect_success 'a PATCH that changes nothing is counted unchanged (same resourceVersion as listed)' '
	# the same ConfigMap written another way: another request, so it is sent
	mkdir -p reordered &&
	cp "$D/app/00-namespace.yaml" "$D/app/deploy.yaml" reordered/ &&
	{
		printf "kind: ConfigMap\napiVersion: v1\nmetadata: {namespace: tide-app, name: settings}\n" &&
		printf "data: {colour: blue}\n" &&
		sed -n "/^---\$/,\$p" "$D/app/config.yaml"
	} >reordered/config.yaml &&
	grep -c "^kind: Service" reordered/config.yaml &&
	! cmp "$D/app/config.yaml" reordered/config.yaml &&
	n=$(grep -c "^tidegate: http PATCH .*configmaps/settings?" errors) &&
	job --applyset web -n tide-app --prune --force-conflicts --kubeconfig "$KUBECONFIG" reordered &&
	answer 3 >a3r.json &&
	test "$(code 3)" = 0 &&
	test "$(grep -c "^tidegate: http PATCH .*configmaps/settings?" errors)" = $((n + 1)) &&
	test "$(count a3r.json unchanged)" = 4
'

test_expect_success 'an object edited in the cluster between jobs is applied again' '
	kc patch configmap settings -n tide-app --type merge -p "{\"data\":{\"colour\":\"red\"}}" >/dev/null &&
	job --applyset web -n tide-app --prune --force-conflicts --kubeconfig "$KUBECONFIG" "$D/app" &&
	answer 4 >a4.json &&
	test "$(result_of a4.json ConfigMap/tide-app/settings)" = configured &&
	test "$(result_of a4.json Service/tide-app/web)" = unchanged &&
	test "$(kc get configmap settings -n tide-app -o jsonpath={.data.colour})" = blue
'

test_expect_success 'an object deleted in the cluster between jobs is created again' '
	kc delete configmap settings -n tide-app >/dev/null &&
	job --applyset web -n tide-app --prune --force-conflicts --kubeconfig "$KUBECONFIG" "$D/app" &&
	answer 5 >a5.json &&
	test "$(result_of a5.json ConfigMap/tide-app/settings)" = created &&
	kc get configmap settings -n tide-app
'

test_expect_success 'a changed input is applied and the member that left it pruned' '
	job --applyset web -n tide-app --prune --force-conflicts --kubeconfig "$KUBECONFIG" "$D/app-v2" &&
	answer 6 >a6.json &&
	test "$(code 6)" = 0 &&
	test "$(result_of a6.json Deployment/tide-app/web)" = pruned &&
	test "$(result_of a6.json ConfigMap/tide-app/settings)" = configured &&
	test_wait_for "! kc get deployment -n tide-app web" 20
'

test_expect_success 'a bad job is answered with code 2; the next one is served' '
	job --no-such-option "$D/app-v2" &&
	answer 7 >a7.json &&
	test "$(code 7)" = 2 &&
	jq -e ".error" a7.json &&
	test_grep "unknown or incomplete option" errors &&
	job --applyset web -n tide-app --prune --force-conflicts --kubeconfig "$KUBECONFIG" "$D/app-v2" &&
	answer 8 >a8.json &&
	test "$(code 8)" = 0 &&
	test "$(count a8.json failed)" = 0
'

test_expect_success 'a job with lint errors applies nothing and says so' '
	job --applyset bad -n tide-app --kubeconfig "$KUBECONFIG" "$D/bad" &&
	answer 9 >a9.json &&
	test "$(code 9)" = 1 &&
	test "$(jq -r ".lint.errors" a9.json)" -gt 0 &&
	! kc get secret -n tide-app bad 2>/dev/null
'

test_expect_success 'a CRD in one job does not stay in the schemas of the next' '
	job --applyset widgets -n default --kubeconfig "$KUBECONFIG" "$D/crd" &&
	answer 10 >a10.json &&
	test "$(code 10)" = 0 &&
	test_wait_for "kc get widgets.tide.example small -n default" 20 &&
	mkdir -p lone both &&
	printf "apiVersion: tide.example/v1\nkind: Widget\nmetadata: {name: other, namespace: default}\nspec: {size: three}\n" \
		>lone/widget.yaml &&
	# alone, the Widget has no schema here: the lint passes it, the server refuses it
	job --applyset widgets2 -n default --kubeconfig "$KUBECONFIG" lone &&
	answer 11 >a11.json &&
	test "$(jq -r ".lint.errors" a11.json)" = 0 &&
	test "$(result_of a11.json Widget/default/other)" = failed &&
	# with its CRD the lint itself refuses it
	cp "$D/crd/widgets.yaml" lone/widget.yaml both/ &&
	job --applyset widgets2 -n default --kubeconfig "$KUBECONFIG" both &&
	answer 12 >a12.json &&
	test "$(code 12)" = 1 &&
	test "$(jq -r ".lint.errors" a12.json)" -gt 0 &&
	jq -r ".lint.findings[].path" a12.json | grep -q widget.yaml
'

serve_stop
test_expect_success 'the process ends at EOF between jobs, with status 0' '
	test_wait_for "test -s serve.rc" 20 &&
	test "$(cat serve.rc)" = 0 &&
	! grep -q "stdin ended inside a job" errors
'

test_done
