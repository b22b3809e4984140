#!/usr/bin/env bash
# tidegated serves HTTPS when given a certificate; SIGHUP reloads the
# configuration (secrets, apps) and the certificate without dropping requests;
# a broken configuration is refused and the running one kept.
. "$(dirname "$0")/test-lib.sh"
. "$TEST_DATA/webhooks/lib.sh"

wh_secrets
mkcert() {	# mkcert NAME CN
	openssl req -x509 -newkey rsa:2048 -nodes -keyout "$1.key" -out "$1.pem" -days 2 \
		-subj "/CN=$2" -addext "subjectAltName=IP:127.0.0.1" >/dev/null 2>&1
}
mkcert first tidegate-first && mkcert second tidegate-second || exit 1
cp first.pem cert.pem && cp first.key cert.key
A=1111111111111111111111111111111111111111
APPS='  - {name: gh, repo: "https://github.com/octo-org/deploy", branch: main, cluster: one}'
wh_config conf.yaml "$APPS" "git: /bin/true
tls: {cert: $TEST_DIR/cert.pem, key: $TEST_DIR/cert.key}"
# wh_start polls http://; with TLS the readiness probe is made here.
(tidegated -c conf.yaml >>tidegated.log 2>&1 </dev/null & echo $! >tidegated.pid; { wait $!; } 2>/dev/null; echo $? >tidegated.rc) &
test_wait_for "test -s tidegated.pid" 5
URL=https://127.0.0.1:$WH_PORT
test_wait_for "curl -sf --cacert first.pem $URL/readyz" 10 || { cat tidegated.log; exit 1; }

subject() {
	openssl s_client -connect 127.0.0.1:$WH_PORT -servername 127.0.0.1 </dev/null 2>/dev/null |
		openssl x509 -noout -subject
}

test_expect_success 'HTTPS with the configured certificate' '
	curl -sf --cacert first.pem $URL/healthz >out && test "$(cat out)" = ok &&
	subject | grep -q tidegate-first
'

test_expect_success 'plain HTTP on the TLS port gets nothing useful' '
	! curl -sf --max-time 3 http://127.0.0.1:$WH_PORT/healthz
'

test_expect_success 'a signed push over HTTPS: 202' '
	wh_payload github-push $A $A >p.json &&
	code=$(curl -s --cacert first.pem -o answer -w "%{http_code}" -X POST --data-binary @p.json \
		-H "X-GitHub-Event: push" -H "X-GitHub-Delivery: tls-1" \
		-H "X-Hub-Signature-256: sha256=$(wh_hmac_hex github.secret p.json)" $URL/hooks/github) &&
	test "$code" = 202
'

test_expect_success 'SIGHUP picks up a new certificate' '
	cp second.pem cert.pem && cp second.key cert.key &&
	kill -HUP $(cat tidegated.pid) &&
	test_wait_for "subject | grep -q tidegate-second" 10 &&
	curl -sf --cacert second.pem $URL/healthz
'

test_expect_success 'SIGHUP picks up a rotated secret: the new one is accepted, the old refused' '
	printf "rotated-secret\n" >github.secret &&
	kill -HUP $(cat tidegated.pid) &&
	test_wait_for "grep -q \"configuration reloaded\" tidegated.log" 10 &&
	sleep 0.5 &&
	code=$(curl -s --cacert second.pem -o answer -w "%{http_code}" -X POST --data-binary @p.json \
		-H "X-GitHub-Event: push" -H "X-GitHub-Delivery: tls-2" \
		-H "X-Hub-Signature-256: sha256=$(wh_hmac_hex github.secret p.json)" $URL/hooks/github) &&
	test "$code" = 202 &&
	printf "It'"'"'s a Secret to Everybody\n" >old.secret &&
	code=$(curl -s --cacert second.pem -o answer -w "%{http_code}" -X POST --data-binary @p.json \
		-H "X-GitHub-Event: push" -H "X-GitHub-Delivery: tls-3" \
		-H "X-Hub-Signature-256: sha256=$(wh_hmac_hex old.secret p.json)" $URL/hooks/github) &&
	test "$code" = 401
'

test_expect_success 'a broken configuration on SIGHUP is refused; the running one stays' '
	cp conf.yaml good.yaml &&
	printf "apps: [\n" >>conf.yaml &&
	kill -HUP $(cat tidegated.pid) &&
	test_wait_for "grep -q \"reload failed\" tidegated.log" 10 &&
	cp good.yaml conf.yaml &&
	curl -sf --cacert second.pem $URL/healthz
'

test_expect_success 'requests keep being answered while SIGHUPs arrive' '
	for i in $(seq 1 20); do
		kill -HUP $(cat tidegated.pid)
		curl -sf --cacert second.pem $URL/healthz >/dev/null || exit 1
	done
'

test_expect_success 'SIGTERM with nothing running exits 0' '
	kill -TERM $(cat tidegated.pid) &&
	test_wait_for "test -s tidegated.rc" 10 &&
	test "$(cat tidegated.rc)" = 0
'

test_done
