#!/usr/bin/env bash
# Everything a fresh Debian 12 machine needs to build and run zcsign:
# Debian packages, hugepages, and a meson build in ./build (or $1).
#   scripts/setup.sh [BUILD_DIR [extra meson options...]]
set -euo pipefail
cd "$(dirname "$0")/.."
build=${1:-build}
shift || true

pkgs=(gcc pkg-config meson ninja-build python3 python3-pyelftools
	dpdk-dev libdpdk-dev libsecp256k1-dev libnuma-dev libcmocka-dev libssl-dev libcbor-dev openssl
	clang libclang-rt-14-dev gnuplot-nox)
missing=()
for p in "${pkgs[@]}"; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'ok installed' || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
	if [ "$(id -u)" != 0 ]; then
		echo "setup: missing packages ${missing[*]}; run as root to install them" >&2
		exit 1
	fi
	echo "setup: installing ${missing[*]}"
	apt-get update -q
	DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "${missing[@]}"
fi

if [ "$(id -u)" = 0 ]; then
	bash tuning/hugepages.sh 512
else
	echo "setup: not root, hugepages left as they are ($(cat /proc/sys/vm/nr_hugepages) reserved)"
fi

if [ -f "$build/build.ninja" ]; then
	meson setup --reconfigure "$build" "$@" >/dev/null
else
	meson setup "$build" "$@" >/dev/null
fi
ninja -C "$build"
