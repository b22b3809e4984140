#!/usr/bin/env bash
# Integration test of the sandbox cluster (tests/cluster/sandbox): two real
# control planes, kubectl against them, RBAC of the read-only token user.
# TAP output; run by prove. TIDEGATE_SKIP_CLUSTER=1 skips it.
set -euo pipefail

if [[ ${TIDEGATE_SKIP_CLUSTER:-} == 1 ]]; then
    echo "1..0 # SKIP cluster tests disabled"
    exit 0
fi

here=$(cd "$(dirname "$0")" && pwd)
sandbox=$here/cluster/sandbox
work=$(mktemp -d "${TMPDIR:-/tmp}/tidegate-t0100.XXXXXX")
a=$work/a
b=$work/b

cleanup() {
    "$sandbox" down "$a" >/dev/null 2>&1 || true
    "$sandbox" down "$b" >/dev/null 2>&1 || true
    rm -rf "$work"
}
trap cleanup EXIT

# Build first (once per recipe; can take half an hour) so that its output is
# not mistaken for a hang of the test itself.
"$here/cluster/build" >/dev/null

echo "1..16"
n=0
failed=0
ok() { n=$((n + 1)); echo "ok $n - $1"; }
not_ok() {
    n=$((n + 1)); failed=$((failed + 1))
    echo "not ok $n - $1"
    shift
    local line
    for line in "$@"; do printf '#   %s\n' "$line"; done
}
# check DESCRIPTION CMD...: ok when CMD succeeds; its output shown otherwise
check() {
    local desc=$1 out
    shift
    if out=$("$@" 2>&1); then ok "$desc"; else not_ok "$desc" "${out//$'\n'/$'\n'#   }"; fi
}
# bail: a step everything after depends on failed
bail() { echo "Bail out! $*"; exit 1; }

kc() { kubectl --kubeconfig "$a/kubeconfig" --request-timeout=20s "$@"; }
kro() { kubectl --kubeconfig "$a/kubeconfig-readonly" --request-timeout=20s "$@"; }
envval() { sed -n "s/^$2=//p" "$1/env"; }

# 1
t0=$SECONDS
if out=$("$sandbox" up "$a" 2>&1); then
    ok "sandbox up A ($((SECONDS - t0))s)"
else
    not_ok "sandbox up A" "${out//$'\n'/$'\n'#   }"
    bail "first sandbox did not start"
fi

# 2
check "env and kubeconfigs written" bash -c '
    set -e
    for k in KUBECONFIG SANDBOX_SERVER SANDBOX_CA SANDBOX_READONLY_TOKEN SANDBOX_ETCD_PID SANDBOX_APISERVER_PID SANDBOX_KCM_PID; do
        grep -q "^$k=." "$1/env" || { echo "missing $k"; exit 1; }
    done
    test -s "$1/kubeconfig" && test -s "$1/kubeconfig-readonly"
    grep -q "^SANDBOX_SERVER=https://127.0.0.1:[0-9]*$" "$1/env"' _ "$a"

# 3
check "server reports the pinned Kubernetes version" bash -c '
    v=$(curl -sS --fail --cacert "$1/pki/ca.crt" --cert "$1/pki/admin.crt" --key "$1/pki/admin.key" "$2/version")
    echo "$v"; grep -q "\"gitVersion\": *\"v1\.3[4-6]\.[0-9]*\"" <<<"$v"' _ "$a" "$(envval "$a" SANDBOX_SERVER)"

# 4
check "kubectl create namespace" kc create namespace t0100

# 5
check "server-side apply a ConfigMap" bash -c 'kubectl --kubeconfig "$1" --request-timeout=20s apply --server-side --field-manager=t0100 -f - <<EOF
apiVersion: v1
kind: ConfigMap
metadata:
  name: greeting
  namespace: t0100
data:
  hello: "sandbox world"
EOF' _ "$a/kubeconfig"

# 6
got=$(kc -n t0100 get configmap greeting -o 'jsonpath={.data.hello}' 2>"$work/err" || true)
if [[ $got == "sandbox world" ]]; then ok "ConfigMap reads back"; else not_ok "ConfigMap reads back" "got: $got" "$(cat "$work/err")"; fi

# 7
mf=$(kc -n t0100 get configmap greeting --show-managed-fields -o 'jsonpath={.metadata.managedFields[*].manager}' 2>"$work/err" || true)
if [[ " $mf " == *" t0100 "* ]]; then ok "field manager recorded"; else not_ok "field manager recorded" "managers: $mf" "$(cat "$work/err")"; fi

# 8
nss=$(kc get ns -o name 2>"$work/err" || true)
if grep -qx namespace/default <<<"$nss" && grep -qx namespace/kube-system <<<"$nss"; then
    ok "namespaces default and kube-system listed"
else
    not_ok "namespaces default and kube-system listed" "$nss" "$(cat "$work/err")"
fi

# 9
check "default ServiceAccount made by the controller-manager" kc -n t0100 get serviceaccount default

# 10
out=$(kro -n sandbox-ro create configmap nope --from-literal=a=b 2>&1) && rc=0 || rc=$?
if [[ $rc -ne 0 && ${out,,} == *forbidden* ]]; then
    ok "read-only user refused a write (403 Forbidden)"
else
    not_ok "read-only user refused a write (403 Forbidden)" "rc=$rc: $out"
fi

# 11
out=$(curl -sS -o /dev/null -w '%{http_code}' --cacert "$a/pki/ca.crt" \
    -H "Authorization: Bearer $(envval "$a" SANDBOX_READONLY_TOKEN)" \
    -H 'Content-Type: application/json' -X POST \
    --data '{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"nope"}}' \
    "$(envval "$a" SANDBOX_SERVER)/api/v1/namespaces/sandbox-ro/configmaps" 2>&1 || true)
if [[ $out == 403 ]]; then ok "read-only token POST answered 403"; else not_ok "read-only token POST answered 403" "got $out"; fi

# 12
check "read-only user may read in sandbox-ro" kro -n sandbox-ro get serviceaccounts default

# 13
t0=$SECONDS
if out=$("$sandbox" up "$b" 2>&1); then
    ok "second sandbox B up alongside A ($((SECONDS - t0))s)"
else
    not_ok "second sandbox B up alongside A" "${out//$'\n'/$'\n'#   }"
fi

# 14
sa=$(envval "$a" SANDBOX_SERVER)
sb=$(envval "$b" SANDBOX_SERVER 2>/dev/null || true)
if [[ -n $sb && $sb != "$sa" ]] \
    && kubectl --kubeconfig "$b/kubeconfig" --request-timeout=20s get ns kube-system >/dev/null 2>&1 \
    && ! kubectl --kubeconfig "$b/kubeconfig" --request-timeout=20s get ns t0100 >/dev/null 2>&1 \
    && kc get ns t0100 >/dev/null 2>&1; then
    ok "both sandboxes serve, each its own cluster"
else
    not_ok "both sandboxes serve, each its own cluster" "A=$sa B=$sb"
fi

# 15
pids=()
for d in "$a" "$b"; do
    for k in SANDBOX_ETCD_PID SANDBOX_APISERVER_PID SANDBOX_KCM_PID; do
        p=$(envval "$d" "$k" 2>/dev/null || true)
        [[ -n $p ]] && pids+=("$p")
    done
done
if out=$("$sandbox" down "$a" 2>&1 && "$sandbox" down "$b" 2>&1); then
    ok "sandbox down A and B"
else
    not_ok "sandbox down A and B" "$out"
fi

# 16
left=()
for p in "${pids[@]}"; do
    state=$(sed 's/.*) //' "/proc/$p/stat" 2>/dev/null | cut -d' ' -f1 || true)
    [[ -n $state && $state != Z ]] && left+=("$p")
done
if [[ ${#pids[@]} -eq 6 && ${#left[@]} -eq 0 && ! -e $a && ! -e $b ]] \
    && "$sandbox" down "$a" >/dev/null 2>&1; then
    ok "no sandbox process left, DIRs removed, down is idempotent"
else
    not_ok "no sandbox process left, DIRs removed, down is idempotent" \
        "pids: ${pids[*]}; still running: ${left[*]:-none}"
fi

[[ $n -eq 16 ]] || echo "# planned 16 tests, ran $n"
exit $(( failed > 0 ? 1 : 0 ))
