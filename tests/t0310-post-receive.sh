#!/usr/bin/env bash
# tidegate-post-receive in a real git server: one signed generic event
# per updated branch to a stub of tidegated's endpoint; spooling while
# the endpoint is down; sending the spool later, oldest first.
. "$(dirname "$0")/test-lib.sh"
. "$TEST_DATA/hooks/lib.sh"

printf "s3cret-for-tests\n" >secret

# stub_start LOG [MODE]: runs the webhook stub on $port; stub_stop stops it.
# Started at the top level (tests run in subshells) or stopped in the same test.
port=$("$HK_PYTHON" -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
stub_start() {
	rm -f "$1.ready"
	"$HK_PYTHON" "$HOOKS_DATA/webhook-stub.py" "$port" "$TEST_DIR/secret" "$1" "${2:-ok}" &
	stub_pid=$!
	test_bg_pid $stub_pid
	test_wait_for "test -e $1.ready" 10
}
stub_stop() {
	kill "$stub_pid" 2>/dev/null; wait "$stub_pid" 2>/dev/null
	return 0
}

# post_server NAME: a bare repository with both hooks wired to the stub.
# A generous request timeout keeps a busy machine from spooling events
# the delivery tests expect delivered; the timeout tests use the default.
post_server() {
	hk_server "$1" &&
	git -C "$1.git" config tidegate.webhookTimeout 20s &&
	ln -s "$TIDEGATE_BUILD/bin/tidegate-post-receive" "$TEST_DIR/$1.git/hooks/post-receive" &&
	git -C "$1.git" config tidegate.webhookUrl "http://127.0.0.1:$port/hooks/generic" &&
	git -C "$1.git" config tidegate.webhookSecretFile "$TEST_DIR/secret"
}

# jq-free checks on the stub's log
check_log() {
	"$HK_PYTHON" - "$@" <<-"PY"
	import json, sys
	recs = [json.loads(l) for l in open(sys.argv[1])]
	exec(sys.argv[2])
	PY
}

stub_start log1
test_expect_success 'one signed event per updated branch' '
	post_server p1 && hk_work w1 p1 &&
	hk_put w1 k8s/d.yaml good-deploy.yaml && hk_commit w1 one &&
	git -C w1 branch feature &&
	REMOTE_USER=alice hk_push w1 origin main feature &&
	test ! -s remote.out &&
	main=$(git -C w1 rev-parse main) && export main &&
	check_log log1 "
import os
assert len(recs) == 2, recs
by_ref = {r[\"body\"][\"ref\"]: r for r in recs}
assert set(by_ref) == {\"refs/heads/main\", \"refs/heads/feature\"}, by_ref
for r in recs:
    assert r[\"path\"] == \"/hooks/generic\" and r[\"event\"] == \"push\", r
    assert r[\"signature_ok\"] and r[\"fresh\"], r
    assert r[\"content_type\"] == \"application/json\", r
    assert len(r[\"delivery\"]) == 32 and int(r[\"delivery\"], 16) >= 0, r
    b = r[\"body\"]
    assert b[\"before\"] == \"0\" * 40 and b[\"after\"] == os.environ[\"main\"], b
    assert b[\"repository\"][\"url\"].endswith(\"/p1.git\"), b
    assert b[\"pusher\"] == \"alice\", b
    assert \"files\" not in b, b   # a new branch: every path counts as changed
assert recs[0][\"delivery\"] != recs[1][\"delivery\"]
"
'

test_expect_success 'a deleted branch is sent with after = zeros; tags are not sent' '
	: >log1 &&
	hk_push w1 origin :feature &&
	git -C w1 tag v1 && hk_push w1 origin v1 &&
	check_log log1 "
assert len(recs) == 1, recs
assert recs[0][\"body\"][\"ref\"] == \"refs/heads/feature\"
assert recs[0][\"body\"][\"after\"] == \"0\" * 40
"
'

test_expect_success 'tidegate.repoUrl names the repository' '
	: >log1 &&
	git -C p1.git config tidegate.repoUrl https://git.example.com/shop/web.git &&
	hk_put w1 k8s/e.yaml good-svc.yaml && hk_commit w1 two && hk_push w1 origin main &&
	check_log log1 "assert recs[0][\"body\"][\"repository\"][\"url\"] == \"https://git.example.com/shop/web.git\", recs"
'

test_expect_success 'an update of a branch lists the paths it changed (files)' '
	: >log1 &&
	hk_put w1 "k8s/sub dir/f.yaml" good-svc.yaml && git -C w1 rm -q k8s/e.yaml &&
	hk_commit w1 three && hk_push w1 origin main &&
	check_log log1 "
assert len(recs) == 1, recs
assert recs[0][\"body\"][\"files\"] == [\"k8s/e.yaml\", \"k8s/sub dir/f.yaml\"], recs[0][\"body\"]
"
'

test_expect_success 'the list came from the gate, and post-receive left no list behind' '
	test -d p1.git/tidegate/changes &&
	test -z "$(ls p1.git/tidegate/changes)"
'

# A server with post-receive alone: the lists in tidegate/changes are planted by the test.
test_expect_success 'post-receive sends the list the gate left for the same update' '
	: >log1 &&
	git init -q --bare pl.git &&
	ln -s "$TIDEGATE_BUILD/bin/tidegate-post-receive" pl.git/hooks/post-receive &&
	git -C pl.git config tidegate.webhookTimeout 20s &&
	git -C pl.git config tidegate.webhookUrl "http://127.0.0.1:$port/hooks/generic" &&
	git -C pl.git config tidegate.webhookSecretFile "$TEST_DIR/secret" &&
	hk_work wl pl && hk_put wl k8s/d.yaml good-deploy.yaml && hk_commit wl one &&
	hk_push wl origin main &&
	hk_put wl k8s/e.yaml good-svc.yaml && hk_commit wl two &&
	old=$(git -C wl rev-parse main~1) && new=$(git -C wl rev-parse main) &&
	mkdir -p pl.git/tidegate/changes &&
	printf "tidegate-changes 1\nplanted/a.yaml\0planted/b c.yaml\0" >pl.git/tidegate/changes/$old-$new &&
	: >log1 && hk_push wl origin main &&
	check_log log1 "assert recs[0][\"body\"][\"files\"] == [\"planted/a.yaml\", \"planted/b c.yaml\"], recs" &&
	test ! -e pl.git/tidegate/changes/$old-$new
'

test_expect_success 'a damaged list is not used: post-receive lists the paths itself' '
	hk_put wl k8s/f.yaml good-svc.yaml && hk_commit wl three &&
	old=$(git -C wl rev-parse main~1) && new=$(git -C wl rev-parse main) &&
	printf "tidegate-changes 1\nplanted/cut-short.yaml" >pl.git/tidegate/changes/$old-$new &&
	: >log1 && hk_push wl origin main &&
	check_log log1 "assert recs[0][\"body\"][\"files\"] == [\"k8s/f.yaml\"], recs" &&
	hk_put wl k8s/g.yaml good-svc.yaml && hk_commit wl four &&
	old=$(git -C wl rev-parse main~1) && new=$(git -C wl rev-parse main) &&
	printf "not a list\0" >pl.git/tidegate/changes/$old-$new &&
	: >log1 && hk_push wl origin main &&
	check_log log1 "assert recs[0][\"body\"][\"files\"] == [\"k8s/g.yaml\"], recs" &&
	test -z "$(ls pl.git/tidegate/changes)"
'

test_expect_success 'lists left by refused pushes are removed once an hour old' '
	printf "tidegate-changes 1\n" >pl.git/tidegate/changes/aaaa-bbbb &&
	printf "tidegate-changes 1\n" >pl.git/tidegate/changes/cccc-dddd &&
	touch -d "2 hours ago" pl.git/tidegate/changes/aaaa-bbbb &&
	hk_put wl k8s/h.yaml good-svc.yaml && hk_commit wl five && hk_push wl origin main &&
	test ! -e pl.git/tidegate/changes/aaaa-bbbb &&
	test -e pl.git/tidegate/changes/cccc-dddd
'
stub_stop

test_expect_success 'endpoint down: the event is spooled, the push goes through' '
	post_server p2 && hk_work w2 p2 &&
	hk_put w2 k8s/d.yaml good-deploy.yaml && hk_commit w2 one &&
	hk_push w2 origin main &&
	test_grep "^tidegate: tidegated not reachable (.*); 1 event spooled" remote.out &&
	ls p2.git/tidegate/spool/*.event >spooled && test $(wc -l <spooled) = 1 &&
	! ls p2.git/tidegate/spool/.tmp-* 2>/dev/null
'

test_expect_success '--flush sends the spool once the endpoint is back' '
	id=$(head -1 p2.git/tidegate/spool/*.event) &&
	stub_start log2 &&
	tidegate-post-receive --flush --git-dir p2.git >flush.out;
	st=$?; stub_stop; test $st = 0 &&
	! ls p2.git/tidegate/spool/*.event 2>/dev/null &&
	check_log log2 "assert len(recs) == 1 and recs[0][\"delivery\"] == \"$id\" and recs[0][\"signature_ok\"], recs"
'

test_expect_success 'the next push sends spooled events first, oldest first' '
	echo A >w2/A.txt && hk_commit w2 A && hk_push w2 origin main &&
	a=$(git -C w2 rev-parse HEAD) &&
	echo B >w2/B.txt && hk_commit w2 B && hk_push w2 origin main &&
	b=$(git -C w2 rev-parse HEAD) &&
	test_grep "2 events spooled" remote.out &&
	stub_start log3 &&
	echo C >w2/C.txt && hk_commit w2 C && hk_push w2 origin main;
	st=$?; stub_stop; test $st = 0 &&
	c=$(git -C w2 rev-parse HEAD) &&
	test ! -s remote.out &&
	check_log log3 "
afters = [r[\"body\"][\"after\"] for r in recs]
assert afters == [\"$a\", \"$b\", \"$c\"], afters
" &&
	! ls p2.git/tidegate/spool/*.event 2>/dev/null
'

test_expect_success 'the hook loads neither libcurl nor OpenSSL for http:// (only an https:// URL does)' '
	# it signs with lib/sha256.c; libcrypto alone cost ~4.5 ms of its start
	! ldd "$TIDEGATE_BUILD/bin/tidegate-post-receive" | grep -E "libcurl|libssl|libcrypto"
'

# tls_stub PORT: a TLS listener with a self-signed certificate nobody trusts.
tls_stub() {
	"$HK_PYTHON" -c '
import socket, ssl, sys
ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
ctx.load_cert_chain("tls.crt", "tls.key")
s = socket.socket()
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("127.0.0.1", int(sys.argv[1])))
s.listen(8)
open("tls.ready", "w").close()
while True:
    c, _ = s.accept()
    try:
        ctx.wrap_socket(c, server_side=True).close()
    except Exception:
        c.close()
' "$1" &
	test_bg_pid $!
}

test_expect_success 'https:// goes through libcurl: an untrusted certificate is refused and spooled' '
	openssl req -x509 -newkey rsa:2048 -nodes -keyout tls.key -out tls.crt -days 1 \
		-subj /CN=localhost >/dev/null 2>&1 &&
	tport=$(test_free_port) && tls_stub $tport && test_wait_for "test -e tls.ready" 10 &&
	post_server pt && git -C pt.git config tidegate.webhookUrl "https://127.0.0.1:$tport/hooks/generic" &&
	hk_work wt pt && hk_put wt k8s/d.yaml good-deploy.yaml && hk_commit wt one &&
	hk_push wt origin main &&
	test_grep "tidegated not reachable (.*[Cc]ertificate.*); 1 event spooled" remote.out
'

stub_start log4 hang
test_expect_success 'an endpoint that never answers holds the hook about two seconds' '
	post_server p3 && git -C p3.git config --unset tidegate.webhookTimeout &&
	zero=0000000000000000000000000000000000000000 &&
	one=1111111111111111111111111111111111111111 &&
	start=$(date +%s%N) &&
	printf "%s %s refs/heads/main\n%s %s refs/heads/dev\n" $zero $one $zero $one |
		(cd p3.git && GIT_DIR=. tidegate-post-receive) 2>err &&
	elapsed=$(( ($(date +%s%N) - start) / 1000000 )) && echo "hook took $elapsed ms" &&
	test $elapsed -lt 8000 &&
	test_grep "no HTTP answer from 127.0.0.1:[0-9]* in time); 2 events spooled" err &&
	test $(ls p3.git/tidegate/spool/*.event | wc -l) = 2
'
stub_stop

stub_start log5 reject
test_expect_success 'a refused spooled event is set aside, not retried forever' '
	tidegate-post-receive --flush --git-dir p3.git 2>flush.err;
	test_grep "refused spooled event" flush.err &&
	! ls p3.git/tidegate/spool/*.event 2>/dev/null &&
	ls p3.git/tidegate/spool/rejected/*.event
'
stub_stop

test_expect_success 'without a secret file nothing is sent and the push still succeeds' '
	post_server p4 && hk_work w4 p4 &&
	git -C p4.git config --unset tidegate.webhookSecretFile &&
	hk_put w4 k8s/d.yaml good-deploy.yaml && hk_commit w4 one &&
	hk_push w4 origin main &&
	test_grep "tidegate.webhookSecretFile is not set" remote.out
'

test_expect_success 'a server without tidegate.webhookUrl: the hook stays silent' '
	hk_server p5 && hk_work w5 p5 &&
	ln -s "$TIDEGATE_BUILD/bin/tidegate-post-receive" p5.git/hooks/post-receive &&
	hk_put w5 k8s/d.yaml good-deploy.yaml && hk_commit w5 one &&
	hk_push w5 origin main && test ! -s remote.out
'

test_done
