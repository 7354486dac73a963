#!/usr/bin/env bash
# Installs the system packages a job needs when they are missing: with apt when running as root,
# otherwise it says what to install and fails.
#   scripts/install-deps.sh          the build and `make test`: libsystemd-dev, pkg-config
#   scripts/install-deps.sh deb      also what building and checking the .deb needs
#                                    (dpkg-dev for dpkg-shlibdeps, lintian)
#   scripts/install-deps.sh system   also what `make test-system` needs (debootstrap,
#                                    systemd-container for systemd-nspawn, curl, jq)
set -euo pipefail

want=${1:-build}
missing=()
need() { # command package
    command -v "$1" >/dev/null 2>&1 || missing+=("$2")
}
need pkg-config pkg-config
pkg-config --exists libsystemd 2>/dev/null || missing+=(libsystemd-dev)
# The power-cut test's file system (Tests/Fixtures/powercut-fs): gcc, libfuse3 and fusermount3.
need fusermount3 fuse3; pkg-config --exists fuse3 2>/dev/null || missing+=(libfuse3-dev); need gcc gcc
if [ "$want" = deb ] || [ "$want" = system ]; then
    need dpkg-deb dpkg
    need dpkg-shlibdeps dpkg-dev
    need lintian lintian
fi
if [ "$want" = system ]; then
    need debootstrap debootstrap
    need systemd-nspawn systemd-container
    need curl curl
    need jq jq
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
