#!/usr/bin/env bash
# install/demo.sh - tidegate's whole flow, narrated, against a real cluster:
#
#   push -> the gate (pre-receive) -> post-receive webhook -> tidegated -> cluster
#
# Run by `make demo` (which builds first and puts the build's bin/ on PATH).
# It works in ${DEMO_DIR:-/tmp/tidegate-demo} (wiped at start), starts a
# sandbox Kubernetes control plane (tests/cluster/sandbox), a bare repository
# with tidegate's hooks, and tidegated on a free loopback port; then:
#   1. a push with a broken Deployment is refused by the gate,
#   2. the fixed push is accepted and applied (time from push to applied),
#   3. a scale-up and a deleted file are applied and pruned,
#   4. `git revert` of that commit rolls the cluster back,
#   5. everything it started is stopped, and its logs are listed.
#
# Environment:
#   DEMO_DIR       working directory (default /tmp/tidegate-demo; wiped)
#   DEMO_CLUSTER   "sandbox" (default) or "kubeconfig": use the cluster of
#                  $KUBECONFIG instead (namespace "demo" is created there
#                  and deleted at the end)
#   DEMO_TIMEOUT   seconds to wait for each change to reach the cluster (60)
#   TIDEGATE_SRC, TIDEGATE_BUILD   set by `make demo`
set -euo pipefail

TIDEGATE_SRC=${TIDEGATE_SRC:-$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)}
TIDEGATE_BUILD=${TIDEGATE_BUILD:-$TIDEGATE_SRC/build}
PATH=$TIDEGATE_BUILD/bin:$PATH
DEMO_DIR=${DEMO_DIR:-/tmp/tidegate-demo}
DEMO_CLUSTER=${DEMO_CLUSTER:-sandbox}
DEMO_TIMEOUT=${DEMO_TIMEOUT:-60}
APP_NS=demo
export PATH TIDEGATE_SRC TIDEGATE_BUILD

# --------------------------------------------------------------- output --

if [[ -t 1 ]]; then
	B=$'\e[1m' DIM=$'\e[2m' RED=$'\e[31m' GREEN=$'\e[32m' R=$'\e[0m'
else
	B='' DIM='' RED='' GREEN='' R=''
fi
step_no=0
heading() {
	step_no=$((step_no + 1))
	printf '\n%s== %s%s\n' "$B" "$*" "$R"
}
say() { printf '%s\n' "$*"; }
note() { printf '%s%s%s\n' "$DIM" "$*" "$R"; }
good() { printf '%s%s%s\n' "$GREEN" "$*" "$R"; }
# die MESSAGE: the demo cannot go on; cleanup runs from the EXIT trap.
die() {
	printf '\n%sdemo: %s%s\n' "$RED" "$*" "$R" >&2
	exit 1
}
# missing PART WHY: a part of tidegate this step needs is not there.
missing() {
	printf '\n%sdemo: not built yet: %s%s\n' "$RED" "$1" "$R" >&2
	printf 'demo: %s\n' "$2" >&2
	printf 'demo: stopping here rather than pretending; the steps above ran for real.\n' >&2
	exit 1
}

# show CMD...: prints "$ CMD", runs it, prints its output indented.
# Returns the command's status (the caller decides what it means).
# The output is also left in $show_out. The command runs as a child the
# cleanup can stop (by its pid) when the demo is interrupted.
show() {
	local rc=0
	printf '%s$ %s%s\n' "$B" "$(show_quote "$@")" "$R"
	"$@" >"$DEMO_DIR/.show.out" 2>&1 </dev/null &
	show_pid=$!
	wait "$show_pid" || rc=$?
	show_pid=
	show_out=$(cat "$DEMO_DIR/.show.out")
	if [[ -n $show_out ]]; then printf '%s\n' "$show_out" | sed 's/^/    /'; fi
	return $rc
}
# show_quote ARGS...: the command line as a person would type it
show_quote() {
	local a s='' q
	for a in "$@"; do
		if [[ $a =~ ^[A-Za-z0-9_./:=,@+%-]+$ ]]; then
			# paths under the demo's directory as the shell would take them
			q=${a//$DEMO_DIR/\$DEMO}
		else
			q="'${a//\'/\'\\\'\'}'"
		fi
		s+="${s:+ }$q"
	done
	printf '%s' "$s"
}

now_ms() { local t=$EPOCHREALTIME; printf '%s' "$(( ${t%.*} * 1000 + 10#${t#*.} / 1000 ))"; }

# ------------------------------------------------------ start and cleanup --

daemon_pid=
show_pid=
sandbox_up=
ns_created=
finished=

# stop_pid PID SECONDS: SIGTERM, then SIGKILL after SECONDS; reaps it.
stop_pid() {
	local i
	kill -0 "$1" 2>/dev/null || return 0
	kill -TERM "$1" 2>/dev/null || true
	for ((i = 0; i < $2 * 10; i++)); do kill -0 "$1" 2>/dev/null || break; sleep 0.1; done
	kill -KILL "$1" 2>/dev/null || true
	wait "$1" 2>/dev/null || true
}

cleanup() {
	local rc=$?
	trap - EXIT INT TERM
	# a step still running (a sandbox half up stops what it started on SIGTERM)
	[[ -n $show_pid ]] && stop_pid "$show_pid" 30
	[[ -n $daemon_pid ]] && stop_pid "$daemon_pid" 10
	if [[ -n $ns_created ]]; then
		kubectl --kubeconfig "$KCFG" --request-timeout=20s delete namespace "$APP_NS" \
			--wait=false >/dev/null 2>&1 || true
	fi
	if [[ -n $sandbox_up ]]; then
		# the sandbox removes its own logs on the way down: keep a copy
		mkdir -p "$DEMO_DIR/logs/sandbox"
		cp -R "$DEMO_DIR/cluster/logs/." "$DEMO_DIR/logs/sandbox/" 2>/dev/null || true
		"$TIDEGATE_SRC/tests/cluster/sandbox" down "$DEMO_DIR/cluster" >/dev/null 2>&1 || true
	fi
	if [[ -z $finished ]]; then
		printf '\ndemo: stopped what it had started; logs are in %s/logs\n' "$DEMO_DIR" >&2
		[[ $rc -eq 0 ]] && rc=1
	fi
	exit $rc
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# kubectl: the system's, else one the sandbox build made next to its binaries
if ! command -v kubectl >/dev/null 2>&1; then
	sbin=$("$TIDEGATE_SRC/tests/cluster/build" --print-dir 2>/dev/null || true)
	[[ -n $sbin && -x $sbin/kubectl ]] && PATH=$PATH:$sbin
fi
for tool in git curl python3 kubectl openssl; do
	command -v "$tool" >/dev/null 2>&1 || die "$tool not found in PATH"
done

# DEMO_DIR is wiped: only when it is empty or an earlier demo made it.
if [[ -e $DEMO_DIR ]]; then
	if [[ -e $DEMO_DIR/.tidegate-demo ]]; then
		# an earlier run killed without its cleanup may have left a cluster
		[[ -d $DEMO_DIR/cluster ]] &&
			"$TIDEGATE_SRC/tests/cluster/sandbox" down "$DEMO_DIR/cluster" >/dev/null 2>&1 || true
		rm -rf "$DEMO_DIR"
	elif [[ -d $DEMO_DIR && -z $(ls -A "$DEMO_DIR") ]]; then
		rmdir "$DEMO_DIR"
	else
		die "$DEMO_DIR exists and was not made by the demo; set DEMO_DIR to a new directory"
	fi
fi
mkdir -p "$DEMO_DIR"/{logs,etc,state,srv}
: >"$DEMO_DIR/.tidegate-demo"
DEMO_DIR=$(cd "$DEMO_DIR" && pwd)

# Git must not read the user's configuration (signing, hooks, aliases).
export GIT_CONFIG_GLOBAL=$DEMO_DIR/etc/gitconfig GIT_CONFIG_NOSYSTEM=1
export GIT_AUTHOR_NAME="Demo Developer" GIT_AUTHOR_EMAIL=dev@example.com
export GIT_COMMITTER_NAME="Demo Developer" GIT_COMMITTER_EMAIL=dev@example.com
git config --global init.defaultBranch main
git config --global advice.detachedHead false

cat <<EOF
${B}tidegate demo${R}: a push goes through the gate, then tidegated applies it to Kubernetes.
Working directory: DEMO=$DEMO_DIR (the commands below name it \$DEMO)
EOF

# ------------------------------------------------------------ the cluster --

heading "A Kubernetes cluster"
if [[ $DEMO_CLUSTER == sandbox ]]; then
	say "A throwaway control plane (etcd, kube-apiserver, kube-controller-manager) on 127.0.0.1."
	say "It has no nodes, so Pods are never scheduled: Deployments exist, their Pods do not run."
	t0=$(now_ms)
	sandbox_up=1
	show "$TIDEGATE_SRC/tests/cluster/sandbox" up "$DEMO_DIR/cluster" ||
		die "the sandbox cluster did not start (tests/cluster/sandbox; its logs are in $DEMO_DIR/logs/sandbox)"
	KCFG=$DEMO_DIR/cluster/kubeconfig
	say "Up in $(( $(now_ms) - t0 )) ms."
elif [[ $DEMO_CLUSTER == kubeconfig ]]; then
	[[ -n ${KUBECONFIG:-} ]] || die "DEMO_CLUSTER=kubeconfig needs KUBECONFIG set"
	say "Using the cluster of KUBECONFIG ($KUBECONFIG), current context, namespace \"$APP_NS\"."
	KCFG=$DEMO_DIR/etc/kubeconfig
	# one self-contained file for tidegated (KUBECONFIG may be a list)
	( umask 077; kubectl config view --flatten --minify >"$KCFG" ) ||
		die "cannot read the kubeconfig of KUBECONFIG"
	if kubectl --kubeconfig "$KCFG" --request-timeout=20s get namespace "$APP_NS" >/dev/null 2>&1; then
		die "namespace \"$APP_NS\" already exists in that cluster; the demo will not touch it"
	fi
	ns_created=1	# the app creates it; delete it at the end
else
	die "DEMO_CLUSTER must be \"sandbox\" or \"kubeconfig\", not \"$DEMO_CLUSTER\""
fi
# every kubectl below, shown or not, talks to this cluster
export KUBECONFIG=$KCFG
kc() { kubectl --request-timeout=20s "$@"; }
show kubectl get namespaces || die "kubectl cannot reach the cluster"

# ------------------------------------------------------ the git server --

heading "A Git server: a bare repository with tidegate's hooks"
REPO=$DEMO_DIR/srv/demo.git
SECRET=$DEMO_DIR/etc/webhook-secret
PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()')
( umask 077; openssl rand -hex 32 >"$SECRET" 2>/dev/null || head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \n' >"$SECRET" )
show git init --bare --quiet "$REPO"
if ! show tidegate install-hooks "$REPO"; then
	out=$(tidegate install-hooks "$REPO" 2>&1 || true)
	[[ $out == *"unknown command"* ]] &&
		missing "tidegate install-hooks" "this build of tidegate has no install-hooks command."
	die "tidegate install-hooks failed (output above)"
fi
show git -C "$REPO" config tidegate.webhookUrl "http://127.0.0.1:$PORT/hooks/generic"
show git -C "$REPO" config tidegate.webhookSecretFile "$SECRET"
show ls -l "$REPO/hooks/pre-receive" "$REPO/hooks/post-receive"

# ------------------------------------------------------------ tidegated --

heading "tidegated, the pusher, on 127.0.0.1:$PORT"
CONF=$DEMO_DIR/etc/tidegated.yaml
cat >"$CONF" <<EOF
# tidegated configuration for the demo (see tidegate.yaml(5))
listen: 127.0.0.1:$PORT
state_dir: $DEMO_DIR/state
tidegate: $(command -v tidegate)
receivers:
  - provider: generic
    secret_file: $SECRET
clusters:
  - name: demo
    kubeconfig: $KCFG
apps:
  - name: demo
    repo: $REPO
    branch: main
    path: app
    cluster: demo
    namespace: $APP_NS
    prune: true
EOF
show cat "$CONF"
if ! show tidegated -n -c "$CONF"; then
	out=$(tidegated -n -c "$CONF" 2>&1 || true)
	[[ $out == *"not built yet"* ]] &&
		missing "tidegated" "the webhook server is not in this build; the gate steps cannot be followed by a sync."
	die "tidegated does not accept the configuration (output above)"
fi
say "Starting it:"
printf '%s$ tidegated -c $DEMO/etc/tidegated.yaml >$DEMO/logs/tidegated.log 2>&1 &%s\n' "$B" "$R"
tidegated -c "$CONF" >"$DEMO_DIR/logs/tidegated.log" 2>&1 </dev/null &
daemon_pid=$!
ready=
for _ in $(seq 1 100); do
	if curl -sf --max-time 1 "http://127.0.0.1:$PORT/readyz" >/dev/null 2>&1; then ready=1; break; fi
	kill -0 "$daemon_pid" 2>/dev/null || break
	sleep 0.1
done
if [[ -z $ready ]]; then
	sed 's/^/    /' "$DEMO_DIR/logs/tidegated.log" | tail -20
	die "tidegated did not become ready on 127.0.0.1:$PORT"
fi
show curl -sS "http://127.0.0.1:$PORT/healthz" || true
echo

# ----------------------------------------------------------- the clone --

WORK=$DEMO_DIR/work
heading "A developer's clone"
show git clone "$REPO" "$WORK"
printf '%s$ cd $DEMO/work%s\n' "$B" "$R"
cd "$WORK"
mkdir -p app

write_app() {
	# write_app REPLICAS SELECTOR_LABEL EXTRA_FIELD: the app's four files
	local replicas=$1 selector=$2 extra=$3
	cat >app/namespace.yaml <<EOF
apiVersion: v1
kind: Namespace
metadata:
  name: $APP_NS
EOF
	cat >app/deployment.yaml <<EOF
apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
  namespace: $APP_NS
  labels:
    app: web
spec:
  replicas: $replicas
  selector:
    matchLabels:
      app: $selector
  template:
    metadata:
      labels:
        app: web
    spec:
      securityContext:
        runAsNonRoot: true
        runAsUser: 101
      containers:
        - name: web
          image: nginxinc/nginx-unprivileged:1.27.3
$extra          ports:
            - containerPort: 8080
          resources:
            requests: {cpu: 50m, memory: 32Mi}
            limits: {cpu: 200m, memory: 64Mi}
          readinessProbe:
            httpGet: {path: /, port: 8080}
          livenessProbe:
            httpGet: {path: /, port: 8080}
          securityContext:
            allowPrivilegeEscalation: false
            readOnlyRootFilesystem: true
            capabilities: {drop: [ALL]}
EOF
	cat >app/service.yaml <<EOF
apiVersion: v1
kind: Service
metadata:
  name: web
  namespace: $APP_NS
spec:
  selector:
    app: web
  ports:
    - port: 80
      targetPort: 8080
EOF
	cat >app/configmap.yaml <<EOF
apiVersion: v1
kind: ConfigMap
metadata:
  name: web-settings
  namespace: $APP_NS
data:
  greeting: "hello from tidegate"
EOF
}

# push: runs `git push`, shows the pusher's output; sets push_rc and push_t0
push() {
	push_t0=$(now_ms)
	push_rc=0
	show git push origin main || push_rc=$?
	push_ms=$(( $(now_ms) - push_t0 ))
}

# The cluster, read for checks. Sandbox: straight to the API with the admin
# certificate (fast, so the measured time is tidegate's, not kubectl's start-up).
api_get() {
	if [[ $DEMO_CLUSTER == sandbox ]]; then
		# shellcheck disable=SC1091
		curl -sS --fail --max-time 5 --cacert "$DEMO_DIR/cluster/pki/ca.crt" \
			--cert "$DEMO_DIR/cluster/pki/admin.crt" --key "$DEMO_DIR/cluster/pki/admin.key" \
			"$SERVER$1" 2>/dev/null
	else
		kc get --raw "$1" 2>/dev/null
	fi
}
[[ $DEMO_CLUSTER == sandbox ]] && SERVER=$(sed -n 's/^SANDBOX_SERVER=//p' "$DEMO_DIR/cluster/env")

# cluster_state: one line "replicas=N configmap=yes|no service=yes|no"
# ("replicas=-" when there is no Deployment)
cluster_state() {
	local dep cm svc r=-
	dep=$(api_get "/apis/apps/v1/namespaces/$APP_NS/deployments/web") || dep=
	cm=no; api_get "/api/v1/namespaces/$APP_NS/configmaps/web-settings" >/dev/null && cm=yes
	svc=no; api_get "/api/v1/namespaces/$APP_NS/services/web" >/dev/null && svc=yes
	# the API server writes a Deployment's spec with replicas first
	if [[ $dep =~ \"spec\":[[:space:]]*\{[[:space:]]*\"replicas\":[[:space:]]*([0-9]+) ]]; then
		r=${BASH_REMATCH[1]}
	fi
	printf 'replicas=%s configmap=%s service=%s\n' "$r" "$cm" "$svc"
}

# sync_ms: how long tidegated's last sync took, from its state file
sync_ms() {
	local st
	st=$(cat "$DEMO_DIR/state/apps/demo.json" 2>/dev/null) || return 0
	[[ $st =~ \"duration_ms\":([0-9]+) ]] && printf '%s' "${BASH_REMATCH[1]}"
	return 0
}

# timing: "N ms after the push began (git push M ms with the gate; the sync K ms)"
timing() {
	local k extra=''
	k=$(sync_ms)
	[[ -n $k ]] && extra="; the sync in tidegated $k ms"
	printf '%s ms after the push began (git push %s ms, the gate included%s)' \
		"$applied_ms" "$push_ms" "$extra"
}

# app_result COMMIT: what tidegated's state file says of COMMIT: "success",
# "failed", or nothing when it has not finished a sync of it yet.
app_result() {
	local f=$DEMO_DIR/state/apps/demo.json st
	st=$(cat "$f" 2>/dev/null) || return 0
	[[ $st == *"\"commit\":\"$1\""* ]] || return 0
	[[ $st =~ \"result\":\"([a-z]+)\" ]] && printf '%s' "${BASH_REMATCH[1]}"
	return 0
}

# wait_cluster WANT: waits until tidegated reports the pushed commit synced
# (its state file, polled every 20 ms) or the cluster shows WANT, then checks
# that the cluster shows WANT. Sets applied_ms, the time since the push began.
# Dies (after showing tidegated's log) on a failed sync or a time-out.
wait_cluster() {
	local want=$1 got res i=0 commit deadline=$(( $(now_ms) + DEMO_TIMEOUT * 1000 ))
	commit=$(git rev-parse HEAD)
	applied_ms=
	while :; do
		res=$(app_result "$commit")
		if [[ $res == failed ]]; then
			say "tidegated's log (last lines):"
			tail -5 "$DEMO_DIR/logs/tidegated.log" | sed 's/^/    /'
			show_app_state
			die "tidegated could not apply ${commit:0:7}"
		fi
		if [[ -z $applied_ms && $res == success ]]; then
			applied_ms=$(( $(now_ms) - push_t0 ))
		fi
		# the cluster itself: at once once tidegated says done, else twice a second
		if [[ -n $applied_ms ]] || (( i++ % 25 == 0 )); then
			got=$(cluster_state)
			if [[ $got == "$want" ]]; then
				[[ -n $applied_ms ]] || applied_ms=$(( $(now_ms) - push_t0 ))
				return 0
			fi
		fi
		if ! kill -0 "$daemon_pid" 2>/dev/null; then
			tail -20 "$DEMO_DIR/logs/tidegated.log" | sed 's/^/    /'
			die "tidegated exited (log above)"
		fi
		if (( $(now_ms) > deadline )); then
			grep -q "unknown command 'apply'" "$DEMO_DIR/logs/tidegated.log" &&
				missing "tidegate apply" "tidegated runs \`tidegate apply\` for a sync, and this build has no such command."
			say "The cluster shows: $got"
			say "Wanted:            $want"
			say "tidegated's log (last lines):"
			tail -20 "$DEMO_DIR/logs/tidegated.log" | sed 's/^/    /'
			show_app_state
			die "the change did not reach the cluster within ${DEMO_TIMEOUT}s"
		fi
		sleep 0.02
	done
}

# What tidegated itself recorded about the app, when it keeps that file.
show_app_state() {
	local f=$DEMO_DIR/state/apps/demo.json st k out=''
	st=$(cat "$f" 2>/dev/null) || return 0
	say "tidegated's record of the app's last sync (state/apps/demo.json):"
	for k in app commit result time pusher duration_ms counts; do
		if [[ $st =~ \"$k\":(\"[^\"]*\"|[0-9]+|\{[^\}]*\}) ]]; then
			out+="${out:+, }\"$k\": ${BASH_REMATCH[1]}"
		fi
	done
	printf '    {%s}\n' "$out"
	say "and the audit log has one line per sync: $(wc -l <"$DEMO_DIR/state/audit.log" 2>/dev/null || echo 0) so far."
}

# The app's objects: the members of its ApplySet (a label tidegate sets).
show_objects() {
	show kubectl get deployments,services,configmaps -n "$APP_NS" -l applyset.kubernetes.io/part-of \
		-o custom-columns=KIND:.kind,NAME:.metadata.name,REPLICAS:.spec.replicas,MANAGER:.metadata.managedFields[0].manager || true
}

# ------------------------------------------------- 1. a broken push --

heading "1. A broken manifest is refused at the door"
say "The developer's first version of the app: a Namespace, a Deployment, a Service, a ConfigMap."
say "Two mistakes in the Deployment: its selector (app: webapp) does not match its Pods' labels"
say "(app: web), and 'imagePullPolcy' is a misspelt field Kubernetes does not know."
write_app 2 webapp "          imagePullPolcy: IfNotPresent
"
show git add app
show git commit --quiet -m "Add the web app"
show git show --stat --format='%h %s' HEAD
push
if [[ $push_rc -eq 0 ]]; then
	pre=$(git -C "$REPO" rev-parse --verify -q refs/heads/main || true)
	die "the gate accepted a push with a broken Deployment (main is now ${pre:0:12}): tidegate-pre-receive did not refuse it"
fi
if [[ $show_out == *"pre-receive is not built yet"* ]]; then
	missing "tidegate-pre-receive" "the gate refused the push only because it is a stub that refuses everything."
fi
if git -C "$REPO" rev-parse --verify -q refs/heads/main >/dev/null; then
	die "git push failed but the server's main moved"
fi
good "Refused: nothing entered the repository, so nothing can reach the cluster."
show kubectl get namespace "$APP_NS" || true

# ------------------------------------------------ 2. the fixed push --

heading "2. The fixed push is accepted and applied"
write_app 2 web ""
show git diff
show git commit --quiet -a --amend -m "Add the web app"
push
[[ $push_rc -eq 0 ]] || die "the fixed push was refused (output above)"
[[ $show_out == *"post-receive is not built yet"* ]] &&
	missing "tidegate-post-receive" "the hook that tells tidegated about a push is a stub."
good "Accepted (git push took $push_ms ms, the gate's check included)."
say "The post-receive hook told tidegated; tidegated fetched the commit and applied it."
wait_cluster "replicas=2 configmap=yes service=yes"
good "Applied: the cluster had the new commit's objects $(timing)."
show_objects
first_ms=$applied_ms

# ------------------------------------------- 3. scale and delete a file --

heading "3. Scale the Deployment and delete a file"
show sed -i 's/^  replicas: 2$/  replicas: 3/' app/deployment.yaml
show git rm --quiet app/configmap.yaml
show git commit --quiet -a -m "Scale web to 3; drop its settings"
show git show --stat --format='%h %s' HEAD
push
[[ $push_rc -eq 0 ]] || die "the push was refused (output above)"
wait_cluster "replicas=3 configmap=no service=yes"
good "Applied $(timing):"
good "3 replicas, and the ConfigMap whose file was deleted is pruned."
show_objects
show kubectl get configmap web-settings -n "$APP_NS" || true
second_ms=$applied_ms

# ------------------------------------------------------- 4. rollback --

heading "4. Roll back with git revert"
show git revert --no-edit HEAD
push
[[ $push_rc -eq 0 ]] || die "the revert was refused (output above)"
wait_cluster "replicas=2 configmap=yes service=yes"
good "Rolled back $(timing):"
good "2 replicas and the ConfigMap are back."
show_objects
show kubectl get configmap web-settings -n "$APP_NS" -o jsonpath='{.data.greeting}{"\n"}' || true
third_ms=$applied_ms
show git log --oneline
show_app_state

# ------------------------------------------------------------ 5. stop --

heading "5. Done: stopping what the demo started"
stop_pid "$daemon_pid" 10
daemon_pid=
say "tidegated stopped."
if [[ -n $sandbox_up ]]; then
	mkdir -p "$DEMO_DIR/logs/sandbox"
	cp -R "$DEMO_DIR/cluster/logs/." "$DEMO_DIR/logs/sandbox/" 2>/dev/null || true
	"$TIDEGATE_SRC/tests/cluster/sandbox" down "$DEMO_DIR/cluster" >/dev/null 2>&1 ||
		note "the sandbox reported a problem stopping"
	sandbox_up=
	say "The sandbox cluster stopped."
fi
if [[ -n $ns_created ]]; then
	# waits, so that the next run finds the namespace gone
	kc delete namespace "$APP_NS" --timeout=60s >/dev/null 2>&1 ||
		note "namespace $APP_NS is still being deleted"
	ns_created=
	say "Namespace $APP_NS deleted from the cluster."
fi
finished=1
cat <<EOF

Push to applied: $first_ms ms (create), $second_ms ms (scale and prune), $third_ms ms (rollback).
Logs:
  tidegated:        $DEMO_DIR/logs/tidegated.log
EOF
[[ -d $DEMO_DIR/logs/sandbox ]] && say "  the sandbox:      $DEMO_DIR/logs/sandbox/"
[[ -d $DEMO_DIR/state ]] && say "  tidegated state:  $DEMO_DIR/state/ (app state, journal, audit log)"
say "  the repositories: $REPO (server), $WORK (clone)"
good "The demo ran to the end."
