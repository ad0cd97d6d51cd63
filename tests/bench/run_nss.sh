#!/usr/bin/env bash
# NSS lookup cost through glibc, in nanoseconds per call, for:
#   floor    a libc-only module answering one user from static memory (glibc's own cost)
#   files    nss_files with the stock /etc/passwd and /etc/group (last entry = hit)
#   entra N  libnss_entra.so.2 alone (passwd: entra) with N database users
#   entra N imported   the same with N users imported by import-aadpasswd (pinned uid below
#            uid_min, pinned home and shell): must cost what the mapped users cost
# "miss" is a name or group absent from the source (for entra: not in the database, so the
# provisional answer is computed) and uid 4000000000. Every glibc row runs in its own mount
# namespace with its own /etc/nsswitch.conf bound over the host's; the modules come from a
# scratch directory through LD_LIBRARY_PATH and entra's config through ENTRA_LOGIN_CONF, so
# nothing of the host is changed (and no overlayfs slows glibc's per-call stat of
# nsswitch.conf). A second table calls the modules' functions directly (dlopen), without glibc.
# Usage: EL_BUILD=build bash tests/bench/run_nss.sh [ms-per-round]   (NSS_BENCH_SIZES="10 10000 100000")
set -euo pipefail
cd "$(dirname "$0")/../.."
build=$(cd "${EL_BUILD:-build}" && pwd)
ms=${1:-200}
sizes=${NSS_BENCH_SIZES:-"10 10000 100000"}
imported=${NSS_BENCH_IMPORTED:-10000}	# "" to skip the imported-users rows
bench=$build/tests/bench/nss_bench
tool=$build/tests/nss/udb_tool
for f in "$bench" "$tool" "$build/libnss_entra.so.2"; do
	[ -e "$f" ] || { echo "run_nss.sh: $f not built (make all unit)" >&2; exit 1; }
done
tmp=$(mktemp -d /tmp/nss-bench.XXXXXX)
trap 'rm -rf "$tmp"' EXIT
chmod 755 "$tmp"
libdir=/usr/lib/$(gcc -print-multiarch)
mkdir -p "$tmp/lib"
cp "$build/libnss_entra.so.2" "$tmp/lib/"
cc -O2 -g -shared -fPIC -Wall -Wextra -Werror -fvisibility=hidden -o "$tmp/lib/libnss_floor.so.2" \
	tests/bench/floor/nss_floor.c

# row LABEL SOURCES CONFIG|- USER MISS_USER GROUP MISS_GROUP
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

header() {
	printf '%-22s %15s %15s %15s %15s\n' "$1" getpwnam getpwuid getgrnam "$2"
	printf '%-22s' "ns per call"; for _ in 1 2 3 4; do printf ' %7s %7s' hit miss; done; printf '\n'
}

header "through glibc" getgrouplist
row floor floor /nonexistent flooruser nosuchuser floorgroup nosuchgroup
row "files (stock)" files /nonexistent "$(tail -n1 /etc/passwd | cut -d: -f1)" nosuchuser \
	"$(tail -n1 /etc/group | cut -d: -f1)" nosuchgroup
for n in $sizes; do
	mkdir -m 0755 "$tmp/state-$n"
	conf="$tmp/conf-$n"
	cat > "$conf" <<CONF
tenant_id = 6e2d6a5c-7f3b-4a8e-9c41-2b5d8f0e1a37
client_id = 3f8a1c2e-5b6d-4e7f-9a0b-1c2d3e4f5a6b
domains = contoso.com, fabrikam.example
state_dir = $tmp/state-$n
CONF
	chmod 0644 "$conf"
	"$tool" "$conf" bulk "$n" >/dev/null
	user=$(printf 'u%06d@contoso.com' $((n / 2)))
	row "entra $n users" entra "$conf" "$user" newcomer@contoso.com "$user" newgroup@contoso.com
done
for n in $imported; do
	mkdir -m 0755 "$tmp/state-imp-$n"
	conf="$tmp/conf-imp-$n"
	sed "s|^state_dir = .*|state_dir = $tmp/state-imp-$n|" "$tmp/conf-$(set -- $sizes; echo "$1")" > "$conf"
	chmod 0644 "$conf"
	"$tool" "$conf" import "$n" >/dev/null
	user=$(printf 'u%06d@contoso.com' $((n / 2)))
	row "entra $n imported" entra "$conf" "$user" newcomer@contoso.com "$user" newgroup@contoso.com
done
echo
header "module alone (dlopen)" initgroups_dyn
"$bench" --direct "$tmp/lib/libnss_floor.so.2" floor floor flooruser nosuchuser floorgroup nosuchgroup "$ms"
for n in $sizes; do
	user=$(printf 'u%06d@contoso.com' $((n / 2)))
	ENTRA_LOGIN_CONF="$tmp/conf-$n" "$bench" --direct "$tmp/lib/libnss_entra.so.2" entra "entra $n users" \
		"$user" newcomer@contoso.com "$user" newgroup@contoso.com "$ms"
done
for n in $imported; do
	user=$(printf 'u%06d@contoso.com' $((n / 2)))
	ENTRA_LOGIN_CONF="$tmp/conf-imp-$n" "$bench" --direct "$tmp/lib/libnss_entra.so.2" entra "entra $n imported" \
		"$user" newcomer@contoso.com "$user" newgroup@contoso.com "$ms"
done
echo
for n in $sizes; do
	printf 'users.db with %s users: %s bytes\n' "$n" "$(stat -c %s "$tmp/state-$n/users.db")"
done
