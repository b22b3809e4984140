#!/usr/bin/env bash
# `tidegate install-hooks` for each layout, keeping the hooks already in
# place working, and --uninstall putting things back as they were.
. "$(dirname "$0")/test-lib.sh"
. "$TEST_DATA/hooks/lib.sh"

bin=$TIDEGATE_BUILD/bin

# bare NAME: a bare repository without hooks (samples removed).
bare() {
	git init -q --bare "$1.git" && rm -f "$1.git"/hooks/*.sample &&
	git -C "$1.git" config tidegate.deadline 120s
}

test_expect_success 'plain: installs both hooks as links to the programs' '
	bare r1 &&
	tidegate install-hooks r1.git >out &&
	test "$(readlink r1.git/hooks/pre-receive)" = "$bin/tidegate-pre-receive" &&
	test "$(readlink r1.git/hooks/post-receive)" = "$bin/tidegate-post-receive" &&
	test_grep "pre-receive: installed" out &&
	hk_work w1 r1 && hk_put w1 k8s/d.yaml bad-deploy.yaml && hk_commit w1 bad &&
	! hk_push w1 origin main && test_grep "privileged-container" remote.out
'

test_expect_success 'plain: installing twice changes nothing' '
	tidegate install-hooks r1.git &&
	test "$(readlink r1.git/hooks/pre-receive)" = "$bin/tidegate-pre-receive" &&
	test ! -e r1.git/hooks/pre-receive.d
'

test_expect_success 'plain: an existing hook is kept and still runs first, with the same input' '
	bare r2 &&
	cp "$HOOKS_DATA/legacy-hook.sh" r2.git/hooks/pre-receive &&
	tidegate install-hooks --layout plain r2.git >out &&
	test_grep "kept the existing hook" out &&
	cmp "$HOOKS_DATA/legacy-hook.sh" r2.git/hooks/pre-receive.d/original-pre-receive &&
	hk_work w2 r2 && hk_put w2 k8s/d.yaml good-deploy.yaml && hk_commit w2 ok &&
	git -C w2 branch dev &&
	hk_push w2 origin main dev &&
	test_grep "^legacy hook ran$" remote.out &&
	zero=0000000000000000000000000000000000000000 && c=$(git -C w2 rev-parse HEAD) &&
	printf "%s %s refs/heads/dev\n%s %s refs/heads/main\n" $zero $c $zero $c >expect &&
	sort r2.git/legacy.log >actual && test_cmp expect actual
'

test_expect_success 'plain: the kept hook can still refuse a push tidegate accepts' '
	touch r2.git/legacy-refuse &&
	hk_put w2 k8s/e.yaml good-svc.yaml && hk_commit w2 more &&
	! hk_push w2 origin main &&
	test_grep "refused the push (exit 1)" remote.out &&
	rm r2.git/legacy-refuse
'

test_expect_success 'plain: the gate still refuses after the kept hook accepts' '
	hk_put w2 k8s/d.yaml bad-deploy.yaml && hk_commit w2 bad &&
	! hk_push w2 origin main &&
	test_grep "^legacy hook ran$" remote.out &&
	test_grep "privileged-container" remote.out
'

test_expect_success 'plain: --uninstall restores the original hook' '
	tidegate install-hooks --uninstall r2.git >out &&
	test_grep "restored the previous hook" out &&
	test ! -L r2.git/hooks/pre-receive &&
	cmp "$HOOKS_DATA/legacy-hook.sh" r2.git/hooks/pre-receive &&
	test ! -e r2.git/hooks/pre-receive.d &&
	test ! -e r2.git/hooks/post-receive &&
	hk_push w2 origin main && test_grep "^legacy hook ran$" remote.out
'

test_expect_success 'plain: --copy installs copies that --uninstall recognizes' '
	bare r3 &&
	tidegate install-hooks --copy r3.git &&
	test -f r3.git/hooks/pre-receive && test ! -L r3.git/hooks/pre-receive &&
	cmp "$bin/tidegate-pre-receive" r3.git/hooks/pre-receive &&
	tidegate install-hooks --uninstall r3.git &&
	test ! -e r3.git/hooks/pre-receive && test ! -e r3.git/hooks/post-receive
'

test_expect_success 'plain: core.hooksPath is followed' '
	bare r4 && mkdir shared-hooks &&
	git -C r4.git config core.hooksPath "$TEST_DIR/shared-hooks" &&
	tidegate install-hooks r4.git &&
	test -L shared-hooks/pre-receive && test ! -e r4.git/hooks/pre-receive
'

test_expect_success 'gitlab: custom_hooks/<hook>.d/tidegate, run the way Gitaly runs them' '
	bare r5 &&
	cp "$HOOKS_DATA/gitaly-runner.sh" r5.git/hooks/pre-receive &&
	mkdir -p r5.git/custom_hooks/pre-receive.d &&
	cp "$HOOKS_DATA/legacy-hook.sh" r5.git/custom_hooks/pre-receive.d/audit &&
	tidegate install-hooks --layout gitlab r5.git >out &&
	test -L r5.git/custom_hooks/pre-receive.d/tidegate &&
	test -L r5.git/custom_hooks/post-receive.d/tidegate &&
	cmp "$HOOKS_DATA/gitaly-runner.sh" r5.git/hooks/pre-receive &&
	hk_work w5 r5 && hk_put w5 k8s/d.yaml bad-deploy.yaml && hk_commit w5 bad &&
	! hk_push w5 origin main &&
	test_grep "^GL-HOOK-ERR: k8s/d.yaml:42:25: error:" remote.out
'

test_expect_success 'gitlab: --uninstall removes only tidegate' '
	tidegate install-hooks --layout gitlab --uninstall r5.git &&
	test ! -e r5.git/custom_hooks/pre-receive.d/tidegate &&
	test -x r5.git/custom_hooks/pre-receive.d/audit &&
	test ! -e r5.git/custom_hooks/post-receive.d &&
	hk_push w5 origin main && test_grep "^legacy hook ran$" remote.out
'

test_expect_success 'gitea: hooks/<hook>.d/tidegate next to the forge'"'"'s own hook' '
	bare r6 &&
	cp "$HOOKS_DATA/gitea-delegator.sh" r6.git/hooks/pre-receive &&
	mkdir r6.git/hooks/pre-receive.d &&
	cp "$HOOKS_DATA/legacy-hook.sh" r6.git/hooks/pre-receive.d/gitea &&
	tidegate install-hooks --layout gitea r6.git &&
	test -L r6.git/hooks/pre-receive.d/tidegate &&
	cmp "$HOOKS_DATA/gitea-delegator.sh" r6.git/hooks/pre-receive &&
	hk_work w6 r6 && hk_put w6 k8s/d.yaml bad-deploy.yaml && hk_commit w6 bad &&
	! hk_push w6 origin main &&
	test_grep "^legacy hook ran$" remote.out &&
	test_grep "^k8s/d.yaml:42:25: error:" remote.out
'

test_expect_success 'gitea: --uninstall keeps the forge'"'"'s hooks' '
	tidegate install-hooks --layout gitea --uninstall r6.git &&
	test ! -e r6.git/hooks/pre-receive.d/tidegate &&
	test -x r6.git/hooks/pre-receive.d/gitea &&
	hk_push w6 origin main
'

test_expect_success 'a drop-in that is not tidegate'"'"'s is left alone' '
	bare r7 && mkdir -p r7.git/hooks/pre-receive.d &&
	echo "#!/bin/sh" >r7.git/hooks/pre-receive.d/tidegate &&
	! tidegate install-hooks --layout gitea r7.git 2>err &&
	test_grep "is not tidegate" err &&
	test "$(cat r7.git/hooks/pre-receive.d/tidegate)" = "#!/bin/sh"
'

test_expect_failure_exit 1 'a directory that is not a repository is an error' '
	mkdir plain-dir && tidegate install-hooks plain-dir
'

test_expect_failure_exit 2 'an unknown layout is a usage error' '
	tidegate install-hooks --layout svn r1.git
'

test_done
