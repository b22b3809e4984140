#!/usr/bin/env bash
# The Kubernetes manifests tidegate ships to run tidegated in a cluster
# (install/kubernetes/) pass tidegate's own gate, and follow the rules the
# install guide promises: least privilege, non-root, probes, no secrets.
. "$(dirname "$0")/test-lib.sh"

k8s=$TIDEGATE_SRC/install/kubernetes

if tidegate lint --help 2>&1 | grep -q "unknown command"; then
	test_skip "tidegate lint is not built yet"
else
	test_expect_success 'tidegate lint finds no error and no warning in install/kubernetes' '
		tidegate lint "$k8s" >out 2>&1; rc=$?
		cat out
		test $rc = 0 &&
		test_grep " 0 errors, 0 warnings" out
	'

	test_expect_success 'the JSON report agrees: zero errors' '
		tidegate lint --format json "$k8s" >out.json 2>err; rc=$?
		test $rc = 0 &&
		python3 -c "
import json, sys
d = json.load(open(\"out.json\"))
def errors(x):
    if isinstance(x, dict):
        if x.get(\"severity\") == \"error\":
            return 1
        return sum(errors(v) for v in x.values())
    if isinstance(x, list):
        return sum(errors(v) for v in x)
    return 0
n = errors(d)
print(\"errors:\", n)
sys.exit(1 if n else 0)
"
	'

	test_expect_success 'the same lint refuses a broken copy (the check can fail)' '
		cp -R "$k8s" k8s &&
		sed -i "s/^      app.kubernetes.io\/name: tidegated$/      app.kubernetes.io\/name: tidegate-typo/" \
			k8s/30-deployment.yaml &&
		grep -q tidegate-typo k8s/30-deployment.yaml &&
		tidegate lint k8s >out 2>&1; rc=$?
		cat out
		test $rc = 1
	'
fi

if ! python3 -c "import yaml" 2>/dev/null; then
	test_skip "python3 has no yaml module (Debian: python3-yaml)"
	test_skip "python3 has no yaml module (Debian: python3-yaml)"
	test_skip "python3 has no yaml module (Debian: python3-yaml)"
else
test_expect_success 'every file parses as YAML and holds Kubernetes objects' '
	python3 - "$k8s" <<-\PY
	import glob, sys, yaml
	n = 0
	for f in sorted(glob.glob(sys.argv[1] + "/*.yaml")):
	    for d in yaml.safe_load_all(open(f)):
	        assert d["apiVersion"] and d["kind"] and d["metadata"]["name"], f
	        n += 1
	print(n, "objects")
	sys.exit(0 if n >= 8 else 1)
	PY
'

test_expect_success 'the ClusterRole grants only the verbs a sync needs' '
	python3 - "$k8s" <<-\PY
	import glob, sys, yaml
	allowed = {"get", "list", "create", "update", "patch", "delete"}
	for f in sorted(glob.glob(sys.argv[1] + "/*.yaml")):
	    for d in yaml.safe_load_all(open(f)):
	        if d["kind"] not in ("ClusterRole", "Role"):
	            continue
	        for r in d["rules"]:
	            assert "*" not in r.get("verbs", []), r
	            assert "*" not in r.get("resources", []), r
	            assert "*" not in r.get("apiGroups", []), r
	            assert set(r["verbs"]) <= allowed, r
	            assert "rbac.authorization.k8s.io" not in r.get("apiGroups", []), r
	print("ok")
	PY
'

test_expect_success 'the Deployment runs non-root, read-only, with probes and limits' '
	python3 - "$k8s/30-deployment.yaml" <<-\PY
	import sys, yaml
	dep = [d for d in yaml.safe_load_all(open(sys.argv[1])) if d["kind"] == "Deployment"][0]
	pod = dep["spec"]["template"]["spec"]
	assert pod["securityContext"]["runAsNonRoot"] is True
	assert pod["serviceAccountName"] == "tidegated"
	c = pod["containers"][0]
	sc = c["securityContext"]
	assert sc["readOnlyRootFilesystem"] is True
	assert sc["allowPrivilegeEscalation"] is False
	assert sc["capabilities"]["drop"] == ["ALL"]
	assert c["readinessProbe"]["httpGet"]["path"] == "/readyz"
	assert c["livenessProbe"]["httpGet"]["path"] == "/healthz"
	assert c["resources"]["limits"]["memory"]
	mounts = {m["mountPath"] for m in c["volumeMounts"]}
	assert "/var/lib/tidegate" in mounts
	print("ok")
	PY
'
fi

if tidegated -n -c /dev/null 2>&1 | grep -q "not built yet"; then
	test_skip "tidegated is not built yet"
else
	test_expect_success 'the ConfigMap holds a configuration tidegated accepts' '
		sed -n "/^  tidegated.yaml: |\$/,\$p" "$k8s/20-config.yaml" | tail -n +2 |
			sed "s/^    //" >cm.yaml &&
		test_grep "in_cluster: true" cm.yaml &&
		mkdir -p secrets state &&
		for f in $(grep -o "/etc/tidegate/secrets/[a-z.]*" cm.yaml); do
			echo "0123456789abcdef" >"secrets/${f##*/}"
		done &&
		sed -e "s#/etc/tidegate/secrets/#$TEST_DIR/secrets/#" -e "s#/var/lib/tidegate#$TEST_DIR/state#" \
			-e "s#/usr/local/bin/tidegate#$TIDEGATE_BUILD/bin/tidegate#" cm.yaml >t.yaml &&
		tidegated -n -c t.yaml
	'

	test_expect_success 'the Deployment passes the ConfigMap file to tidegated where it is mounted' '
		test_grep -F "args: [-c, /etc/tidegate/config/tidegated.yaml]" "$k8s/30-deployment.yaml" &&
		test_grep -F "mountPath: /etc/tidegate/config" "$k8s/30-deployment.yaml" &&
		test_grep -F "mountPath: /etc/tidegate/secrets" "$k8s/30-deployment.yaml"
	'
fi

test_expect_success 'no Secret with data is committed' '
	! grep -l -E "^kind: Secret" "$k8s"/*.yaml
'

test_done
