#!/usr/bin/env bash
# Install what is missing, build with warnings as errors, run the whole test
# suite. With --sanitize: the same under AddressSanitizer + UBSan, in
# build-asan, failing on any report.
set -euo pipefail
cd "$(dirname "$0")/.."
if [ "${1:-}" = --sanitize ]; then
	build=build-asan
	opts=(-Dwerror=true -Db_sanitize=address,undefined -Db_lundef=false
		-Dc_args=-fno-sanitize-recover=all -Dbuildtype=debug -Db_lto=false)
else
	build=build
	opts=(-Dwerror=true)
fi
bash scripts/setup.sh "$build" "${opts[@]}"
rc=0
meson test -C "$build" --print-errorlogs --num-processes 1 || rc=$?
# One closing line CI can read, whatever the runner printed above.
python3 - "$build/meson-logs/testlog.json" <<'PY'
import json, sys
res = [json.loads(l)["result"] for l in open(sys.argv[1]) if l.strip()]
ok = sum(r == "OK" for r in res)
skip = sum(r == "SKIP" for r in res)
print(f"zcsign: {ok} passed, {len(res) - ok - skip} failed, {skip} skipped")
PY
exit $rc
