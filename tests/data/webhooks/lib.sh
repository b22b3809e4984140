# Helpers for tidegated's integration tests (t05xx), sourced after test-lib.sh.

WH_DATA=$TEST_DATA/webhooks

# wh_secret NAME VALUE: writes a secret file $TEST_DIR/NAME.secret.
wh_secret() {
	printf '%s\n' "$2" >"$TEST_DIR/$1.secret"
}

# wh_payload NAME AFTER [BEFORE [REPO]]: the fixture with ids and repo filled in, on stdout.
wh_payload() {
	sed -e "s|@AFTER@|$2|g" -e "s|@BEFORE@|${3:-0000000000000000000000000000000000000000}|g" \
		-e "s|@REPO@|${4:-}|g" "$WH_DATA/$1.json"
}

# wh_hmac_hex KEYFILE FILE: hex HMAC-SHA256 of FILE under the key in KEYFILE (newline dropped).
wh_hmac_hex() {
	openssl dgst -sha256 -mac HMAC -macopt "hexkey:$(head -c -1 "$1" | od -An -v -tx1 | tr -d ' \n')" "$2" |
		sed 's/^.*= //'
}

wh_hmac_sha1_hex() {
	openssl dgst -sha1 -mac HMAC -macopt "hexkey:$(head -c -1 "$1" | od -An -v -tx1 | tr -d ' \n')" "$2" |
		sed 's/^.*= //'
}

# wh_start CONFIG [ENV=VALUE...]: starts tidegated in the background and waits for /readyz.
# Works from inside a test body too: the pid goes to $TEST_DIR/tidegated.pid (wh_pid),
# the exit status, once it exits, to $TEST_DIR/tidegated.rc; the log is
# $TEST_DIR/tidegated.log (appended). Whatever runs at exit is stopped.
wh_start() {
	local conf=$1
	shift
	rm -f "$TEST_DIR/tidegated.pid" "$TEST_DIR/tidegated.rc"
	(
		env "$@" tidegated -c "$conf" >>"$TEST_DIR/tidegated.log" 2>&1 </dev/null &
		echo $! >"$TEST_DIR/tidegated.pid.tmp"
		mv "$TEST_DIR/tidegated.pid.tmp" "$TEST_DIR/tidegated.pid"
		{ wait $!; } 2>/dev/null
		echo $? >"$TEST_DIR/tidegated.rc"
	) &
	test_wait_for "test -s $TEST_DIR/tidegated.pid" 5 || return 1
	WH_PID=$(cat "$TEST_DIR/tidegated.pid")
	test_wait_for "curl -sf --max-time 1 http://127.0.0.1:$WH_PORT/readyz" 10 || {
		echo "tidegated did not start:"; cat "$TEST_DIR/tidegated.log"; return 1; }
}

wh_pid() {
	cat "$TEST_DIR/tidegated.pid"
}

# wh_wait_exit [SECONDS]: waits for the daemon to exit; its status is in tidegated.rc.
wh_wait_exit() {
	test_wait_for "test -s $TEST_DIR/tidegated.rc" "${1:-20}"
}

wh_stop() {
	kill -TERM "$(wh_pid)" 2>/dev/null
	wh_wait_exit 20
}

wh_kill9() {
	kill -9 "$(wh_pid)" 2>/dev/null
	wh_wait_exit 10
}

# At exit: stop the daemon (TERM, then KILL) and wait for its wrapper to record
# the exit status, so nothing writes into $TEST_DIR once it is being removed.
wh_cleanup() {
	local p i
	p=$(cat "$TEST_DIR/tidegated.pid" 2>/dev/null) || return 0
	kill -TERM "$p" 2>/dev/null
	for i in $(seq 1 30); do
		[ -e "$TEST_DIR/tidegated.rc" ] && return 0
		sleep 0.1
	done
	kill -KILL "$p" 2>/dev/null
	for i in $(seq 1 50); do
		[ -e "$TEST_DIR/tidegated.rc" ] && return 0
		sleep 0.1
	done
}
test_at_exit wh_cleanup

# wh_post PATH BODYFILE [curl args...]: POSTs; the status goes to $TEST_DIR/code,
# the answer to $TEST_DIR/answer. Prints the status.
wh_post() {
	local path=$1 body=$2
	shift 2
	curl -sS --max-time 10 -o "$TEST_DIR/answer" -w '%{http_code}' -X POST \
		-H 'Content-Type: application/json' --data-binary "@$body" "$@" \
		"http://127.0.0.1:$WH_PORT$path" >"$TEST_DIR/code"
	cat "$TEST_DIR/code"
}

# wh_github BODYFILE EVENT DELIVERY [curl args...]: a GitHub delivery signed with github.secret.
wh_github() {
	local body=$1 event=$2 delivery=$3
	shift 3
	wh_post /hooks/github "$body" -H "X-GitHub-Event: $event" -H "X-GitHub-Delivery: $delivery" \
		-H "X-GitHub-Hook-ID: 512345678" -H "User-Agent: GitHub-Hookshot/5a2d8e6" \
		-H "X-Hub-Signature-256: sha256=$(wh_hmac_hex "$TEST_DIR/github.secret" "$body")" "$@"
}

# wh_generic BODYFILE DELIVERY [TIMESTAMP]: a generic event as tidegate-post-receive sends it.
wh_generic() {
	local body=$1 delivery=$2 ts=${3:-$(date +%s)}
	{ printf '%s.' "$ts"; cat "$body"; } >"$TEST_DIR/signed"
	wh_post /hooks/generic "$body" -H "X-Tidegate-Event: push" -H "X-Tidegate-Delivery: $delivery" \
		-H "X-Tidegate-Timestamp: $ts" \
		-H "X-Tidegate-Signature: sha256=$(wh_hmac_hex "$TEST_DIR/generic.secret" "$TEST_DIR/signed")"
}

# wh_config FILE APPS_YAML [EXTRA_TOP_LEVEL_YAML]: a config with every receiver and the apps given.
wh_config() {
	cat >"$1" <<CONF
listen: 127.0.0.1:$WH_PORT
state_dir: $TEST_DIR/state
tidegate: ${WH_TIDEGATE:-$WH_DATA/fake-tidegate}
${3:-}
receivers:
  - {provider: github, secret_file: $TEST_DIR/github.secret}
  - {provider: gitlab, secret_files: [$TEST_DIR/gitlab-old.secret, $TEST_DIR/gitlab.secret]}
  - {provider: gitea, secret_file: $TEST_DIR/gitea.secret}
  - {provider: bitbucket, secret_file: $TEST_DIR/bitbucket.secret}
  - {provider: generic, secret_file: $TEST_DIR/generic.secret}
clusters:
  - {name: one, kubeconfig: $TEST_DIR/one.kubeconfig}
  - {name: two, kubeconfig: $TEST_DIR/two.kubeconfig, context: ctx-two}
apps:
$2
CONF
}

wh_secrets() {
	wh_secret github "It's a Secret to Everybody"
	wh_secret gitlab "gl-token-5f1c"
	wh_secret gitlab-old "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
	wh_secret gitea "gitea-secret-77"
	wh_secret bitbucket "bb-secret-42"
	wh_secret generic "generic-secret-9"
	: >"$TEST_DIR/one.kubeconfig"
	: >"$TEST_DIR/two.kubeconfig"
}

WH_PORT=${WH_PORT:-$(test_free_port)}

# A bare repository repo.git with four commits of k8s/cm.yaml, pushed from
# the clone work/; their ids in C1..C4, the repository's path in REPO.
wh_repo4() {
	git init -q --bare repo.git &&
	git clone -q repo.git work 2>/dev/null &&
	(cd work && mkdir -p k8s && for i in 1 2 3 4; do
		echo "n: $i" >k8s/cm.yaml && git add k8s && git commit -q -m "c$i" &&
		git rev-parse HEAD >../c$i
	done && git push -q origin main) || return 1
	C1=$(cat c1) C2=$(cat c2) C3=$(cat c3) C4=$(cat c4)
	REPO=$TEST_DIR/repo.git
}
