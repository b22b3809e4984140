#!/usr/bin/env bash
# tidegate apply --wait: after the apply, the workloads are read until they are
# ready or the wait times out. The sandbox runs the Deployment controller but no
# kubelet and no scheduler: Pods stay Pending, so a Deployment of one replica
# never becomes available, while one of no replicas is ready once the
# controller has observed it.
. "$(dirname "$0")/test-lib.sh"

test_need_cluster
set -a; . "$TEST_DIR/cluster/env"; set +a
kc() { kubectl --kubeconfig "$KUBECONFIG" --request-timeout=20s "$@"; }
kc create namespace waits >/dev/null || exit 1

deploy() {	# deploy NAME REPLICAS [PROGRESS-DEADLINE-SECONDS]: a Deployment manifest
	printf 'apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: %s\n  namespace: waits\n' "$1"
	printf 'spec:\n  replicas: %s\n' "$2"
	[ -z "${3:-}" ] || printf '  progressDeadlineSeconds: %s\n' "$3"
	printf '  selector:\n    matchLabels: {app: %s}\n' "$1"
	printf '  template:\n    metadata:\n      labels: {app: %s}\n' "$1"
	printf '    spec:\n      containers:\n      - name: main\n        image: registry.example/%s:1.0.0\n' "$1"
	printf '        resources:\n          requests: {cpu: 10m, memory: 32Mi}\n          limits: {memory: 64Mi}\n'
}
now_ms() {
	date +%s%3N
}
health_of() {	# health_of JSON ID: "HEALTH|MESSAGE"
	jq -r --arg id "$2" '.objects[] | select(.id == $id) | "\(.health)|\(.health_message)"' "$1"
}

test_expect_success 'a Deployment of no replicas is ready once observed: exit 0' '
	deploy idle 0 >idle.yaml &&
	tidegate apply --wait --format json idle.yaml >idle.json &&
	test "$(health_of idle.json Deployment/waits/idle)" = "ready|" &&
	jq -e ".wait == {\"ready\": 1, \"not_ready\": 0, \"timed_out\": false} and
		.counts.created == 1" idle.json &&
	test "$(kc get deployment -n waits idle -o jsonpath={.status.observedGeneration})" = 1
'

test_expect_success 'a Deployment that never becomes available times out: exit 1 after the timeout' '
	deploy stuck 1 >stuck.yaml &&
	t0=$(now_ms) &&
	tidegate apply --wait --wait-timeout 4 --format json stuck.yaml >stuck.json; test $? = 1 &&
	t1=$(now_ms) &&
	echo "returned after $((t1 - t0)) ms" &&
	test $((t1 - t0)) -ge 4000 &&
	test $((t1 - t0)) -lt 12000 &&
	test "$(health_of stuck.json Deployment/waits/stuck)" = "not ready|timed out after 4s: 0/1 available" &&
	jq -e ".wait == {\"ready\": 0, \"not_ready\": 1, \"timed_out\": true} and
		.counts.created == 1 and .counts.failed == 0" stuck.json
'

test_expect_success 'the text output names what is not ready and the tally' '
	tidegate apply --wait --wait-timeout 1 stuck.yaml >out; test $? = 1 &&
	test_grep "^unchanged *Deployment/waits/stuck$" out &&
	test_grep "^not ready *Deployment/waits/stuck: timed out after 1s: 0/1 available$" out &&
	test_grep "^wait: 0 ready, 1 not ready, timed out (" out
'

test_expect_success 'a Deployment past its progress deadline fails at once, long before the timeout' '
	deploy late 1 1 >late.yaml &&
	t0=$(now_ms) &&
	tidegate apply --wait --wait-timeout 60 --format json late.yaml >late.json; test $? = 1 &&
	t1=$(now_ms) &&
	echo "returned after $((t1 - t0)) ms" &&
	test $((t1 - t0)) -lt 30000 &&
	health_of late.json Deployment/waits/late >h &&
	test_grep "^not ready|progress deadline exceeded: .*has timed out progressing" h &&
	jq -e ".wait.timed_out == false and .wait.not_ready == 1" late.json
'

test_expect_success 'without workloads --wait returns at once' '
	printf "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: plain, namespace: waits}\ndata: {a: b}\n" >cm.yaml &&
	t0=$(now_ms) &&
	tidegate apply --wait --format json cm.yaml >cm.json &&
	t1=$(now_ms) &&
	test $((t1 - t0)) -lt 3000 &&
	test "$(health_of cm.json ConfigMap/waits/plain)" = "ready|" &&
	jq -e ".wait == {\"ready\": 1, \"not_ready\": 0, \"timed_out\": false}" cm.json
'

test_expect_success 'without --wait there is no health' '
	tidegate apply --format json cm.yaml >nowait.json &&
	jq -e "(.wait == null) and (.objects[0].health == null)" nowait.json
'

test_expect_success '--wait is refused with a dry run and diff; --wait-timeout wants --wait' '
	tidegate apply --wait --dry-run cm.yaml 2>err; test $? = 2 &&
	test_grep "does not go with a dry run" err &&
	tidegate diff --wait cm.yaml 2>err; test $? = 2 &&
	tidegate apply --wait-timeout 3 cm.yaml 2>err; test $? = 2 &&
	test_grep "goes with --wait" err &&
	tidegate apply --wait --wait-timeout 0 cm.yaml 2>err; test $? = 2 &&
	test_grep "wants 1..86400" err
'

. "$TIDEGATE_SRC/tests/lib-serve.sh"
serve_start

test_expect_success 'the warm applier waits too, job by job' '
	job --wait --kubeconfig "$KUBECONFIG" "$TEST_DIR/idle.yaml" &&
	answer 1 >s1.json &&
	test "$(code 1)" = 0 &&
	test "$(health_of s1.json Deployment/waits/idle)" = "ready|" &&
	job --wait --wait-timeout 2 --kubeconfig "$KUBECONFIG" "$TEST_DIR/stuck.yaml" "$TEST_DIR/cm.yaml" &&
	answer 2 >s2.json &&
	test "$(code 2)" = 1 &&
	test "$(health_of s2.json Deployment/waits/stuck)" = "not ready|timed out after 2s: 0/1 available" &&
	test "$(health_of s2.json ConfigMap/waits/plain)" = "ready|" &&
	jq -e ".wait == {\"ready\": 1, \"not_ready\": 1, \"timed_out\": true}" s2.json &&
	job --kubeconfig "$KUBECONFIG" "$TEST_DIR/stuck.yaml" &&
	answer 3 >s3.json &&
	test "$(code 3)" = 0 &&
	jq -e ".wait == null" s3.json
'

serve_stop
test_wait_for "test -e serve.rc" 10

gadget_crd() {	# a CRD whose kind has a status subresource
	cat <<-'EOF'
	apiVersion: apiextensions.k8s.io/v1
	kind: CustomResourceDefinition
	metadata: {name: gadgets.waits.example}
	spec:
	  group: waits.example
	  scope: Namespaced
	  names: {plural: gadgets, singular: gadget, kind: Gadget}
	  versions:
	  - name: v1
	    served: true
	    storage: true
	    subresources: {status: {}}
	    schema:
	      openAPIV3Schema:
	        type: object
	        x-kubernetes-preserve-unknown-fields: true
	EOF
}
gadget() {	# gadget NAME: a Gadget in namespace waits
	printf 'apiVersion: waits.example/v1\nkind: Gadget\nmetadata: {name: %s, namespace: waits}\nspec: {size: 1}\n' "$1"
}
set_ready() {	# set_ready NAME True|False: its controller's word, through the status subresource
	kc patch gadgets.waits.example "$1" -n waits --subresource=status --type=merge \
		-p "{\"status\":{\"conditions\":[{\"type\":\"Ready\",\"status\":\"$2\",\"reason\":\"Test\",\"message\":\"said so\"}]}}"
}

test_expect_success 'a custom resource with no status is ready once applied' '
	gadget_crd >crd.yaml && gadget plain >plain.yaml &&
	tidegate apply --format json crd.yaml >/dev/null &&
	tidegate apply --wait --wait-timeout 20 --format json plain.yaml >plain.json &&
	test "$(health_of plain.json Gadget/waits/plain)" = "ready|"
'

test_expect_success 'a custom resource whose Ready condition is False is waited for until True' '
	gadget slow >slow.yaml &&
	tidegate apply --format json slow.yaml >/dev/null &&
	set_ready slow False &&
	{ tidegate apply --wait --wait-timeout 30 --format json slow.yaml >slow.json; echo $? >slow.rc; } &
	sleep 3 &&
	! test -s slow.rc &&
	set_ready slow True &&
	test_wait_for "test -s slow.rc" 30 &&
	test "$(cat slow.rc)" = 0 &&
	test "$(health_of slow.json Gadget/waits/slow)" = "ready|"
'

test_expect_success 'one that stays not Ready times out, saying why' '
	set_ready slow False &&
	tidegate apply --wait --wait-timeout 2 --format json slow.yaml >slow2.json; test $? = 1 &&
	test "$(health_of slow2.json Gadget/waits/slow)" = "not ready|timed out after 2s: Test: said so"
'

test_done
