#!/usr/bin/env bash
# bench/e2e.sh - push to applied, end to end, on a sandbox cluster this script
# starts and stops itself: a bare repository with tidegate's hooks
# (pre-receive gate, post-receive webhook), tidegated, a clone. Called by
# bench/run; prints figures, asserts nothing.
#
# Latency: an app of BENCH_E2E_OBJECTS (10) objects; BENCH_E2E_PUSHES (100)
# pushes, each changing one ConfigMap. Per push:
#   push-to-applied  from just before `git push` starts until tidegated has
#                    written the app's state file naming the pushed commit
#                    with result success (it writes it after the apply
#                    child has reported every object applied; the file is
#                    polled every 2 ms from the start of `git push`: the
#                    sync begins when the post-receive hook's webhook is
#                    accepted, before `git push` returns, and can end
#                    before it);
#   git push         the `git push` command alone (the gate, the
#                    post-receive webhook delivery, and git's own work);
#   daemon share     tidegated's log: "push accepted" to "sync done"
#                    (webhook answered -> state written; ms clock);
#   sync             the sync's own duration_ms (start of the sync to done).
# The last push's value is then read from the cluster to check it arrived.
#
# Memory: an app of BENCH_E2E_BIG (1000) objects pushed once; tidegated's
# peak resident memory (VmHWM) and the peak of tidegated plus its children
# (sampled every 10 ms) while it syncs.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
src=${TIDEGATE_SRC:-$(dirname "$here")}
build=${TIDEGATE_BUILD:-$src/build}
export PATH=$build/bin:$PATH
pushes=${BENCH_E2E_PUSHES:-100}
objects=${BENCH_E2E_OBJECTS:-10}
big=${BENCH_E2E_BIG:-1000}
work=$(mktemp -d "${TMPDIR:-/tmp}/tidegate-bench-e2e.XXXXXX")
cluster=$work/cluster
daemon_pid=

cleanup() {
	if [ -n "$daemon_pid" ]; then
		kill -TERM "$daemon_pid" 2>/dev/null || true
		for _ in $(seq 1 50); do kill -0 "$daemon_pid" 2>/dev/null || break; sleep 0.1; done
		kill -KILL "$daemon_pid" 2>/dev/null || true
		wait "$daemon_pid" 2>/dev/null || true
	fi
	"$src/tests/cluster/sandbox" down "$cluster" >/dev/null 2>&1 || true
	rm -rf "$work"
}
trap cleanup EXIT

say() { printf '%s\n' "$*"; }
say "== e2e: push to applied, $objects objects, $pushes pushes; tidegated memory with $big objects"
for p in tidegate tidegated tidegate-pre-receive tidegate-post-receive; do
	command -v "$p" >/dev/null || { say "   skipped: $p is not built"; exit 0; }
done
if ! "$src/tests/cluster/sandbox" up "$cluster" >"$work/sandbox.log" 2>&1; then
	say "   sandbox did not start: $(tail -3 "$work/sandbox.log")"
	exit 1
fi

export GIT_CONFIG_GLOBAL=$work/gitconfig GIT_CONFIG_NOSYSTEM=1
export GIT_AUTHOR_NAME=Bench GIT_AUTHOR_EMAIL=bench@example.com
export GIT_COMMITTER_NAME=Bench GIT_COMMITTER_EMAIL=bench@example.com
git config --global init.defaultBranch main

port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()')
repo=$work/srv/app.git
mkdir -p "$work/srv" "$work/state"
head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \n' >"$work/secret"
git init -q --bare "$repo"
tidegate install-hooks "$repo" >/dev/null
git -C "$repo" config tidegate.webhookUrl "http://127.0.0.1:$port/hooks/generic"
git -C "$repo" config tidegate.webhookSecretFile "$work/secret"

cat >"$work/tidegated.yaml" <<EOF
listen: 127.0.0.1:$port
state_dir: $work/state
tidegate: $(command -v tidegate)
log_level: debug
receivers:
  - {provider: generic, secret_file: $work/secret}
clusters:
  - {name: sandbox, kubeconfig: $cluster/kubeconfig}
apps:
  - {name: small, repo: $repo, branch: main, path: small, cluster: sandbox, namespace: e2e-small, prune: true}
  - {name: big, repo: $repo, branch: main, path: big, cluster: sandbox, namespace: e2e-big, prune: true}
EOF
tidegated -c "$work/tidegated.yaml" >"$work/tidegated.log" 2>&1 </dev/null &
daemon_pid=$!
for _ in $(seq 1 100); do
	curl -sf --max-time 1 "http://127.0.0.1:$port/readyz" >/dev/null 2>&1 && break
	sleep 0.1
done

git clone -q "$repo" "$work/clone" 2>/dev/null
export BENCH_WORK=$work BENCH_SERVER
BENCH_SERVER=$(sed -n 's/^SANDBOX_SERVER=//p' "$cluster/env")
python3 - "$work" "$daemon_pid" "$pushes" "$objects" "$big" <<'PY'
import calendar, json, os, re, resource, subprocess, sys, time

work, dpid, pushes, nobj, big = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4]), int(sys.argv[5])
clone = os.path.join(work, "clone")
state = os.path.join(work, "state", "apps")
log = os.path.join(work, "tidegated.log")

def git(*args):
    return subprocess.run(["git", "-C", clone] + list(args), check=True,
                          stdout=subprocess.PIPE, stderr=subprocess.PIPE).stdout.decode().strip()

def write_app(d, ns, n, gen):
    """n objects: a Namespace, ConfigMaps, Services and Deployments; ConfigMap cm-0 carries gen."""
    os.makedirs(os.path.join(clone, d), exist_ok=True)
    docs = ["apiVersion: v1\nkind: Namespace\nmetadata:\n  name: %s\n" % ns]
    for i in range(n - 1):
        k = i % 3
        if k == 0:
            docs.append("apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: cm-%d\n  namespace: %s\n"
                        "data:\n  gen: \"%s\"\n  other: \"text %d\"\n" % (i, ns, gen if i == 0 else "0", i))
        elif k == 1:
            docs.append("apiVersion: v1\nkind: Service\nmetadata:\n  name: svc-%d\n  namespace: %s\n"
                        "spec:\n  clusterIP: None\n  selector: {app: a%d}\n  ports:\n  - {name: http, port: 80, targetPort: 8080}\n" % (i, ns, i))
        else:
            docs.append("""apiVersion: apps/v1
kind: Deployment
metadata:
  name: dep-%d
  namespace: %s
spec:
  replicas: 1
  selector:
    matchLabels: {app: a%d}
  template:
    metadata:
      labels: {app: a%d}
    spec:
      automountServiceAccountToken: false
      securityContext: {runAsNonRoot: true, runAsUser: 10001}
      containers:
      - name: app
        image: registry.example/app:1.%d.0
        resources:
          requests: {cpu: 10m, memory: 32Mi}
          limits: {cpu: 100m, memory: 64Mi}
        readinessProbe: {httpGet: {path: /ready, port: 8080}}
        livenessProbe: {httpGet: {path: /live, port: 8080}}
        securityContext:
          allowPrivilegeEscalation: false
          readOnlyRootFilesystem: true
          capabilities: {drop: [ALL]}
""" % (i, ns, i, i, i))
    with open(os.path.join(clone, d, "app.yaml"), "w") as f:
        f.write("---\n".join(docs))

def state_of(app):
    try:
        with open(os.path.join(state, app + ".json")) as f:
            return json.load(f)
    except (OSError, ValueError):
        return None

def log_times():
    """tidegated's log: accepted and done times by commit, in epoch ms."""
    acc, done = {}, {}
    with open(log) as f:
        for line in f:
            try:
                r = json.loads(line)
            except ValueError:
                continue
            t = r.get("time", "")
            m = re.match(r"(\d+)-(\d+)-(\d+)T(\d+):(\d+):(\d+)\.(\d+)Z", t)
            if not m:
                continue
            y, mo, d, h, mi, s, ms = map(int, m.groups())
            ems = calendar.timegm((y, mo, d, h, mi, s)) * 1000 + ms
            if r.get("msg") == "push accepted":
                acc.setdefault(r.get("commit"), ems)
            elif r.get("msg") == "sync done":
                done[r.get("commit")] = ems
    return acc, done

def push(msg):
    git("commit", "-q", "-am", msg)
    c = git("rev-parse", "HEAD")
    t0 = time.monotonic()
    p = subprocess.run(["git", "-C", clone, "push", "-q", "origin", "main"],
                       stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    t1 = time.monotonic()
    if p.returncode:
        sys.stderr.write(p.stderr.decode())
        raise SystemExit("   git push failed")
    return c, t0, t1

wall0 = {}	# commit -> wall-clock ms when its git push started

def push_applied(msg, app, limit=120, poll=0.002):
    """Pushes and watches the app's state file while `git push` runs: the
    sync starts once the post-receive hook's webhook is accepted, before
    `git push` has returned, and may be done before it. Returns (commit,
    start, git push end, applied time or None, state)."""
    git("commit", "-q", "-am", msg)
    c = git("rev-parse", "HEAD")
    path = os.path.join(state, app + ".json")
    wall0[c] = time.time() * 1000
    t0 = time.monotonic()
    p = subprocess.Popen(["git", "-C", clone, "push", "-q", "origin", "main"],
                         stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    t1 = ta = None
    s = None
    last = None
    end = t0 + limit
    while time.monotonic() < end and (t1 is None or ta is None):
        if t1 is None and p.poll() is not None:
            t1 = time.monotonic()
            if p.returncode:
                sys.stderr.write(p.stderr.read().decode())
                raise SystemExit("   git push failed")
        if ta is None:
            try:
                st = os.stat(path)
                key = (st.st_mtime_ns, st.st_ino)
            except OSError:
                key = None
            if key and key != last:
                last = key
                s = state_of(app)
                if s and s.get("commit") == c:
                    ta = time.monotonic()
        time.sleep(poll)
    if t1 is None:
        p.kill()
        p.wait()
        t1 = time.monotonic()
    p.stderr.close()
    return c, t0, t1, ta, s if ta else state_of(app)

def proc_ticks(pid, reaped):
    """utime + stime of pid (with reaped: and of its reaped children)."""
    try:
        with open("/proc/%d/stat" % pid) as f:
            fields = f.read().rsplit(")", 1)[1].split()
    except OSError:
        return 0
    return sum(int(x) for x in fields[11:15 if reaped else 13])

def live_children(pid):
    try:
        return [int(k) for k in open("/proc/%d/task/%d/children" % (pid, pid)).read().split()]
    except OSError:
        return []

def daemon_cpu_ms():
    """CPU time of tidegated and its children, reaped (applies, git) or still
    running (the warm applier and its git cat-file), in ms."""
    ticks = proc_ticks(dpid, True)
    todo = live_children(dpid)
    while todo:
        p = todo.pop()
        ticks += proc_ticks(p, True)
        todo += live_children(p)
    return ticks * 1000.0 / os.sysconf("SC_CLK_TCK")

def pushes_cpu_ms():
    r = resource.getrusage(resource.RUSAGE_CHILDREN)
    return (r.ru_utime + r.ru_stime) * 1000.0

def pct(v, p):
    v = sorted(v)
    k = (len(v) - 1) * p / 100.0
    f = int(k)
    c = min(f + 1, len(v) - 1)
    return v[f] + (v[c] - v[f]) * (k - f)

def fmt(name, v):
    return "     %-17s p50 %6.0f ms   p99 %6.0f ms   min %5.0f   max %5.0f" % (
        name, pct(v, 50), pct(v, 99), min(v), max(v))

# -- latency: the small app
write_app("small", "e2e-small", nobj, 0)
git("add", "small")
c, t0, t1, ta, s = push_applied("small app", "small")
if not ta or s.get("result") != "success":
    raise SystemExit("   first sync of the small app did not succeed: %s" % (s,))
print("   first push (creates %d objects): %.0f ms push to applied; state: %s" % (
    nobj, (ta - t0) * 1000, s.get("counts")))

e2e, gitpush, daemon, sync, both, accepted = [], [], [], [], [], []
commits = []
cpu_d0, cpu_p0 = daemon_cpu_ms(), pushes_cpu_ms()
for i in range(1, pushes + 1):
    write_app("small", "e2e-small", nobj, i)
    c, t0, t1, ta, s = push_applied("gen %d" % i, "small")
    if not ta or s.get("result") != "success":
        raise SystemExit("   push %d was not applied: %s" % (i, s))
    e2e.append((ta - t0) * 1000)
    gitpush.append((t1 - t0) * 1000)
    both.append((max(ta, t1) - t0) * 1000)
    sync.append(s.get("duration_ms", 0))
    commits.append(c)
cpu_d = (daemon_cpu_ms() - cpu_d0) / pushes
cpu_p = (pushes_cpu_ms() - cpu_p0) / pushes
acc, done = log_times()
for c in commits:
    if c in done and c in acc:
        daemon.append(done[c] - acc[c])
    if c in acc and c in wall0:
        accepted.append(acc[c] - wall0[c])

# the cluster has the last value
srv = os.environ.get("BENCH_SERVER", "")
pki = os.path.join(work, "cluster", "pki")
out = subprocess.run(["curl", "-sS", "--max-time", "5", "--cacert", os.path.join(pki, "ca.crt"),
                      "--cert", os.path.join(pki, "admin.crt"), "--key", os.path.join(pki, "admin.key"),
                      srv + "/api/v1/namespaces/e2e-small/configmaps/cm-0"],
                     stdout=subprocess.PIPE, stderr=subprocess.DEVNULL).stdout
try:
    got = json.loads(out)["data"]["gen"]
except (ValueError, KeyError):
    got = "?"
print("   %d pushes, each changing one ConfigMap of %d objects (the cluster has gen %s, want %d):"
      % (pushes, nobj, got, pushes))
print(fmt("push-to-applied", e2e))
print(fmt("git push", gitpush))
print(fmt("both done", both))
if accepted:
    print(fmt("webhook accepted", accepted))
if daemon:
    print(fmt("daemon share", daemon))
print(fmt("sync", sync))
print("     (push-to-applied: git push starts -> state file names the commit, success;")
print("      git push: gate + post-receive webhook; both done: the later of the two, which is")
print("      what this script reported as push-to-applied before it watched the state file")
print("      during git push (%d of %d pushes were applied before git push returned);"
      % (sum(1 for a, b in zip(e2e, gitpush) if a < b), len(e2e)))
print("      webhook accepted: git push starts -> tidegated logs \"push accepted\" (the gate,")
print("      git's work and the post-receive hook's delivery; wall clock, ms resolution);")
print("      daemon share: webhook accepted -> sync done;")
print("      sync: tidegated's duration_ms, sync start -> apply child's result read)")
print("   CPU per push: tidegated and its children %.0f ms; git push, the hooks and this script's git %.0f ms" % (cpu_d, cpu_p))
print("   machine: %d cores, load average %s (other work on the machine slows every figure)" % (
    os.cpu_count(), " ".join(open("/proc/loadavg").read().split()[:3])))
print("   target p50 < 150 ms: p50 %.0f ms" % pct(e2e, 50))

# -- memory: the big app
if big > 0:
    def rss_kib(pid):
        try:
            with open("/proc/%d/status" % pid) as f:
                for line in f:
                    if line.startswith("VmRSS:"):
                        return int(line.split()[1])
        except OSError:
            pass
        return 0

    def tree(pid):
        out = [pid]
        try:
            kids = open("/proc/%d/task/%d/children" % (pid, pid)).read().split()
        except OSError:
            kids = []
        for k in kids:
            out += tree(int(k))
        return out

    write_app("big", "e2e-big", big, 1)
    git("add", "big")
    c, t0, t1 = push("big app")
    path = os.path.join(state, "big.json")
    peak_d = peak_all = 0
    end = time.monotonic() + 300
    ta = None
    while time.monotonic() < end:
        peak_d = max(peak_d, rss_kib(dpid))
        peak_all = max(peak_all, sum(rss_kib(p) for p in tree(dpid)))
        s = state_of("big")
        if s and s.get("commit") == c:
            ta = time.monotonic()
            break
        time.sleep(0.01)
    hwm = 0
    with open("/proc/%d/status" % dpid) as f:
        for line in f:
            if line.startswith("VmHWM:"):
                hwm = int(line.split()[1])
    s = state_of("big") or {}
    print("   %d-object app: %s in %.0f ms push to applied (sync %s ms), counts %s" % (
        big, s.get("result"), ((ta or time.monotonic()) - t0) * 1000, s.get("duration_ms"), s.get("counts")))
    print("     tidegated resident memory: peak %.1f MB (VmHWM %.1f MB); with its children %.1f MB (sampled)" % (
        peak_d / 1024.0, hwm / 1024.0, peak_all / 1024.0))
    print("     target < 100 MB")
PY
