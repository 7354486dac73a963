#!/bin/sh
# Creates .build/venv with awslambdaric 4.x (the official AWS Lambda Runtime Interface Client for
# Python), for the warm-handler tests (protocol = "lambda"). Idempotent: a venv that already
# imports awslambdaric is kept. Never fails the build: when the package cannot be installed it
# says why, and the tests that need it are skipped with that reason.
# --bench: also boto3, which the warm-handler benchmark's handler imports (make bench).
set -u
bench=false
[ "${1:-}" = "--bench" ] && bench=true
root=$(cd "$(dirname "$0")/.." && pwd)
venv="${STEPWORKER_VENV:-$root/.build/venv}"
python="${PYTHON:-python3}"

want='import awslambdaric'
$bench && want='import awslambdaric, boto3'
if [ -x "$venv/bin/python" ] && "$venv/bin/python" -c "$want" 2>/dev/null; then
    exit 0
fi
if ! "$python" -c 'import venv' 2>/dev/null; then
    if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
        apt-get install -y -q python3-venv >/dev/null 2>&1 || true
    fi
fi
mkdir -p "$(dirname "$venv")"
if [ ! -x "$venv/bin/python" ] && ! "$python" -m venv "$venv" >/dev/null 2>&1; then
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
if $bench && ! "$venv/bin/pip" install -q boto3 >&2; then
    echo "python-venv.sh: pip could not install boto3; make bench's warm-handler figures need it" >&2
fi
exit 0
