#!/usr/bin/env python3
"""An example stepworker handler in Python: a toy image "resize".

Input (all optional): {"width": 800, "height": 600, "scale": 0.5, "sleep": 0, "fail": false,
"huge": 0}. Output: {"width": ..., "height": ...}.

- "sleep": seconds to work before answering (to watch heartbeats and timeouts);
- "fail": answer with a structured failure {"error", "cause"} and exit 1;
- "huge": print that many bytes of output (to see Handler.OutputTooLarge).
"""
import json
import sys
import time


def main() -> int:
    try:
        task = json.load(sys.stdin) if not sys.stdin.isatty() else {}
    except json.JSONDecodeError as error:
        json.dump({"error": "Resize.BadInput", "cause": f"input is not JSON: {error}"}, sys.stdout)
        return 1
    if not isinstance(task, dict):
        task = {}

    width, height = int(task.get("width", 800)), int(task.get("height", 600))
    print(f"resize.py: {width}x{height}", file=sys.stderr, flush=True)

    if task.get("sleep"):
        time.sleep(float(task["sleep"]))
    if task.get("fail"):
        json.dump({"error": "Resize.Failed", "cause": {"reason": "asked to fail", "width": width}}, sys.stdout)
        return 1
    if task.get("huge"):
        size = int(task["huge"])
        sys.stdout.write('"' + "x" * max(0, size - 2) + '"')
        return 0

    scale = float(task.get("scale", 0.5))
    json.dump({"width": round(width * scale), "height": round(height * scale)}, sys.stdout)
    return 0


if __name__ == "__main__":
    sys.exit(main())
