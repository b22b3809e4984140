#!/usr/bin/env bash
# `make install` lays out what an operator needs: the programs, the man
# pages, the systemd unit and the example configuration; and those files
# are sound (the unit verifies, the pages render without warnings, the
# example configuration is one tidegated accepts).
. "$(dirname "$0")/test-lib.sh"

root=$TEST_DIR/root
prefix=/usr/local
test_expect_success 'make install PREFIX DESTDIR lays out programs, man pages, unit, example' '
	make -s -C "$TIDEGATE_SRC" O="$TIDEGATE_BUILD" install-files PREFIX=$prefix DESTDIR="$root" >out 2>&1 ||
		{ cat out; exit 1; }
	for p in tidegate tidegated tidegate-pre-receive tidegate-post-receive; do
		test -x "$root$prefix/bin/$p" || { echo "missing bin/$p"; exit 1; }
	done &&
	test -f "$root$prefix/share/man/man1/tidegate.1" &&
	test -f "$root$prefix/share/man/man8/tidegated.8" &&
	test -f "$root$prefix/share/man/man5/tidegate.yaml.5" &&
	test -f "$root$prefix/lib/systemd/system/tidegated.service" &&
	test -f "$root$prefix/share/tidegate/tidegated.example.yaml"
'

test_expect_success 'installed files are not executable unless they are programs' '
	for f in share/man/man1/tidegate.1 share/man/man8/tidegated.8 \
		lib/systemd/system/tidegated.service share/tidegate/tidegated.example.yaml; do
		test ! -x "$root$prefix/$f" || { echo "$f is executable"; exit 1; }
	done
'

test_expect_success 'nothing is installed outside DESTDIR/PREFIX' '
	(cd "$root" && find . -mindepth 1 -maxdepth 3 -type d) | sort >dirs &&
	! grep -v -E "^\./usr(/local(/[a-z]+)?)?$" dirs
'

test_expect_success 'the installed programs run from their new home' '
	"$root$prefix/bin/tidegate" version | test_grep "^tidegate [0-9]" &&
	"$root$prefix/bin/tidegated" --version | test_grep "^tidegated [0-9]"
'

test_expect_success 'the unit starts the installed daemon with the documented config path' '
	u="$root$prefix/lib/systemd/system/tidegated.service" &&
	test_grep -x "ExecStart=$prefix/bin/tidegated -c /etc/tidegate/tidegated.yaml" "$u" &&
	test_grep -x "ExecReload=/bin/kill -HUP \$MAINPID" "$u" &&
	test_grep -x "StateDirectory=tidegate" "$u" &&
	test_grep -x "User=tidegate" "$u" &&
	for k in NoNewPrivileges=yes ProtectSystem=strict ProtectHome=yes PrivateTmp=yes \
		PrivateDevices=yes ProtectKernelTunables=yes ProtectKernelModules=yes \
		"RestrictAddressFamilies=AF_UNIX AF_INET AF_INET6" SystemCallFilter=@system-service \
		CapabilityBoundingSet= MemoryMax=512M; do
		grep -qx "$k" "$u" || { echo "no $k"; exit 1; }
	done
'

if command -v systemd-analyze >/dev/null 2>&1; then
	test_expect_success 'systemd-analyze verify accepts the unit' '
		mkdir -p unit &&
		sed "s#$prefix/bin/tidegated#$root$prefix/bin/tidegated#g" \
			"$root$prefix/lib/systemd/system/tidegated.service" >unit/tidegated.service &&
		systemd-analyze verify --man=no unit/tidegated.service >out 2>&1 ||
			{ cat out; exit 1; }
		! test -s out || { cat out; exit 1; }
	'
	test_expect_success 'systemd-analyze verify would catch a broken unit' '
		sed "s/^ExecStart=/ExecStrat=/" unit/tidegated.service >unit/broken.service &&
		! systemd-analyze verify --man=no unit/broken.service >out 2>&1 &&
		test_grep "Unknown key .ExecStrat." out
	'
else
	test_skip "systemd-analyze not installed"
	test_skip "systemd-analyze not installed"
fi

if command -v groff >/dev/null 2>&1; then
	test_expect_success 'the man pages render with no warnings' '
		for f in "$root$prefix"/share/man/man*/*; do
			groff -man -Tutf8 -ww "$f" >page 2>warn || { cat warn; exit 1; }
			test -s page || { echo "$f renders empty"; exit 1; }
			! test -s warn || { echo "$f:"; cat warn; exit 1; }
		done
	'
else
	test_skip "groff not installed"
fi

test_expect_success 'tidegate(1) documents every subcommand and apply flag of the interface' '
	groff -man -Tascii -P-cbou "$root$prefix/share/man/man1/tidegate.1" >page 2>/dev/null ||
		cat "$root$prefix/share/man/man1/tidegate.1" >page
	for w in "tidegate lint" "tidegate apply" "tidegate diff" "tidegate schema pull" \
		"tidegate install-hooks" --format --schema-dir --kube-version --strict --config \
		--list-rules --kubeconfig --context --applyset --prune --dry-run --force-conflicts \
		--concurrency --git-dir --rev --layout --uninstall "EXIT STATUS"; do
		grep -q -- "$w" page || { echo "not documented: $w"; exit 1; }
	done
'

if "$root$prefix/bin/tidegated" -n -c /dev/null 2>&1 | grep -q "not built yet"; then
	test_skip "tidegated is not built yet"
else
test_expect_success 'the example configuration is one tidegated accepts' '
	ex="$root$prefix/share/tidegate/tidegated.example.yaml" &&
	mkdir -p etc state &&
	for f in $(grep -o "/etc/tidegate/[A-Za-z0-9._-]*" "$ex" | sort -u); do
		echo "0123456789abcdef0123456789abcdef" >"etc/${f##*/}"
	done &&
	cp "$TEST_DATA/install/kubeconfig" etc/prod.kubeconfig &&
	sed -e "s#/etc/tidegate/#$TEST_DIR/etc/#g" -e "s#/var/lib/tidegate#$TEST_DIR/state#" \
		-e "s#/usr/local/bin/tidegate#$TIDEGATE_BUILD/bin/tidegate#" "$ex" >tidegated.yaml &&
	"$root$prefix/bin/tidegated" -n -c tidegated.yaml
'
fi

test_done
