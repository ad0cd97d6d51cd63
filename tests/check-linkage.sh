#!/usr/bin/env bash
# The NSS module is loaded into every process: it must need libc only and
# export only _nss_entra_*. The PAM module exports only pam_sm_* and links
# the network stack it is designed around.
set -euo pipefail
nss=$1 pam=$2
fail=0
needed=$(readelf -d "$nss" | sed -n 's/.*(NEEDED).*\[\(.*\)\]/\1/p')
# A SAN=... build (build-san/, like conftest.asan_preload) needs the sanitizer runtimes too.
san=
case $nss in *build-san/*) san=1 ;; esac
for lib in $needed; do
	case $lib in
	libc.so.*|ld-linux*) ;;
	libasan.so.*|libubsan.so.*) [ -n "$san" ] || { echo "check-linkage: $nss needs $lib" >&2; fail=1; } ;;
	*) echo "check-linkage: $nss needs $lib" >&2; fail=1 ;;
	esac
done
bad=$(nm -D --defined-only "$nss" | awk '{print $3}' | grep -v '^_nss_entra_' | grep -v '^LIBNSS\|^NSS_ENTRA\|^$' || true)
[ -z "$bad" ] || { echo "check-linkage: $nss exports $bad" >&2; fail=1; }
bad=$(nm -D --defined-only "$pam" | awk '{print $3}' | grep -v '^pam_sm_' | grep -v '^$' || true)
[ -z "$bad" ] || { echo "check-linkage: $pam exports $bad" >&2; fail=1; }
# No libjwt: common/net/jwt.c verifies with OpenSSL directly (why: its header comment).
# Capture first: grep -q closing the pipe early would fail ldd under pipefail.
deps=$(ldd "$pam")
for lib in libcurl libjansson libcrypto libpam; do
	grep -q "$lib" <<<"$deps" || { echo "check-linkage: $pam does not link $lib" >&2; fail=1; }
done
[ $fail -eq 0 ] && echo "check-linkage: NSS needs only libc${san:+ (+ sanitizer runtimes)}; exports are entry points only"
exit $fail
