#!/usr/bin/env bash
# The main job, end to end on this machine: keys for 100 accounts in 2 shards,
# one zcsign-enclave signer per shard on a unix socket, signatures of every
# algorithm requested through zcsign-cli, each verified against the public
# manifest with libsecp256k1, then a clean shutdown.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh build >/dev/null
bin=build
run=$(mktemp -d /tmp/zcsign-demo.XXXXXX)
pids=()
cleanup() {
	for p in "${pids[@]}"; do kill -TERM "$p" 2>/dev/null || true; done
	for p in "${pids[@]}"; do wait "$p" 2>/dev/null || true; done
	rm -rf "$run"
}
trap cleanup EXIT

shards=2
"$bin/enclave/zcsign-keygen" --accounts 100 --shards $shards --out "$run/keys"
for s in $(seq 0 $((shards - 1))); do
	"$bin/enclave/zcsign-enclave" --listen "unix:$run/signer-$s.sock" \
		--keys "$run/keys/shard-$s.keys" --idle backoff 2>>"$run/signer-$s.log" &
	pids+=($!)
done
for s in $(seq 0 $((shards - 1))); do
	for _ in $(seq 100); do [ -S "$run/signer-$s.sock" ] && break; sleep 0.05; done
	sed 's/^/  /' "$run/signer-$s.log"
done

# shard of each account, from the public manifest
shard_of() { grep "\"account\":$1," "$run/keys/manifest.json" | sed 's/.*"shard":\([0-9]*\).*/\1/'; }

printf '\n%-8s %-18s %-6s %-10s %-8s %s\n' account algo shard latency verified signature
ok=0 n=0
for account in 1 2 3 17 42 99; do
	for algo in ecdsa ecdsa-recoverable schnorr; do
		hash=$(head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \n')
		s=$(shard_of $account)
		out=$("$bin/cli/zcsign-cli" --signer "unix:$run/signer-$s.sock" sign \
			--account $account --hash "$hash" --algo $algo)
		sig=$(sed 's/.*"signature":"\([0-9a-f]*\)".*/\1/' <<<"$out")
		lat=$(sed 's/.*"latency_ns":\([0-9]*\).*/\1/' <<<"$out")
		# a number for ecdsa-recoverable, null otherwise: verify takes either
		recid=$(sed 's/.*"recid":\([0-9]*\|null\),.*/\1/' <<<"$out")
		if "$bin/cli/zcsign-cli" verify --manifest "$run/keys/manifest.json" \
			--account $account --hash "$hash" --algo $algo --signature "$sig" \
			--recid "$recid" >/dev/null; then
			v=yes ok=$((ok + 1))
		else
			v=NO
		fi
		n=$((n + 1))
		printf '%-8s %-18s %-6s %7.1f us %-8s %s…\n' $account $algo "$s" \
			"$(awk "BEGIN{print $lat/1000}")" $v "${sig:0:32}"
	done
done
echo
echo "demo: $ok of $n signatures verified against manifest.json"
[ "$ok" = "$n" ]
