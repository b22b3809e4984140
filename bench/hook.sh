#!/usr/bin/env bash
# bench/hook.sh - what the gate (tidegate-pre-receive) adds to a push.
#
#   typical   one commit changing the 5 manifests of one app directory in
#             a repository of 200 apps (1000 objects, 1000 files)
#   large     a new branch bringing 10,000 objects (2000 files, one commit)
#
# Each case runs the hook itself the way git runs it (GIT_DIR, stdin
# "<old> <new> <ref>") on one core (the measuring script pins itself and
# the hook inherits it: no taskset start is timed): median wall time of
# N runs and peak RSS. For scale, the same measure of the bare process
# starts: the hook's own (--version) and one git child's (git version).
# The typical case is also measured as `git push` time with the hook
# minus without it. Called by bench/run; prints figures, asserts
# nothing. BENCH_RUNS sets N (default 21).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
src=${TIDEGATE_SRC:-$(dirname "$here")}
build=${TIDEGATE_BUILD:-$src/build}
export PATH=$build/bin:$PATH
runs=${BENCH_RUNS:-21}
py=python3
[ -x /usr/bin/python3 ] && py=/usr/bin/python3
work=$(mktemp -d "${TMPDIR:-/tmp}/tidegate-bench-hook.XXXXXX")
trap 'rm -rf "$work"' EXIT
export HOME=$work/home GIT_CONFIG_NOSYSTEM=1 GIT_AUTHOR_NAME=bench GIT_AUTHOR_EMAIL=b@example.com \
	GIT_COMMITTER_NAME=bench GIT_COMMITTER_EMAIL=b@example.com
mkdir -p "$HOME"
git config --global init.defaultBranch main

say() { printf '%s\n' "$*"; }
say "== hook: tidegate-pre-receive added time and memory (one core)"
if ! [ -x "$build/bin/tidegate-pre-receive" ]; then
	say "   skipped: tidegate-pre-receive is not built"
	exit 0
fi
zero=0000000000000000000000000000000000000000

# hook_runs REPO INPUT [COMMAND...]: median wall ms over $runs runs, and
# peak KiB of the last (COMMAND: tidegate-pre-receive).
hook_runs() {
	local repo=$1 input=$2
	shift 2
	"$py" - "$repo" "$input" "$runs" "${@:-tidegate-pre-receive}" <<'PY'
import os, resource, subprocess, sys, time
repo, line, n, cmd = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4:]
env = dict(os.environ, GIT_DIR=".")
if hasattr(os, "sched_setaffinity"):
    os.sched_setaffinity(0, {sorted(os.sched_getaffinity(0))[0]})
ts, cpu, peak, rc = [], [], 0, 0
for _ in range(n):
    r0 = resource.getrusage(resource.RUSAGE_CHILDREN)
    t = time.perf_counter()
    p = subprocess.run(cmd, input=line.encode(), cwd=repo, env=env,
                       stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    ts.append((time.perf_counter() - t) * 1000)
    r1 = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu.append((r1.ru_utime + r1.ru_stime - r0.ru_utime - r0.ru_stime) * 1000)
    rc = p.returncode
    peak = max(peak, r1.ru_maxrss)
ts.sort()
cpu.sort()
print("%.1f %.1f %.1f %d %d" % (ts[len(ts) // 2], ts[0], cpu[len(cpu) // 2], peak, rc))
PY
}

# --- typical: 200 apps of 5 files, one commit changes one app --------------
"$py" "$here/gen-corpus.py" "$work/gen" 1000 >/dev/null
"$py" - "$work/gen" "$work/typ" <<'PY'
import os, sys
src, dst = sys.argv[1], sys.argv[2]
for d in sorted(os.listdir(src)):
    for f in sorted(os.listdir(os.path.join(src, d))):
        docs = open(os.path.join(src, d, f)).read().split("\n---\n")
        app = os.path.join(dst, "apps", f[:-5])
        os.makedirs(app, exist_ok=True)
        for i, doc in enumerate(docs):
            open(os.path.join(app, "%d-%s.yaml" % (i, doc.split("kind: ")[1].split("\n")[0].lower())), "w").write(doc.strip() + "\n")
PY
git init -q --bare "$work/typ.git"
git init -q --bare "$work/typ-nohook.git"
git -C "$work/typ" init -q
git -C "$work/typ" add -A
git -C "$work/typ" commit -q -m base
git -C "$work/typ" push -q "$work/typ.git" main
git -C "$work/typ" push -q "$work/typ-nohook.git" main
base=$(git -C "$work/typ" rev-parse HEAD)
app=$(ls "$work/typ/apps" | head -1)
for f in "$work/typ/apps/$app"/*.yaml; do
	sed -i 's/part-of: bench/part-of: bench-v2/; s/LOG_LEVEL: "info"/LOG_LEVEL: "debug"/; s/maxUnavailable: 1/maxUnavailable: 2/' "$f"
	printf '# touched\n' >>"$f"
done
git -C "$work/typ" commit -q -am "change one app"
new=$(git -C "$work/typ" rev-parse HEAD)
git -C "$work/typ" push -q "$work/typ.git" HEAD:refs/bench/objects
git -C "$work/typ.git" update-ref -d refs/bench/objects
changed=$(git -C "$work/typ.git" diff-tree -r --name-only "$base" "$new" | wc -l)
read -r med best cpu peak rc < <(hook_runs "$work/typ.git" "$base $new refs/heads/main")
say "   typical push (1 commit, $changed changed manifests, 1000-object repo):"
say "     hook: median ${med} ms wall (best ${best} ms), ${cpu} ms CPU with its git children,"
say "           over $runs runs; peak $((peak / 1024)) MB; exit $rc"
read -r hmed _ < <(hook_runs "$work/typ.git" "" tidegate-pre-receive --version)
read -r gmed _ < <(hook_runs "$work/typ.git" "" git version)
say "     for scale, bare process starts measured the same way: the hook's ${hmed} ms"
say "           (--version), one git child's ${gmed} ms (git version)"
# The same three interleaved, one of each per round, so that a load
# coming and going on a shared machine weighs on all of them alike: the
# difference is the hook's own work beyond starting itself and its one
# git child.
read -r ihook ivers igit < <("$py" - "$work/typ.git" "$base $new refs/heads/main" "$runs" <<'PY'
import os, subprocess, sys, time
repo, line, n = sys.argv[1], sys.argv[2].encode(), int(sys.argv[3])
env = dict(os.environ, GIT_DIR=".")
if hasattr(os, "sched_setaffinity"):
    os.sched_setaffinity(0, {sorted(os.sched_getaffinity(0))[0]})
cmds = [(["tidegate-pre-receive"], line), (["tidegate-pre-receive", "--version"], b""),
        (["git", "version"], b"")]
ts = [[] for _ in cmds]
for _ in range(n):
    for k, (argv, inp) in enumerate(cmds):
        t = time.perf_counter()
        subprocess.run(argv, input=inp, cwd=repo, env=env,
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        ts[k].append((time.perf_counter() - t) * 1000)
print(" ".join("%.1f" % sorted(v)[len(v) // 2] for v in ts))
PY
)
say "     interleaved (one of each per round): hook ${ihook} ms, --version ${ivers} ms,"
say "           git version ${igit} ms: $("$py" -c "print('%.1f' % ($ihook - $ivers - $igit))") ms of work beyond the two starts"

# The same as git push sees it: with the hook minus without (median of 9).
ln -s "$build/bin/tidegate-pre-receive" "$work/typ.git/hooks/pre-receive"
push_ms() {
	"$py" - "$work/typ" "$1" "$base" "$new" <<'PY'
import subprocess, sys, time
work, remote, base, new = sys.argv[1:]
ts = []
for _ in range(9):
    subprocess.run(["git", "-C", remote, "update-ref", "refs/heads/main", base], check=True)
    t = time.perf_counter()
    subprocess.run(["git", "-C", work, "push", "-q", remote, "HEAD:main"],
                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    ts.append((time.perf_counter() - t) * 1000)
ts.sort()
print("%.1f" % ts[4])
PY
}
with=$(push_ms "$work/typ.git")
without=$(push_ms "$work/typ-nohook.git")
say "     git push: ${with} ms with the hook, ${without} ms without: +$("$py" -c "print('%.1f' % ($with - $without))") ms"

# --- large: a new branch with 10,000 objects --------------------------------
"$py" "$here/gen-corpus.py" "$work/big" 10000 >/dev/null
git init -q --bare "$work/big.git"
git -C "$work/big" init -q
git -C "$work/big" add -A
git -C "$work/big" commit -q -m "10000 objects"
bignew=$(git -C "$work/big" rev-parse HEAD)
git -C "$work/big" push -q "$work/big.git" HEAD:refs/bench/objects
git -C "$work/big.git" update-ref -d refs/bench/objects
files=$(git -C "$work/big.git" ls-tree -r --name-only "$bignew" | wc -l)
gitobjs=$(git -C "$work/big.git" rev-list --objects "$bignew" | wc -l)
# a bench measures time: a busy machine must not turn it into a deadline refusal
git -C "$work/big.git" config tidegate.deadline 120s
read -r med best cpu peak rc < <(runs=5 hook_runs "$work/big.git" "$zero $bignew refs/heads/main")
say "   large push (new branch, 10000 Kubernetes objects in $files files, $gitobjs git objects):"
say "     hook: median ${med} ms wall (best ${best} ms), ${cpu} ms CPU with its git children,"
say "           over 5 runs; peak $((peak / 1024)) MB; exit $rc"
say "   targets: typical < 20 ms; 10,000 objects < 2000 ms and < 100 MB"
say "   (wall time includes waiting for a core; on a busy machine read the CPU figure)"
