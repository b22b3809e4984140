#!/usr/bin/env bash
# Schema validation through `tidegate lint`: the bundled Kubernetes schemas,
# CRDs in the same set, --schema-dir from `tidegate schema compact`, and
# kinds with no schema.
. "$(dirname "$0")/test-lib.sh"

D=$TEST_DATA/schema/lint

test_expect_success 'the bundled schemas are found next to the program' '
	test -f "$TIDEGATE_SRC/data/schemas/index.json" &&
	tidegate lint "$D/good.yaml" >out &&
	! grep "schema-" out &&
	test_grep "3 objects in 1 file: 0 errors" out
'

test_expect_success 'schema errors in a Deployment, each at its line:col' '
	tidegate lint "$D/bad-deployment.yaml" >out; test $? = 1 &&
	grep "\[schema-" out >schema &&
	cat >expect <<-\EOT &&
	bad-deployment.yaml:6:3: error: unknown field "labelz" in io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta [schema-unknown-field]
	bad-deployment.yaml:9:13: error: expected integer, got string "2" [schema-type]
	bad-deployment.yaml:23:11: error: duplicate entry containerPort=8080, protocol=TCP (first at line 22) [schema-list-duplicate]
	bad-deployment.yaml:26:18: error: expected string, got integer "4" [schema-type]
	bad-deployment.yaml:29:21: error: "512MB" is not a valid quantity [schema-format]
	bad-deployment.yaml:30:9: error: duplicate entry name=web (first at line 19) [schema-list-duplicate]
	EOT
	sed "s|^.*/bad-deployment.yaml|bad-deployment.yaml|" schema >actual &&
	test_cmp expect actual
'

test_expect_success 'JSON output carries the JSON path and the object of a schema finding' '
	tidegate lint --format json "$D/bad-deployment.yaml" >out; test $? = 1 &&
	python3 -c "
import json, sys
doc = json.load(open(\"out\"))
f = [x for x in doc[\"findings\"] if x[\"rule\"] == \"schema-type\" and x[\"line\"] == 26][0]
assert f[\"jsonPath\"] == \".spec.template.spec.containers[0].env[0].value\", f
assert f[\"object\"] == \"Deployment/shop/web\", f
assert f[\"col\"] == 18, f
"
'

test_expect_success 'a custom resource validates against the CRD beside it' '
	tidegate lint "$D/crd.yaml" "$D/backup-good.yaml" >out &&
	test_grep "2 objects in 2 files: 0 errors, 0 warnings" out &&
	tidegate lint "$D/crd.yaml" "$D/backup-bad.yaml" >out; test $? = 1 &&
	test_grep "backup-bad.yaml:7:3: error: unknown field \"schedul\" \[schema-unknown-field\]" out &&
	test_grep "backup-bad.yaml:7:3: error: missing required field \"schedule\" \[schema-required\]" out &&
	test_grep "backup-bad.yaml:8:14: error: expected integer, got string \"7\" \[schema-type\]" out &&
	test_grep "backup-bad.yaml:9:9: error: \"differential\" is not one of \"full\", \"incremental\" \[schema-enum\]" out &&
	test_grep "backup-bad.yaml:10:12: error: \"10 GB\" is not a valid quantity \[schema-format\]" out &&
	test_grep "5 errors" out
'

test_expect_success 'real operator CRDs and their resources draw no schema finding' '
	tidegate lint "$TEST_DATA/schema/operator" >out &&
	test_grep "5 objects in 5 files: 0 errors, 0 warnings" out
'

test_expect_success '... and a broken copy of one is reported at the right places' '
	mkdir op && cp "$TEST_DATA/schema/operator"/*crd.yaml op/ &&
	sed -e "0,/scheme: https/s//scheme: gopher/" -e "0,/honorLabels: true/s//honorLabels: \"yes\"/" \
		"$TEST_DATA/schema/operator/kubernetesControlPlane-serviceMonitorKubelet.yaml" >op/sm.yaml &&
	tidegate lint op >out; test $? = 1 &&
	test_grep "sm.yaml:[0-9]*:[0-9]*: error: \"gopher\" is not one of \"http\", \"https\", \"HTTP\", \"HTTPS\" \[schema-enum\]" out &&
	test_grep "sm.yaml:[0-9]*:[0-9]*: error: expected boolean, got string \"yes\" \[schema-type\]" out &&
	test_grep " 2 errors" out
'

test_expect_success 'a kind with no schema is a warning, an error under --strict' '
	tidegate lint "$D/backup-good.yaml" >out &&
	test_grep "backup-good.yaml:1:1: warning: no schema for ops.example.com/v1 Backup \[schema-missing\]" out &&
	tidegate lint --strict "$D/backup-good.yaml" >out; test $? = 1 &&
	test_grep "error: no schema for ops.example.com/v1 Backup \[schema-missing\]" out
'

test_expect_success 'schema compact makes a --schema-dir from /openapi/v3 documents' '
	tidegate schema compact --out schemas "$TEST_DATA/schema/openapi" 2>err &&
	test_grep "wrote 1 group-versions of Kubernetes 1.36.3" err &&
	test -f schemas/index.json && test -f schemas/meta.json &&
	test -f schemas/apis__demo.tidegate.io__v1.json &&
	! grep -q "\"description\":\"a field" schemas/apis__demo.tidegate.io__v1.json &&
	cat >widget.yaml <<-\EOT &&
	apiVersion: demo.tidegate.io/v1
	kind: Widget
	metadata: {name: w, namespace: default}
	spec:
	  selector: {app: w}
	  mode: turbo
	EOT
	tidegate lint --schema-dir schemas widget.yaml >out; test $? = 1 &&
	test_grep "widget.yaml:6:9: error: \"turbo\" is not one of \"fast\", \"slow\" \[schema-enum\]" out &&
	tidegate lint --schema-dir schemas "$D/good.yaml" >out &&
	test_grep "0 errors" out
'

test_expect_success 'a bad --schema-dir is a usage error' '
	tidegate lint --schema-dir nowhere "$D/good.yaml" >out 2>err; test $? = 2 &&
	mkdir empty &&
	tidegate lint --schema-dir empty "$D/good.yaml" >out 2>err; test $? = 2 &&
	test_grep "no index.json" err
'

test_expect_success 'TIDEGATE_SCHEMAS points at another bundled directory' '
	mkdir none &&
	TIDEGATE_SCHEMAS=$PWD/none tidegate lint "$D/good.yaml" >out &&
	test_grep "no schema for apps/v1 Deployment \[schema-missing\]" out
'

test_expect_success 'schema compact refuses bad input' '
	echo "{not json" >broken.json &&
	tidegate schema compact --out x broken.json 2>err; test $? = 2 &&
	tidegate schema compact --out x 2>err; test $? = 2 &&
	tidegate schema bogus 2>err; test $? = 2
'

test_done
