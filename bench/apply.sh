#!/usr/bin/env bash
# bench/apply.sh: `tidegate apply` against `kubectl apply --server-side` on the
# same 1,000 objects (ConfigMaps, Services, Deployments in 10 namespaces), on
# a sandbox cluster this script starts and stops itself. First apply and
# re-apply (nothing changes), wall time and peak memory of the client.
#
#   bench/apply.sh                 BENCH_APPLY_OBJECTS=1000 BENCH_APPLY_NS=10
#
# Services are headless: the sandbox's service range has only ~250 addresses.
# Prints "tidegate X ms, kubectl Y ms, ratio Z" lines. Asserts nothing.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
src=${TIDEGATE_SRC:-$(dirname "$here")}
build=${TIDEGATE_BUILD:-$src/build}
tidegate=$build/bin/tidegate
objects=${BENCH_APPLY_OBJECTS:-1000}
nns=${BENCH_APPLY_NS:-10}
work=$(mktemp -d "${TMPDIR:-/tmp}/tidegate-bench-apply.XXXXXX")
cluster=$work/cluster

cleanup() {
	"$src/tests/cluster/sandbox" down "$cluster" >/dev/null 2>&1 || true
	rm -rf "$work"
}
trap cleanup EXIT

say() { printf '%s\n' "$*"; }
[ -x "$tidegate" ] || { say "== apply: skipped ($tidegate not built)"; exit 0; }
command -v kubectl >/dev/null || { say "== apply: skipped (no kubectl)"; exit 0; }

say "== apply: $objects objects in $nns namespaces, tidegate vs kubectl apply --server-side"
if ! "$src/tests/cluster/sandbox" up "$cluster" >"$work/sandbox.log" 2>&1; then
	say "   sandbox did not start: $(tail -3 "$work/sandbox.log")"
	exit 1
fi
export KUBECONFIG=$cluster/kubeconfig

# gen DIR PREFIX: the corpus, one file per namespace, namespaces PREFIX-0..N-1
gen() {
	python3 - "$1" "$2" "$objects" "$nns" <<'PY'
import os, sys
out, prefix, total, nns = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
os.makedirs(out, exist_ok=True)
per = total // nns
with open(os.path.join(out, "00-namespaces.yaml"), "w") as f:
    for n in range(nns):
        f.write("apiVersion: v1\nkind: Namespace\nmetadata:\n  name: %s-%d\n---\n" % (prefix, n))
for n in range(nns):
    ns = "%s-%d" % (prefix, n)
    docs = []
    for i in range(per - 1):
        k = i % 3
        name = "obj-%d" % i
        if k == 0:
            docs.append("""apiVersion: v1
kind: ConfigMap
metadata:
  name: %s
  namespace: %s
  labels: {app: bench, tier: t%d}
data:
  setting: "value-%d"
  other: "more text for the object %d"
""" % (name, ns, i % 7, i, i))
        elif k == 1:
            docs.append("""apiVersion: v1
kind: Service
metadata:
  name: %s
  namespace: %s
  labels: {app: bench}
spec:
  clusterIP: None
  selector: {app: %s}
  ports:
  - name: http
    port: 80
    targetPort: 8080
""" % (name, ns, name))
        else:
            docs.append("""apiVersion: apps/v1
kind: Deployment
metadata:
  name: %s
  namespace: %s
  labels: {app: bench}
spec:
  replicas: 1
  selector:
    matchLabels: {app: %s}
  template:
    metadata:
      labels: {app: %s}
    spec:
      automountServiceAccountToken: false
      securityContext: {runAsNonRoot: true, runAsUser: 10001}
      containers:
      - name: app
        image: registry.example/app:1.%d.0
        ports: [{containerPort: 8080}]
        readinessProbe: {httpGet: {path: /ready, port: 8080}}
        livenessProbe: {httpGet: {path: /live, port: 8080}}
        resources:
          requests: {cpu: 10m, memory: 32Mi}
          limits: {cpu: 100m, memory: 64Mi}
        securityContext:
          allowPrivilegeEscalation: false
          readOnlyRootFilesystem: true
          capabilities: {drop: [ALL]}
""" % (name, ns, name, name, i))
    with open(os.path.join(out, "%s.yaml" % ns), "w") as f:
        f.write("---\n".join(docs))
PY
}

gen "$work/t" tg
gen "$work/k" kc
count=$(grep -c '^kind:' "$work"/t/*.yaml | awk -F: '{s += $2} END {print s}')

# run NAME CMD...: wall ms and peak KiB of one run, into $ms and $kib
run() {
	local name=$1
	shift
	/usr/bin/time -f '%e %M' -o "$work/time" "$@" >"$work/$name.out" 2>"$work/$name.err" || {
		say "   $name failed: $(tail -3 "$work/$name.err")"
	}
	read -r secs kib <"$work/time"
	ms=$(python3 -c "print(int(float('$secs') * 1000))")
}

ratio() { python3 -c "import sys; a,b=float(sys.argv[1]),float(sys.argv[2]); print('%.1f' % (a/b) if b else 'n/a')" "$1" "$2"; }

run tg1 "$tidegate" apply --applyset bench -n default "$work/t"
t1=$ms; t1k=$kib
run kc1 kubectl apply --server-side -f "$work/k"
k1=$ms; k1k=$kib
run tg2 "$tidegate" apply --applyset bench -n default "$work/t"
t2=$ms; t2k=$kib
run kc2 kubectl apply --server-side -f "$work/k"
k2=$ms; k2k=$kib
unchanged=$(grep -c '^unchanged' "$work/tg2.out" || true)
created=$(grep -c '^created' "$work/tg1.out" || true)

say "   $count objects; tidegate created $created, then $unchanged unchanged on re-apply"
say "   first apply: tidegate $t1 ms, kubectl $k1 ms, ratio $(ratio "$k1" "$t1")"
say "   re-apply:    tidegate $t2 ms, kubectl $k2 ms, ratio $(ratio "$k2" "$t2")"
say "   peak memory: tidegate $t1k KiB / $t2k KiB, kubectl $k1k KiB / $k2k KiB (first / re-apply)"
