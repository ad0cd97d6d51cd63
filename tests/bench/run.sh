#!/usr/bin/env bash
# make bench: every benchmark, figures printed (no pass/fail). Each part can be run alone.
set -euo pipefail
cd "$(dirname "$0")/../.."
export EL_BUILD=${EL_BUILD:-$(pwd)/build}
for part in run_jwt.sh run_nss.sh run_nss_cold.sh run_groups.sh run_load.sh run_cert.sh; do
	[ -f "tests/bench/$part" ] || continue
	echo
	bash "tests/bench/$part"
done
