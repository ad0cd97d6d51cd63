#!/usr/bin/env bash
# Token validations per second vs raw OpenSSL RS256 verifies (one core).
# Usage: EL_BUILD=build bash tests/bench/run_jwt.sh [seconds-per-figure]
set -euo pipefail
build=${EL_BUILD:-build}
exe=$build/tests/bench/jwt_bench
[ -x "$exe" ] || { echo "run_jwt.sh: $exe not built (make unit)" >&2; exit 1; }
echo "== jwt_validate vs raw RS256 verify"
"$exe" "${1:-2}"
