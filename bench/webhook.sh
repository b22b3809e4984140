#!/usr/bin/env bash
# bench/webhook.sh - signed GitHub push deliveries per second and latency, with
# wrk, against tidegated and against adnanh/webhook (the `webhook` program),
# same payload, same signature check, same connection count, same CPUs. Called
# by bench/run; prints figures, asserts nothing.
#
# Every request carries a new X-GitHub-Delivery (run, thread, counter), so none
# is a cheap duplicate. tidegated is measured on two paths:
#   routed  the push concerns an app: verify the HMAC, parse, route, write the
#           event to the journal and fdatasync it (group commit), 202;
#   no app  the push concerns no app (a branch nobody follows): verify, parse,
#           route to nothing, 200 "ignored"; nothing to lose, so not journaled.
# adnanh/webhook verifies the HMAC and runs /bin/true per request, 200.
# Neither logs each delivery: tidegated runs with log_level warn, webhook
# without -verbose.
#
# Syncs: the routed pushes start syncs. git is /bin/true and tidegate a
# stand-in that takes BENCH_SYNC_SECONDS (1) and reports success, as a real
# fetch and apply take at least that; pushes arriving meanwhile coalesce into
# one waiting sync, as in production. With BENCH_SYNC_SECONDS=0 the syncs run
# back to back, and the run mostly measures spawning them.
#
# CPUs: by default the scheduler places everything, as in a deployment where
# the server has the machine. BENCH_PIN=1 runs each server, with the children
# it spawns, on CPU 0 and wrk on CPU 1 (taskset), both servers alike: the same
# one core each. That suits tidegated (one thread of its own, children only
# for syncs) far better than adnanh/webhook (a fork and exec per request), so
# the unpinned ratio is the one to quote.
#
# Memory: tidegated's VmRSS idle, after the timed runs, and after at least
# BENCH_DELIVERIES (100000) deliveries in all (more wrk runs until then).
#   BENCH_SECONDS (10), BENCH_CONNECTIONS (32), BENCH_THREADS (2)
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
src=${TIDEGATE_SRC:-$(dirname "$here")}
build=${TIDEGATE_BUILD:-$src/build}
export PATH=$build/bin:$PATH
secs=${BENCH_SECONDS:-10}
conns=${BENCH_CONNECTIONS:-32}
threads=${BENCH_THREADS:-2}
sync_secs=${BENCH_SYNC_SECONDS:-1}
deliveries=${BENCH_DELIVERIES:-100000}
pin=${BENCH_PIN:-0}
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
server_cpu=() client_cpu=()
if [ "$pin" = 1 ] && command -v taskset >/dev/null; then
	server_cpu=(taskset -c 0) client_cpu=(taskset -c 1)
fi

say "== webhook: signed GitHub push deliveries, wrk -t$threads -c$conns -d${secs}s"
if ! command -v wrk >/dev/null; then say "   skipped: wrk is not installed"; exit 0; fi
if ! tidegated --version >/dev/null 2>&1; then say "   skipped: tidegated is not built"; exit 0; fi
if [ ${#server_cpu[@]} -gt 0 ]; then
	say "   each server (with its children) on CPU 0, wrk on CPU 1; $(nproc) CPUs, load $(cut -d' ' -f1-3 /proc/loadavg)"
else
	say "   not pinned (BENCH_PIN=1: servers on CPU 0, wrk on CPU 1); $(nproc) CPUs, load $(cut -d' ' -f1-3 /proc/loadavg)"
fi

secret="It's a Secret to Everybody"
printf '%s\n' "$secret" >"$work/github.secret"
sed -e "s/@AFTER@/$(printf '1%.0s' {1..40})/g" -e "s/@BEFORE@/$(printf '2%.0s' {1..40})/g" \
	"$src/tests/data/webhooks/github-push.json" >"$work/routed.json"
sed -e 's|"refs/heads/main"|"refs/heads/bench-nobody-follows"|' "$work/routed.json" >"$work/noapp.json"
sign() { printf 'sha256=%s' "$(openssl dgst -sha256 -hmac "$secret" "$1" | sed 's/^.*= //')"; }
# wrk ... -- RUN BODYFILE SIGNATURE: RUN keeps delivery ids unique across runs.
cat >"$work/push.lua" <<'LUA'
local counter, nthreads = 0, 0
function setup(thread)
	nthreads = nthreads + 1
	thread:set("tid", nthreads)
end
function init(args)
	run, sig = args[1], args[3]
	local f = io.open(args[2])
	body = f:read("*a")
	f:close()
end
function request()
	counter = counter + 1
	return wrk.format("POST", wrk.path, {
		["Content-Type"] = "application/json",
		["X-GitHub-Event"] = "push",
		["X-GitHub-Delivery"] = string.format("bench-%s-%d-%d", run, tid, counter),
		["X-Hub-Signature-256"] = sig,
	}, body)
end
LUA

# run_wrk NAME URL RUN BODY [SECONDS]: prints "NAME: N req/s, p50 X, p99 Y, non-2xx Z";
# the req/s alone goes to $work/rps-NAME.
run_wrk() {
	local out=$work/wrk-$1.txt
	"${client_cpu[@]}" wrk -t"$threads" -c"$conns" -d"${5:-$secs}s" --latency -s "$work/push.lua" \
		"$2" -- "$3" "$4" "$(sign "$4")" >"$out" 2>&1 || true
	python3 - "$1" "$out" "$work/rps-$1" <<'PY'
import re, sys
name, path, rpsfile = sys.argv[1:]
t = open(path).read()
rps = re.search(r"Requests/sec:\s+([\d.]+)", t)
p50 = re.search(r"\s50%\s+(\S+)", t)
p99 = re.search(r"\s99%\s+(\S+)", t)
bad = re.search(r"Non-2xx or 3xx responses:\s+(\d+)", t)
open(rpsfile, "w").write(rps.group(1) if rps else "0")
print("   %-18s %9s req/s   p50 %-9s p99 %-9s non-2xx %s" % (name,
      rps.group(1) if rps else "?", p50.group(1) if p50 else "?",
      p99.group(1) if p99 else "?", bad.group(1) if bad else "0"))
PY
}

rss() { awk '/^VmRSS/ {print $2}' "/proc/$1/status"; }
# The deliveries tidegated has answered (any outcome), from its metrics.
answered() {
	curl -sf "http://127.0.0.1:$1/metrics" |
		awk '/^tidegated_deliveries_total/ {n += $2} END {printf "%d\n", n}'
}

# start_tidegated NAME SYNC_SECONDS: starts one; sets port and tg_pid.
start_tidegated() {
	local stand_in=$work/tidegate-$1
	port=$(free_port)
	if [ "$2" = 0 ]; then
		stand_in=/bin/true
	else
		cat >"$stand_in" <<-SH
		#!/bin/sh
		sleep $2
		echo '{"counts":{"created":0,"configured":1,"unchanged":0,"pruned":0,"failed":0}}'
		SH
		chmod +x "$stand_in"
	fi
	cat >"$work/tidegated-$1.yaml" <<-YAML
	listen: 127.0.0.1:$port
	state_dir: $work/state-$1
	tidegate: $stand_in
	git: /bin/true
	log_level: warn
	receivers:
	  - {provider: github, secret_file: $work/github.secret}
	clusters:
	  - {name: c, kubeconfig: /dev/null}
	apps:
	  - {name: web, repo: "https://github.com/octo-org/deploy.git", branch: main, cluster: c}
	YAML
	"${server_cpu[@]}" tidegated -c "$work/tidegated-$1.yaml" >"$work/tidegated-$1.log" 2>&1 &
	tg_pid=$!
	pids+=($tg_pid)
	for _ in $(seq 1 50); do curl -sf "http://127.0.0.1:$port/readyz" >/dev/null && break; sleep 0.1; done
}

probe() {
	curl -s -o /dev/null -w '%{http_code}' -X POST --data-binary @"$2" -H "X-GitHub-Event: push" \
		-H "X-GitHub-Delivery: probe-$RANDOM" -H "X-Hub-Signature-256: $(sign "$2")" "$1"
}

# tidegated
start_tidegated main "$sync_secs"
url=http://127.0.0.1:$port/hooks/github
rss_idle=$(rss "$tg_pid")
say "   tidegated answers a routed push with $(probe "$url" "$work/routed.json"), one for no app with $(probe "$url" "$work/noapp.json")"
if [ "$sync_secs" = 0 ]; then
	say "   syncs: /bin/true, back to back"
else
	say "   syncs: a stand-in taking ${sync_secs}s each; pushes meanwhile coalesce"
fi
run_wrk "tidegated routed" "$url" r1 "$work/routed.json"
run_wrk "tidegated no app" "$url" n1 "$work/noapp.json"
rss_runs=$(rss "$tg_pid")
main_port=$port main_pid=$tg_pid
if [ "$sync_secs" != 0 ]; then
	start_tidegated storm 0
	run_wrk "tidegated routed*" "http://127.0.0.1:$port/hooks/github" s1 "$work/routed.json"
	say "     (* syncs back to back, /bin/true: mostly the cost of spawning them)"
	kill "$tg_pid"
	wait "$tg_pid" 2>/dev/null || true
fi

# adnanh/webhook
have_webhook=0
if command -v webhook >/dev/null; then
	have_webhook=1
	wport=$(free_port)
	cat >"$work/hooks.json" <<JSON
[{"id": "github", "execute-command": "/bin/true", "response-message": "ok",
  "trigger-rule": {"match": {"type": "payload-hmac-sha256", "secret": "$secret",
    "parameter": {"source": "header", "name": "X-Hub-Signature-256"}}}}]
JSON
	"${server_cpu[@]}" webhook -hooks "$work/hooks.json" -ip 127.0.0.1 -port "$wport" >"$work/webhook.log" 2>&1 &
	wh_pid=$!
	pids+=($wh_pid)
	for _ in $(seq 1 50); do curl -s "http://127.0.0.1:$wport/" >/dev/null 2>&1 && break; sleep 0.1; done
	say "   adnanh/webhook answers a signed push with $(probe "http://127.0.0.1:$wport/hooks/github" "$work/routed.json")"
	run_wrk "webhook" "http://127.0.0.1:$wport/hooks/github" w1 "$work/routed.json"
	kill "$wh_pid"
	wait "$wh_pid" 2>/dev/null || true
	python3 - "$work" <<'PY'
import sys
w = sys.argv[1]
def rps(n):
    return float(open("%s/rps-%s" % (w, n)).read() or 0)
base = rps("webhook")
for n in ("tidegated routed", "tidegated no app", "tidegated routed*"):
    try:
        r = rps(n)
    except OSError:
        continue
    print("   %-18s %s adnanh/webhook's deliveries per second" % (n,
          "%.2fx" % (r / base) if base else "n/a"))
PY
else
	say "   adnanh/webhook: not installed"
fi

# tidegated's memory over at least $deliveries deliveries (routed ones: they
# touch the journal, the dedup set and the syncer).
n=$(answered "$main_port")
i=0
while [ "$n" -lt "$deliveries" ] && [ $i -lt 20 ]; do
	i=$((i + 1))
	"${client_cpu[@]}" wrk -t"$threads" -c"$conns" -d"${secs}s" -s "$work/push.lua" \
		"http://127.0.0.1:$main_port/hooks/github" -- "m$i" "$work/routed.json" \
		"$(sign "$work/routed.json")" >/dev/null 2>&1 || true
	n=$(answered "$main_port")
done
sleep 1
say "   tidegated VmRSS: idle ${rss_idle} KiB, after the timed runs ${rss_runs} KiB, after $n deliveries $(rss "$main_pid") KiB"
