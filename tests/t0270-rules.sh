#!/usr/bin/env bash
# The lint rules through `tidegate lint`: exit status, positions, ignore
# annotations, the target Kubernetes version, configuration, and rules
# that look at several files together.
. "$(dirname "$0")/test-lib.sh"

D=$TEST_DATA/rules/_cli

test_expect_success '--list-rules lists every rule with its default severity' '
	tidegate lint --list-rules >out &&
	test_grep -E "^latest-tag +warning " out &&
	test_grep -E "^privileged-container +error " out &&
	test_grep -E "^dangling-service +warning " out &&
	n=0 &&
	for d in "$TEST_DATA"/rules/[!_]*/; do
		test -f "$d/rules" && continue	# a variant case, named after no rule
		id=$(basename "$d") && n=$((n + 1)) &&
		grep -q "^$id " out || { echo "missing $id"; exit 1; }
	done &&
	test $n -ge 25
'

test_expect_success 'a hardened workload, its Service and PDB draw no finding at all' '
	tidegate lint "$D/hardened.yaml" >out &&
	test_grep "0 errors, 0 warnings" out &&
	test $(wc -l <out) = 1
'

test_expect_success 'a privileged container fails the run at the offending line' '
	tidegate lint "$D/privileged.yaml" >out; test $? = 1 &&
	test_grep "privileged.yaml:12:21: error: container .shell. runs privileged \[privileged-container\]" out
'

test_expect_success 'JSON output carries the JSON path, the object and the hint' '
	tidegate lint --format json "$D/privileged.yaml" >out.json; test $? = 1 &&
	test_grep "\"rule\":\"privileged-container\"" out.json &&
	test_grep "\"jsonPath\":\".spec.containers\[0\].securityContext.privileged\"" out.json &&
	test_grep "\"object\":\"Pod/shop/debug\"" out.json &&
	test_grep "\"hint\":\"Remove securityContext.privileged" out.json
'

annotate() {
	sed "s|^  namespace: shop|  namespace: shop\n  annotations:\n$1|" "$D/privileged.yaml"
}

test_expect_success 'tidegate.io/ignore with a reason lets the run pass, keeping the finding' '
	annotate "    tidegate.io/ignore: privileged-container\n    tidegate.io/ignore-reason: node debugging, removed after INC-42" >p.yaml &&
	tidegate lint p.yaml >out &&
	! test_grep "error: container .shell. runs privileged" out &&
	tidegate lint --format json p.yaml >out.json &&
	test_grep "\"rule\":\"privileged-container\",.*\"ignored\":true,\"ignoreReason\":\"node debugging, removed after INC-42\"" out.json
'

test_expect_success 'kube-linter ignore-check annotations work for rules sharing its name' '
	annotate "    ignore-check.kube-linter.io/privileged-container: \"needs raw devices\"" >k.yaml &&
	tidegate lint k.yaml >out &&
	! test_grep "runs privileged" out
'

test_expect_success 'an ignore without a reason still applies and asks for one' '
	annotate "    tidegate.io/ignore: privileged-container" >n.yaml &&
	tidegate lint n.yaml >out &&
	test_grep "info: tidegate.io/ignore has no tidegate.io/ignore-reason.*\[ignore-without-reason\]" out
'

test_expect_success 'annotations on the pod template do not ignore the workload' '
	sed "s|^      labels: {app: web}|      labels: {app: web}\n      annotations: {tidegate.io/ignore: latest-tag, tidegate.io/ignore-reason: no}|; s|shop/web:1.4.2|shop/web:latest|" \
		"$D/hardened.yaml" >t.yaml &&
	tidegate lint t.yaml >out &&
	test_grep "warning: container .web. uses image .registry.example.com/shop/web:latest. with the tag latest \[latest-tag\]" out
'

test_expect_success 'a removed apiVersion is judged against --kube-version' '
	tidegate lint --kube-version 1.24 "$D/cronjob-v1beta1.yaml" >out &&
	test_grep "warning: batch/v1beta1 CronJob is deprecated since Kubernetes 1.21, removed in 1.25 (target 1.24): use batch/v1 \[deprecated-api\]" out &&
	tidegate lint --kube-version 1.25 "$D/cronjob-v1beta1.yaml" >out; test $? = 1 &&
	test_grep "error: batch/v1beta1 CronJob was removed in Kubernetes 1.25 (target 1.25): use batch/v1 \[removed-api\]" out
'

test_expect_success '.tidegate.yaml raises a severity and requires namespaces' '
	mkdir repo &&
	sed "s|shop/web:1.4.2|shop/web|; /^  namespace: shop/d" "$D/hardened.yaml" >repo/app.yaml &&
	tidegate lint repo >out &&
	! test_grep "\[missing-namespace\]" out &&
	printf "requireNamespace: true\nrules:\n  latest-tag: error\n" >repo/.tidegate.yaml &&
	tidegate lint repo >out; test $? = 1 &&
	test_grep "error: Deployment/web names no namespace \[missing-namespace\]" out &&
	test_grep "error: container .web. uses image .registry.example.com/shop/web. with no tag" out
'

test_expect_success 'a rule switched off in .tidegate.yaml reports nothing' '
	mkdir off &&
	cp "$D/privileged.yaml" off/ &&
	printf "rules:\n  privileged-container: off\n" >off/.tidegate.yaml &&
	tidegate lint off >out &&
	! test_grep "privileged-container" out
'

test_expect_success 'dangling-service looks across the files of one run' '
	mkdir set &&
	sed -n "/^kind: Service/,/^---/p" "$D/hardened.yaml" | sed "1i apiVersion: v1" | sed "/^---/d" >set/svc.yaml &&
	sed "/^---/,\$d" "$D/hardened.yaml" | sed "s/app: web}/app: api}/g" >set/deploy.yaml &&
	tidegate lint set >out &&
	test_grep "svc.yaml:7:13: warning: the selector of Service/shop/web matches no pod template of the workloads in namespace .shop. \[dangling-service\]" out &&
	tidegate lint set/svc.yaml >out &&
	! test_grep "dangling-service" out
'

test_done
