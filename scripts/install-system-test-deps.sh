#!/usr/bin/env bash
# Installs what `make deb` and `make test-system` need beyond the build when missing (dpkg-dev
# for dpkg-shlibdeps, lintian, debootstrap, systemd-container for systemd-nspawn, curl, jq):
# with apt when running as root, otherwise it says what to install and fails.
#   scripts/install-system-test-deps.sh deb      only what building and checking the .deb needs
#   scripts/install-system-test-deps.sh system   also what booting a container needs
set -euo pipefail

want=${1:-system}
missing=()
command -v dpkg-deb >/dev/null 2>&1 || missing+=(dpkg)
command -v dpkg-shlibdeps >/dev/null 2>&1 || missing+=(dpkg-dev)
command -v lintian >/dev/null 2>&1 || missing+=(lintian)
if [ "$want" = system ]; then
    command -v debootstrap >/dev/null 2>&1 || missing+=(debootstrap)
    command -v systemd-nspawn >/dev/null 2>&1 || missing+=(systemd-container)
    command -v curl >/dev/null 2>&1 || missing+=(curl)
    command -v jq >/dev/null 2>&1 || missing+=(jq)
fi
[ ${#missing[@]} -eq 0 ] && exit 0

if [ "$(id -u)" -eq 0 ] && command -v apt-get >/dev/null 2>&1; then
    echo "install-system-test-deps: installing ${missing[*]} with apt-get" >&2
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
    exit 0
fi

echo "install-system-test-deps: missing system packages: ${missing[*]}" >&2
echo "install-system-test-deps: run as root: apt-get install ${missing[*]}" >&2
exit 1
