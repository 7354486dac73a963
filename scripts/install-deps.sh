#!/usr/bin/env bash
# Installs the system packages a job needs when they are missing: with apt when running as root,
# otherwise it says what to install and fails.
#   scripts/install-deps.sh          the build: libsystemd-dev, pkg-config
#   scripts/install-deps.sh test     also what `make test` needs: prometheus (its promtool checks
#                                    and unit-tests the shipped rules; the tests start their own
#                                    prometheus server), fuse3, libfuse3-dev and gcc (the
#                                    power-cut tests' file system)
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
if [ "$want" = test ]; then
    # promtool checks the shipped rules; the tests start their own prometheus server.
    need prometheus prometheus
    need promtool prometheus
    # The power-cut test's file system (Tests/Fixtures/powercut-fs): gcc, libfuse3 and fusermount3.
    need fusermount3 fuse3; pkg-config --exists fuse3 2>/dev/null || missing+=(libfuse3-dev); need gcc gcc
fi
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
read -r -a missing <<<"$(printf '%s\n' "${missing[@]}" | sort -u | tr '\n' ' ')"

if [ "$(id -u)" -eq 0 ] && command -v apt-get >/dev/null 2>&1; then
    echo "install-deps: installing ${missing[*]} with apt-get" >&2
    export DEBIAN_FRONTEND=noninteractive
    # None of these is installed to run as a service: the tests start their own prometheus on
    # a free loopback port. Debian's prometheus would start its own server on *:9090 at install
    # on a host whose systemd or sysvinit is running (in a container without a running init,
    # invoke-rc.d already refuses). A policy-rc.d that answers 101 ("action forbidden") makes
    # invoke-rc.d and deb-systemd-invoke skip every start for this install; an existing
    # policy-rc.d is the machine's own and is left alone.
    policy=/usr/sbin/policy-rc.d
    if [ ! -e "$policy" ]; then
        trap 'rm -f "$policy"' EXIT
        printf '#!/bin/sh\n# scripts/install-deps.sh (stepworker): no service starts while it installs\nexit 101\n' >"$policy"
        chmod 0755 "$policy"
    fi
    apt-get update -qq
    apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
    # ... and it would still start at the next boot: keep the package's service off, since
    # this script installed it only for the tests (update-rc.d disables the sysvinit links and,
    # where systemctl exists, the systemd unit too; neither needs a running init).
    case " ${missing[*]} " in *" prometheus "*)
        update-rc.d prometheus disable >/dev/null 2>&1 || true
        ;;
    esac
    exit 0
fi

echo "install-deps: missing system packages: ${missing[*]}" >&2
echo "install-deps: run as root: apt-get install ${missing[*]}" >&2
exit 1
