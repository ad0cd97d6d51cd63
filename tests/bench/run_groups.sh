#!/usr/bin/env bash
# Mapped Entra groups (issue 21) through glibc, nanoseconds per call: the floor module (one
# group from static memory: glibc's own cost), then libnss_entra.so.2 with 100000 users
# (udb_tool bulk) and 5000 mapped groups (gdb_tool bench: 20 members each, one user in 200
# groups, one group with one member). "x floor" is getgrnam / getgrgid of a hit divided by the
# floor's; compare with the users' rows of run_nss.sh. Each row in its own mount namespace
# with its own /etc/nsswitch.conf (as run_nss.sh).
# Usage: EL_BUILD=build bash tests/bench/run_groups.sh [ms-per-round]
#        (GROUP_BENCH_USERS=100000 GROUP_BENCH_GROUPS=5000)
set -euo pipefail
cd "$(dirname "$0")/../.."
build=$(cd "${EL_BUILD:-build}" && pwd)
ms=${1:-200}
users=${GROUP_BENCH_USERS:-100000}
groups=${GROUP_BENCH_GROUPS:-5000}
bench=$build/tests/bench/group_bench
for f in "$bench" "$build/tests/nss/udb_tool" "$build/tests/nss/gdb_tool" "$build/libnss_entra.so.2"; do
	[ -e "$f" ] || { echo "run_groups.sh: $f not built (make all unit)" >&2; exit 1; }
done
tmp=$(mktemp -d /tmp/group-bench.XXXXXX)
trap 'rm -rf "$tmp"' EXIT
chmod 755 "$tmp"
mkdir -p "$tmp/lib"
cp "$build/libnss_entra.so.2" "$tmp/lib/"
cc -O2 -g -shared -fPIC -Wall -Wextra -Werror -fvisibility=hidden -o "$tmp/lib/libnss_floor.so.2" \
	tests/bench/floor/nss_floor.c

row() {
	local label=$1 sources=$2 conf=$3 nsswitch="$tmp/nsswitch-${1// /-}"
	shift 3
	sed -E "s/^(passwd|group|shadow|initgroups):.*/\1: $sources/" /etc/nsswitch.conf > "$nsswitch"
	env ENTRA_LOGIN_CONF="$conf" LD_LIBRARY_PATH="$tmp/lib" unshare --mount bash -c '
		set -e
		mount --make-rprivate /
		mount --bind "$1" /etc/nsswitch.conf
		shift
		exec "$@"' _ "$nsswitch" "$bench" "$label" "$@" "$ms"
}

mkdir -m 0755 "$tmp/state"
conf="$tmp/conf"
cat > "$conf" <<CONF
tenant_id = 6e2d6a5c-7f3b-4a8e-9c41-2b5d8f0e1a37
client_id = 3f8a1c2e-5b6d-4e7f-9a0b-1c2d3e4f5a6b
domains = contoso.com
state_dir = $tmp/state
groups = mapped
group_filter = all
CONF
chmod 0644 "$conf"
"$build/tests/nss/udb_tool" "$conf" bulk "$users" >/dev/null
info=$("$build/tests/nss/gdb_tool" "$conf" bench "$groups")
gid0=$(echo "$info" | awk '/^grp-0 /{print $2}')
members0=$(echo "$info" | awk '/^grp-0 /{print $3}')
gid_solo=$(echo "$info" | awk '/^grp-solo /{print $2}')

printf '%-26s %17s %17s %8s %8s\n' "groups through glibc" getgrnam getgrgid grouplist "groups"
printf '%-26s %8s %8s %8s %8s %8s %8s\n' "ns per call" hit miss hit miss "user" "listed"
out_floor=$(row floor floor /nonexistent floorgroup 4242 nosuchgroup flooruser)
echo "$out_floor"
out_solo=$(row "entra grp-solo (1 member)" entra "$conf" grp-solo "$gid_solo" nosuchgroup u000001@contoso.com)
echo "$out_solo"
out_big=$(row "entra grp-0 ($members0 members)" entra "$conf" grp-0 "$gid0" nosuchgroup u000000@contoso.com)
echo "$out_big"
# ratios to the floor (hits), as run_nss.sh's user rows are read
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.1f", a / b }'; }
set -- $out_floor; fn=$(( $# - 5 )); f_nam=${!fn}; fg=$(( $# - 3 )); f_gid=${!fg}
for line in "$out_solo" "$out_big"; do
	set -- $line
	n=$(( $# - 5 )); g=$(( $# - 3 ))
	printf '%-26s getgrnam %sx floor, getgrgid %sx floor\n' "${line:0:26}" "$(ratio "${!n}" "$f_nam")" \
		"$(ratio "${!g}" "$f_gid")"
done
printf 'users.db %s users: %s bytes; groups.db %s groups: %s bytes; u000000 is in 200 groups\n' "$users" \
	"$(stat -c %s "$tmp/state/users.db")" "$groups" "$(stat -c %s "$tmp/state/groups.db")"
