#!/usr/bin/env bash
# install/kubernetes/ applied to a sandbox cluster; then tidegate and
# tidegated run on the host as if in a Pod of that Deployment: in-cluster
# configuration (KUBERNETES_SERVICE_HOST/PORT, a token of the tidegated
# ServiceAccount, the cluster CA, the namespace file), with only the rights
# of the shipped ClusterRole. A sync works; a kind the role does not grant
# is refused by the cluster.
. "$(dirname "$0")/test-lib.sh"

if tidegate apply --help 2>&1 | grep -q "unknown command"; then
	skip_all "tidegate apply is not built yet"
fi
test_need_cluster
set -a; . "$TEST_DIR/cluster/env"; set +a
# the host's kubeconfig must not be what tidegate uses: only in-cluster
kadmin=$KUBECONFIG
unset KUBECONFIG
kc() { kubectl --kubeconfig "$kadmin" --request-timeout=20s "$@"; }
sa=system:serviceaccount:tidegate:tidegated
apiport=${SANDBOX_SERVER##*:}

# incluster CMD...: CMD with the Pod's environment and nothing else to go on
incluster() {
	env -u KUBECONFIG HOME="$TEST_DIR/podhome" \
		KUBERNETES_SERVICE_HOST=127.0.0.1 KUBERNETES_SERVICE_PORT="$apiport" \
		TIDEGATE_SA_DIR="$TEST_DIR/sa" "$@"
}

test_expect_success 'install/kubernetes applies to the cluster' '
	kc apply --server-side --field-manager=t0610 -f "$TIDEGATE_SRC/install/kubernetes/" >out 2>&1 ||
		{ cat out; exit 1; }
	kc -n tidegate get serviceaccount tidegated &&
	kc get clusterrole tidegated &&
	kc get clusterrolebinding tidegated &&
	kc -n tidegate get deployment tidegated &&
	kc -n tidegate get service tidegated &&
	kc -n tidegate get configmap tidegated-config
'

test_expect_success 'the ServiceAccount may apply and prune the kinds it manages' '
	for what in "create deployments.apps" "patch deployments.apps" "delete configmaps" \
		"list secrets" "patch namespaces" "create services"; do
		kc auth can-i $what -n t0610 --as=$sa >out 2>&1 || { echo "cannot $what"; cat out; exit 1; }
	done
'

test_expect_success 'the ServiceAccount may not touch RBAC, nodes or pods/exec' '
	for what in "create roles.rbac.authorization.k8s.io" "create clusterrolebindings.rbac.authorization.k8s.io" \
		"delete nodes" "create pods/exec" "watch deployments.apps" "escalate clusterroles"; do
		! kc auth can-i $what -n t0610 --as=$sa >out 2>&1 || { echo "may $what"; exit 1; }
	done
'

test_expect_success 'a Pod-like service account directory: token, ca.crt, namespace' '
	mkdir -p sa podhome &&
	kc -n tidegate create token tidegated --duration=1h >sa/token &&
	test -s sa/token &&
	cp "$SANDBOX_CA" sa/ca.crt &&
	printf tidegate >sa/namespace
'

test_expect_success 'tidegate apply in-cluster, with only the ClusterRole, creates the app' '
	incluster tidegate apply --in-cluster --applyset t0610 -n t0610 --prune --format json \
		"$TEST_DATA/install/app" >out.json 2>err; rc=$?
	cat out.json err
	test $rc = 0 &&
	kc -n t0610 get deployment web -o jsonpath="{.spec.replicas}" >replicas &&
	test "$(cat replicas)" = 2 &&
	kc -n t0610 get configmap web-settings
'

test_expect_success 'the objects are managed by tidegate, as the ServiceAccount' '
	kc -n t0610 get deployment web -o jsonpath="{.metadata.managedFields[*].manager}" >mgr &&
	test_grep -w tidegate mgr
'

test_expect_success 'a kind the ClusterRole does not grant is refused (exit 1, forbidden)' '
	incluster tidegate apply --in-cluster --applyset t0610-role -n t0610 --format json \
		"$TEST_DATA/install/app-role" >out.json 2>err; rc=$?
	cat out.json err
	test $rc = 1 &&
	grep -qi "forbidden\|403" out.json err &&
	! kc -n t0610 get role too-much 2>/dev/null
'

test_expect_success 'pruning works with the ClusterRole: a removed file is deleted' '
	mkdir -p app3 &&
	cp "$TEST_DATA"/install/app/namespace.yaml "$TEST_DATA"/install/app/deployment.yaml app3/ &&
	incluster tidegate apply --in-cluster --applyset t0610 -n t0610 --prune --format json \
		app3 >out.json 2>err; rc=$?
	cat out.json err
	test $rc = 0 &&
	test_grep "\"pruned\":1" out.json &&
	! kc -n t0610 get configmap web-settings 2>/dev/null &&
	kc -n t0610 get deployment web
'

# --- tidegated, in-cluster -------------------------------------------

if tidegated -n -c /dev/null 2>&1 | grep -q "not built yet"; then
	test_skip "tidegated is not built yet"
	test_done
fi

port=$(test_free_port)
git init -q --bare srv.git
git clone -q srv.git work 2>/dev/null
mkdir -p work/deploy etc state
cp "$TEST_DATA"/install/app/*.yaml work/deploy/
sed -i "s/replicas: 2/replicas: 4/" work/deploy/deployment.yaml
git -C work add deploy && git -C work commit -q -m "app" && git -C work push -q origin main 2>/dev/null
rev=$(git -C srv.git rev-parse main)
openssl rand -hex 32 >etc/generic.secret
cat >etc/tidegated.yaml <<EOF
listen: 127.0.0.1:$port
state_dir: $TEST_DIR/state
tidegate: $(command -v tidegate)
receivers:
  - {provider: generic, secret_file: $TEST_DIR/etc/generic.secret}
clusters:
  - {name: local, in_cluster: true}
apps:
  - {name: t0610, repo: $TEST_DIR/srv.git, branch: main, path: deploy, cluster: local,
     namespace: t0610, prune: true}
EOF

# send_push REV: a signed generic push event, as tidegate-post-receive sends it
send_push() {
	python3 - "$TEST_DIR/etc/generic.secret" "$TEST_DIR/srv.git" "$1" "$port" <<-\PY
	import hmac, hashlib, json, os, sys, time, urllib.request
	secret = open(sys.argv[1], "rb").read().strip()
	body = json.dumps({"repository": {"url": sys.argv[2]}, "ref": "refs/heads/main",
	                   "before": "0" * 40, "after": sys.argv[3], "pusher": "t0610"}).encode()
	ts = str(int(time.time()))
	sig = hmac.new(secret, ts.encode() + b"." + body, hashlib.sha256).hexdigest()
	req = urllib.request.Request("http://127.0.0.1:%s/hooks/generic" % sys.argv[4], data=body,
	    headers={"Content-Type": "application/json", "X-Tidegate-Event": "push",
	             "X-Tidegate-Delivery": os.urandom(16).hex(), "X-Tidegate-Timestamp": ts,
	             "X-Tidegate-Signature": "sha256=" + sig})
	print(urllib.request.urlopen(req, timeout=10).status)
	PY
}

test_expect_success 'tidegated starts in-cluster and becomes ready' '
	incluster tidegated -n -c etc/tidegated.yaml &&
	{
		# env execs tidegated: $! is the daemon itself
		env -u KUBECONFIG HOME="$TEST_DIR/podhome" \
			KUBERNETES_SERVICE_HOST=127.0.0.1 KUBERNETES_SERVICE_PORT="$apiport" \
			TIDEGATE_SA_DIR="$TEST_DIR/sa" tidegated -c etc/tidegated.yaml >tidegated.log 2>&1 &
		echo $! >pid
	} &&
	test_wait_for "curl -sf http://127.0.0.1:$port/readyz" 20 || { cat tidegated.log; exit 1; }
'
[ -s "$TEST_DIR/pid" ] && test_bg_pid "$(cat "$TEST_DIR/pid")"

test_expect_success 'a push event is accepted (202) and synced with the ClusterRole only' '
	send_push "$rev" >status && test_grep -x 202 status &&
	test_wait_for "test \"\$(kc -n t0610 get deployment web -o jsonpath={.spec.replicas})\" = 4" 30 ||
		{ cat tidegated.log; exit 1; }
'

test_expect_success 'the app state records the commit' '
	test_wait_for "grep -q $rev state/apps/t0610.json" 10 || { cat state/apps/t0610.json tidegated.log; exit 1; }
'

test_expect_success 'tidegated stops on SIGTERM (the pid is the daemon)' '
	p=$(cat pid) &&
	test "$(cat /proc/$p/comm)" = tidegated &&
	kill -TERM $p &&
	test_wait_for "! kill -0 $p" 15
'

test_done
