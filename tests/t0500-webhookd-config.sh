#!/usr/bin/env bash
# tidegated -n checks a configuration: 0 when good, 1 with an error that names the field.
. "$(dirname "$0")/test-lib.sh"
. "$TEST_DATA/webhooks/lib.sh"

wh_secrets
APPS='  - {name: web, repo: "https://github.com/octo-org/deploy.git", branch: main, path: k8s/web, cluster: one, namespace: web, prune: true}'

test_expect_success 'a good configuration passes -n' '
	wh_config good.yaml "$APPS" &&
	tidegated -n -c good.yaml >out &&
	test_grep "configuration OK (1 apps)" out
'

# check_bad NAME SED-EXPR WANTED-MESSAGE: the good config edited must fail naming the field.
check_bad() {
	sed -e "$2" good.yaml >"$1.yaml"
	tidegated -n -c "$1.yaml" >out 2>err
	test $? = 1 && test_grep -F -- "$3" err
}

test_expect_success 'an unknown cluster is named' '
	check_bad cl "s/cluster: one, namespace/cluster: nope, namespace/" "apps[0].cluster: unknown cluster '"'"'nope'"'"'"
'

test_expect_success 'a missing secret file is named' '
	check_bad sec "s|$TEST_DIR/gitea.secret|$TEST_DIR/missing.secret|" "receivers[2].secret_file"
'

test_expect_success 'a receiver without a secret refuses to start' '
	check_bad nosec "s|{provider: gitea, secret_file: [^}]*}|{provider: gitea}|" "a receiver needs a secret (or insecure: true)"
'

test_expect_success 'insecure: true allows a receiver without a secret' '
	sed "s|{provider: gitea, secret_file: [^}]*}|{provider: gitea, insecure: true}|" good.yaml >ins.yaml &&
	tidegated -n -c ins.yaml
'

test_expect_success 'an unknown key is refused (a typo is not ignored)' '
	check_bad typo "s/prune: true/prnue: true/" "apps[0].prnue: unknown key"
'

test_expect_success 'a bad listen address is refused' '
	check_bad listen "s/^listen: .*/listen: localhost/" "listen: '"'"'localhost'"'"' is not ADDRESS:PORT"
'

test_expect_success 'an unknown provider is refused' '
	check_bad prov "s/provider: bitbucket/provider: svn/" "unknown provider '"'"'svn'"'"'"
'

test_expect_success 'allow_sha1 is for GitHub only' '
	check_bad sha1 "s|{provider: gitea, |{provider: gitea, allow_sha1: true, |" "only GitHub signs with SHA-1"
'

test_expect_success 'a repo that is not a URL or path is refused' '
	check_bad repo "s|https://github.com/octo-org/deploy.git|ftp://example.com/x|" "apps[0].repo"
'

test_expect_success 'two apps with one name are refused' '
	wh_config dup.yaml "$APPS
$APPS" &&
	tidegated -n -c dup.yaml 2>err; test $? = 1 && test_grep "apps\[1\].name: .web. is defined twice" err
'

test_expect_success 'YAML syntax errors carry a line number' '
	printf "listen: [127.0.0.1\n" >syn.yaml &&
	tidegated -n -c syn.yaml 2>err; test $? = 1 && test_grep "syn.yaml:[0-9]" err
'

test_expect_success 'a missing configuration file is an error' '
	tidegated -n -c nowhere.yaml 2>err; test $? = 1 && test_grep "nowhere.yaml" err
'

test_expect_success 'no -c is a usage error (exit 2)' '
	tidegated 2>err; test $? = 2 && test_grep "usage" err
'

test_expect_success 'a TLS key that does not load is named' '
	wh_config tls.yaml "$APPS" "tls: {cert: $TEST_DIR/none.pem, key: $TEST_DIR/none.key}" &&
	tidegated -n -c tls.yaml 2>err; test $? = 1 && test_grep "tls.cert" err
'

test_expect_success 'the secret itself never appears in an error' '
	check_bad nosec2 "s|{provider: gitea, secret_file: [^}]*}|{provider: gitea, secret_file: $TEST_DIR/github.secret, allow_sha1: true}|" "allow_sha1" &&
	! grep -F "Secret to Everybody" err
'

test_done
