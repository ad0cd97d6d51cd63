#!/usr/bin/env bash
# SSH certificate figures: the cost of `entra-login authorized-keys` per call and a certificate
# login's wall time next to a plain authorized_keys login (tests/integration/test_cert_bench.py).
# Usage: EL_BUILD=build bash tests/bench/run_cert.sh
set -euo pipefail
cd "$(dirname "$0")/../.."
build=$(cd "${EL_BUILD:-build}" && pwd)
export EL_BUILD=$build
py=${PYTHON:-/usr/bin/python3}
mkdir -p "$build/reports"
"$py" -m pytest -q -p no:cacheprovider tests/integration/test_cert_bench.py >"$build/reports/cert-bench.log" 2>&1 ||
	{ tail -40 "$build/reports/cert-bench.log"; exit 1; }
cat "$build/reports/cert-bench.txt"
