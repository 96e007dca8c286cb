#!/usr/bin/env bash
# A hot reload under open-loop load: zcsign-bench --spawn at 5000 req/s for 6 s
# (its signatures verified); with "reload", 100 000 new accounts are provisioned
# into its signer 2.5 s in (bundle made before the load starts, with an operator
# key of its own: the signer does not care whose). Prints signed/errors/lost and
# the end-to-end percentiles; compare "base" and "reload" run back to back.
#   bash bench/reload_under_load.sh base|reload      (build/ built)
set -eu
cd "$(dirname "$0")/.."
B=build
x=$(mktemp -d /tmp/zcsign-rl.XXXXXX)
trap 'rm -rf "$x"' EXIT
if [ "$1" = reload ]; then
	"$B/enclave/zcsign-keygen" --new-operator-key "$x/op" >/dev/null
	"$B/enclave/zcsign-keygen" --accounts 100000 --first-account 1000001 --shards 1 \
		--out "$x/extra" --operator-pub "$x/op.pub" --generation 99999999999999 >/dev/null
fi
"$B/bench/zcsign-bench" --spawn --rate 5000 --duration 6 --algo ecdsa --verify \
	--json "$x/$1.json" >"$x/$1.txt" 2>&1 &
bp=$!
sleep 2.5
if [ "$1" = reload ]; then
	d=$(ls -dt /tmp/zcsign-bench.* | head -1) # the running bench's --spawn directory
	pcr0=$(sha384sum "$B/enclave/zcsign-enclave" | cut -d' ' -f1)
	"$B/cli/zcsign-cli" --signer "unix:$d/signer-0.sock" provision --operator-key "$x/op.key" \
		--root "$d/attest/root.pem" --pcr "0=$pcr0" "$x/extra/shard-0.bundle"
fi
wait $bp || echo "bench exit $?"
python3 -c "
import json; j=json.load(open('$x/$1.json')); e=j['latency_us']['e2e']
print('$1', 'signed', j['signed'], 'errors', j['errors'], 'lost', j['lost'], 'p50 %.1f p99 %.1f p99.9 %.1f max %.1f' % (e['p50'], e['p99'], e['p99_9'], e['max']))"
