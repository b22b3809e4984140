#!/usr/bin/env bash
# A CRD and its custom resources in one apply; field-manager conflicts
# with another manager (kubectl) refused, then taken with --force-conflicts.
. "$(dirname "$0")/test-lib.sh"

test_need_cluster
set -a; . "$TEST_DIR/cluster/env"; set +a
D=$TEST_DATA/kube
kc() { kubectl --kubeconfig "$KUBECONFIG" "$@"; }

test_expect_success 'diff of a new CRD and its resource: both would be created' '
	tidegate diff "$D/crd" >out &&
	test_grep "^would create *CustomResourceDefinition/widgets.tide.example$" out &&
	test_grep "^would create *Widget/default/small: not checked by the server" out &&
	! kc get crd widgets.tide.example
'

test_expect_success 'a CRD and its custom resource in one apply' '
	tidegate apply --applyset widgets "$D/crd" >out &&
	test_grep "^created *CustomResourceDefinition/widgets.tide.example$" out &&
	test_grep "^created *Widget/default/small$" out &&
	test "$(kc get widgets.tide.example small -o jsonpath={.spec.size})" = 3
'

test_expect_success 're-applying them is a no-op' '
	tidegate apply --applyset widgets "$D/crd" >out &&
	test "$(grep -c "^unchanged" out)" = 2
'

test_expect_success 'legacy (per-group) discovery finds the same resources' '
	TIDEGATE_DISCOVERY_LEGACY=1 tidegate apply --applyset widgets "$D/crd" >out &&
	test "$(grep -c "^unchanged" out)" = 2 &&
	printf "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: legacy, namespace: default}\ndata: {a: b}\n" >legacy.yaml &&
	TIDEGATE_DISCOVERY_LEGACY=1 tidegate apply legacy.yaml >out &&
	test_grep "^created *ConfigMap/default/legacy$" out
'

test_expect_success 'the custom resource is checked by the server once its CRD exists' '
	sed "s/size: 3/size: lots/" "$D/crd/widgets.yaml" >bad-widget.yaml &&
	tidegate apply --no-lint bad-widget.yaml >out; test $? = 1 &&
	test_grep "^failed *Widget/default/small: .*spec.size" out
'

test_expect_success 'setup: another field manager owns a field' '
	printf "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: shared, namespace: default}\ndata: {owner: other}\n" >other.yaml &&
	printf "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: shared, namespace: default}\ndata: {owner: tidegate, extra: \"1\"}\n" >ours.yaml &&
	kc apply --server-side --field-manager=other -f other.yaml
'

test_expect_success 'apply without --force-conflicts is refused, naming the manager and field' '
	tidegate apply ours.yaml >out; test $? = 1 &&
	test_grep "^failed *ConfigMap/default/shared: conflict with \"other\".*\.data\.owner.*--force-conflicts" out &&
	test "$(kc get cm shared -o jsonpath={.data.owner})" = other
'

test_expect_success 'the conflict in JSON output' '
	tidegate apply --format json ours.yaml >out.json; test $? = 1 &&
	jq -e ".counts.failed == 1 and (.objects[0].message | test(\"conflict with .other.\"))" out.json
'

test_expect_success 'with --force-conflicts tidegate takes the field' '
	tidegate apply --force-conflicts ours.yaml >out &&
	test_grep "^configured *ConfigMap/default/shared$" out &&
	test "$(kc get cm shared -o jsonpath={.data.owner})" = tidegate &&
	kc get cm shared --show-managed-fields -o json |
		jq -e "[.metadata.managedFields[] | select(.manager == \"tidegate\") | .fieldsV1[\"f:data\"] | has(\"f:owner\")] | any"
'

test_expect_success 'an immutable field change fails with the server reason' '
	printf "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: frozen, namespace: default}\nimmutable: true\ndata: {a: \"1\"}\n" >frozen.yaml &&
	tidegate apply frozen.yaml >out &&
	sed "s/a: \"1\"/a: \"2\"/" frozen.yaml >frozen2.yaml &&
	tidegate apply frozen2.yaml >out; test $? = 1 &&
	test_grep "^failed *ConfigMap/default/frozen: .*immutable" out
'

test_done
