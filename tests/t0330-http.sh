#!/usr/bin/env bash
# The gate and the notifier behind a real smart-HTTP git server:
# `git http-backend` run by lighttpd's mod_cgi on 127.0.0.1.
. "$(dirname "$0")/test-lib.sh"
. "$TEST_DATA/hooks/lib.sh"

LIGHTTPD=${LIGHTTPD:-/usr/sbin/lighttpd}
BACKEND=$(git --exec-path)/git-http-backend
test -x "$LIGHTTPD" || skip_all "lighttpd not installed"
test -x "$BACKEND" || skip_all "git-http-backend not found"

free_port() {
	"$HK_PYTHON" -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
}
port=$(free_port)
hook_port=$(free_port)
mkdir -p root
cat >lighttpd.conf <<EOC
server.document-root = "$TEST_DIR/root"
server.bind = "127.0.0.1"
server.port = $port
server.errorlog = "$TEST_DIR/lighttpd.log"
server.modules = ("mod_alias", "mod_setenv", "mod_cgi")
alias.url = ("/git" => "$BACKEND")
\$HTTP["url"] =~ "^/git" {
	cgi.assign = ("" => "")
	setenv.set-environment = (
		"GIT_PROJECT_ROOT" => "$TEST_DIR/root",
		"GIT_HTTP_EXPORT_ALL" => "1",
		"REMOTE_USER" => "alice",
		"PATH" => "$PATH",
		"HOME" => "$HOME",
		"GIT_CONFIG_NOSYSTEM" => "1",
	)
}
EOC
"$LIGHTTPD" -D -f lighttpd.conf &
test_bg_pid $!
printf "http-secret\n" >secret
"$HK_PYTHON" "$HOOKS_DATA/webhook-stub.py" "$hook_port" "$TEST_DIR/secret" "$TEST_DIR/hooks.log" &
test_bg_pid $!
if ! test_wait_for "test -e hooks.log.ready && curl -s -o /dev/null http://127.0.0.1:$port/" 20; then
	echo "Bail out! lighttpd or the webhook stub did not start: $(cat lighttpd.log 2>/dev/null)"
	exit 1
fi
url=http://127.0.0.1:$port/git

# http_server NAME: a bare repository under the HTTP root with both hooks.
http_server() {
	git init -q --bare "root/$1.git" &&
	git -C "root/$1.git" config http.receivepack true &&
	tidegate install-hooks "root/$1.git" >/dev/null &&
	git -C "root/$1.git" config tidegate.webhookUrl "http://127.0.0.1:$hook_port/hooks/generic" &&
	git -C "root/$1.git" config tidegate.webhookSecretFile "$TEST_DIR/secret" &&
	git -C "root/$1.git" config tidegate.webhookTimeout 20s &&
	git -C "root/$1.git" config tidegate.deadline 120s
}

test_expect_success 'over HTTP: a good manifest is accepted and tidegated is told' '
	http_server a &&
	git clone -q "$url/a.git" wa 2>/dev/null &&
	hk_put wa k8s/d.yaml good-deploy.yaml && hk_commit wa good &&
	hk_push wa origin main &&
	test ! -s remote.out &&
	"$HK_PYTHON" -c "
import json
recs = [json.loads(l) for l in open(\"hooks.log\")]
assert len(recs) == 1 and recs[0][\"signature_ok\"], recs
b = recs[0][\"body\"]
assert b[\"ref\"] == \"refs/heads/main\" and b[\"pusher\"] == \"alice\", b
assert b[\"repository\"][\"url\"].endswith(\"/root/a.git\"), b
"
'

test_expect_success 'over HTTP: a bad manifest is refused with the exact message' '
	hk_put wa k8s/d.yaml bad-deploy.yaml && hk_commit wa bad &&
	! hk_push wa origin main &&
	short=$(git -C wa rev-parse --short=7 HEAD) &&
	cat >expect <<-EOT &&
	tidegate: refs/heads/main ($short): 1 error
	k8s/d.yaml:42:25: error: container '"'"'web'"'"' runs privileged [privileged-container]
	tidegate: push refused: 1 ref failed the manifest checks; see the rules with \`tidegate lint --list-rules\`
	EOT
	test_cmp expect remote.out &&
	test "$(git -C root/a.git rev-parse main)" = "$(git -C wa rev-parse HEAD~1)"
'

test_expect_success 'over HTTP: break-glass with a push option, audited with the web user' '
	git -C root/a.git config receive.advertisePushOptions true &&
	git -C root/a.git config tidegate.allowBypass true &&
	hk_push wa -o "tidegate.skip=incident 42" origin main &&
	test_grep "checks skipped on request (incident 42)" remote.out &&
	test_grep "\"user\":\"alice\"" root/a.git/tidegate/audit.log &&
	test_grep "\"reason\":\"incident 42\"" root/a.git/tidegate/audit.log
'

test_expect_success 'over HTTP: a SHA-256 repository' '
	git init -q --bare --object-format=sha256 root/b.git &&
	git -C root/b.git config http.receivepack true &&
	git -C root/b.git config tidegate.deadline 120s &&
	tidegate install-hooks root/b.git >/dev/null &&
	git init -q --object-format=sha256 wb &&
	git -C wb remote add origin "$url/b.git" &&
	hk_put wb k8s/d.yaml bad-deploy.yaml && hk_commit wb bad &&
	! hk_push wb origin main &&
	test_grep "^k8s/d.yaml:42:25: error:" remote.out
'

test_done
