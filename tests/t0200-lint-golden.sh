#!/usr/bin/env bash
# Golden cases: each folder of tests/data/lint/ holds input files, an
# optional `args` (default: .), an optional `generate` script that makes
# big inputs at run time, and `expected`: the exact text output of
# `tidegate lint` run inside the folder, then "exit N".
. "$(dirname "$0")/test-lib.sh"

for case_dir in "$TEST_DATA"/lint/*/; do
	name=$(basename "$case_dir")
	test_expect_success "lint case $name" '
		rm -rf "$TEST_DIR/case" && mkdir "$TEST_DIR/case" &&
		cp -R "$case_dir". "$TEST_DIR/case/" &&
		cd "$TEST_DIR/case" &&
		rm -f expected &&
		if test -f generate; then sh ./generate && rm -f generate; fi &&
		args=. &&
		if test -f args; then args=$(cat args); rm -f args; fi &&
		{ tidegate lint $args >"$TEST_DIR/actual" 2>"$TEST_DIR/stderr"; echo "exit $?" >>"$TEST_DIR/actual"; } &&
		cd "$TEST_DIR" &&
		diff -u "$case_dir/expected" actual
	'
done

test_done
