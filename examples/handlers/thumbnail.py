"""An example warm handler: a Lambda-style Python function that stepworker runs with the official
AWS Lambda Runtime Interface Client (`protocol = "lambda"`, docs/handlers.md).

    [[activity]]
    arn = "arn:aws:states:eu-west-1:123456789012:activity:thumbnail"
    command = ["/opt/thumbs/venv/bin/python", "-m", "awslambdaric", "thumbnail.handler"]
    protocol = "lambda"
    working_directory = "/path/to/examples/handlers"   # where this module is
    concurrency = 8

Set up once: `python3 -m venv /opt/thumbs/venv && /opt/thumbs/venv/bin/pip install awslambdaric`.
Try it without AWS: `stepworker invoke thumbnail --input - <<< '{"width": 800, "height": 600}'`.

Everything at module level runs once per process, not once per task: import heavy libraries
(boto3, numpy, a model) here, and every task after the first finds them loaded.

Input: {"width": 800, "height": 600, "max": 128}. Output: {"width": ..., "height": ...}.
A bad input raises ValueError: the task fails with error "ValueError", so a state machine's
`Catch` on `["ValueError"]` works as it would for a Lambda task.
"""
import os
import sys

STARTED_IN = os.getpid()  # the same for every task this process serves


def handler(event, context):
    width, height = int(event.get("width", 0)), int(event.get("height", 0))
    if width <= 0 or height <= 0:
        raise ValueError("width and height must be positive, got %r x %r" % (width, height))
    limit = int(event.get("max", 128))
    scale = min(1.0, limit / max(width, height))
    # stderr goes to the journal with this task's STEPWORKER_TASK_ID.
    print("thumbnail %dx%d, %d ms left" % (width, height, context.get_remaining_time_in_millis()), file=sys.stderr)
    return {"width": round(width * scale), "height": round(height * scale), "process": STARTED_IN}
