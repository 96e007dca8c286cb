#!/usr/bin/env bash
# Reserve 2 MiB hugepages and mount hugetlbfs, for zcsignd and its tests.
#   tuning/hugepages.sh [PAGES]      (default 512 pages = 1 GiB; needs root)
# Idempotent: never lowers a larger reservation, mounts only when nothing is.
set -euo pipefail
pages=${1:-512}
case $pages in '' | *[!0-9]*) echo "hugepages.sh: PAGES must be a number, got '$pages'" >&2; exit 2 ;; esac
nr=/proc/sys/vm/nr_hugepages
cur=$(cat "$nr")
if [ "$cur" -lt "$pages" ]; then
	echo "$pages" > "$nr" || { echo "hugepages.sh: cannot write $nr (are you root?)" >&2; exit 1; }
fi
got=$(cat "$nr")
if [ "$got" -lt "$pages" ]; then
	echo "hugepages.sh: asked for $pages hugepages, kernel gave $got (memory fragmented?)" >&2
	exit 1
fi
mnt=/dev/hugepages
if ! grep -qs " hugetlbfs " /proc/mounts; then
	mkdir -p "$mnt"
	mount -t hugetlbfs nodev "$mnt" || { echo "hugepages.sh: cannot mount hugetlbfs on $mnt" >&2; exit 1; }
fi
echo "hugepages: $got x 2 MiB reserved, hugetlbfs at $(awk '$3 == "hugetlbfs" {print $2; exit}' /proc/mounts)"
