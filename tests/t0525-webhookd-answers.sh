#!/usr/bin/env bash
# How tidegated's answers go out: written at once when the socket takes them,
# else as the client reads; pipelined requests answered in order; a client
# that half-closes after its request still gets its answer. And the journal
# side of the accept path: a push no app follows is not journaled, and every
# journaled push gets its "done" line once its syncs are over.
. "$(dirname "$0")/test-lib.sh"
. "$TEST_DATA/webhooks/lib.sh"

wh_secrets
A=1111111111111111111111111111111111111111
B=2222222222222222222222222222222222222222
wh_config conf.yaml '  - {name: web, repo: "https://github.com/octo-org/deploy.git", branch: main, cluster: one}' \
	"git: /bin/true"
wh_start conf.yaml || exit 1
URL=http://127.0.0.1:$WH_PORT

test_expect_success 'answers more than the socket takes at once reach a client that reads late' '
	python3 - "$WH_PORT" <<-\PY
	import socket, sys, time
	n = 400
	s = socket.create_connection(("127.0.0.1", int(sys.argv[1])))
	s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
	s.sendall(b"GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n" * (n - 1) +
	          b"GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
	time.sleep(1)            # the server meets a full socket buffer meanwhile
	s.settimeout(10)
	data = b""
	while True:
	    d = s.recv(65536)
	    if not d:
	        break
	    data += d
	assert len(data) > 200000, len(data)
	assert data.count(b"HTTP/1.1 200 OK") == n, data.count(b"HTTP/1.1 200 OK")
	assert data.count(b"tidegated_deliveries_total") >= n - 1
	assert data.endswith(b"ok\n"), data[-200:]
	PY
'

test_expect_success 'the connection that waited for its reader still serves requests' '
	curl -sf $URL/healthz
'

test_expect_success 'a client that half-closes after its signed push gets the 202' '
	wh_payload github-push $A $B >p.json &&
	sig=$(wh_hmac_hex "$TEST_DIR/github.secret" p.json) &&
	python3 - "$WH_PORT" "$sig" <<-\PY
	import socket, sys
	body = open("p.json", "rb").read()
	head = ("POST /hooks/github HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
	        "X-GitHub-Event: push\r\nX-GitHub-Delivery: half-1\r\n"
	        "X-Hub-Signature-256: sha256=%s\r\nContent-Length: %d\r\n\r\n" % (sys.argv[2], len(body)))
	s = socket.create_connection(("127.0.0.1", int(sys.argv[1])))
	s.sendall(head.encode() + body)
	s.shutdown(socket.SHUT_WR)
	s.settimeout(10)
	data = b""
	while True:
	    d = s.recv(4096)
	    if not d:
	        break
	    data += d
	assert data.startswith(b"HTTP/1.1 202"), data
	PY
'

test_expect_success 'pipelined signed pushes: each is answered, in order' '
	sig=$(wh_hmac_hex "$TEST_DIR/github.secret" p.json) &&
	python3 - "$WH_PORT" "$sig" <<-\PY
	import re, socket, sys
	body = open("p.json", "rb").read()
	def req(d, last=False):
	    return ("POST /hooks/github HTTP/1.1\r\nHost: x\r\nX-GitHub-Event: push\r\n"
	            "X-GitHub-Delivery: %s\r\nX-Hub-Signature-256: sha256=%s\r\n%s"
	            "Content-Length: %d\r\n\r\n" % (d, sys.argv[2], "Connection: close\r\n" if last else "",
	                                            len(body))).encode() + body
	s = socket.create_connection(("127.0.0.1", int(sys.argv[1])))
	s.sendall(req("pipe-1") + req("pipe-1") + req("pipe-2", True))
	s.settimeout(10)
	data = b""
	while True:
	    d = s.recv(4096)
	    if not d:
	        break
	    data += d
	codes = re.findall(rb"HTTP/1\.1 (\d{3}) ", data)
	assert codes == [b"202", b"200", b"202"], (codes, data)
	PY
'

test_expect_success 'the same delivery on eight connections at once: one 202, seven 200 duplicate, one event journaled' '
	sig=$(wh_hmac_hex "$TEST_DIR/github.secret" p.json) &&
	python3 - "$WH_PORT" "$sig" <<-\PY &&
	import re, socket, sys
	body = open("p.json", "rb").read()
	req = ("POST /hooks/github HTTP/1.1\r\nHost: x\r\nX-GitHub-Event: push\r\n"
	       "X-GitHub-Delivery: twice-1\r\nX-Hub-Signature-256: sha256=%s\r\n"
	       "Connection: close\r\nContent-Length: %d\r\n\r\n" % (sys.argv[2], len(body))).encode() + body
	socks = [socket.create_connection(("127.0.0.1", int(sys.argv[1]))) for _ in range(8)]
	for s in socks:
	    s.sendall(req)
	codes = []
	for s in socks:
	    s.settimeout(10)
	    data = b""
	    while True:
	        d = s.recv(4096)
	        if not d:
	            break
	        data += d
	    codes += re.findall(rb"HTTP/1\.1 (\d{3}) ", data)
	assert sorted(codes) == [b"200"] * 7 + [b"202"], codes
	PY
	test "$(grep -c "\"key\":\"github:twice-1\"" state/journal.log)" = 1
'

test_expect_success 'a push no app follows is answered but not journaled' '
	sed "s|refs/heads/main|refs/heads/nobody-follows|" p.json >other.json &&
	test "$(wh_github other.json push nobody-1)" = 200 &&
	test_grep "ignored" answer &&
	! grep -q "nobody-1" state/journal.log
'

test_expect_success 'a burst of pushes: every journaled event gets its done line' '
	for i in $(seq 1 20); do
		test "$(wh_github p.json push burst-$i)" = 202 || return 1
	done &&
	test_wait_for "curl -sf $URL/metrics | grep -qx \"tidegated_journal_pending 0\"" 30 &&
	python3 - state/journal.log <<-\PY
	import json, sys
	ev, done = set(), set()
	for line in open(sys.argv[1]):
	    r = json.loads(line)
	    if r["t"] == "ev":
	        ev.add(r["seq"])
	    elif r["t"] == "done":
	        done.add(r["seq"])
	assert len(ev) >= 20, len(ev)
	assert ev <= done, sorted(ev - done)
	PY
'

test_expect_success 'after a restart nothing is resumed: all of it was finished' '
	wh_stop &&
	: >"$TEST_DIR/tidegated.log" &&
	wh_start conf.yaml &&
	! grep -q "resuming a journaled push" "$TEST_DIR/tidegated.log"
'

test_done
