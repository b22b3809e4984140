#!/usr/bin/env bash
# Credentials against a real API server: a read-only bearer token (403),
# exec credential plugins, tokenFile, impersonation; and an API server that
# stops answering in the middle of a run.
. "$(dirname "$0")/test-lib.sh"

test_need_cluster
set -a; . "$TEST_DIR/cluster/env"; set +a
D=$TEST_DATA/kube
kc() { kubectl --kubeconfig "$KUBECONFIG" "$@"; }

# kubeconfig_with USER-YAML: the sandbox cluster with the given user entry
kubeconfig_with() {
	cat <<EOF
apiVersion: v1
kind: Config
clusters:
- name: sandbox
  cluster:
    server: $SANDBOX_SERVER
    certificate-authority: $SANDBOX_CA
users:
- name: u
  user:
$1
contexts:
- name: c
  context: {cluster: sandbox, user: u, namespace: $SANDBOX_READONLY_NAMESPACE}
current-context: c
EOF
}

printf "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: probe\ndata: {a: b}\n" >cm.yaml

test_expect_success 'the read-only user gets a clear 403 per object (exit 1)' '
	tidegate apply --kubeconfig "$SANDBOX_READONLY_KUBECONFIG" cm.yaml >out; test $? = 1 &&
	test_grep "^failed *ConfigMap/sandbox-ro/probe: .*forbidden: User \"readonly\" cannot patch resource \"configmaps\"" out
'

test_expect_success 'the read-only user may diff (reads and dry-runs only)' '
	tidegate diff --kubeconfig "$SANDBOX_READONLY_KUBECONFIG" cm.yaml >out; test $? = 1 &&
	test_grep "forbidden" out
'

test_expect_success 'an exec plugin giving the read-only token' '
	kubeconfig_with "    exec:
      apiVersion: client.authentication.k8s.io/v1
      command: $D/exec-plugin
      env: [{name: PLUGIN_TOKEN, value: $SANDBOX_READONLY_TOKEN}, {name: PLUGIN_COUNT, value: $TEST_DIR/count}]" >exec-ro.kubeconfig &&
	tidegate apply --kubeconfig exec-ro.kubeconfig cm.yaml >out; test $? = 1 &&
	test_grep "User \"readonly\" cannot patch" out &&
	test "$(wc -l <count)" = 1
'

test_expect_success 'an exec plugin giving the admin client certificate' '
	kubeconfig_with "    exec:
      apiVersion: client.authentication.k8s.io/v1
      command: $D/exec-plugin
      env: [{name: PLUGIN_CERT, value: $SANDBOX_ADMIN_CERT}, {name: PLUGIN_KEY, value: $SANDBOX_ADMIN_KEY}]" >exec-admin.kubeconfig &&
	tidegate apply --kubeconfig exec-admin.kubeconfig -n default cm.yaml >out &&
	test_grep "^created *ConfigMap/default/probe$" out
'

test_expect_success 'a failing exec plugin is a clear error (exit 2)' '
	kubeconfig_with "    exec:
      apiVersion: client.authentication.k8s.io/v1
      command: $D/exec-plugin" >exec-bad.kubeconfig &&
	tidegate apply --kubeconfig exec-bad.kubeconfig cm.yaml >out 2>err; test $? = 2 &&
	test_grep "exec plugin .*exec-plugin. failed" err
'

test_expect_success 'tokenFile: the token is read from the file' '
	printf "%s\n" "$SANDBOX_READONLY_TOKEN" >token &&
	kubeconfig_with "    tokenFile: token" >tf.kubeconfig &&
	tidegate apply --kubeconfig tf.kubeconfig cm.yaml >out; test $? = 1 &&
	test_grep "User \"readonly\" cannot patch" out
'

test_expect_success 'a wrong token is a clear 401' '
	printf "not-a-token\n" >token &&
	tidegate apply --kubeconfig tf.kubeconfig cm.yaml >out 2>err; test $? = 2 &&
	test_grep -i "unauthorized" err
'

test_expect_success 'impersonation headers reach the server (as: readonly)' '
	cp "$KUBECONFIG" imp.kubeconfig &&
	sed -i "s/^    client-key-data: .*/&\n    as: readonly/" imp.kubeconfig &&
	tidegate apply --kubeconfig imp.kubeconfig -n sandbox-ro cm.yaml >out; test $? = 1 &&
	test_grep "User \"readonly\" cannot patch" out
'

test_expect_success 'in-cluster configuration from a service-account directory' '
	mkdir sa &&
	cp "$SANDBOX_CA" sa/ca.crt &&
	printf "%s" "$SANDBOX_READONLY_TOKEN" >sa/token &&
	printf "sandbox-ro" >sa/namespace &&
	hostport=${SANDBOX_SERVER#https://} &&
	TIDEGATE_SA_DIR=$PWD/sa KUBERNETES_SERVICE_HOST=${hostport%:*} KUBERNETES_SERVICE_PORT=${hostport##*:} \
		tidegate apply --in-cluster cm.yaml >out; test $? = 1 &&
	test_grep "^failed *ConfigMap/sandbox-ro/probe: .*User \"readonly\"" out
'

test_expect_success 'tls-server-name: verified against the name given, not the URL host' '
	sed "s#^    certificate-authority-data: .*#&\n    tls-server-name: kubernetes.default.svc#" "$KUBECONFIG" >sni.kubeconfig &&
	grep -q "tls-server-name" sni.kubeconfig &&
	tidegate apply --kubeconfig sni.kubeconfig -n default cm.yaml >out &&
	test_grep "ConfigMap/default/probe" out &&
	sed -i "s#tls-server-name: .*#tls-server-name: wrong.example#" sni.kubeconfig &&
	tidegate apply --kubeconfig sni.kubeconfig -n default cm.yaml >out 2>err; test $? = 2 &&
	test_grep -i "certificate\|SSL\|wrong.example" err
'

test_expect_success 'no CA: refused unless insecure-skip-tls-verify' '
	sed "/certificate-authority-data/d" "$KUBECONFIG" >noca.kubeconfig &&
	tidegate apply --kubeconfig noca.kubeconfig -n default cm.yaml >out 2>err; test $? = 2 &&
	test_grep -i "certificate" err &&
	sed "s#^    server: .*#&\n    insecure-skip-tls-verify: true#" noca.kubeconfig >insecure.kubeconfig &&
	tidegate apply --kubeconfig insecure.kubeconfig -n default cm.yaml >out &&
	test_grep "ConfigMap/default/probe" out
'

test_expect_success 'an API server that stops answering mid-run: clear error (exit 2)' '
	mkdir many &&
	for i in $(seq 1 300); do
		printf "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: c%d\n  namespace: default\ndata: {a: \"%d\"}\n---\n" $i $i
	done >many/all.yaml || exit 1
	# freeze the server once the run has written its ApplySet parent (in the
	# background: only this subshell, not the lines above, is sent there)
	(for _ in $(seq 1 400); do
		curl -sf -o /dev/null --cacert "$SANDBOX_CA" --cert "$SANDBOX_ADMIN_CERT" \
			--key "$SANDBOX_ADMIN_KEY" "$SANDBOX_SERVER/api/v1/namespaces/default/secrets/many" && break
		sleep 0.02
	done; kill -STOP "$SANDBOX_APISERVER_PID") &
	stopper=$!
	tidegate apply --applyset many --timeout 8 many >out 2>err; rc=$?
	wait $stopper
	kill -CONT "$SANDBOX_APISERVER_PID"
	cat out err
	test $rc = 2 &&
	test_grep "stopped answering\|cannot reach the API server\|cannot read the parent" err
'

test_expect_success 'the rerun converges once the server is back' '
	test_wait_for "kc get --raw /readyz" 30 &&
	tidegate apply --applyset many --timeout 60 many >out &&
	test "$(grep -c "^\(created\|unchanged\|configured\)" out)" = 300 &&
	tidegate apply --applyset many many >out &&
	test "$(grep -c "^unchanged" out)" = 300
'

test_done
