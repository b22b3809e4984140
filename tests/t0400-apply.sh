#!/usr/bin/env bash
# tidegate apply / diff against a real API server: create, no-op, update,
# dry run, diff, JSON output, lint refusal, namespace defaulting, errors.
. "$(dirname "$0")/test-lib.sh"

test_need_cluster
set -a; . "$TEST_DIR/cluster/env"; set +a
D=$TEST_DATA/kube
kc() { kubectl --kubeconfig "$KUBECONFIG" "$@"; }

test_expect_success 'apply creates every object (exit 0)' '
	tidegate apply --applyset app "$D/app" >out &&
	test_grep "^created *Namespace/tide-app$" out &&
	test_grep "^created *ConfigMap/tide-app/settings$" out &&
	test_grep "^created *Service/tide-app/web$" out &&
	test_grep "^created *Deployment/tide-app/web$" out &&
	kc get deployment -n tide-app web -o jsonpath="{.spec.replicas}" >rep &&
	test "$(cat rep)" = 2
'

test_expect_success 'objects are applied server-side by field manager tidegate' '
	kc get configmap -n tide-app settings --show-managed-fields -o json >cm.json &&
	jq -e ".metadata.managedFields[] | select(.manager == \"tidegate\" and .operation == \"Apply\")" cm.json
'

test_expect_success 'a second apply reports every object unchanged' '
	tidegate apply --applyset app "$D/app" >out &&
	test "$(grep -c "^unchanged" out)" = 4 &&
	! grep -E "^(created|configured)" out
'

test_expect_success 'diff shows the changed field and changes nothing' '
	tidegate diff --applyset app "$D/app-v2" "$D/app/deploy.yaml" >out &&
	test_grep "^would change *ConfigMap/tide-app/settings" out &&
	test_grep "~ .data.colour: \"blue\" -> \"green\"" out &&
	! grep "Deployment" out &&
	test "$(kc get cm -n tide-app settings -o jsonpath={.data.colour})" = blue
'

test_expect_success '--dry-run reports what would change and changes nothing' '
	tidegate apply --dry-run --applyset app "$D/app-v2" "$D/app/deploy.yaml" >out &&
	test_grep "^would change *ConfigMap/tide-app/settings" out &&
	test_grep "^unchanged *Deployment/tide-app/web" out &&
	test "$(kc get cm -n tide-app settings -o jsonpath={.data.colour})" = blue
'

test_expect_success 'an update reports configured only for what changed' '
	tidegate apply --applyset app "$D/app-v2" "$D/app/deploy.yaml" >out &&
	test_grep "^configured *ConfigMap/tide-app/settings$" out &&
	test_grep "^unchanged *Deployment/tide-app/web$" out &&
	test "$(kc get cm -n tide-app settings -o jsonpath={.data.colour})" = green
'

test_expect_success '--format json has the documented shape' '
	tidegate apply --format json --applyset app "$D/app-v2" "$D/app/deploy.yaml" >out.json &&
	jq -e ".applyset == \"app\" and .dry_run == false and (.objects | length) == 4 and
		.counts.unchanged == 4 and .counts.failed == 0 and .lint.errors == 0 and
		(.duration_ms | type) == \"number\" and
		(.objects[] | select(.id == \"Deployment/tide-app/web\") | .result) == \"unchanged\"" out.json
'

test_expect_success 'lint errors refuse the apply and nothing reaches the cluster' '
	tidegate apply "$D/bad" >out 2>err; test $? = 1 &&
	test_grep "expected integer" err &&
	test_grep "nothing was applied" err &&
	! kc get deployment -n default broken 2>/dev/null
'

test_expect_success 'lint errors in JSON mode' '
	tidegate apply --format json "$D/bad" >out.json; test $? = 1 &&
	jq -e ".lint.errors == 1 and (.objects | length) == 0 and (.error | test(\"lint\"))" out.json
'

test_expect_success 'namespaced objects without a namespace get -n, else the context namespace' '
	printf "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: floating\ndata: {a: b}\n" >float.yaml &&
	tidegate apply -n tide-app float.yaml >out &&
	test_grep "^created *ConfigMap/tide-app/floating" out &&
	tidegate apply float.yaml >out &&
	test_grep "^created *ConfigMap/default/floating" out
'

test_expect_success 'a cluster-scoped object with a namespace fails, the rest is applied' '
	printf "apiVersion: rbac.authorization.k8s.io/v1\nkind: ClusterRole\nmetadata:\n  name: cr-x\n  namespace: nope\nrules: []\n---\napiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: okay\ndata: {a: b}\n" >cs.yaml &&
	tidegate apply --no-lint cs.yaml >out; test $? = 1 &&
	test_grep "^failed *ClusterRole/cr-x: ClusterRole is cluster-scoped but has metadata.namespace .nope." out &&
	test_grep "^created *ConfigMap/default/okay" out
'

test_expect_success 'an unknown kind fails with a clear message' '
	printf "apiVersion: nothing.example/v1\nkind: Gadget\nmetadata:\n  name: g\n" >g.yaml &&
	tidegate apply g.yaml >out 2>err; test $? = 1 &&
	test_grep "does not serve kind .Gadget. in .nothing.example/v1." out
'

test_expect_success 'the server rejects an invalid object: failed with its reason (exit 1)' '
	printf "apiVersion: v1\nkind: Service\nmetadata:\n  name: badsvc\nspec:\n  ports:\n  - port: 80\n    protocol: SCTPX\n" >svc.yaml &&
	tidegate apply --no-lint svc.yaml >out; test $? = 1 &&
	test_grep "^failed *Service/default/badsvc: .*protocol" out
'

test_expect_success 'discovery answers are cached with their ETags' '
	ls "$HOME"/.cache/tidegate/discovery/*/apis.etag &&
	ls "$HOME"/.cache/tidegate/discovery/*/apis.json &&
	jq -e ".kind == \"APIGroupDiscoveryList\"" "$HOME"/.cache/tidegate/discovery/*/apis.json
'

test_expect_success 'a corrupt discovery cache is fetched again' '
	for f in "$HOME"/.cache/tidegate/discovery/*/api*.json; do echo garbage >"$f"; done &&
	tidegate apply --applyset app "$D/app-v2" "$D/app/deploy.yaml" >out &&
	test "$(grep -c "^unchanged" out)" = 4 &&
	jq -e ".kind == \"APIGroupDiscoveryList\"" "$HOME"/.cache/tidegate/discovery/*/api.json
'

test_expect_success '--git-dir --rev applies the tree of a commit, not the work tree' '
	git init -q repo &&
	mkdir -p repo/k8s && cp "$D"/app/*.yaml repo/k8s/ &&
	printf "not: [yaml\n" >repo/k8s/notes.txt &&
	git -C repo add . && git -C repo commit -q -m one &&
	rev=$(git -C repo rev-parse HEAD) &&
	sed -i "s/replicas: 2/replicas: 5/" repo/k8s/deploy.yaml &&
	git -C repo commit -q -am two &&
	rm -rf repo/k8s &&
	tidegate apply --git-dir repo/.git --rev "$rev" --applyset app k8s >out &&
	test_grep "^unchanged *Deployment/tide-app/web$" out &&
	tidegate apply --git-dir repo/.git --rev HEAD --applyset app k8s >out &&
	test_grep "^configured *Deployment/tide-app/web$" out &&
	test "$(kc get deployment -n tide-app web -o jsonpath={.spec.replicas})" = 5
'

test_expect_success '--git-dir with a path missing from the commit is an error (exit 2)' '
	tidegate apply --git-dir repo/.git --rev HEAD nothing-here >out 2>err; test $? = 2 &&
	test_grep "nothing-here" err
'

test_expect_success 'an unreachable server is a connection error (exit 2)' '
	port=$(test_free_port) &&
	sed "s#server: .*#server: https://127.0.0.1:$port#" "$KUBECONFIG" >dead.kubeconfig &&
	tidegate apply --kubeconfig dead.kubeconfig --timeout 5 "$D/app" >out 2>err; test $? = 2 &&
	test_grep "cannot reach the API server at https://127.0.0.1:$port" err
'

test_expect_success 'a bad kubeconfig is a usage error naming the file (exit 2)' '
	printf "clusters: [\n" >broken.kubeconfig &&
	tidegate apply --kubeconfig broken.kubeconfig "$D/app" >out 2>err; test $? = 2 &&
	test_grep "broken.kubeconfig" err
'

test_expect_success 'usage errors exit 2' '
	tidegate apply >out 2>err; test $? = 2 &&
	tidegate apply --prune "$D/app" >out 2>err; test $? = 2 &&
	test_grep "needs --applyset" err
'

test_done
