#!/usr/bin/env bash
# The gate in a real git server: `git push` over file:// to a bare
# repository whose pre-receive hook is tidegate-pre-receive.
. "$(dirname "$0")/test-lib.sh"
. "$TEST_DATA/hooks/lib.sh"

test_expect_success 'a good manifest is accepted' '
	hk_server s1 && hk_work w1 s1 &&
	hk_put w1 k8s/web/deploy.yaml good-deploy.yaml &&
	hk_put w1 k8s/web/svc.yaml good-svc.yaml &&
	hk_commit w1 good &&
	hk_push w1 origin main &&
	test ! -s remote.out &&
	git -C s1.git rev-parse --verify -q refs/heads/main
'

test_expect_success 'a bad manifest is refused with the exact message the pusher sees' '
	hk_server s2 && hk_work w2 s2 &&
	hk_put w2 k8s/web/deploy.yaml good-deploy.yaml && hk_commit w2 one &&
	hk_push w2 origin main &&
	hk_put w2 k8s/web/deploy.yaml bad-deploy.yaml && hk_commit w2 two &&
	! hk_push w2 origin main &&
	short=$(git -C w2 rev-parse --short=7 HEAD) &&
	cat >expect <<-EOT &&
	tidegate: refs/heads/main ($short): 1 error
	k8s/web/deploy.yaml:42:25: error: container '"'"'web'"'"' runs privileged [privileged-container]
	tidegate: push refused: 1 ref failed the manifest checks; see the rules with \`tidegate lint --list-rules\`
	EOT
	test_cmp expect remote.out &&
	test_grep "pre-receive hook declined" push.err &&
	test "$(git -C s2.git rev-parse main)" = "$(git -C w2 rev-parse HEAD~1)"
'

test_expect_success 'warnings are shown but do not refuse' '
	hk_server s3 && hk_work w3 s3 &&
	hk_put w3 app/deploy.yaml warn-deploy.yaml && hk_commit w3 warn &&
	hk_push w3 origin main &&
	test_grep "^tidegate: refs/heads/main ([0-9a-f]*): 1 warning$" remote.out &&
	test_grep "^app/deploy.yaml:20:18: warning: .*\[latest-tag\]$" remote.out &&
	! grep "push refused" remote.out
'

test_expect_success 'several refs in one push: one bad ref refuses the push, named alone' '
	hk_server s4 && hk_work w4 s4 &&
	hk_put w4 README readme.txt && hk_commit w4 base && hk_push w4 origin main &&
	git -C w4 checkout -q -b good main && hk_put w4 k8s/d.yaml good-deploy.yaml &&
	hk_commit w4 good &&
	git -C w4 checkout -q -b bad main && hk_put w4 k8s/d.yaml bad-deploy.yaml &&
	hk_commit w4 bad &&
	! hk_push w4 origin good bad &&
	test_grep "^tidegate: refs/heads/bad (" remote.out &&
	! grep "refs/heads/good" remote.out &&
	! git -C s4.git rev-parse --verify -q refs/heads/good
'

test_expect_success 'deleting a branch is not checked' '
	hk_server s5 && hk_work w5 s5 &&
	hk_put w5 k8s/d.yaml good-deploy.yaml && hk_commit w5 one && hk_push w5 origin main &&
	hk_push w5 origin main:refs/heads/gone &&
	hk_push w5 origin :refs/heads/gone &&
	! git -C s5.git rev-parse --verify -q refs/heads/gone &&
	test ! -s remote.out
'

test_expect_success 'a force push is checked against the old tip it replaces' '
	hk_server s6 && hk_work w6 s6 &&
	hk_put w6 k8s/d.yaml good-deploy.yaml && hk_commit w6 one && hk_push w6 origin main &&
	hk_put w6 k8s/d.yaml warn-deploy.yaml && hk_commit w6 two && hk_push w6 origin main &&
	git -C w6 reset -q --hard HEAD~1 &&
	hk_put w6 k8s/d.yaml bad-deploy.yaml && hk_commit w6 rewritten &&
	! hk_push w6 --force origin main &&
	test_grep "privileged-container" remote.out &&
	git -C w6 reset -q --hard HEAD~1 &&
	hk_put w6 k8s/other.yaml good-svc.yaml && hk_commit w6 rewritten-good &&
	hk_push w6 --force origin main &&
	test "$(git -C s6.git rev-parse main)" = "$(git -C w6 rev-parse HEAD)"
'

test_expect_success 'a new branch: only commits not on existing refs are checked' '
	hk_server s7 && hk_work w7 s7 &&
	hk_put w7 legacy/old.yaml bad-deploy.yaml && hk_commit w7 legacy &&
	git -C s7.git config tidegate.paths "k8s" &&
	hk_push w7 origin main &&
	git -C s7.git config --unset tidegate.paths &&
	hk_push w7 origin main:refs/heads/same &&
	test ! -s remote.out &&
	git -C w7 checkout -q -b feature && hk_put w7 k8s/ok.yaml good-svc.yaml &&
	hk_commit w7 feature && hk_push w7 origin feature &&
	test ! -s remote.out &&
	hk_put w7 k8s/bad.yaml bad-deploy.yaml && hk_commit w7 feature-bad &&
	! hk_push w7 origin feature:refs/heads/feature2 &&
	test_grep "^k8s/bad.yaml:.*privileged-container" remote.out &&
	! grep legacy remote.out
'

test_expect_success 'a SHA-256 repository is checked' '
	hk_server s8 --object-format=sha256 &&
	git init -q --object-format=sha256 w8 &&
	git -C w8 remote add origin "file://$TEST_DIR/s8.git" &&
	hk_put w8 k8s/d.yaml good-deploy.yaml && hk_commit w8 one &&
	hk_push w8 origin main &&
	hk_put w8 k8s/d.yaml bad-deploy.yaml && hk_commit w8 two &&
	! hk_push w8 origin main &&
	test_grep "^tidegate: refs/heads/main ($(git -C w8 rev-parse --short=7 HEAD)): 1 error" remote.out &&
	git -C w8 checkout -q -b other HEAD~1 && hk_put w8 k8s/x.yaml bad-deploy.yaml &&
	hk_commit w8 new-branch-bad && ! hk_push w8 origin other &&
	test_grep "^k8s/x.yaml:" remote.out
'

test_expect_success 'only configured paths and manifest extensions are checked' '
	hk_server s13 && hk_work w13 s13 &&
	git -C s13.git config tidegate.paths "deploy/*" &&
	hk_put w13 other/d.yaml bad-deploy.yaml &&
	hk_put w13 deploy/notes.txt bad-deploy.yaml && hk_commit w13 outside &&
	hk_push w13 origin main && test ! -s remote.out &&
	hk_put w13 deploy/d.yml bad-deploy.yaml && hk_commit w13 inside &&
	! hk_push w13 origin main && test_grep "^deploy/d.yml:" remote.out
'

test_expect_success 'binary files, symlinks and submodules are skipped cleanly' '
	hk_server s14 && hk_work w14 s14 &&
	mkdir -p w14/k8s && printf "kind: Deployment\0\1\2" >w14/k8s/blob.yaml &&
	ln -s ../../etc/passwd w14/k8s/link.yaml &&
	hk_put w14 sub/x.txt readme.txt && git -C w14 add -A && git -C w14 commit -q -m sub &&
	sub=$(git -C w14 rev-parse HEAD) &&
	git -C w14 update-index --add --cacheinfo 160000,$sub,k8s/module.yaml &&
	git -C w14 commit -q -m "gitlink" &&
	hk_push w14 origin main &&
	test ! -s remote.out
'

test_expect_success 'tags are checked only when tidegate.refs selects them' '
	hk_server s15 && hk_work w15 s15 &&
	hk_put w15 k8s/d.yaml good-deploy.yaml && hk_commit w15 one && hk_push w15 origin main &&
	git -C w15 checkout -q --detach && hk_put w15 k8s/d.yaml bad-deploy.yaml &&
	hk_commit w15 tagged && git -C w15 tag v1 &&
	hk_push w15 origin v1 &&
	git -C s15.git config --add tidegate.refs "refs/heads/*" &&
	git -C s15.git config --add tidegate.refs "refs/tags/*" &&
	hk_put w15 k8s/e.yaml bad-deploy.yaml && hk_commit w15 tagged-again &&
	git -C w15 tag v2 && ! hk_push w15 origin v2 &&
	test_grep "^tidegate: refs/tags/v2 (" remote.out
'

test_expect_success 'a cross-object finding in an unchanged file of the same directory is reported' '
	hk_server s16 && hk_work w16 s16 &&
	hk_put w16 k8s/d.yaml good-deploy.yaml && hk_put w16 k8s/svc.yaml good-svc.yaml &&
	hk_commit w16 one && hk_push w16 origin main && test ! -s remote.out &&
	sed "s/app: web/app: shop-web/" "$HOOKS_DATA/good-deploy.yaml" >w16/k8s/d.yaml &&
	hk_commit w16 relabel && hk_push w16 origin main &&
	test_grep "^k8s/svc.yaml:.*\[dangling-service\]$" remote.out
'

test_expect_success 'under GitLab, refusal lines carry GL-HOOK-ERR' '
	hk_server s17 && hk_work w17 s17 &&
	hk_put w17 k8s/d.yaml bad-deploy.yaml && hk_commit w17 bad &&
	! GL_ID=user-1 GL_REPOSITORY=project-1 hk_push w17 origin main &&
	test_grep "^GL-HOOK-ERR: tidegate: refs/heads/main (" remote.out &&
	test_grep "^GL-HOOK-ERR: k8s/d.yaml:42:25: error:" remote.out &&
	test_grep "^GL-HOOK-ERR: tidegate: push refused" remote.out
'

test_expect_success 'the hook input is validated' '
	git init -q --bare s25.git &&
	echo "garbage" | (cd s25.git && GIT_DIR=. tidegate-pre-receive) 2>err;
	test $? = 1 && test_grep "malformed hook input line 1" err
'

test_done
