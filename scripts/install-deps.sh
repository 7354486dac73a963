#!/usr/bin/env bash
# Installs the system packages the build needs (libsystemd-dev, pkg-config) when they are
# missing: with apt when running as root, otherwise it says what to install and fails.
set -euo pipefail

missing=()
command -v pkg-config >/dev/null 2>&1 || missing+=(pkg-config)
if ! pkg-config --exists libsystemd 2>/dev/null; then
    missing+=(libsystemd-dev)
fi
[ ${#missing[@]} -eq 0 ] && exit 0

if [ "$(id -u)" -eq 0 ] && command -v apt-get >/dev/null 2>&1; then
    echo "install-deps: installing ${missing[*]} with apt-get" >&2
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
    exit 0
fi

echo "install-deps: missing system packages: ${missing[*]}" >&2
echo "install-deps: run as root: apt-get install ${missing[*]}" >&2
exit 1
