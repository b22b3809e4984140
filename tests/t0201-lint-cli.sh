#!/usr/bin/env bash
# tidegate lint as a command: exit statuses, formats, stdin, directories,
# configuration files and --list-rules.
. "$(dirname "$0")/test-lib.sh"

mkdir -p good bad repo/k8s repo/.git repo/vendor
cat >good/cm.yaml <<'YAML'
apiVersion: v1
kind: ConfigMap
metadata:
  name: settings
data:
  mode: fast
YAML
cat >bad/cm.yaml <<'YAML'
apiVersion: v1
kind: ConfigMap
metadata:
  name: Bad_Name
data:
  debug: on
YAML
cp bad/cm.yaml repo/.git/ignored.yaml
cp bad/cm.yaml repo/vendor/third-party.yaml
cp good/cm.yaml repo/k8s/cm.yml
printf 'not yaml at all: [\n' >repo/k8s/README.md

json_get() {
	python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); print(eval(sys.argv[2], {"d": d}))' "$@"
}

test_expect_success 'a clean file exits 0 with a summary' '
	tidegate lint good/cm.yaml >out &&
	test_grep "^1 object in 1 file: 0 errors, 0 warnings, 0 skipped$" out
'

test_expect_failure_exit 1 'errors exit 1' '
	tidegate lint bad
'

test_expect_success 'text lines are path:line:col: severity: message [rule]' '
	tidegate lint bad >out; test $? = 1 &&
	test_grep "^bad/cm.yaml:4:9: error: name \"Bad_Name\" is invalid: .* \[invalid-name\]$" out &&
	test_grep "^bad/cm.yaml:6:10: warning: ConfigMap value on .* \[yaml11-trap\]$" out
'

test_expect_failure_exit 2 'an unknown option is a usage error' '
	tidegate lint --frobnicate good
'

test_expect_failure_exit 2 'no paths is a usage error' '
	tidegate lint
'

test_expect_failure_exit 2 'an unknown format is a usage error' '
	tidegate lint --format xml good
'

test_expect_failure_exit 2 'a bad --kube-version is a usage error' '
	tidegate lint --kube-version latest good
'

test_expect_success 'a good --kube-version is taken' '
	tidegate lint --kube-version v1.33.2 good >out &&
	test_grep "^1 object in 1 file" out
'

test_expect_failure_exit 2 'an unusable --schema-dir is an error of its own (exit 2)' '
	tidegate lint --schema-dir "$TEST_DIR/no-such-dir" good
'

test_expect_failure_exit 2 'a missing path is an I/O error' '
	tidegate lint good nosuch.yaml
'

test_expect_success 'stdin with -' '
	tidegate lint - <bad/cm.yaml >out; test $? = 1 &&
	test_grep "^<stdin>:4:9: error: .*\[invalid-name\]" out
'

test_expect_success 'JSON output has findings and a summary' '
	tidegate lint --format json bad >out.json; test $? = 1 &&
	test "$(json_get out.json "d[\"summary\"][\"errors\"]")" = 1 &&
	test "$(json_get out.json "d[\"findings\"][0][\"rule\"]")" = invalid-name &&
	test "$(json_get out.json "d[\"findings\"][0][\"jsonPath\"]")" = .metadata.name &&
	test "$(json_get out.json "d[\"findings\"][0][\"object\"]")" = ConfigMap/Bad_Name &&
	test "$(json_get out.json "d[\"findings\"][0][\"line\"]")" = 4
'

test_expect_success 'SARIF output is SARIF 2.1.0' '
	tidegate lint --format=sarif bad >out.sarif; test $? = 1 &&
	test "$(json_get out.sarif "d[\"version\"]")" = 2.1.0 &&
	test "$(json_get out.sarif "d[\"runs\"][0][\"tool\"][\"driver\"][\"name\"]")" = tidegate &&
	test "$(json_get out.sarif "d[\"runs\"][0][\"results\"][0][\"ruleId\"]")" = invalid-name &&
	test "$(json_get out.sarif "d[\"runs\"][0][\"results\"][0][\"locations\"][0][\"physicalLocation\"][\"region\"][\"startLine\"]")" = 4 &&
	test "$(json_get out.sarif "d[\"runs\"][0][\"results\"][0][\"locations\"][0][\"physicalLocation\"][\"artifactLocation\"][\"uri\"]")" = bad/cm.yaml
'

test_expect_success 'directories: manifests only, hidden directories skipped' '
	tidegate lint repo >out; test $? = 1 &&
	test_grep "^repo/vendor/third-party.yaml:4:9: error" out &&
	! grep "\.git" out && ! grep README out &&
	test_grep "^2 objects in 2 files" out
'

test_expect_success 'a file named twice, or under two named directories, is read once' '
	tidegate lint good good/cm.yaml ./good >out &&
	test_grep "^1 object in 1 file: 0 errors" out
'

test_expect_success 'a .tidegate.yaml at the root of a linted directory is used' '
	printf "exclude: [vendor]\n" >repo/.tidegate.yaml &&
	tidegate lint repo >out &&
	test_grep "^1 object in 1 file: 0 errors" out
'

test_expect_success '--config names the configuration' '
	printf "rules:\n  invalid-name: warning\n  yaml11-trap: off\n" >cfg.yaml &&
	tidegate lint --config cfg.yaml bad >out &&
	test_grep "warning: name \"Bad_Name\"" out &&
	! grep yaml11-trap out
'

test_expect_failure_exit 2 'a broken --config is a usage error' '
	printf "rules:\n  latest-tag: loud\n" >broken.yaml &&
	tidegate lint --config broken.yaml good
'

test_expect_success '--strict turns skips into errors' '
	printf "just: data\n" >good/data.yaml &&
	tidegate lint good >out &&
	test_grep "info: document is not a Kubernetes object" out &&
	tidegate lint --strict good >out; test $? = 1 &&
	test_grep "error: document is not a Kubernetes object" out &&
	rm good/data.yaml
'

test_expect_success '--list-rules lists engine checks and lint rules' '
	tidegate lint --list-rules >out &&
	test_grep "^yaml-syntax  *error" out &&
	test_grep "^duplicate-object " out &&
	test_grep "^latest-tag " out
'

test_expect_success 'a huge file on stdin is refused without reading it all into memory' '
	head -c 20000000 /dev/zero | tr "\0" "a" | tidegate lint - >out; test $? = 1 &&
	test_grep "file too big" out
'

test_done
