#!/usr/bin/env bash
# The NSS module is loaded into every process: it must need libc only and
# export only _nss_entra_*. The PAM module is loaded into setuid su, sudo,
# cron and login: it exports only pam_sm_* and needs libpam and libc only;
# the network stack (libcurl, OpenSSL, jansson) lives in the helper it
# execs (SECURITY.md), and libjwt nowhere. The helper and the CLI link
# OpenSSL and jansson but not libcurl: common/net/http.c dlopens
# libcurl.so.4 on the first request (a CLI start is ~2.5 ms cheaper without
# libcurl's ~30 libraries; sshd runs authorized-keys for every offered key).
set -euo pipefail
nss=$1 pam=$2 helper=${3:-} cli=${4:-}
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
# Capture first: grep -q closing the pipe early would fail ldd under pipefail.
deps=$(ldd "$pam")
for lib in libcurl libjansson libcrypto libssl libjwt libgnutls; do
	! grep -q "$lib" <<<"$deps" || { echo "check-linkage: $pam loads $lib (the helper's job)" >&2; fail=1; }
done
needed=$(readelf -d "$pam" | sed -n 's/.*(NEEDED).*\[\(.*\)\]/\1/p')
for lib in $needed; do
	case $lib in
	libc.so.*|libpam.so.*|ld-linux*) ;;
	libasan.so.*|libubsan.so.*) [ -n "$san" ] || { echo "check-linkage: $pam needs $lib" >&2; fail=1; } ;;
	*) echo "check-linkage: $pam needs $lib" >&2; fail=1 ;;
	esac
done
# No libjwt anywhere: common/net/jwt.c verifies with OpenSSL directly (why: its header comment).
for bin in $helper $cli; do
	deps=$(ldd "$bin")
	for lib in libjansson libcrypto; do
		grep -q "$lib" <<<"$deps" || { echo "check-linkage: $bin does not link $lib" >&2; fail=1; }
	done
	! grep -q libjwt <<<"$deps" || { echo "check-linkage: $bin links libjwt" >&2; fail=1; }
	! grep -q libcurl <<<"$deps" || { echo "check-linkage: $bin links libcurl (http.c loads it on use)" >&2; fail=1; }
	strs=$(strings -a "$bin")
	grep -qx 'libcurl\.so\.4' <<<"$strs" || { echo "check-linkage: $bin does not name libcurl.so.4" >&2; fail=1; }
done
[ $fail -eq 0 ] && echo "check-linkage: NSS needs only libc${san:+ (+ sanitizer runtimes)}, PAM only libpam+libc;" \
	"exports are entry points only${helper:+; helper${cli:+ and CLI} load libcurl on use}"
exit $fail
