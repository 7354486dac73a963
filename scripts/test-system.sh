#!/usr/bin/env bash
# make test-system: the .deb in a real systemd. Boots Debian bookworm with systemd-nspawn (a
# debootstrap tree cached in .build-system/), installs the package, and drives the service with
# systemctl against `stepworker local-endpoint` on the host's loopback (the container shares
# the host's network namespace): install without start, start (READY=1), a task, the journal
# fields, reload, a drained stop, remove and purge. One PASS/FAIL line per step.
#
# Exit 0 when every step passed, 1 when one failed, 77 when this machine cannot run it (not
# root, no namespaces, no systemd-nspawn, no network for debootstrap): then it says why.
# Only the package downloads (apt, debootstrap) leave loopback.
#
# Environment: SWIFT (default swift), DEBIAN_MIRROR (default http://deb.debian.org/debian),
# STEPWORKER_DEB=FILE tests that package instead of running make deb (the release build must
# still be there for the host's local endpoint), KEEP_ROOTFS=1 keeps the booted tree in
# .build-system/run for a post-mortem.
set -euo pipefail
cd "$(dirname "$0")/.."

CACHE=.build-system
ROOTFS="$CACHE/bookworm"      # pristine debootstrap tree, reused across runs
RUN_ROOT="$CACHE/run"         # the copy that boots (a fresh one every run)
LOGS="$CACHE/logs"
MIRROR=${DEBIAN_MIRROR:-http://deb.debian.org/debian}
ACTIVITY=system-test
ARN="arn:aws:states:us-east-1:123456789012:activity:$ACTIVITY"
# Added by a reload.
ADDED=system-test-added
ADDED_ARN="arn:aws:states:us-east-1:123456789012:activity:$ADDED"
# A warm handler (protocol = "lambda"): a bash runtime over /dev/tcp, so the Runtime API's
# admission (a NETLINK_SOCK_DIAG lookup) is tried under the shipped unit's restrictions.
WARM=system-test-warm
WARM_ARN="arn:aws:states:us-east-1:123456789012:activity:$WARM"
WARM_HANDLER=/usr/local/libexec/stepworker-system-test/warm.sh
ACCESS_KEY=AKIDSYSTEMTEST
SECRET_KEY=system-test-secret
HANDLER=/usr/local/libexec/stepworker-system-test/handler.sh

started=$(date +%s)
nspawn_pid=
endpoint_pid=
ct_pid=
endpoint=
status=1

say() { printf 'test-system: %s\n' "$*"; }
pass() { printf 'PASS  %s\n' "$*"; }
fail() {
    printf 'FAIL  %s\n' "$1"
    shift
    [ $# -eq 0 ] || printf '      %s\n' "$@"
    diagnostics
    exit 1
}
skip() {
    printf 'SKIP  test-system: %s\n' "$*"
    status=77
    exit 77
}
elapsed() { echo "$(($(date +%s) - $1)) s"; }

# A command inside the container (all its namespaces), with a clean environment and a deadline.
ct() {
    timeout "${CT_TIMEOUT:-30}" nsenter -t "$ct_pid" -a \
        env -i PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin LANG=C.UTF-8 \
        DEBIAN_FRONTEND=noninteractive "$@"
}
# The unit's state, e.g. `unit_prop ActiveState`.
unit_prop() { ct systemctl show -p "$1" --value stepworker.service; }

diagnostics() {
    [ -n "$ct_pid" ] || return 0
    echo "---- systemctl status stepworker"
    ct systemctl --no-pager status stepworker.service 2>&1 | tail -n 25 || true
    echo "---- journalctl -u stepworker (last 40)"
    ct journalctl --no-pager -u stepworker.service -n 40 2>&1 || true
    if [ -n "$endpoint_pid" ]; then
        echo "---- local endpoint stderr (last 20)"
        tail -n 20 "$LOGS/endpoint.err" || true
    fi
}

cleanup() {
    local rc=$?
    [ "$status" = 77 ] && rc=77
    trap - EXIT INT TERM
    if [ -n "$nspawn_pid" ] && kill -0 "$nspawn_pid" 2>/dev/null; then
        # SIGTERM makes systemd-nspawn power the container off cleanly.
        kill -TERM "$nspawn_pid" 2>/dev/null || true
        for _ in $(seq 1 150); do kill -0 "$nspawn_pid" 2>/dev/null || break; sleep 0.2; done
        kill -KILL "$nspawn_pid" 2>/dev/null || true
        wait "$nspawn_pid" 2>/dev/null || true
    fi
    if [ -n "$endpoint_pid" ] && kill -0 "$endpoint_pid" 2>/dev/null; then
        kill -TERM "$endpoint_pid" 2>/dev/null || true
        wait "$endpoint_pid" 2>/dev/null || true
    fi
    if [ "${KEEP_ROOTFS:-0}" = 1 ]; then
        say "kept the container tree in $RUN_ROOT"
    else
        rm -rf "$RUN_ROOT"
    fi
    case $rc in
    0) say "PASSED in $(elapsed "$started")" ;;
    77) ;;
    *) say "FAILED (exit $rc) after $(elapsed "$started"); logs in $LOGS" ;;
    esac
    exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# ---- Can this machine boot a container at all?
[ "$(uname -s)" = Linux ] || skip "needs Linux"
[ "$(id -u)" -eq 0 ] || skip "needs root (debootstrap, systemd-nspawn and nsenter do); run it as root"
for tool in unshare nsenter timeout; do
    command -v "$tool" >/dev/null 2>&1 || skip "no $tool (util-linux/coreutils)"
done
scripts/install-deps.sh system ||
    skip "cannot install debootstrap, systemd-container, lintian, curl, jq (see above)"
unshare --mount true 2>/dev/null || skip "cannot create a mount namespace (unshare --mount fails: no CAP_SYS_ADMIN?)"
mkdir -p "$LOGS"

# ---- The package (release build, lintian).
t=$(date +%s)
if [ -n "${STEPWORKER_DEB:-}" ]; then
    deb=$STEPWORKER_DEB
    [ -f "$deb" ] || fail "STEPWORKER_DEB=$deb exists"
    lintian --fail-on error "$deb" >/dev/null || fail "lintian reports no errors for $deb"
    pass "$deb (STEPWORKER_DEB): lintian reports no errors ($(elapsed "$t"))"
else
    deb=$(scripts/build-deb.sh | tail -n 1) || fail "make deb (release build, dpkg-deb, lintian without errors)"
    [ -f "$deb" ] || fail "make deb produced no package"
    pass "make deb: $deb built, lintian reports no errors ($(elapsed "$t"))"
fi
bin="$("${SWIFT:-swift}" build -c release --static-swift-stdlib --scratch-path .build-release --show-bin-path)/stepworker"

# ---- The Debian tree, made once (again when the package list below changes). procps is
# and ca-certificates are there because the package depends on them, and dpkg -i installs
# nothing else.
DEBOOTSTRAP_ARGS=(--variant=minbase "--include=systemd,systemd-sysv,dbus,procps,ca-certificates" bookworm)
if [ "$(cat "$ROOTFS/.debootstrap-args" 2>/dev/null || true)" != "${DEBOOTSTRAP_ARGS[*]}" ]; then
    t=$(date +%s)
    say "debootstrap ${DEBOOTSTRAP_ARGS[*]} into $ROOTFS (once; later runs reuse it)"
    rm -rf "$ROOTFS" "$ROOTFS.tmp"
    if ! timeout 1200 debootstrap "${DEBOOTSTRAP_ARGS[@]}" "$ROOTFS.tmp" "$MIRROR" >"$LOGS/debootstrap.log" 2>&1; then
        tail -n 5 "$LOGS/debootstrap.log" | sed 's/^/      /'
        rm -rf "$ROOTFS.tmp"
        skip "debootstrap could not build a bookworm tree from $MIRROR (no network?); log: $LOGS/debootstrap.log"
    fi
    echo "${DEBOOTSTRAP_ARGS[*]}" >"$ROOTFS.tmp/.debootstrap-args"
    mv "$ROOTFS.tmp" "$ROOTFS"
    pass "debootstrap bookworm ($(elapsed "$t"))"
fi
rm -rf "$RUN_ROOT"
cp -a "$ROOTFS" "$RUN_ROOT"
cp "$deb" "$RUN_ROOT/root/stepworker.deb"

# ---- Boot. nspawn registers nothing with a host systemd (there may be none) and keeps its
# runtime files in a private tmpfs.
t=$(date +%s)
mkdir -p /run/systemd/nspawn
# shellcheck disable=SC2016 # $1 is the inner shell's argument
unshare --mount --propagation private sh -c \
    'mount -t tmpfs tmpfs /run/systemd/nspawn && exec systemd-nspawn -D "$1" --boot --register=no --keep-unit --console=read-only --quiet' \
    sh "$RUN_ROOT" </dev/null >"$LOGS/nspawn.log" 2>&1 &
nspawn_pid=$!
for _ in $(seq 1 100); do
    for child in $(pgrep -P "$nspawn_pid" 2>/dev/null || true); do
        if grep -qE '^NSpid:[[:space:]]+[0-9]+[[:space:]]+1$' "/proc/$child/status" 2>/dev/null; then
            ct_pid=$child
        fi
    done
    [ -n "$ct_pid" ] && break
    kill -0 "$nspawn_pid" 2>/dev/null || break
    sleep 0.1
done
if [ -z "$ct_pid" ]; then
    tail -n 10 "$LOGS/nspawn.log" | sed 's/^/      /'
    skip "systemd-nspawn could not boot the container on this machine (log: $LOGS/nspawn.log)"
fi
# Until the container's systemd listens, systemctl says "offline"; then --wait waits for boot.
state=
for _ in $(seq 1 300); do
    state=$(CT_TIMEOUT=90 ct systemctl is-system-running --wait 2>/dev/null || true)
    case "$state" in running | degraded | maintenance | stopping) break ;; esac
    kill -0 "$nspawn_pid" 2>/dev/null || break
    [ $(($(date +%s) - t)) -lt 90 ] || break
    sleep 0.2
done
case "$state" in
running) pass "container booted: systemd is running ($(elapsed "$t"))" ;;
degraded) pass "container booted: systemd is degraded, failed units: $(ct systemctl --failed --no-legend --plain | cut -d' ' -f1 | tr '\n' ' ')($(elapsed "$t"))" ;;
*)
    tail -n 10 "$LOGS/nspawn.log" | sed 's/^/      /'
    skip "the container's systemd did not come up (state '$state'; log: $LOGS/nspawn.log)"
    ;;
esac

# ---- Install: the user, the state directory, enabled but not started.
out=$(CT_TIMEOUT=120 ct dpkg -i /root/stepworker.deb 2>&1) || fail "dpkg -i stepworker.deb" "$out"
printf '%s\n' "$out" >"$LOGS/dpkg-install.log"
grep -q "enabled but NOT started" <<<"$out" || fail "dpkg -i tells the operator the service is not started" "$out"
pass "dpkg -i installs the package and says the service is enabled but not started"
# The daemon speaks TLS to AWS with the system's trust store (docs/client.md): the package pulls it in.
ct test -s /etc/ssl/certs/ca-certificates.crt || fail "the system trust store is installed (ca-certificates)" ""
pass "the system trust store is there for TLS to AWS (ca-certificates, a dependency)"

missing=$(ct ldd /usr/bin/stepworker | grep 'not found' || true)
[ -z "$missing" ] || fail "every shared library of /usr/bin/stepworker is there" "$missing"
libs=$(ct ldd /usr/bin/stepworker | awk '{print $1}' | tr '\n' ' ')
case "$libs" in *swift*) fail "no Swift runtime library needed at run time" "$libs" ;; esac
pass "/usr/bin/stepworker needs no Swift toolchain: $libs"

user=$(ct getent passwd stepworker) || fail "the stepworker system user exists"
uid=$(cut -d: -f3 <<<"$user")
[ "$uid" -lt 1000 ] || fail "stepworker is a system user" "$user"
pass "system user: $user"

[ "$(ct stat -c '%U:%G %a' /var/lib/stepworker)" = "stepworker:stepworker 750" ] ||
    fail "/var/lib/stepworker is stepworker:stepworker 0750" "$(ct stat -c '%U:%G %a' /var/lib/stepworker)"
[ "$(ct stat -c '%U:%G %a' /etc/stepworker/stepworker.toml)" = "root:stepworker 640" ] ||
    fail "/etc/stepworker/stepworker.toml is root:stepworker 0640" "$(ct stat -c '%U:%G %a' /etc/stepworker/stepworker.toml)"
[ "$(ct stat -c '%U:%G %a' /etc/stepworker)" = "root:stepworker 750" ] ||
    fail "/etc/stepworker is root:stepworker 0750 (the unit's ConfigurationDirectoryMode=)" "$(ct stat -c '%U:%G %a' /etc/stepworker)"
pass "state directory, config directory and file: owners and modes from tmpfiles.d"

out=$(ct stepworker check 2>&1) || fail "stepworker check accepts the shipped /etc/stepworker/stepworker.toml" "$out"
pass "stepworker check accepts the shipped example configuration (its handlers are installed)"

enabled=$(ct systemctl is-enabled stepworker.service || true)
active=$(ct systemctl is-active stepworker.service || true)
[ "$enabled" = enabled ] || fail "the service is enabled after install" "is-enabled: $enabled"
[ "$active" = inactive ] || fail "the service is not started by the install" "is-active: $active"
pass "stepworker.service is enabled and inactive after install"

# ---- The local endpoint on the host's loopback.
"$bin" local-endpoint --listen 127.0.0.1:0 --access-key "$ACCESS_KEY" --secret-key "$SECRET_KEY" \
    --activity "$ACTIVITY" --activity "$ADDED" --activity "$WARM" --poll-seconds 2 >"$LOGS/endpoint.out" 2>"$LOGS/endpoint.err" &
endpoint_pid=$!
for _ in $(seq 1 100); do
    endpoint=$(sed -n 's/^listening on \(http:[^ ]*\)$/\1/p' "$LOGS/endpoint.out")
    [ -n "$endpoint" ] && break
    kill -0 "$endpoint_pid" 2>/dev/null || break
    sleep 0.1
done
[ -n "$endpoint" ] || fail "stepworker local-endpoint starts" "$(cat "$LOGS/endpoint.err")"
pass "local endpoint at $endpoint, activity $ACTIVITY"

submit() { # input-json [activity-arn] -> task id
    curl -sS --fail --max-time 10 -X POST "$endpoint/_local/tasks" \
        -d "$(jq -nc --arg arn "${2:-$ARN}" --arg input "$1" '{activityArn: $arn, input: $input, heartbeatSeconds: 30, timeoutSeconds: 120}')" |
        jq -r .id
}
task() { curl -sS --fail --max-time 45 "$endpoint/_local/tasks/$1${2:+?waitSeconds=$2}"; }

# ---- Configure as an operator would: the config, a handler, and a drop-in with the
# credentials (systemd credentials, files readable by root only) and the endpoint.
ct mkdir -p "$(dirname "$HANDLER")"
ct sh -c "cat >$HANDLER && chmod 0755 $HANDLER" <<'EOF'
#!/bin/sh
set -eu
input=$(cat)
echo "handler: task ${STEPWORKER_TASK_ID} starting" >&2
case "$input" in *'"sleep"'*) sleep 5 ;; esac
case "$input" in *'"fail"'*) echo "handler: failing on purpose" >&2; exit 3 ;; esac
printf '{"handled": %s, "worker": "%s"}\n' "$input" "$STEPWORKER_WORKER_NAME"
EOF
# The Lambda Runtime API client loop in bash: one connection per request (bash reads no more
# than Content-Length), the answer wraps the input.
ct sh -c "cat >$WARM_HANDLER && chmod 0755 $WARM_HANDLER" <<'EOF'
#!/bin/bash
set -eu
host=${AWS_LAMBDA_RUNTIME_API%:*} port=${AWS_LAMBDA_RUNTIME_API##*:}
while true; do
    exec 3<>"/dev/tcp/$host/$port"
    printf 'GET /2018-06-01/runtime/invocation/next HTTP/1.1\r\nHost: runtime\r\n\r\n' >&3
    id= length=0
    while IFS= read -r line <&3; do
        line=${line%$'\r'}
        [ -z "$line" ] && break
        case "${line,,}" in
        lambda-runtime-aws-request-id:*) id=${line#*: } ;;
        content-length:*) length=${line#*: } ;;
        esac
    done
    body=
    [ "$length" -gt 0 ] && IFS= read -r -N "$length" body <&3
    exec 3>&-
    answer="{\"warm\": $body, \"pid\": $$}"
    exec 3<>"/dev/tcp/$host/$port"
    printf 'POST /2018-06-01/runtime/invocation/%s/response HTTP/1.1\r\nHost: runtime\r\nContent-Length: %d\r\n\r\n%s' \
        "$id" "${#answer}" "$answer" >&3
    IFS= read -r status <&3
    exec 3>&-
done
EOF
ct sh -c 'cat >/etc/stepworker/stepworker.toml' <<EOF
[aws]
region = "us-east-1"

[worker]
name = "system-test-worker"
shutdown_grace = "30s"

[[activity]]
arn = "$ARN"
command = ["$HANDLER"]
concurrency = 2
heartbeat = "1s"

[[activity]]
arn = "$WARM_ARN"
command = ["$WARM_HANDLER"]
protocol = "lambda"
concurrency = 1
EOF
ct sh -c "umask 077 && printf '%s\n' $ACCESS_KEY >/etc/stepworker/aws-access-key-id && printf '%s\n' $SECRET_KEY >/etc/stepworker/aws-secret-access-key"
ct mkdir -p /etc/systemd/system/stepworker.service.d
ct sh -c 'cat >/etc/systemd/system/stepworker.service.d/credentials.conf' <<EOF
[Service]
LoadCredential=aws-access-key-id:/etc/stepworker/aws-access-key-id
LoadCredential=aws-secret-access-key:/etc/stepworker/aws-secret-access-key
Environment=AWS_ENDPOINT_URL_SFN=$endpoint
EOF
ct systemctl daemon-reload
out=$(ct stepworker check 2>&1) || fail "stepworker check accepts the test configuration" "$out"
pass "configured: /etc/stepworker/stepworker.toml, handler, drop-in with LoadCredential= and AWS_ENDPOINT_URL_SFN"

# ---- Start: Type=notify, so `systemctl start` returns once READY=1 arrived.
t=$(date +%s)
CT_TIMEOUT=90 ct systemctl start stepworker.service || fail "systemctl start stepworker"
[ "$(unit_prop ActiveState)" = active ] || fail "stepworker is active after start" "$(unit_prop ActiveState)"
pass "systemctl start stepworker: active, READY=1 received ($(elapsed "$t")); status: $(unit_prop StatusText)"
complaint=$(ct journalctl --no-pager -u stepworker.service -o cat | grep -E 'mode is different|Failed to locate executable' || true)
[ -z "$complaint" ] || fail "systemd has no complaint about the unit's directories or executables" "$complaint"

# ---- A task.
id=$(submit '{"n": 1}') || fail "submit a task to the local endpoint"
result=$(task "$id" 30) || fail "read task $id from the local endpoint"
[ "$(jq -r .status <<<"$result")" = SUCCEEDED ] || fail "task $id SUCCEEDED" "$result"
output=$(jq -r .output <<<"$result")
if [ "$(jq -c .handled <<<"$output")" != '{"n":1}' ] || [ "$(jq -r .worker <<<"$output")" != system-test-worker ]; then
    fail "task $id carries the handler's output" "$output"
fi
pass "task $id SUCCEEDED with the handler's output $output"

# ---- The journal: structured fields, selectable by activity.
fingerprint=$(jq -r .taskTokenFingerprint <<<"$result")
entry=
for _ in $(seq 1 50); do
    # The one entry per finished task (JournalMessageID.taskOutcome), found the way docs/systemd.md says.
    entry=$(ct journalctl --no-pager -u stepworker.service "STEPWORKER_ACTIVITY=$ACTIVITY" \
        MESSAGE_ID=74cec27408494d3c89713c00392eb7bd -o json |
        jq -cs --arg id "$fingerprint" 'map(select(.STEPWORKER_TASK_ID == $id)) | first // empty')
    [ -n "$entry" ] && break
    sleep 0.2
done
[ -n "$entry" ] || fail "journalctl -u stepworker STEPWORKER_ACTIVITY=$ACTIVITY MESSAGE_ID=… has the task's outcome entry" \
    "$(ct journalctl --no-pager -u stepworker.service -o verbose -n 30)"
[ "$(jq -r .STEPWORKER_OUTCOME <<<"$entry")" = succeeded ] || fail "the journal's outcome is succeeded" "$entry"
[ "$(jq -r '.STEPWORKER_DURATION_MS // empty' <<<"$entry")" != "" ] || fail "the outcome entry has STEPWORKER_DURATION_MS" "$entry"
pass "journal: $(jq -r '"MESSAGE_ID=\(.MESSAGE_ID) MESSAGE=\(.MESSAGE) STEPWORKER_TASK_ID=\(.STEPWORKER_TASK_ID) STEPWORKER_OUTCOME=\(.STEPWORKER_OUTCOME) STEPWORKER_DURATION_MS=\(.STEPWORKER_DURATION_MS)"' <<<"$entry")"
handler_line=$(ct journalctl --no-pager -u stepworker.service "STEPWORKER_TASK_ID=$fingerprint" -o cat | grep -c "handler: task $fingerprint starting" || true)
[ "$handler_line" -ge 1 ] || fail "the handler's stderr is in the journal with STEPWORKER_TASK_ID"
pass "journal: the handler's stderr line carries STEPWORKER_TASK_ID=$fingerprint"

# ---- A failed task: its entry says so, with the error name a state machine would catch.
id=$(submit '{"fail": true}') || fail "submit a failing task to the local endpoint"
result=$(task "$id" 30) || fail "read task $id from the local endpoint"
[ "$(jq -r .error <<<"$result")" = Handler.Failed ] || fail "task $id FAILED with Handler.Failed" "$result"
fingerprint=$(jq -r .taskTokenFingerprint <<<"$result")
entry=
for _ in $(seq 1 50); do
    entry=$(ct journalctl --no-pager -u stepworker.service MESSAGE_ID=74cec27408494d3c89713c00392eb7bd \
        STEPWORKER_OUTCOME=failed -o json |
        jq -cs --arg id "$fingerprint" 'map(select(.STEPWORKER_TASK_ID == $id)) | first // empty')
    [ -n "$entry" ] && break
    sleep 0.2
done
[ -n "$entry" ] || fail "journalctl -u stepworker MESSAGE_ID=… STEPWORKER_OUTCOME=failed finds the failed task" \
    "$(ct journalctl --no-pager -u stepworker.service -o verbose -n 30)"
[ "$(jq -r .STEPWORKER_ERROR <<<"$entry")" = Handler.Failed ] || fail "the failed task's entry has STEPWORKER_ERROR=Handler.Failed" "$entry"
pass "journal: MESSAGE_ID=… STEPWORKER_OUTCOME=failed finds task $id with STEPWORKER_ERROR=Handler.Failed"

# ---- A warm task: the runtime reached its listener under the unit's restrictions (AF_NETLINK
# for the peer lookup, PrivateUsers=yes) and was admitted as the service's user.
id=$(submit '{"w": 1}' "$WARM_ARN") || fail "submit a task to the warm activity"
result=$(task "$id" 30) || fail "read task $id from the local endpoint"
if [ "$(jq -r .status <<<"$result")" != SUCCEEDED ] || [ "$(jq -r .output <<<"$result" | jq -c .warm)" != '{"w":1}' ]; then
    fail "warm task $id SUCCEEDED through the Runtime API" "$result $(ct journalctl --no-pager -u stepworker.service -o cat -n 20)"
fi
refused=$(ct journalctl --no-pager -u stepworker.service -o cat | grep -c "Refused a Runtime API connection" || true)
[ "$refused" -eq 0 ] || fail "no Runtime API connection of the handler was refused" "$(ct journalctl --no-pager -u stepworker.service -o cat | grep Refused)"
pass "warm task $id SUCCEEDED through the Runtime API under the hardened unit: $(jq -r .output <<<"$result")"

# ---- Reload: an activity added to the file is served by the same process; a broken file
# fails `systemctl reload` (the unit checks before signalling) and the service goes on.
pid=$(unit_prop MainPID)
ct sh -c "printf '\n[[activity]]\narn = \"%s\"\ncommand = [\"%s\"]\n' '$ADDED_ARN' '$HANDLER' >>/etc/stepworker/stepworker.toml"
CT_TIMEOUT=60 ct systemctl reload stepworker.service || fail "systemctl reload stepworker"
if [ "$(unit_prop ActiveState)" != active ] || [ "$(unit_prop MainPID)" != "$pid" ]; then
    fail "stepworker stays active, same process, after reload" "$(unit_prop ActiveState) pid $(unit_prop MainPID) (was $pid)"
fi
id=$(submit '{"added": true}' "$ADDED_ARN") || fail "submit a task to the added activity"
result=$(task "$id" 30) || fail "read task $id from the local endpoint"
[ "$(jq -r .status <<<"$result")" = SUCCEEDED ] || fail "the activity added by reload serves task $id" "$result"
ct journalctl --no-pager -u stepworker.service "STEPWORKER_ACTIVITY=$ADDED" -o cat | grep -q "^Activity added$" ||
    fail "the journal says the activity was added" "$(ct journalctl --no-pager -u stepworker.service -o cat -n 20)"
pass "systemctl reload stepworker: activity $ADDED added and served by the same process $pid; status: $(unit_prop StatusText)"

ct cp /etc/stepworker/stepworker.toml /root/stepworker.toml.good
ct sh -c "printf 'concurrency = \"lots\"\n' >>/etc/stepworker/stepworker.toml"
if out=$(CT_TIMEOUT=60 ct systemctl reload stepworker.service 2>&1); then
    fail "systemctl reload fails on a broken configuration" "$out"
fi
ct journalctl --no-pager -u stepworker.service -o cat -n 50 | grep -q "concurrency: " ||
    fail "the journal names the broken key" "$(ct journalctl --no-pager -u stepworker.service -o cat -n 20)"
if [ "$(unit_prop ActiveState)" != active ] || [ "$(unit_prop MainPID)" != "$pid" ]; then
    fail "stepworker stays active after a refused reload" "$(unit_prop ActiveState) pid $(unit_prop MainPID) (was $pid)"
fi
ct cp /root/stepworker.toml.good /etc/stepworker/stepworker.toml
pass "a broken configuration fails systemctl reload with the problem in the journal; the service goes on"

# ---- Upgrade (the same package again): the edited conffile stays, the running service is
# restarted (try-restart) and says nothing about "not started".
pid=$(unit_prop MainPID)
out=$(CT_TIMEOUT=200 ct dpkg -i /root/stepworker.deb 2>&1 </dev/null) || fail "dpkg -i over the installed package" "$out"
! grep -q "NOT started" <<<"$out" || fail "an upgrade does not print the first-install message" "$out"
ct grep -q '^name = "system-test-worker"' /etc/stepworker/stepworker.toml ||
    fail "an upgrade keeps the edited /etc/stepworker/stepworker.toml"
if [ "$(unit_prop ActiveState)" != active ] || [ "$(unit_prop MainPID)" = "$pid" ]; then
    fail "an upgrade restarts the running service" "$(unit_prop ActiveState) pid $(unit_prop MainPID) (was $pid)"
fi
pass "upgrade (dpkg -i again): the edited config stays, the service restarted (pid $pid -> $(unit_prop MainPID))"

# ---- Stop drains: a task running when the stop comes finishes within shutdown_grace.
id=$(submit '{"sleep": 5}') || fail "submit a long task to the local endpoint"
for _ in $(seq 1 100); do
    [ "$(task "$id" | jq -r .status)" = STARTED ] && break
    sleep 0.2
done
[ "$(task "$id" | jq -r .status)" = STARTED ] || fail "the long task $id started" "$(task "$id")"
t=$(date +%s)
CT_TIMEOUT=200 ct systemctl stop stepworker.service || fail "systemctl stop stepworker"
stop_took=$(elapsed "$t")
result=$(task "$id" 30) || fail "read task $id from the local endpoint"
[ "$(jq -r .status <<<"$result")" = SUCCEEDED ] ||
    fail "the task running during stop SUCCEEDED (drained, not killed)" "$result"
active=$(unit_prop ActiveState)
unit_result=$(unit_prop Result)
if [ "$active" != inactive ] || [ "$unit_result" != success ]; then
    fail "stepworker is inactive (not failed) after stop" "ActiveState=$active Result=$unit_result"
fi
pass "systemctl stop drained: task $id SUCCEEDED during the stop ($stop_took); unit inactive, Result=success"

# ---- Remove stops the service; purge deletes its state.
CT_TIMEOUT=90 ct systemctl start stepworker.service || fail "systemctl start stepworker (again)"
out=$(CT_TIMEOUT=200 ct dpkg -r stepworker 2>&1) || fail "dpkg -r stepworker" "$out"
[ "$(unit_prop ActiveState)" = inactive ] || fail "dpkg -r stops the service" "$(unit_prop ActiveState)"
ct test ! -e /usr/bin/stepworker || fail "dpkg -r removes /usr/bin/stepworker"
ct test -f /etc/stepworker/stepworker.toml || fail "dpkg -r keeps the conffile"
pass "dpkg -r stops the service and removes the program, keeps the configuration"
out=$(CT_TIMEOUT=60 ct dpkg -P stepworker 2>&1) || fail "dpkg -P stepworker" "$out"
ct test ! -e /var/lib/stepworker || fail "dpkg -P deletes /var/lib/stepworker"
ct test ! -e /etc/stepworker/stepworker.toml || fail "dpkg -P deletes the conffile"
ct test ! -e /etc/systemd/system/multi-user.target.wants/stepworker.service || fail "dpkg -P removes the enablement symlink"
pass "dpkg -P deletes the state directory, the configuration and the enablement (the user stays: $(ct getent passwd stepworker | cut -d: -f1))"

status=0
