#!/usr/bin/env bash
# Installs the Debian packages tidegate builds and tests with, when any is
# missing; does nothing (and needs no network) when all are there.
# As root it runs apt-get itself, otherwise through sudo.
set -euo pipefail

pkgs=(
	build-essential pkg-config git curl ca-certificates openssl perl python3 python3-yaml
	libyaml-dev libevent-dev libcjson-dev libcurl4-openssl-dev libssl-dev
	lighttpd fcgiwrap jq
)
missing=()
for p in "${pkgs[@]}"; do
	if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed'; then
		missing+=("$p")
	fi
done
[ ${#missing[@]} -eq 0 ] && exit 0

echo "tidegate: installing missing packages: ${missing[*]}"
if [ "$(id -u)" -eq 0 ]; then
	sudo=()
elif command -v sudo >/dev/null; then
	sudo=(sudo)
else
	echo "tidegate: not root and no sudo; install these by hand: ${missing[*]}" >&2
	exit 1
fi
export DEBIAN_FRONTEND=noninteractive
"${sudo[@]}" apt-get update -qq
"${sudo[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}"
# lighttpd's package starts a system-wide server on port 80; tidegate's
# tests start their own on loopback and do not want it.
if printf '%s\n' "${missing[@]}" | grep -qx lighttpd; then
	"${sudo[@]}" systemctl disable --now lighttpd >/dev/null 2>&1 || \
		"${sudo[@]}" service lighttpd stop >/dev/null 2>&1 || true
fi
