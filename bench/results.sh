#!/usr/bin/env bash
# Run every benchmark bench/RESULTS.md reports, in one go, into one directory:
#   bash bench/results.sh [OUTDIR]      (default: results-<date>; build/ must be built)
# Each command's stdout (the human table) goes to NN-name.txt, its JSON to
# NN-name.json; `commands.txt` lists exactly what ran. RESULTS.md is written
# from these files by hand: the figures, the layout, and what limits each.
set -euo pipefail
cd "$(dirname "$0")/.."
out=${1:-results-$(date +%Y%m%d-%H%M)}
mkdir -p "$out"
B=build/bench/zcsign-bench
M=build/bench/zcsign-bench-micro
[ -x "$B" ] && [ -x "$M" ] || { echo "results.sh: build first (bash scripts/setup.sh)" >&2; exit 2; }
: > "$out/commands.txt"
{
	echo "# $(date -u +%FT%TZ) $(uname -r), $(nproc) CPUs: $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2-)"
	echo "# load before: $(cut -d' ' -f1-3 /proc/loadavg)"
} >> "$out/commands.txt"

n=0
run() { # name, command...
	local name=$1
	shift
	n=$((n + 1))
	local tag
	tag=$(printf '%02d-%s' "$n" "$name")
	echo "$tag: $*" >> "$out/commands.txt"
	echo "== $tag: $*" >&2
	"$@" > "$out/$tag.txt" 2> "$out/$tag.log" || echo "$tag: exit $?" >> "$out/commands.txt"
	echo "   load after: $(cut -d' ' -f1-3 /proc/loadavg)" >> "$out/commands.txt"
}

run micro $M --iters 20000 ecdsa_sign presig_online_ecdsa presig_refill wire_encode_sign \
	wire_decode_reply hist_record ring_handoff mempool_get_put unix_rt signer_rt_ecdsa \
	signer_rt_ecdsa_precomputed
run sweep-precomputed $B --spawn --sweep --duration 2 --sweep-from 1000 --sweep-factor 2 \
	--baselines --json "$out/sweep.json" --csv "$out/sweep.csv" --plot "$out/plot"
run sweep-slo100 $B --spawn --sweep --duration 2 --sweep-from 1000 --sweep-factor 2 \
	--slo-us 100 --json "$out/sweep100.json" --plot "$out/plot100"
run open-precomputed $B --spawn --rate 2000 --duration 3 --warmup 0.5 --json "$out/open-precomputed.json"
run closed1-precomputed $B --spawn --closed 1 --count 20000 --json "$out/closed1-precomputed.json"
run closed1-rfc6979 $B --spawn --nonce rfc6979 --closed 1 --count 20000 --baselines \
	--json "$out/closed1-rfc6979.json"
run open-rfc6979 $B --spawn --nonce rfc6979 --rate 2000 --duration 3 --warmup 0.5 \
	--json "$out/open-rfc6979.json"
run open-hedged $B --spawn --nonce hedged --rate 2000 --duration 3 --warmup 0.5 \
	--json "$out/open-hedged.json"
run closed16-precomputed $B --spawn --closed 16 --duration 5 --warmup 0.5 \
	--json "$out/closed16-precomputed.json"
run closed16-rfc6979 $B --spawn --nonce rfc6979 --closed 16 --duration 5 --warmup 0.5 \
	--json "$out/closed16-rfc6979.json"
run open-2shards $B --spawn --shards 2 --rate 2000 --duration 3 --warmup 0.5 \
	--json "$out/open-2shards.json"
run closed16-2shards $B --spawn --shards 2 --closed 16 --duration 5 --warmup 0.5 \
	--json "$out/closed16-2shards.json"
echo "results.sh: wrote $out" >&2
