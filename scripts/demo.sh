#!/usr/bin/env bash
# make demo: runs stepworker end to end against its bundled local endpoint. No AWS account needed.
set -euo pipefail
cd "$(dirname "$0")/.."
bin=$(swift build --show-bin-path)
: "${STEPWORKER:=$bin/stepworker}"
swift build --product stepworker-demo >/dev/null
STEPWORKER="$STEPWORKER" "$bin/stepworker-demo"
