#!/usr/bin/env bash
# The first lookup of a fresh process: a whole process per lookup (`getent passwd NAME`, and
# getpw1, a libc-only program doing one getpwnam), with `passwd: files entra` as on a real host,
# for entra users (hit) and unknown names (miss: the provisional answer) at each database size,
# as a ratio to the same program resolving a local user (root, answered by files), all cases
# interleaved in one run (medians of ROUNDS). Then the memory a process gains from its first
# lookup (getpw1 --rss: RssAnon = private memory, RssFile = shared page-cache pages mapped).
# Own mount namespace with its own /etc/nsswitch.conf; the module comes from a scratch
# directory through LD_LIBRARY_PATH (nothing of the host changes).
# Usage: EL_BUILD=build bash tests/bench/run_nss_cold.sh [ROUNDS]   (NSS_BENCH_SIZES="10 10000 100000")
# NSS_COLD_PRELOAD: LD_PRELOAD for the timed programs (sanitizer runtimes for a build-san module).
# NSS_COLD_BASE=OTHER_BUILD adds the same rows for another build's module (its own udb_tool writes
# its databases), interleaved in the same run: before/after comparisons on a noisy machine.
set -euo pipefail
cd "$(dirname "$0")/../.."
build=$(cd "${EL_BUILD:-build}" && pwd)
rounds=${1:-150}
sizes=${NSS_BENCH_SIZES:-"10 10000 100000"}
cold=$build/tests/bench/nss_cold
tool=$build/tests/nss/udb_tool
for f in "$cold" "$tool" "$build/libnss_entra.so.2"; do
	[ -e "$f" ] || { echo "run_nss_cold.sh: $f not built (make all unit)" >&2; exit 1; }
done
tmp=$(mktemp -d /tmp/nss-cold.XXXXXX)
trap 'rm -rf "$tmp"' EXIT
chmod 755 "$tmp"
mkdir -p "$tmp/lib"
cp "$build/libnss_entra.so.2" "$tmp/lib/"
cc -O2 -Wall -Wextra -Werror -o "$tmp/getpw1" tests/bench/cold/getpw1.c
sed -E "s/^(passwd|group|shadow|initgroups):.*/\1: files entra/" /etc/nsswitch.conf > "$tmp/nsswitch"
cases=()
# setup TAG UDB_TOOL [LIBDIR]: a database of each size written by UDB_TOOL, and its cases
setup() {
	local tag=$1 writer=$2 libdir=${3:-} n conf
	for n in $sizes; do
		mkdir -m 0755 "$tmp/state-$tag-$n"
		conf="$tmp/conf-$tag-$n"
		cat > "$conf" <<CONF
tenant_id = 6e2d6a5c-7f3b-4a8e-9c41-2b5d8f0e1a37
client_id = 3f8a1c2e-5b6d-4e7f-9a0b-1c2d3e4f5a6b
domains = contoso.com, fabrikam.example
state_dir = $tmp/state-$tag-$n
CONF
		chmod 0644 "$conf"
		"$writer" "$conf" bulk "$n" >/dev/null
		cases+=("$tag $n hit=$conf=$(printf 'u%06d@contoso.com' $((n / 2)))${libdir:+=$libdir}"
			"$tag $n miss=$conf=newcomer@contoso.com${libdir:+=$libdir}")
	done
}
setup entra "$tool"
if [ -n "${NSS_COLD_BASE:-}" ]; then
	base=$(cd "$NSS_COLD_BASE" && pwd)
	mkdir -p "$tmp/lib-base"
	cp "$base/libnss_entra.so.2" "$tmp/lib-base/"
	setup base "$base/tests/nss/udb_tool" "$tmp/lib-base"
fi
# In the namespace: the timed table, then the memory table.
env LD_LIBRARY_PATH="$tmp/lib" ${NSS_COLD_PRELOAD:+LD_PRELOAD="$NSS_COLD_PRELOAD"} unshare --mount bash -c '
	set -e
	mount --make-rprivate /
	mount --bind "$1/nsswitch" /etc/nsswitch.conf
	tmp=$1 cold=$2 rounds=$3
	shift 3
	echo "whole process per lookup (passwd: files entra), medians of $rounds interleaved rounds"
	"$cold" "$rounds" root "$(command -v getent);passwd" "$tmp/getpw1" -- "$@"
	echo
	printf "%-26s %10s %10s\n" "first lookup gains (kB)" RssAnon RssFile
	printf "%-26s %10s %10s\n" "local user (files)" $("$tmp/getpw1" --rss root)
	for c in "$@"; do
		IFS== read -r label conf name libdir <<< "$c"
		printf "%-26s %10s %10s\n" "$label" $(ENTRA_LOGIN_CONF=$conf LD_LIBRARY_PATH=${libdir:-$LD_LIBRARY_PATH} \
			"$tmp/getpw1" --rss "$name")
	done' _ "$tmp" "$cold" "$rounds" "${cases[@]}"
echo
for n in $sizes; do
	printf 'users.db with %s users: %s bytes\n' "$n" "$(stat -c %s "$tmp/state-entra-$n/users.db")"
done
