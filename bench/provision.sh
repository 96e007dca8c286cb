#!/usr/bin/env bash
# Provisioning cost against the number of keys: for each N, a sealed signer
# (shard 0/1, dev attestation) is provisioned with N keys, then provisioned
# again with a second generation that rotates every one of them (the hot
# reload's worst case: every key replaced). Prints, per step, the provisioner's
# wall time (zcsign-cli: open the operator's bundle, fetch and verify the
# document, seal, send, wait for the answer) and the signer's own time (its
# log: decrypt, check, derive N keypairs, merge, swap).
#   bash bench/provision.sh [N...]        (default: 1000 10000 100000; build/ built)
set -euo pipefail
cd "$(dirname "$0")/.."
bin=build
sizes=("$@")
[ ${#sizes[@]} -gt 0 ] || sizes=(1000 10000 100000)
run=$(mktemp -d /tmp/zcsign-prov-bench.XXXXXX)
pid=
cleanup() {
	[ -n "$pid" ] && kill "$pid" 2>/dev/null && wait "$pid" 2>/dev/null
	rm -rf "$run"
}
trap cleanup EXIT
ms() { echo $(( ($(date +%s%N) - $1) / 1000000 )); }

"$bin/enclave/zcsign-keygen" --new-operator-key "$run/op" >/dev/null
mkdir "$run/ca"
"$bin/attest/zcsign-attest-ca" init --out "$run/ca" >/dev/null
"$bin/attest/zcsign-attest-ca" leaf --ca "$run/ca" --out "$run/ca" --name s >/dev/null
pcr0=$(sha384sum "$bin/enclave/zcsign-enclave" | cut -d' ' -f1)
echo "# $(date -u +%FT%TZ), $(nproc) CPUs, load $(cut -d' ' -f1-3 /proc/loadavg)"
printf '%10s  %-18s  %12s  %12s\n' keys step "cli ms" "signer ms"
for n in "${sizes[@]}"; do
	for g in 1 2; do
		"$bin/enclave/zcsign-keygen" --accounts "$n" --shards 1 --out "$run/k$n-$g" \
			--operator-pub "$run/op.pub" --generation "$g" >/dev/null
	done
	"$bin/enclave/zcsign-enclave" --listen "unix:$run/s.sock" --shard 0/1 \
		--attest "dev:$run/ca/s" --idle backoff 2>"$run/s.log" &
	pid=$!
	for _ in $(seq 100); do [ -S "$run/s.sock.ctl" ] && break; sleep 0.05; done
	for g in 1 2; do
		t=$(date +%s%N)
		"$bin/cli/zcsign-cli" --signer "unix:$run/s.sock" provision --operator-key "$run/op.key" \
			--root "$run/ca/root.pem" --pcr "0=$pcr0" "$run/k$n-$g/shard-0.bundle" >/dev/null
		cli=$(ms "$t")
		signer=$(sed -n "s/.*provisioned generation $g: .* in \([0-9.]*\) ms/\1/p" "$run/s.log")
		printf '%10s  %-18s  %12s  %12s\n' "$n" \
			"$([ "$g" = 1 ] && echo "sealed -> N" || echo "rotate all N")" "$cli" "$signer"
	done
	kill "$pid"
	wait "$pid" 2>/dev/null || true
	pid=
	rm -f "$run/s.sock" "$run/s.sock.ctl"
done
