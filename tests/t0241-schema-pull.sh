#!/usr/bin/env bash
# `tidegate schema pull` against a sandbox cluster: its built-in kinds at its
# version, and a CRD installed there, then `tidegate lint --schema-dir`.
. "$(dirname "$0")/test-lib.sh"

test_need_cluster
set -a; . "$TEST_DIR/cluster/env"; set +a

D=$TEST_DATA/schema/lint

test_expect_success 'a CRD is installed and published in /openapi/v3' '
	kubectl apply -f "$D/crd.yaml" >out &&
	kubectl wait --for condition=established --timeout=60s crd/backups.ops.example.com >out &&
	test_wait_for "kubectl get --raw /openapi/v3 | grep -q apis/ops.example.com/v1" 60
'

test_expect_success 'schema pull writes the cluster schemas, CRD included' '
	tidegate schema pull --kubeconfig "$KUBECONFIG" --out pulled 2>err &&
	test_grep "wrote [0-9]* group-versions of Kubernetes ${SANDBOX_K8S_VERSION#v}" err &&
	test -f pulled/index.json && test -f pulled/meta.json &&
	test -f pulled/apis__ops.example.com__v1.json &&
	test -f pulled/apis__apps__v1.json &&
	grep -q "\"ops.example.com\",\"v1\",\"Backup\",1" pulled/index.json &&
	grep -q "\"\",\"v1\",\"Namespace\",0" pulled/index.json &&
	grep -q "\"version\":\"${SANDBOX_K8S_VERSION#v}\"" pulled/index.json
'

test_expect_success 'lint --schema-dir validates the custom resource against the pulled CRD' '
	tidegate lint --schema-dir pulled "$D/backup-good.yaml" >out &&
	test_grep "1 object in 1 file: 0 errors, 0 warnings" out &&
	tidegate lint --schema-dir pulled "$D/backup-bad.yaml" >out; test $? = 1 &&
	test_grep "backup-bad.yaml:7:3: error: unknown field \"schedul\"" out &&
	test_grep "backup-bad.yaml:8:14: error: expected integer, got string \"7\" \[schema-type\]" out &&
	test_grep "backup-bad.yaml:9:9: error: \"differential\" is not one of" out &&
	test_grep "backup-bad.yaml:10:12: error: \"10 GB\" is not a valid quantity \[schema-format\]" out
'

test_expect_success 'lint --schema-dir validates built-in kinds at the cluster version' '
	tidegate lint --schema-dir pulled "$D/good.yaml" >out &&
	test_grep "0 errors" out &&
	tidegate lint --schema-dir pulled "$D/bad-deployment.yaml" >out; test $? = 1 &&
	test_grep "bad-deployment.yaml:26:18: error: expected string, got integer \"4\" \[schema-type\]" out
'

test_expect_success 'pull names its problems: unknown context, no --out' '
	tidegate schema pull --kubeconfig "$KUBECONFIG" --context nope --out x 2>err; test $? = 2 &&
	tidegate schema pull --kubeconfig "$KUBECONFIG" 2>err; test $? = 2 &&
	test_grep "usage" err
'

test_done
