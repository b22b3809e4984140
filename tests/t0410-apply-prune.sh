#!/usr/bin/env bash
# ApplySet pruning against a real API server, and what kubectl makes of
# tidegate's ApplySets (and the other way round).
. "$(dirname "$0")/test-lib.sh"

test_need_cluster
set -a; . "$TEST_DIR/cluster/env"; set +a
D=$TEST_DATA/kube
kc() { kubectl --kubeconfig "$KUBECONFIG" "$@"; }

test_expect_success 'the first apply records the set in its parent Secret' '
	tidegate apply -n tide-app --applyset web --prune "$D/app" >out &&
	test "$(grep -c "^created" out)" = 4 &&
	kc get secret -n tide-app web -o json >parent.json &&
	jq -e ".metadata.labels[\"applyset.kubernetes.io/id\"] | test(\"^applyset-[A-Za-z0-9_-]{43}-v1$\")" parent.json &&
	jq -e ".metadata.annotations[\"applyset.kubernetes.io/tooling\"] | startswith(\"tidegate/\")" parent.json &&
	jq -e ".metadata.annotations[\"applyset.kubernetes.io/contains-group-kinds\"] == \"ConfigMap,Deployment.apps,Namespace,Service\"" parent.json &&
	jq -r ".data.inventory" parent.json | base64 -d >inventory &&
	printf "%s\n" /ConfigMap/tide-app/settings /Namespace//tide-app /Service/tide-app/web apps/Deployment/tide-app/web >expect &&
	test_cmp expect inventory
'

test_expect_success 'members carry the part-of label with the set id' '
	id=$(jq -r ".metadata.labels[\"applyset.kubernetes.io/id\"]" parent.json) &&
	test "$(kc get deployment -n tide-app web -o jsonpath="{.metadata.labels.applyset\.kubernetes\.io/part-of}")" = "$id" &&
	test "$(kc get namespace tide-app -o jsonpath="{.metadata.labels.applyset\.kubernetes\.io/part-of}")" = "$id"
'

test_expect_success 'diff --prune lists what would be pruned and deletes nothing' '
	tidegate diff -n tide-app --applyset web --prune "$D/app-v2" >out &&
	test_grep "^would prune *Deployment/tide-app/web$" out &&
	kc get deployment -n tide-app web
'

test_expect_success '--dry-run --prune deletes nothing' '
	tidegate apply --dry-run -n tide-app --applyset web --prune "$D/app-v2" >out &&
	test_grep "^would prune *Deployment/tide-app/web$" out &&
	kc get deployment -n tide-app web
'

test_expect_success 'apply --prune deletes the member that left the input' '
	tidegate apply -n tide-app --applyset web --prune "$D/app-v2" >out &&
	test_grep "^pruned *Deployment/tide-app/web$" out &&
	test_grep "^configured *ConfigMap/tide-app/settings$" out &&
	test_wait_for "! kc get deployment -n tide-app web" 20 &&
	kc get secret -n tide-app web -o json | jq -r ".data.inventory" | base64 -d >inventory &&
	! grep Deployment inventory &&
	kc get secret -n tide-app web -o json |
		jq -e ".metadata.annotations[\"applyset.kubernetes.io/contains-group-kinds\"] == \"ConfigMap,Namespace,Service\""
'

test_expect_success 'an object that lost the part-of label is not pruned' '
	tidegate apply -n tide-app --applyset web --prune "$D/app-v2" "$D/app/deploy.yaml" >out &&
	test_grep "^created *Deployment/tide-app/web$" out &&
	kc label deployment -n tide-app web applyset.kubernetes.io/part-of- >/dev/null &&
	tidegate apply -n tide-app --applyset web --prune "$D/app-v2" >out &&
	test_grep "^skipped *Deployment/tide-app/web: not pruned: it is no longer labelled" out &&
	kc get deployment -n tide-app web
'

test_expect_success 'a Namespace leaves the set but is pruned only with --prune-allow-cluster-wide' '
	mkdir -p v3 && cp "$D/app-v2/config.yaml" v3/ &&
	tidegate apply -n tide-app --applyset web --prune v3 >out &&
	test_grep "^skipped *Namespace/tide-app: not pruned: Namespaces and CustomResourceDefinitions" out &&
	kc get namespace tide-app &&
	kc get secret -n tide-app web -o json | jq -r ".data.inventory" | base64 -d >inventory &&
	test_grep "^/Namespace//tide-app$" inventory
'

test_expect_success 'a set another tool manages is refused unless taken over' '
	printf "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: k1, namespace: kube-set}\ndata: {a: \"1\"}\n---\napiVersion: v1\nkind: ConfigMap\nmetadata: {name: k2, namespace: kube-set}\ndata: {a: \"2\"}\n" >k.yaml &&
	head -4 k.yaml >k1.yaml &&
	kc create namespace kube-set &&
	KUBECTL_APPLYSET=true kc apply --server-side --prune --applyset=kset -n kube-set -f k.yaml &&
	tidegate apply -n kube-set --applyset kset --prune k1.yaml >out 2>err; test $? = 2 &&
	test_grep "managed by .kubectl/" err &&
	kc get configmap -n kube-set k2
'

test_expect_success 'taking over a kubectl set finds its members by label and prunes them' '
	tidegate apply -n kube-set --applyset kset --prune --applyset-allow-foreign k1.yaml >out &&
	test_grep "^pruned *ConfigMap/kube-set/k2$" out &&
	test_wait_for "! kc get configmap -n kube-set k2" 20 &&
	kc get secret -n kube-set kset -o jsonpath="{.metadata.annotations.applyset\.kubernetes\.io/tooling}" >tool &&
	test_grep "^tidegate/" tool
'

test_expect_success 'kubectl recognizes the set id tidegate wrote, and refuses it for its tooling' '
	KUBECTL_APPLYSET=true kc apply --server-side --prune --applyset=web -n tide-app -f v3 >out 2>err;
	test $? != 0 &&
	test_grep "already exists and is managed by tooling \"tidegate\" instead of \"kubectl\"" err
'

test_expect_success 'a Secret of the same name that is no ApplySet parent is refused' '
	kc create secret generic plain -n tide-app --from-literal=a=b &&
	tidegate apply -n tide-app --applyset plain --prune v3 >out 2>err; test $? = 2 &&
	test_grep "is not this ApplySet.s parent" err
'

test_done
