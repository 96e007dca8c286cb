#!/usr/bin/env bash
# The main job, end to end on this machine: keys for 1000 accounts in 2 shards,
# sealed to an operator key (no plaintext key file anywhere), one zcsign-enclave
# signer per shard on a unix socket that starts sealed and is provisioned only
# after its attestation document verified, zcsignd (DPDK, hugepages) with one
# worker per shard; with the signers' presignature pools full, an open-loop run
# at a stated rate (2000 req/s) whose p50/p99/p99.9 are printed next to the
# published enclave signer's 42/120 us and this run's raw-sign and AF_UNIX
# floors; then the closed-loop capacity (20000 requests of every algorithm, 8 in
# flight), labelled as saturation; every signature verified against the public
# manifest with libsecp256k1, 500 more accounts provisioned while a
# second load runs (hot reload: no request fails), one request through
# zcsign-cli, then SIGTERM: zcsignd drains and prints its reconciled counters.
#   bash scripts/demo.sh          (as root on a fresh Debian 12: installs what is missing)
# Exit status 0 only when every step worked and every signature verified.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh build >/dev/null
bin=build
shards=2
accounts=1000
requests=20000
# The open-loop operating point: on 2 shared CPUs the signers' idle-priority refill
# threads get no CPU under load, so the run (3.5 s, 1000/s per shard) is sized to be
# served from the full default pools (4096 presignatures each): the design's steady state.
rate=2000
prefix=zcs_demo_$$
run=$(mktemp -d /tmp/zcsign-demo.XXXXXX)
signer_pids=()
zcsignd_pid=

stop() { # stop PID NAME: SIGTERM, then wait at most 15 s (zcsignd drains for up to 5 s)
	local pid=$1 i
	kill -TERM "$pid" 2>/dev/null || return 0
	for i in $(seq 150); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
	if kill -0 "$pid" 2>/dev/null; then
		echo "demo: $2 (pid $pid) ignored SIGTERM for 15 s; killing it" >&2
		kill -KILL "$pid" 2>/dev/null || true
	fi
	wait "$pid" 2>/dev/null
}
cleanup() {
	local p
	[ -n "$zcsignd_pid" ] && { stop "$zcsignd_pid" zcsignd || true; }
	for p in "${signer_pids[@]}"; do stop "$p" zcsign-enclave || true; done
	# a killed primary leaves its hugepage files and runtime directory behind
	rm -f /dev/hugepages/"$prefix"*
	rm -rf /var/run/dpdk/"$prefix" "$run"
}
trap cleanup EXIT
fail() { echo "demo: FAILED: $*" >&2; exit 1; }
cli() { "$bin/cli/zcsign-cli" --file-prefix "$prefix" "$@"; }
# a field of a JSON document on stdin, by a Python expression over j
field() { python3 -c "import json,sys; j=json.load(sys.stdin); print($1)"; }

echo "== keys sealed to an operator key, a dev attestation CA, sealed signers (under $run)"
"$bin/enclave/zcsign-keygen" --new-operator-key "$run/operator" | sed 's/^/  /'
"$bin/enclave/zcsign-keygen" --accounts $accounts --shards $shards --out "$run/keys" \
	--operator-pub "$run/operator.pub" --generation 1 | sed 's/^/  /'
# The dev box's stand-in for AWS's Nitro PKI: a root, an intermediate, a leaf per signer.
mkdir -p "$run/attest"
"$bin/attest/zcsign-attest-ca" init --out "$run/attest" >/dev/null
for s in $(seq 0 $((shards - 1))); do
	"$bin/attest/zcsign-attest-ca" leaf --ca "$run/attest" --out "$run/attest" \
		--name "signer-$s" >/dev/null
	taskset -c 0 "$bin/enclave/zcsign-enclave" --listen "unix:$run/signer-$s.sock" \
		--shard "$s/$shards" --idle yield \
		--attest "dev:$run/attest/signer-$s" 2>"$run/signer-$s.log" &
	signer_pids+=($!)
done
# The PCR0 the provisioner and zcsignd expect: what this signer binary measures to (SHA-384).
pcr0=$(sha384sum "$bin/enclave/zcsign-enclave" | cut -d' ' -f1)
echo "  dev attestation: root $run/attest/root.pem, expected PCR0 ${pcr0:0:16}..."
for s in $(seq 0 $((shards - 1))); do
	for _ in $(seq 100); do [ -S "$run/signer-$s.sock.ctl" ] && break; sleep 0.05; done
	[ -S "$run/signer-$s.sock.ctl" ] || fail "signer $s did not listen: $(cat "$run/signer-$s.log")"
	sed -n 's/^zcsign-enclave: \(.*\), listening.*/  \1/p' "$run/signer-$s.log"
done

# provision SHARD BUNDLE...: the signer's attestation checked (root, PCR0, fresh nonce)
# before its keys leave the operator's bundles, sealed to the signer's fresh key.
provision() {
	local s=$1
	shift
	"$bin/cli/zcsign-cli" --signer "unix:$run/signer-$s.sock" provision \
		--operator-key "$run/operator.key" --root "$run/attest/root.pem" --pcr "0=$pcr0" "$@"
}
echo
echo "== provisioning: zcsign-cli provision (attestation verified, then the bundle)"
for s in $(seq 0 $((shards - 1))); do
	provision "$s" "$run/keys/shard-$s.bundle" | sed "s|$run/||; s/^/  /" ||
		fail "provisioning signer $s failed"
done

cat >"$run/zcsignd.ini" <<EOF
# zcsignd configuration written by scripts/demo.sh
[engine]
shards = $shards
poll = yield
EOF
for s in $(seq 0 $((shards - 1))); do
	printf '[shard.%d]\nsigner = unix:%s\nattest = dev\nattest_root = %s\npcr0 = %s\n' \
		"$s" "$run/signer-$s.sock" "$run/attest/root.pem" "$pcr0" >>"$run/zcsignd.ini"
done

echo
echo "== zcsignd"
eal=(--file-prefix "$prefix" --no-pci -m 256 --lcores 0@0,1@1,2@1)
echo "  $bin/engine/zcsignd ${eal[*]} -- --config zcsignd.ini"
echo "  layout on this $(nproc)-CPU box: cpu 0: zcsignd main lcore 0 (control only, sleeps),"
echo "    both signers (--idle yield) and zcsign-bench (--yield); cpu 1: shard 0 worker"
echo "    lcore 1 and shard 1 worker lcore 2 (poll = yield). Pollers sharing a CPU hand it"
echo "    to each other with sched_yield() when idle: no sleeps, no wake-ups."
"$bin/engine/zcsignd" "${eal[@]}" -- --config "$run/zcsignd.ini" \
	2>"$run/zcsignd.log" &
zcsignd_pid=$!

# Both shards up: connected to their signer, HELLO checked, attestation verified. Bounded: 20 s.
up=0
for _ in $(seq 100); do
	kill -0 "$zcsignd_pid" 2>/dev/null || fail "zcsignd exited: $(tail -5 "$run/zcsignd.log")"
	up=$(cli status 2>/dev/null | field 'sum(s["state"] == "up" for s in j["shards"])' \
		2>/dev/null || echo 0)
	[ "$up" = "$shards" ] && break
	sleep 0.2
done
[ "$up" = "$shards" ] || fail "$up of $shards shards up after 20 s: $(tail -5 "$run/zcsignd.log")"
cli status | field '"\n".join("  shard %d on lcore %d: %s, signer %s (%d keys)" % (
	s["shard"], s["lcore"], s["state"], s["endpoint"].replace("'"$run/"'", ""),
	s["signer_keys"]) for s in j["shards"])'
verified=$(grep -c 'attestation verified' "$run/zcsignd.log" || true)
[ "$verified" -ge "$shards" ] || fail "zcsignd verified $verified of $shards attestations"
echo "  every signer's attestation document verified (dev CA root, PCR0, fresh nonce)"

# The signers' presignature pools full before any load: what a warmed-up signer serves from.
for _ in $(seq 150); do
	full=$("$bin/cli/zcsign-cli" --file-prefix "$prefix" top --once --json 2>/dev/null |
		field 'all(s["signer"]["ecdsa_pool_depth"] >= s["signer"]["ecdsa_pool_capacity"] > 0
			for s in j["shards"])' 2>/dev/null || echo False)
	[ "$full" = True ] && break
	sleep 0.2
done
[ "$full" = True ] || fail "the signers' presignature pools did not fill in 30 s"
echo "  presignature pools full on every signer before the load"

echo
echo "== open loop at $rate req/s (the operating point), ECDSA, floors measured first"
echo "   zcsign-bench --yield --rate $rate --duration 3 --warmup 0.5 --algo ecdsa --baselines"
rc=0
"$bin/bench/zcsign-bench" --file-prefix "$prefix" --yield --rate $rate --duration 3 \
	--warmup 0.5 --algo ecdsa --accounts $accounts --baselines \
	--verify "$run/keys/manifest.json" --json "$run/open.json" >"$run/open.txt" 2>&1 || rc=$?
[ "$rc" = 0 ] || fail "zcsign-bench (open loop) exited $rc: $(tail -5 "$run/open.txt")"
sed -n '/latency (us)/,/engine share/p' "$run/open.txt"
field '"  end to end: p50 %.1f us, p99 %.1f us, p99.9 %.1f us at %.0f req/s, %d signed, all "
	"verified\n  the published enclave signer: 42 us p50 / 120 us p99; in this run the raw "
	"sign (RFC 6979) is %.1f us p50, the AF_UNIX round trip %.1f us p50" % (
	j["latency_us"]["e2e"]["p50"], j["latency_us"]["e2e"]["p99"],
	j["latency_us"]["e2e"]["p99_9"], j["achieved_rate"], j["signed"],
	j["baselines"]["raw_sign_rfc6979"]["p50_us"], j["baselines"]["unix_rt"]["p50_us"])' \
	<"$run/open.json"
open_ok=$(field "j['signed'] > 0 and j['verify']['failed'] == 0 and \
	j['verify']['verified'] >= j['signed'] and not j['errors'] and j['lost'] == 0 and \
	j['warmup_failed'] == 0" <"$run/open.json")
[ "$open_ok" = True ] || fail "zcsign-bench (open loop): not every request signed and verified:
$(grep -E 'requests|errors|verify|result' "$run/open.txt")"

echo
echo "== saturation: closed loop, 8 in flight, $requests requests of every algorithm"
echo "   zcsign-bench --yield --closed 8 --count $requests --algo mix --verify keys/manifest.json"
echo "   (capacity, not latency: 8 requests always queued behind each other)"
rc=0
"$bin/bench/zcsign-bench" --file-prefix "$prefix" --yield --closed 8 --count $requests --algo mix \
	--accounts $accounts --verify "$run/keys/manifest.json" --json "$run/bench.json" || rc=$?
[ "$rc" = 0 ] || fail "zcsign-bench exited $rc"
bench_ok=$(field "j['signed'] == $requests and j['verify']['verified'] == $requests \
	and not j['errors'] and j['lost'] == 0" <"$run/bench.json")
[ "$bench_ok" = True ] || fail "zcsign-bench: not every request signed and verified (bench.json)"

echo
echo "== hot reload: 500 more accounts provisioned while zcsign-bench signs"
"$bin/enclave/zcsign-keygen" --accounts 500 --first-account $((accounts + 1)) \
	--shards $shards --out "$run/keys2" --operator-pub "$run/operator.pub" --generation 2 |
	sed 's/^/  /'
"$bin/bench/zcsign-bench" --file-prefix "$prefix" --yield --rate 5000 --duration 2 \
	--algo ecdsa --accounts $accounts --verify "$run/keys/manifest.json" \
	--json "$run/reload.json" >"$run/reload.out" 2>&1 &
reload_bench=$!
sleep 0.5
t0=$(date +%s%N)
for s in $(seq 0 $((shards - 1))); do
	provision "$s" "$run/keys/shard-$s.bundle" "$run/keys2/shard-$s.bundle" |
		sed "s|$run/||; s/^/  /" || fail "provisioning signer $s again failed"
done
# The first new account: how long until the engine signs with it.
new=$((accounts + 1))
until out=$(cli sign --account $new --hash "$(printf '%064x' 1)" 2>/dev/null); do
	[ $(( ($(date +%s%N) - t0) / 1000000 )) -lt 5000 ] || fail "account $new never signed"
	sleep 0.01
done
echo "  account $new (new) signs through zcsignd $(( ($(date +%s%N) - t0) / 1000000 )) ms" \
	"after provisioning began"
rc=0
wait $reload_bench || rc=$?
[ "$rc" = 0 ] || fail "zcsign-bench during the reload exited $rc: $(tail -3 "$run/reload.out")"
field '"  during it: %d requests open-loop at %.0f req/s, %d failed, %d lost, %d verified" % (
	j["signed"] + sum(j["errors"].values()), j["achieved_rate"], sum(j["errors"].values()),
	j["lost"], j["verify"]["verified"])' <"$run/reload.json"
reload_ok=$(field "not j['errors'] and j['lost'] == 0 and j['warmup_failed'] == 0 and \
	j['verify']['verified'] == j['signed']" \
	<"$run/reload.json")
[ "$reload_ok" = True ] || fail "requests failed during the reload (reload.json)"
cli status | field '"\n".join("  shard %d: signer holds %d keys (%s)" % (s["shard"],
	s["signer_keys"], s["signer_key_source"]) for s in j["shards"])'
# No plaintext key file anywhere in the run's directory.
if grep -rl 'zcsign-keys v1' "$run" >/dev/null 2>&1; then fail "a plaintext key file exists"; fi
echo "  no plaintext key file under $run (bundles only: $(ls "$run"/keys*/*.bundle | wc -l))"

echo
echo "== one request through zcsign-cli"
account=42
hash=$(head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \n')
t0=$(date +%s%N)
out=$(cli sign --account $account --hash "$hash" --algo ecdsa-recoverable) ||
	fail "zcsign-cli sign: $out"
cli_ms=$(( ($(date +%s%N) - t0) / 1000000 ))
sig=$(field 'j["signature"]' <<<"$out")
recid=$(field 'j["recid"]' <<<"$out")
field '"  sign    account %d (shard %d) ecdsa-recoverable: %s... recid %d\n"
	"          %.1f us through zcsignd, of which the signer %.1f us" % (j["account"],
	j["shard"], j["signature"][:32], j["recid"], j["latency_ns"] / 1e3,
	j["service_ns"] / 1e3)' <<<"$out"
"$bin/cli/zcsign-cli" verify --manifest "$run/keys/manifest.json" --account $account \
	--hash "$hash" --algo ecdsa-recoverable --signature "$sig" --recid "$recid" >/dev/null ||
	fail "zcsign-cli verify: the signature of account $account does not verify"
echo "  verify  valid against manifest.json (libsecp256k1, recovers the account's key)"
echo "  (the CLI is a new DPDK secondary process: $cli_ms ms to start its EAL, attach, sign and"
echo "  exit; its one request runs cold, first touch of the rings and pool from a new process:"
echo "  the steady state is the open-loop figure above)"

echo
echo "== zcsign-cli status"
cli status | field '"\n".join(
	"  shard %d %-4s signed %d, expired %d, failed %d, in flight %d, nonce %s" % (
	s["shard"], s["state"], s["signed"], s["expired"], s["failed"], s["in_flight"],
	s["nonce_mode"]) for s in j["shards"])'

echo
echo "== shutdown (SIGTERM)"
stop "$zcsignd_pid" zcsignd && rc=0 || rc=$?
zcsignd_pid=
[ "$rc" = 0 ] || fail "zcsignd exited $rc: $(tail -5 "$run/zcsignd.log")"
grep '^zcsignd: stopped:' "$run/zcsignd.log" | sed 's/^/  /' ||
	fail "zcsignd printed no final counters: $(tail -5 "$run/zcsignd.log")"
for i in "${!signer_pids[@]}"; do
	stop "${signer_pids[$i]}" zcsign-enclave && rc=0 || rc=$?
	[ "$rc" = 0 ] || fail "signer $i exited $rc: $(tail -3 "$run/signer-$i.log")"
done
signer_pids=()
echo "  signers stopped, keys wiped"

echo
field '"demo: OK: every signature verified. Open loop at %.0f req/s: end to end p50 %.1f us, "
	"p99 %.1f us, p99.9 %.1f us\n      (published enclave signer: 42 / 120 us)." % (
	j["achieved_rate"], j["latency_us"]["e2e"]["p50"], j["latency_us"]["e2e"]["p99"],
	j["latency_us"]["e2e"]["p99_9"])' <"$run/open.json"
field '"      Saturation, closed loop with 8 in flight: %.0f req/s over %d shards (its p50 of "
	"%.1f us is queueing, not service)." % (j["achieved_rate"], j["shards"],
	j["latency_us"]["e2e"]["p50"])' <"$run/bench.json"
