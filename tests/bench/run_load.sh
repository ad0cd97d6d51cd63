#!/usr/bin/env bash
# Load and fault figures: runs tests/integration/test_load.py (EL_LOAD_N concurrent logins, default
# 200, then EL_LOAD_RACES refresh-vs-login races, default 100) and prints its table (logins/s,
# p50/p99 latency), then the fault-injection table of the last test_faults.py run
# ($EL_BUILD/reports/faults.txt, written by `make check`; run here if missing).
# Usage: EL_BUILD=build bash tests/bench/run_load.sh
set -euo pipefail
cd "$(dirname "$0")/../.."
build=$(cd "${EL_BUILD:-build}" && pwd)
export EL_BUILD=$build
py=${PYTHON:-/usr/bin/python3}
mkdir -p "$build/reports"
echo "== load: concurrent pamtester logins against the fake Entra ID (tests/integration/test_load.py)"
"$py" -m pytest -q -p no:cacheprovider tests/integration/test_load.py >"$build/reports/load.log" 2>&1 ||
	{ tail -40 "$build/reports/load.log"; exit 1; }
cat "$build/reports/load.txt"
if [ ! -f "$build/reports/faults.txt" ]; then
	"$py" -m pytest -q -p no:cacheprovider tests/integration/test_faults.py >"$build/reports/faults.log" 2>&1 ||
		{ tail -40 "$build/reports/faults.log"; exit 1; }
fi
echo "== faults: each endpoint down/slow/erroring (tests/integration/test_faults.py, $(date -r "$build/reports/faults.txt" '+%F %T'))"
cat "$build/reports/faults.txt"
