#!/usr/bin/env bash
# System packages the HA tests (tests/ha) need on a fresh Debian machine: etcd for Patroni, and Debian's
# python3 (same minor version as the project's Python) so Patroni can run as the unprivileged account
# PostgreSQL requires. Idempotent and quiet: does nothing when both are present. Needs root (CI runs as root).
set -euo pipefail

missing=()
command -v etcd >/dev/null 2>&1 || [ -x /usr/bin/etcd ] || missing+=(etcd-server)
[ -x /usr/bin/python3 ] || missing+=(python3)

if [ "${#missing[@]}" -eq 0 ]; then
    exit 0
fi
if [ "$(id -u)" -ne 0 ]; then
    echo "install-ha-deps: need root to apt-get install ${missing[*]}" >&2
    exit 1
fi
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq >/dev/null
# The package's post-install cannot start a service in a container (policy-rc.d); the tests start their own.
apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
command -v etcd >/dev/null 2>&1 || { echo "install-ha-deps: etcd still missing" >&2; exit 1; }
