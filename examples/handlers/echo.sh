#!/bin/sh
# An example stepworker handler in POSIX sh: echoes the task input back, wrapped.
#
# Contract (docs/handlers.md): the input JSON arrives on stdin; the result JSON goes to stdout;
# stderr goes to the journal. To show a structured failure, send an input containing
# "fail": true: the handler then prints {"error": ..., "cause": ...} and exits 1.
set -eu

input=$(cat)
echo "echo.sh: task ${STEPWORKER_TASK_ID:-?} of ${STEPWORKER_ACTIVITY_NAME:-?}, ${#input} bytes of input" >&2

case "$input" in
*'"fail": true'* | *'"fail":true'*)
    printf '{"error": "Echo.Requested", "cause": "the input asked echo.sh to fail"}\n'
    exit 1
    ;;
esac

if [ -z "$input" ]; then input=null; fi
printf '{"echo": %s, "activity": "%s"}\n' "$input" "${STEPWORKER_ACTIVITY_NAME:-}"
