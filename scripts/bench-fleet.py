#!/usr/bin/env python3
"""`make bench-fleet` (issues 13 and 32, docs/fleet.md): a fleet sharing one account's API quota.

Four `stepworker run` daemons (2 activities x 16 pollers each) work through 2,000 short tasks
against one local endpoint whose per-API token buckets are the real quota scaled down (refill
20/s per API), in a matrix of cells: a burst of 120 or 40, and every 10th or every 3rd task
running 2 s and heartbeating every second with HeartbeatSeconds 5 (the rest run /bin/cat). In the
first cell (burst 120, every 10th) the same tasks also go, against a fresh endpoint, through four
typical boto3 workers (scripts/boto3-worker.py: a thread per poller, a subprocess per task, a
heartbeat thread per task, botocore's "standard" retry mode). `--single` runs that cell alone.
Prints one table, a row per cell and worker: tasks/s against the bound the quota allows,
throttled calls as a share of all calls, heartbeat timeouts, failures and each worker's share of
the work, with the targets in the last row and the ones a row missed named in it. A benchmark,
not a test: nothing here fails a build.
"""
import argparse
import http.client
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time

REFILL = 20.0
APIS = ["GetActivityTask", "SendTaskHeartbeat", "SendTaskSuccess", "SendTaskFailure"]
KEY, SECRET = "AKIDFLEET", "fleet-secret"
REGION, ACCOUNT = "us-east-1", "123456789012"


def arn(name):
    return f"arn:aws:states:{REGION}:{ACCOUNT}:activity:{name}"


class Endpoint:
    """`stepworker local-endpoint` with the scaled-down quota, in a process of its own."""

    def __init__(self, binary, directory, burst):
        limits = ",".join(f"{api}={burst}/{REFILL:g}" for api in APIS)
        self.log = open(os.path.join(directory, "endpoint.log"), "w")
        self.process = subprocess.Popen(
            [binary, "local-endpoint", "--listen", "127.0.0.1:0", "--access-key", KEY, "--secret-key", SECRET,
             "--region", REGION, "--account", ACCOUNT, "--rate-limit", limits,
             "--activity", "short", "--activity", "beating"],
            stdout=subprocess.PIPE, stderr=self.log, text=True)
        line = self.process.stdout.readline().strip()
        if not line.startswith("listening on http://"):
            raise SystemExit(f"bench-fleet: the endpoint did not start: {line!r} (see {self.log.name})")
        self.url = line.removeprefix("listening on ")
        self.port = int(self.url.rsplit(":", 1)[1])
        self.local = threading.local()

    def admin(self, method, path, body=None):
        connection = getattr(self.local, "connection", None)
        if connection is None:
            connection = self.local.connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=30)
        connection.request(method, path, body=json.dumps(body) if body is not None else None)
        response = connection.getresponse()
        data = response.read()
        if response.status != 200:
            raise RuntimeError(f"{method} {path}: {response.status} {data[:200]!r}")
        return json.loads(data)

    def stop(self):
        if self.process.poll() is not None:
            print(f"bench-fleet: the endpoint had ended with status {self.process.returncode}", file=sys.stderr)
        else:
            self.process.send_signal(signal.SIGTERM)
            self.process.wait(timeout=30)
        self.log.close()


def submit(endpoint, tasks, heartbeat_every):
    """Submits `tasks` tasks; every `heartbeat_every`-th goes to "beating" with HeartbeatSeconds 5."""
    for n in range(tasks):
        beating = n % heartbeat_every == 0
        endpoint.admin("POST", "/_local/tasks", {
            "activityArn": arn("beating" if beating else "short"), "input": json.dumps({"n": n}),
            "timeoutSeconds": 900, **({"heartbeatSeconds": 5} if beating else {})})


def wait_for_all(endpoint, tasks, limit):
    """Waits until every task has finished or `limit` seconds passed; returns the unfinished count."""
    deadline = time.monotonic() + limit
    while True:
        stats = endpoint.admin("GET", "/_local/stats")
        finished = sum(count for activity in stats["activities"].values()
                       for status, count in activity["tasks"].items() if status not in ("SCHEDULED", "STARTED"))
        if finished >= tasks or time.monotonic() > deadline:
            return tasks - finished
        time.sleep(0.25)


def figures(endpoint, tasks, started, unfinished, directory):
    stats = endpoint.admin("GET", "/_local/stats")
    all_tasks = []
    for name in ("short", "beating"):
        all_tasks += endpoint.admin("GET", f"/_local/tasks?activityArn={arn(name)}")["tasks"]
    with open(os.path.join(directory, "tasks.json"), "w") as f:
        json.dump({"stats": stats, "tasks": all_tasks}, f)
    finished = [t for t in all_tasks if t["finishedAt"]]
    succeeded = [t for t in finished if t["status"] == "SUCCEEDED" and json.loads(t["output"] or "null") == json.loads(t["input"])]
    heartbeat_timeouts = sum(1 for t in all_tasks if t["error"] == "States.HeartbeatTimeout")
    by_worker = {}
    for t in all_tasks:
        if t["status"] == "SUCCEEDED":
            by_worker[t["workerName"]] = by_worker.get(t["workerName"], 0) + 1
    last = max((t["finishedAt"] for t in succeeded), default=None)
    seconds = (iso_seconds(last) - started) if last else float("nan")
    requests = sum(stats["requests"].get(api, 0) for api in APIS)
    throttled = sum(stats["throttled"].get(api, 0) for api in APIS)
    return {
        "seconds": seconds, "succeeded": len(succeeded), "rate": len(succeeded) / seconds if last else 0.0,
        "requests": requests, "throttled": throttled, "throttled_by_api": stats["throttled"],
        "requests_by_api": stats["requests"], "heartbeat_timeouts": heartbeat_timeouts,
        "unfinished": unfinished, "by_worker": by_worker,
        "failed": sum(1 for t in finished if t["status"] != "SUCCEEDED"),
        "conflicting": sum(t["conflictingResults"] for t in all_tasks),
    }


def iso_seconds(text):
    from datetime import datetime, timezone
    return datetime.strptime(text, "%Y-%m-%dT%H:%M:%S.%fZ").replace(tzinfo=timezone.utc).timestamp()


def handlers(directory):
    beat = os.path.join(directory, "beating.sh")
    with open(beat, "w") as f:
        f.write("#!/bin/sh\nsleep 2\nexec cat\n")
    os.chmod(beat, 0o755)
    return "/bin/cat", beat


def run_daemons(binary, directory, endpoint, daemons, pollers, metrics_port):
    short, beating = handlers(directory)
    processes = []
    for d in range(daemons):
        home = os.path.join(directory, f"daemon-{d + 1}")
        os.makedirs(home)
        config = os.path.join(home, "stepworker.toml")
        with open(config, "w") as f:
            f.write(f'''[aws]
region = "{REGION}"
endpoint = "{endpoint.url}"
[worker]
name = "fleet-{d + 1}"
state_directory = "{home}/state"
log_level = "warning"
[metrics]
listen = "127.0.0.1:{metrics_port + d}"
[[activity]]
arn = "{arn('short')}"
command = ["{short}"]
concurrency = {pollers}
pollers = {pollers}
[[activity]]
arn = "{arn('beating')}"
command = ["{beating}"]
concurrency = {pollers}
pollers = {pollers}
heartbeat = "1s"
''')
        log = open(os.path.join(home, "daemon.log"), "w")
        environment = {"PATH": "/usr/bin:/bin", "HOME": home, "AWS_ACCESS_KEY_ID": KEY, "AWS_SECRET_ACCESS_KEY": SECRET}
        processes.append((subprocess.Popen([binary, "run", "--config", config], stdout=log, stderr=log, env=environment), log))
    return processes


# The typical boto3 worker, shared with `make bench`'s comparison rows.
BOTO3_WORKER = os.path.join(os.path.dirname(os.path.abspath(__file__)), "boto3-worker.py")


def run_boto3(python, directory, endpoint, workers, pollers):
    short, beating = handlers(directory)
    processes = []
    for w in range(workers):
        log = open(os.path.join(directory, f"boto3-{w + 1}.log"), "w")
        environment = {"PATH": "/usr/bin:/bin", "HOME": directory, "AWS_ACCESS_KEY_ID": KEY, "AWS_SECRET_ACCESS_KEY": SECRET}
        processes.append((subprocess.Popen(
            [python, BOTO3_WORKER, "--endpoint", endpoint.url, "--name", f"boto3-{w + 1}", "--pollers", str(pollers),
             "--activity", arn("short"), short, "0", "--activity", arn("beating"), beating, "1"],
            stdout=log, stderr=log, env=environment), log))
    return processes


def stop(processes):
    """Ends the workers once every task is accounted for (their open long polls would hold a
    graceful stop for up to a minute)."""
    for process, _ in processes:
        process.send_signal(signal.SIGTERM)
    deadline = time.monotonic() + 3
    for process, log in processes:
        try:
            process.wait(timeout=max(0.1, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        log.close()


def measure(label, start_workers, args, cell, directory):
    burst, heartbeat_every = cell
    os.makedirs(directory)
    endpoint = Endpoint(args.binary, directory, burst)
    processes = []
    tracing = threading.Event()  # cleared when the cell ends, so the next cell's trace is its own
    tracing.set()
    try:
        submit(endpoint, args.tasks, heartbeat_every)
        started = time.time()
        processes = start_workers(directory, endpoint)
        if args.trace and label == "stepworker":
            threading.Thread(target=trace, args=(args, tracing), daemon=True).start()
        unfinished = wait_for_all(endpoint, args.tasks, args.time_limit)
        if label == "stepworker":
            for d in range(args.daemons):
                text = scrape(args.metrics_port + d)
                calls = {a: v for a, v in re.findall(r'stepworker_api_calls_total\{api="(\w+)"\} (\S+)', text)}
                throttles = {a: v for a, v in re.findall(r'stepworker_api_throttles_total\{api="(\w+)"\} (\S+)', text)}
                delayed = {a: v for a, v in re.findall(r'stepworker_api_delayed_calls_total\{api="(\w+)"\} (\S+)', text)}
                print(f"  fleet-{d + 1}: GetActivityTask calls {calls.get('GetActivityTask')} throttled "
                      f"{throttles.get('GetActivityTask')} delayed {delayed.get('GetActivityTask')}; SendTaskSuccess calls "
                      f"{calls.get('SendTaskSuccess')} throttled {throttles.get('SendTaskSuccess')}", file=sys.stderr)
        stop(processes)
        result = figures(endpoint, args.tasks, started, unfinished, directory)
    finally:
        tracing.clear()
        stop(processes)  # a failed run leaves no workers behind to hold the metrics ports
        endpoint.stop()
    print(f"  {label}, burst {burst}, 1 in {heartbeat_every} heartbeating: {result['succeeded']} succeeded in {result['seconds']:.1f} s; requests {result['requests_by_api']}; "
          f"throttled {result['throttled_by_api']}", file=sys.stderr)
    return result


def scrape(port):
    try:
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
        connection.request("GET", "/metrics")
        return connection.getresponse().read().decode()
    except OSError:
        return ""


def trace(args, tracing):
    """Every second, each daemon's limit per API (0: none), its throttles and its tasks so far, from /metrics."""
    import re
    start = time.monotonic()
    while True:
        time.sleep(1)
        if not tracing.is_set():
            return
        cells = []
        for d in range(args.daemons):
            try:
                connection = http.client.HTTPConnection("127.0.0.1", args.metrics_port + d, timeout=2)
                connection.request("GET", "/metrics")
                text = connection.getresponse().read().decode()
            except OSError:
                cells.append("-")
                continue
            limit = {m[0]: float(m[1]) for m in re.findall(r'stepworker_api_rate_limit\{api="(\w+)"\} (\S+)', text)}
            throttles = sum(float(v) for v in re.findall(r'stepworker_api_throttles_total\{[^}]*\} (\S+)', text))
            done = sum(float(v) for v in re.findall(r'stepworker_tasks_total\{[^}]*outcome="succeeded"[^}]*\} (\S+)', text))
            cells.append(f"poll {limit.get('GetActivityTask', 0):5.1f} ok {limit.get('SendTaskSuccess', 0):5.1f} "
                         f"hb {limit.get('SendTaskHeartbeat', 0):5.1f} thr {throttles:3.0f} n {done:4.0f}")
        print(f"{time.monotonic() - start:5.0f}s | " + " | ".join(cells), file=sys.stderr)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--binary", required=True)
    parser.add_argument("--python", help="a Python with boto3 (the bench's venv); without it the boto3 rows are skipped")
    parser.add_argument("--single", action="store_true",
                        help="only the first cell (burst 120, every 10th task heartbeating): the run before the matrix")
    parser.add_argument("--bursts", type=int, nargs="+", default=[120, 40], help="the matrix's bursts per API (default 120 40)")
    parser.add_argument("--heartbeat-every", type=int, nargs="+", default=[10, 3],
                        help="the matrix's mixes: every Nth task heartbeats (default 10 3)")
    parser.add_argument("--tasks", type=int, default=2000,
                        help="tasks per cell (default 2,000: fewer inflate the throttled share, docs/fleet.md)")
    parser.add_argument("--daemons", type=int, default=4)
    parser.add_argument("--pollers", type=int, default=16)
    parser.add_argument("--time-limit", type=float, default=400, help="seconds to wait for a run to finish")
    parser.add_argument("--metrics-port", type=int, default=19460, help="the daemons' metrics on this port and the next ones")
    parser.add_argument("--trace", action="store_true", help="print each daemon's limits every second")
    parser.add_argument("--keep", action="store_true", help="keep the run's directory (logs) afterwards")
    args = parser.parse_args()
    cells = [(burst, every) for burst in args.bursts for every in args.heartbeat_every]
    if args.single:
        cells = cells[:1]

    root = tempfile.mkdtemp(prefix="stepworker-fleet-")
    print(f"bench-fleet: {args.daemons} workers x 2 activities x {args.pollers} pollers, {args.tasks} tasks per cell "
          f"(the heartbeating ones run 2 s, heartbeat 1 s, HeartbeatSeconds 5), quota per API: refill {REFILL:g}/s; "
          f"logs in {root}", file=sys.stderr)
    rows = []
    for cell in cells:
        burst, every = cell
        name = f"burst {burst}, 1 in {every} beats"
        directory = os.path.join(root, f"burst{burst}-every{every}")
        rows.append((name, "stepworker", cell, measure(
            "stepworker", lambda d, e: run_daemons(args.binary, d, e, args.daemons, args.pollers, args.metrics_port),
            args, cell, os.path.join(directory, "stepworker"))))
        # boto3 only in the first (baseline) cell: its figures hardly move with the quota, and it costs a run.
        if args.python and cell == cells[0]:
            rows.append((name, "boto3", cell, measure(
                "boto3", lambda d, e: run_boto3(args.python, d, e, args.daemons, args.pollers),
                args, cell, os.path.join(directory, "boto3"))))
    print_table(rows, args)
    if not args.python:
        print("(boto3 row skipped: no --python with boto3)")
    if not args.keep:
        shutil.rmtree(root, ignore_errors=True)


def print_table(rows, args):
    """One row per cell and worker, the targets in the last row; `misses` names the targets a row missed."""
    columns = [("cell", 26), ("worker", 11), ("tasks/s (bound)", 20), ("throttled / all calls", 22),
               ("hb timeouts", 12), ("failed / unfinished", 20), ("tasks per worker (max off mean)", 34), ("misses", 0)]
    print("".join(f"{title:{width}}" for title, width in columns).rstrip())
    for name, worker, (burst, _), r in rows:
        # Each task needs one GetActivityTask and one result: the burst, then the refill for either.
        bound = args.tasks / max((args.tasks - burst) / REFILL, 1e-9)
        throttled = 100 * r["throttled"] / max(r["requests"], 1)
        counts = [r["by_worker"].get(f"{'fleet' if worker == 'stepworker' else 'boto3'}-{n + 1}", 0)
                  for n in range(args.daemons)]
        mean = sum(counts) / len(counts)
        spread = 100 * max(abs(c - mean) / mean for c in counts) if mean else float("inf")
        other = r["failed"] - r["heartbeat_timeouts"]
        misses = [label for label, missed in [
            ("rate", r["rate"] < 0.9 * bound), ("throttled", throttled > 5), ("hb", r["heartbeat_timeouts"] > 0),
            ("failures", other > 0 or r["unfinished"] > 0), ("shares", spread > 25)] if missed]
        cells = [name, worker, f"{r['rate']:.1f} ({100 * r['rate'] / bound:.0f}% of {bound:.1f})",
                 f"{throttled:.1f}% of {r['requests']}", str(r["heartbeat_timeouts"]), f"{other} / {r['unfinished']}",
                 f"{' '.join(map(str, counts))} ({spread:.0f}%)", ", ".join(misses) or "-"]
        print("".join(f"{text:{width}}" for text, (_, width) in zip(cells, columns)).rstrip())
    targets = ["target", "", ">= 90% of bound", "<= 5%", "0", "0 / 0", "within 25%", ""]
    print("".join(f"{text:{width}}" for text, (_, width) in zip(targets, columns)).rstrip())


if __name__ == "__main__":
    main()
