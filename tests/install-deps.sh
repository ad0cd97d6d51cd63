#!/usr/bin/env bash
# Install the Debian packages entra-login builds and tests with, if any is missing.
# --always: run apt-get install even if all look present (CI).
set -euo pipefail
PKGS=(build-essential pkg-config libpam0g-dev libcurl4-openssl-dev libjansson-dev libssl-dev
	libjwt-dev pamtester libpam-wrapper libnss-wrapper libpamtest0-dev libcmocka-dev
	openssh-server openssh-client sudo python3-pytest python3-cryptography python3-jwt
	python3-paramiko debhelper dpkg-dev fakeroot rpm lintian valgrind clang util-linux
	ca-certificates curl openssl libclang-rt-14-dev gawk original-awk busybox)
PKGS+=(cloud-init)  # `cloud-init schema` checks conf/cloud-init.yaml (test_cloud_init.py); its postinst starts nothing (try-restart only), ~8 s here
PKGS+=(cron)  # /etc/pam.d/cron: tests/integration/test_installed.py runs its account stage
PKGS+=(selinux-policy-dev selinux-policy-default checkpolicy semodule-utils policycoreutils setools python3-setools)  # packaging/selinux: compile the module (refpolicy headers), link it into the distribution policy with semodule in a namespace, query it with setools (test_selinux.py)
PKGS+=(rpmlint)  # lints the .rpm (test_rpm.py)
PKGS+=(python3-pytest-xdist)  # make check spreads the test modules over $(nproc) pytest workers (tests/conftest.py: groups)
PKGS+=(strace)  # test_entra_ssh_cert.py: entra-ssh run as a user never opens /etc/entra-login.conf
missing=()
for p in "${PKGS[@]}"; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
if [ "${1:-}" != "--always" ] && [ ${#missing[@]} -eq 0 ]; then
	exit 0
fi
if [ "$(id -u)" -ne 0 ]; then
	echo "missing packages: ${missing[*]} (run as root to install them)" >&2
	exit 1
fi
export DEBIAN_FRONTEND=noninteractive
if [ ${#missing[@]} -gt 0 ] || [ "${1:-}" = "--always" ]; then
	[ "${1:-}" = "--always" ] || apt-get update -qq
	apt-get install -y -qq --no-install-recommends "${PKGS[@]}" >/dev/null
fi
# cloud-init is here for its schema check only: if this run installed it, keep it from acting at the next boot.
if [ ${#missing[@]} -gt 0 ] && printf '%s\n' "${missing[@]}" | grep -qx cloud-init; then
	mkdir -p /etc/cloud && touch /etc/cloud/cloud-init.disabled
fi
