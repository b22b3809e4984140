#!/usr/bin/env bash
# tidegated's HTTP limits: oversized bodies and headers are refused without being
# buffered, a slow client is dropped at the deadline while others are served,
# connections are capped, and no request of any shape crashes it.
. "$(dirname "$0")/test-lib.sh"
. "$TEST_DATA/webhooks/lib.sh"

wh_secrets
wh_config conf.yaml '  - {name: gh, repo: "https://github.com/octo-org/deploy", branch: main, cluster: one}' \
"git: /bin/true
limits: {request_timeout: 2, max_connections: 8}"
wh_start conf.yaml || exit 1
URL=http://127.0.0.1:$WH_PORT

test_expect_success 'a 26 MiB body is refused with 413 (default limit 25 MiB)' '
	head -c $((26 * 1024 * 1024)) /dev/zero >big &&
	test "$(wh_post /hooks/github big -H "X-GitHub-Event: push")" = 413 &&
	test_grep "too large" answer
'

test_expect_success 'the 413 comes from the Content-Length, before the body is read' '
	python3 - "$WH_PORT" <<-\PY
	import socket, sys, time
	s = socket.create_connection(("127.0.0.1", int(sys.argv[1])))
	s.sendall(b"POST /hooks/github HTTP/1.1\r\nHost: x\r\nContent-Length: 1073741824\r\n\r\n")
	s.settimeout(5)
	data = s.recv(4096)
	assert data.startswith(b"HTTP/1.1 413"), data
	PY
'

test_expect_success 'a body just under the limit is read (then refused for its signature)' '
	head -c 1000000 /dev/zero >mid &&
	test "$(wh_post /hooks/github mid -H "X-GitHub-Event: push")" = 401
'

test_expect_success 'headers over 64 KiB: 431' '
	test "$(curl -s -o /dev/null -w "%{http_code}" -H "X-Big: $(head -c 70000 /dev/zero | tr "\0" a)" $URL/healthz)" = 431
'

test_expect_success 'a chunked request body: 411' '
	printf "{}" >small &&
	test "$(wh_post /hooks/github small -H "Transfer-Encoding: chunked")" = 411
'

test_expect_success 'garbage instead of a request: 400, and the server lives' '
	python3 - "$WH_PORT" <<-\PY
	import socket, sys
	for junk in [b"\x00\x01\x02 nonsense\r\n\r\n", b"GET\r\n\r\n", b"GET / HTTP/9.9\r\n\r\n",
	             b"GET / HTTP/1.1\r\n bad: fold\r\n\r\n", b"GET / HTTP/1.1\r\nNoColon\r\n\r\n",
	             b"POST /hooks/github HTTP/1.1\r\nContent-Length: -1\r\n\r\n",
	             b"POST /hooks/github HTTP/1.1\r\nContent-Length: 5\r\nContent-Length: 6\r\n\r\n"]:
	    s = socket.create_connection(("127.0.0.1", int(sys.argv[1])))
	    s.sendall(junk)
	    s.settimeout(5)
	    data = s.recv(4096)
	    assert data.startswith(b"HTTP/1.1 4") or data.startswith(b"HTTP/1.1 505"), (junk, data)
	    s.close()
	PY
	curl -sf $URL/healthz
'

test_expect_success 'slowloris: a client trickling headers is dropped at the deadline, others are served' '
	python3 - "$WH_PORT" <<-\PY
	import socket, sys, time, subprocess
	port = int(sys.argv[1])
	s = socket.create_connection(("127.0.0.1", port))
	s.sendall(b"POST /hooks/github HTTP/1.1\r\nHost: x\r\n")
	t0 = time.time()
	served = False
	closed_at = None
	while time.time() - t0 < 8:
	    try:
	        s.sendall(b"X")          # one byte every 0.25 s keeps a read timeout from firing
	    except OSError:
	        closed_at = time.time() - t0
	        break
	    s.settimeout(0.25)
	    try:
	        if s.recv(1) == b"":
	            closed_at = time.time() - t0
	            break
	    except socket.timeout:
	        pass
	    if not served and time.time() - t0 > 0.5:
	        out = subprocess.run(["curl", "-sf", "--max-time", "2",
	                              "http://127.0.0.1:%d/healthz" % port], capture_output=True)
	        served = out.returncode == 0 and out.stdout == b"ok\n"
	assert served, "another client was not served meanwhile"
	assert closed_at is not None, "the slow client was never dropped"
	assert 1.5 <= closed_at <= 4, "dropped after %.1fs, want about 2s" % closed_at
	PY
'

test_expect_success 'keep-alive: two requests on one connection' '
	curl -sv $URL/healthz $URL/readyz >out 2>err &&
	test_grep -i "re-using existing connection" err &&
	test "$(cat out)" = "$(printf "ok\nready\n")"
'

test_expect_success 'pipelined requests are answered in order' '
	python3 - "$WH_PORT" <<-\PY
	import socket, sys, time
	s = socket.create_connection(("127.0.0.1", int(sys.argv[1])))
	s.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\nGET /readyz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
	data = b""
	s.settimeout(5)
	while True:
	    d = s.recv(4096)
	    if not d:
	        break
	    data += d
	assert data.count(b"HTTP/1.1 200") == 2 and data.index(b"ok\n") < data.index(b"ready\n"), data
	PY
'

test_expect_success 'connections over max_connections are turned away, the rest still work' '
	python3 - "$WH_PORT" <<-\PY
	import socket, sys, time
	port = int(sys.argv[1])
	held = [socket.create_connection(("127.0.0.1", port)) for _ in range(8)]
	time.sleep(0.3)
	extra = socket.create_connection(("127.0.0.1", port))
	extra.settimeout(3)
	data = extra.recv(4096)
	assert data == b"" or data.startswith(b"HTTP/1.1 503"), data
	for s in held:
	    s.close()
	time.sleep(0.3)
	s = socket.create_connection(("127.0.0.1", port))
	s.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
	s.settimeout(3)
	assert s.recv(4096).startswith(b"HTTP/1.1 200")
	PY
'

test_expect_success 'random bodies with a valid signature never crash it' '
	for i in $(seq 1 10); do
		head -c $((RANDOM % 4000 + 1)) /dev/urandom >rnd &&
		wh_github rnd push rnd-$i >/dev/null || exit 1
		test "$(cat code)" = 400 || exit 1
	done &&
	for body in "[]" "null" "1" "\"x\"" "{\"ref\":1}" "{\"repository\":[]}" \
		"{\"ref\":\"refs/heads/main\",\"after\":\"$(printf %040d 1)\",\"repository\":{\"clone_url\":7}}" \
		"$(python3 -c "print(\"[\" * 100000)")"; do
		printf "%s" "$body" >odd.json &&
		wh_github odd.json push odd-$RANDOM >/dev/null || exit 1
		test "$(cat code)" = 400 || exit 1
	done &&
	kill -0 $WH_PID
'

if ldd "$(command -v tidegated)" | grep -q libasan; then
	test_skip "idle memory (a sanitizer build is bigger by design)"
else
test_expect_success 'idle memory stays small (RSS under 20 MB)' '
	rss=$(awk "/^VmRSS/ {print \$2}" /proc/$WH_PID/status) &&
	echo "rss ${rss} kB" &&
	test "$rss" -lt 20480
'
fi

test_done
