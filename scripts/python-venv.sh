#!/bin/sh
# Creates .build/venv with awslambdaric 4.x (the official AWS Lambda Runtime Interface Client for
# Python), for the warm-handler tests (protocol = "lambda"). Idempotent: a venv that already
# imports awslambdaric is kept. Never fails the build: when the package cannot be installed it
# says why, and the tests that need it are skipped with that reason.
set -u
root=$(cd "$(dirname "$0")/.." && pwd)
venv="${STEPWORKER_VENV:-$root/.build/venv}"
python="${PYTHON:-python3}"

if [ -x "$venv/bin/python" ] && "$venv/bin/python" -c 'import awslambdaric' 2>/dev/null; then
    exit 0
fi
if ! "$python" -c 'import venv' 2>/dev/null; then
    if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
        apt-get install -y -q python3-venv >/dev/null 2>&1 || true
    fi
fi
mkdir -p "$(dirname "$venv")"
if ! "$python" -m venv "$venv" >/dev/null 2>&1; then
    echo "python-venv.sh: cannot create $venv with $python; the awslambdaric tests will be skipped" >&2
    exit 0
fi
# The manylinux wheel needs no compiler; a source build would need cmake, autoconf, libtool,
# g++ and make (installed here when we are root and pip had to fall back to the sdist).
if ! "$venv/bin/pip" install -q 'awslambdaric>=4,<5' >/dev/null 2>&1; then
    if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
        apt-get install -y -q cmake autoconf automake libtool g++ make libcurl4-openssl-dev >/dev/null 2>&1 || true
    fi
    if ! "$venv/bin/pip" install -q 'awslambdaric>=4,<5' >&2; then
        echo "python-venv.sh: pip could not install awslambdaric 4.x; the awslambdaric tests will be skipped" >&2
        exit 0
    fi
fi
"$venv/bin/python" -c 'import awslambdaric' || echo "python-venv.sh: awslambdaric does not import; its tests will be skipped" >&2
exit 0
