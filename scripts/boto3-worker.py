#!/usr/bin/env python3
"""The typical boto3 activity worker, for the comparisons of `make bench` and `make bench-fleet`.

What most hand-written Step Functions workers look like: one boto3 client (botocore's
"standard" retry mode), `--pollers` threads per activity each long-polling `get_activity_task`,
one subprocess per task (`subprocess.run`, input on stdin, output from stdout), a heartbeat
thread per task when the activity heartbeats, and `send_task_success` / `send_task_failure`.

    boto3-worker.py --endpoint URL --name NAME --pollers N \
        --activity ARN COMMAND HEARTBEAT_SECONDS [--activity ...]

HEARTBEAT_SECONDS 0 starts no heartbeat thread. Credentials and region come from the
environment (AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY; region us-east-1 unless AWS_REGION).
Every 5 s it prints its error counts as one JSON line on stdout. It runs until it is killed
(SIGTERM ends it at once: its open polls would hold a graceful stop for up to a minute).
"""
import argparse
import json
import os
import subprocess
import threading
import time

import boto3
from botocore.config import Config


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--endpoint", required=True)
    parser.add_argument("--name", required=True, help="workerName")
    parser.add_argument("--pollers", type=int, required=True, help="polling threads per activity")
    parser.add_argument("--activity", nargs=3, action="append", required=True,
                        metavar=("ARN", "COMMAND", "HEARTBEAT_SECONDS"))
    args = parser.parse_args()

    client = boto3.client("stepfunctions", endpoint_url=args.endpoint,
                          region_name=os.environ.get("AWS_REGION", "us-east-1"),
                          config=Config(retries={"mode": "standard"}, max_pool_connections=4 * args.pollers,
                                        read_timeout=70))
    errors = {"poll": 0, "heartbeat": 0, "result": 0}

    def heartbeat(token, every, done):
        while not done.wait(every):
            try:
                client.send_task_heartbeat(taskToken=token)
            except Exception:
                errors["heartbeat"] += 1

    def poller(activity, command, every):
        while True:
            try:
                task = client.get_activity_task(activityArn=activity, workerName=args.name)
            except Exception:
                errors["poll"] += 1
                continue
            token = task.get("taskToken")
            if not token:
                continue
            done = threading.Event()
            if every > 0:
                threading.Thread(target=heartbeat, args=(token, every, done), daemon=True).start()
            run = subprocess.run([command], input=task["input"].encode(), capture_output=True)
            done.set()
            try:
                if run.returncode == 0:
                    client.send_task_success(taskToken=token, output=run.stdout.decode())
                else:
                    client.send_task_failure(taskToken=token, error="Handler.Failed", cause=run.stderr.decode()[-1000:])
            except Exception:
                errors["result"] += 1

    for activity, command, every in args.activity:
        for _ in range(args.pollers):
            threading.Thread(target=poller, args=(activity, command, float(every)), daemon=True).start()
    while True:
        time.sleep(5)
        print(json.dumps(errors), flush=True)


if __name__ == "__main__":
    main()
