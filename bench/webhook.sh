#!/usr/bin/env bash
# bench/webhook.sh - signed GitHub push deliveries per second and latency, with
# wrk, against tidegated and against adnanh/webhook (the `webhook` program),
# same payload, same signature check, same connection count. Called by
# bench/run; prints figures, asserts nothing.
#
# tidegated does the whole accept path per request: verify the HMAC, parse,
# route, write the event to its journal and fdatasync it (group commit), 202.
# Each request carries a new X-GitHub-Delivery, so none is a cheap duplicate.
# adnanh/webhook verifies the HMAC and runs /bin/true per request.
#   BENCH_SECONDS (10), BENCH_CONNECTIONS (32), BENCH_THREADS (2)
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
src=${TIDEGATE_SRC:-$(dirname "$here")}
build=${TIDEGATE_BUILD:-$src/build}
export PATH=$build/bin:$PATH
secs=${BENCH_SECONDS:-10}
conns=${BENCH_CONNECTIONS:-32}
threads=${BENCH_THREADS:-2}
work=$(mktemp -d "${TMPDIR:-/tmp}/tidegate-bench-webhook.XXXXXX")
pids=()
cleanup() {
	local p
	for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
	for p in "${pids[@]}"; do wait "$p" 2>/dev/null || true; done
	rm -rf "$work"
}
trap cleanup EXIT
say() { printf '%s\n' "$*"; }
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()'; }

say "== webhook: signed GitHub push deliveries, wrk -t$threads -c$conns -d${secs}s"
if ! command -v wrk >/dev/null; then say "   skipped: wrk is not installed"; exit 0; fi
if ! tidegated --version >/dev/null 2>&1; then say "   skipped: tidegated is not built"; exit 0; fi

secret="It's a Secret to Everybody"
printf '%s\n' "$secret" >"$work/github.secret"
sed -e "s/@AFTER@/$(printf '1%.0s' {1..40})/g" -e "s/@BEFORE@/$(printf '2%.0s' {1..40})/g" \
	"$src/tests/data/webhooks/github-push.json" >"$work/body.json"
sig="sha256=$(openssl dgst -sha256 -hmac "$secret" "$work/body.json" | sed 's/^.*= //')"
cat >"$work/push.lua" <<LUA
local f = io.open("$work/body.json")
local body = f:read("*a")
f:close()
local counter, tid = 0, 0
local threads = {}
function setup(thread)
	tid = tid + 1
	thread:set("tid", tid)
end
function request()
	counter = counter + 1
	return wrk.format("POST", wrk.path, {
		["Content-Type"] = "application/json",
		["X-GitHub-Event"] = "push",
		["X-GitHub-Delivery"] = string.format("bench-%d-%d-%d", tid, counter, math.random(1e9)),
		["X-Hub-Signature-256"] = "$sig",
	}, body)
end
LUA

# run_wrk NAME URL: prints "NAME: N req/s, p50 X, p99 Y, non-2xx Z"
run_wrk() {
	local out=$work/wrk-$1.txt
	wrk -t"$threads" -c"$conns" -d"${secs}s" --latency -s "$work/push.lua" "$2" >"$out" 2>&1 || true
	python3 - "$1" "$out" <<'PY'
import re, sys
name, path = sys.argv[1], sys.argv[2]
t = open(path).read()
rps = re.search(r"Requests/sec:\s+([\d.]+)", t)
p50 = re.search(r"\s50%\s+(\S+)", t)
p99 = re.search(r"\s99%\s+(\S+)", t)
bad = re.search(r"Non-2xx or 3xx responses:\s+(\d+)", t)
print("   %-10s %8s req/s   p50 %-9s p99 %-9s non-2xx %s" % (name,
      rps.group(1) if rps else "?", p50.group(1) if p50 else "?",
      p99.group(1) if p99 else "?", bad.group(1) if bad else "0"))
PY
}

# tidegated
port=$(free_port)
cat >"$work/tidegated.yaml" <<YAML
listen: 127.0.0.1:$port
state_dir: $work/state
tidegate: /bin/true
git: /bin/true
log_level: warn
receivers:
  - {provider: github, secret_file: $work/github.secret}
clusters:
  - {name: c, kubeconfig: /dev/null}
apps:
  - {name: web, repo: "https://github.com/octo-org/deploy.git", branch: main, cluster: c}
YAML
tidegated -c "$work/tidegated.yaml" >"$work/tidegated.log" 2>&1 &
pids+=($!)
tg_pid=$!
for _ in $(seq 1 50); do curl -sf "http://127.0.0.1:$port/readyz" >/dev/null && break; sleep 0.1; done
rss_idle=$(awk '/^VmRSS/ {print $2}' /proc/$tg_pid/status)
code=$(curl -s -o /dev/null -w '%{http_code}' -X POST --data-binary @"$work/body.json" \
	-H "X-GitHub-Event: push" -H "X-GitHub-Delivery: probe" -H "X-Hub-Signature-256: $sig" \
	"http://127.0.0.1:$port/hooks/github")
say "   tidegated answers a signed push with $code; idle RSS ${rss_idle} KiB"
run_wrk tidegated "http://127.0.0.1:$port/hooks/github"
rss_after=$(awk '/^VmRSS/ {print $2}' /proc/$tg_pid/status)
say "   tidegated RSS after the run ${rss_after} KiB"

# adnanh/webhook
if command -v webhook >/dev/null; then
	wport=$(free_port)
	cat >"$work/hooks.json" <<JSON
[{"id": "github", "execute-command": "/bin/true", "response-message": "ok",
  "trigger-rule": {"match": {"type": "payload-hmac-sha256", "secret": "$secret",
    "parameter": {"source": "header", "name": "X-Hub-Signature-256"}}}}]
JSON
	webhook -hooks "$work/hooks.json" -ip 127.0.0.1 -port "$wport" >"$work/webhook.log" 2>&1 &
	pids+=($!)
	for _ in $(seq 1 50); do curl -s "http://127.0.0.1:$wport/" >/dev/null 2>&1 && break; sleep 0.1; done
	code=$(curl -s -o /dev/null -w '%{http_code}' -X POST --data-binary @"$work/body.json" \
		-H "Content-Type: application/json" -H "X-Hub-Signature-256: $sig" \
		"http://127.0.0.1:$wport/hooks/github")
	say "   adnanh/webhook answers a signed push with $code"
	run_wrk webhook "http://127.0.0.1:$wport/hooks/github"
else
	say "   adnanh/webhook: not installed"
fi
