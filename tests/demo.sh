#!/usr/bin/env bash
# make demo: must run as root (mount namespaces, sshd). See tests/demo.py.
set -euo pipefail
cd "$(dirname "$0")/.."
if [ "$(id -u)" -ne 0 ]; then
	echo "make demo needs root (it starts sshd in a private mount namespace)" >&2
	exit 1
fi
exec /usr/bin/python3 tests/demo.py
