#!/usr/bin/env bash
# Build the libFuzzer targets (fuzz/) with clang, ASan and UBSan in build-fuzz,
# and run each for SECONDS (default 20) from a copy of its seed corpus. A crash,
# a leak or a sanitizer report fails (exit 1); the last lines of each run give
# its execution count. Run after scripts/setup.sh (it installs clang).
#   scripts/fuzz.sh [SECONDS]
set -euo pipefail
cd "$(dirname "$0")/.."
secs=${1:-20}
build=build-fuzz
opts=(-Dfuzz=true -Db_lto=false -Db_sanitize=address,undefined -Db_lundef=false
	-Dbuildtype=debugoptimized -Dc_args=-fsanitize=fuzzer-no-link)
if [ -f "$build/build.ninja" ]; then
	CC=clang meson setup --reconfigure "$build" "${opts[@]}" >/dev/null
else
	CC=clang meson setup "$build" "${opts[@]}" >/dev/null
fi
targets=(attest wire conf bundle)
ninja -C "$build" "${targets[@]/#/fuzz/fuzz_}" >/dev/null
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
rc=0
for t in "${targets[@]}"; do
	mkdir "$work/$t"
	cp fuzz/corpus/"$t"/* "$work/$t/"
	log="$work/$t.log"
	if ! "$build/fuzz/fuzz_$t" -max_total_time="$secs" -print_final_stats=1 -timeout=10 \
		-rss_limit_mb=2048 -artifact_prefix="$work/$t-" "$work/$t" > "$log" 2>&1; then
		echo "fuzz: fuzz_$t FAILED (log follows)" >&2
		tail -40 "$log" >&2
		rc=1
		continue
	fi
	execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log")
	cov=$(grep -o 'cov: [0-9]*' "$log" | tail -1)
	echo "fuzz: fuzz_$t: $execs inputs in ${secs} s, no crash ($cov, corpus $(ls "$work/$t" | wc -l))"
done
exit $rc
