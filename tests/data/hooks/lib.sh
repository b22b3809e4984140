# Helpers for the hook tests (t03xx), sourced after test-lib.sh.
HOOKS_DATA=$TEST_DATA/hooks

# hk_server NAME [git init options]: a bare repository with the gate installed.
# The tests check behaviour, not speed: a generous deadline keeps a busy
# machine (or a sanitizer build) from turning a check into a timeout;
# the deadline tests set their own.
hk_server() {
	local name=$1
	shift
	git init -q --bare "$@" "$TEST_DIR/$name.git" &&
	git -C "$TEST_DIR/$name.git" config tidegate.deadline 120s &&
	ln -s "$TIDEGATE_BUILD/bin/tidegate-pre-receive" "$TEST_DIR/$name.git/hooks/pre-receive"
}

# hk_work NAME SERVER: a clone of the server to push from.
hk_work() {
	git clone -q "file://$TEST_DIR/$2.git" "$TEST_DIR/$1" 2>/dev/null
}

# hk_put WORK PATH FIXTURE: copies a fixture (a name in tests/data/hooks) into the clone.
hk_put() {
	mkdir -p "$(dirname "$TEST_DIR/$1/$2")" &&
	cp "$HOOKS_DATA/$3" "$TEST_DIR/$1/$2"
}

# hk_commit WORK MESSAGE: commits everything.
hk_commit() {
	git -C "$TEST_DIR/$1" add -A &&
	git -C "$TEST_DIR/$1" commit -q -m "$2"
}

# hk_push WORK ARGS...: pushes; the pusher's view of the hook output
# (the "remote: " lines, prefix and padding removed) goes to remote.out.
hk_push() {
	local work=$1 st
	shift
	git -C "$TEST_DIR/$work" push "$@" >push.out 2>push.err
	st=$?
	sed -n 's/^remote: //p' push.err | sed 's/[[:space:]]*$//' >remote.out
	cat push.err
	return $st
}

# The system python starts in a fraction of the time a version-manager shim takes.
if [ -x /usr/bin/python3 ]; then HK_PYTHON=/usr/bin/python3; else HK_PYTHON=python3; fi
