#!/usr/bin/env bash
# Run each libFuzzer harness for FUZZ_SECONDS from its seed corpus; print a
# table (target, seconds, runs, execs/s, coverage, corpus size) and write it
# to $FUZZ_DIR/report.txt. Fails (exit 1) on the first crash, leak or
# timeout, leaving the reproducer in $FUZZ_DIR/crash-* (replay it with
# `$FUZZ_DIR/fuzz_<target> $FUZZ_DIR/crash-...`).
# Usage: FUZZ_DIR=build/fuzz FUZZ_SECONDS=20 bash tests/fuzz/run.sh b64url conf ...
set -uo pipefail
cd "$(dirname "$0")/../.."
dir=${FUZZ_DIR:?}
secs=${FUZZ_SECONDS:-20}
jobs=${FUZZ_JOBS:-1}
report=$dir/report.txt
: >"$report.tmp"
rc=0
printf '%-8s %6s %10s %9s %6s %7s  %s\n' target seconds runs execs/s cov corpus result | tee -a "$report.tmp"
for t in "$@"; do
	exe=$dir/fuzz_$t
	seeds=tests/fuzz/corpus/$t
	work=$dir/corpus/$t
	mkdir -p "$work"
	dict=()
	[ -f "tests/fuzz/$t.dict" ] && dict=(-dict="tests/fuzz/$t.dict")
	log=$dir/$t.log
	# Inputs long enough for the caps: a config line (4 KB), a token (16 KB).
	case $t in
	conf) max=(-max_len=12288) ;;
	jwt) max=(-max_len=20480) ;;
	sshcert) max=(-max_len=20480) ;;
	userdb | groupdb) max=(-max_len=65536) ;;
	*) max=() ;;
	esac
	par=()
	[ "$jobs" -gt 1 ] && par=(-jobs="$jobs" -workers="$jobs")
	start=$(date +%s.%N)
	# -timeout: one input may take at most 10 s; -rss_limit_mb: 2 GB.
	"$exe" -max_total_time="$secs" -timeout=10 -rss_limit_mb=2048 -print_final_stats=1 \
		-artifact_prefix="$dir/" "${par[@]}" "${max[@]}" "${dict[@]}" "$work" "$seeds" >"$log" 2>&1
	st=$?
	[ "$jobs" -gt 1 ] && cat "$dir"/fuzz-*.log >>"$log" 2>/dev/null && rm -f "$dir"/fuzz-*.log
	took=$(awk -v a="$start" -v b="$(date +%s.%N)" 'BEGIN {print b - a}')
	runs=$(grep -o 'stat::number_of_executed_units: *[0-9]*' "$log" | awk '{s+=$2} END {print s+0}')
	cov=$(grep -o 'cov: [0-9]*' "$log" | tail -1 | awk '{print $2}')
	corpus=$(ls "$work" | wc -l)
	eps=$(awk -v r="$runs" -v t="$took" 'BEGIN {printf "%d", (t > 0 ? r / t : 0)}')
	result=ok
	if [ $st -ne 0 ]; then
		result="FAILED (exit $st, see $log)"
		rc=1
	fi
	printf '%-8s %6.0f %10s %9s %6s %7s  %s\n' "$t" "$took" "$runs" "$eps" "${cov:-?}" "$corpus" "$result" \
		| tee -a "$report.tmp"
	if [ $st -ne 0 ]; then
		grep -m1 -A12 -E 'ERROR: |runtime error|invariant broken|==ERROR' "$log" >&2
		ls "$dir"/crash-* "$dir"/leak-* "$dir"/timeout-* 2>/dev/null >&2
		break
	fi
done
mv "$report.tmp" "$report"
exit $rc
