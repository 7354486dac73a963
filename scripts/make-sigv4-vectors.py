#!/usr/bin/env python3
"""Generates SigV4 test vectors with botocore, an implementation independent of ours.

Each vector is a request (method, path, query, headers in order, body), credentials, region,
service and time, with what botocore computes for it: the canonical request, the string to sign,
the signature and the Authorization header. Tests/StepFunctionsTests/SigV4SignerTests.swift
checks our signer against every piece. Run with `make vectors`; commit the output.
"""
import base64
import datetime
import json
import sys
from unittest import mock

import botocore
import botocore.auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials

KEY = "AKIDEXAMPLE"
SECRET = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY"
TOKEN = "IQoJb3JpZ2luX2VjEXAMPLE//////////wEaCXVzLWVhc3QtMSJHMEUCIQD+sessiontoken=="

JSON = "application/x-amz-json-1.0"


def case(name, *, method="POST", host="states.us-east-1.amazonaws.com", path="/", query="",
         headers=(), body=b"", region="us-east-1", service="states", token=None,
         when="2025-03-14T15:09:26"):
    return dict(name=name, method=method, host=host, path=path, query=query,
                headers=list(headers), body=body, region=region, service=service,
                token=token, when=when)


CASES = [
    case("get-activity-task",
         headers=[("Content-Type", JSON), ("X-Amz-Target", "AWSStepFunctions.GetActivityTask")],
         body=b'{"activityArn":"arn:aws:states:us-east-1:123456789012:activity:resize","workerName":"host-1"}'),
    case("session-token",
         headers=[("Content-Type", JSON), ("X-Amz-Target", "AWSStepFunctions.SendTaskHeartbeat")],
         body=b'{"taskToken":"AAAAKgAAAAIAAAAAAAAAAQ=="}', token=TOKEN),
    case("non-ascii-body", region="eu-west-1", host="states.eu-west-1.amazonaws.com",
         headers=[("Content-Type", JSON), ("X-Amz-Target", "AWSStepFunctions.SendTaskSuccess")],
         body='{"output":"{\\"name\\":\\"Zoë 😀 €\\"}","taskToken":"tök"}'.encode("utf-8")),
    case("empty-body-get", method="GET", path="/", headers=[]),
    case("dot-segments", method="GET", path="/a/./b/../c//d/"),
    case("encoded-path", method="GET", path="/a%20b/%E2%82%AC/~user/x+y"),
    case("reserved-in-path", method="GET", path="/foo:bar/@baz/$q"),
    case("query-sorted", method="GET", path="/", query="b=2&a=1&a=0&c&B=3"),
    case("query-encoded", method="GET", path="/list", query="prefix=a%20b&marker=%E2%82%AC&empty="),
    case("header-spacing",
         headers=[("Content-Type", JSON), ("X-Amz-Meta-Note", "  several   spaces\there  "),
                  ("X-Amz-Target", "AWSStepFunctions.ListActivities")],
         body=b"{}"),
    case("repeated-header", method="GET",
         headers=[("X-Amz-Meta-Tag", "one"), ("x-amz-meta-tag", "two"), ("X-Other", "v")]),
    case("unsigned-headers",
         headers=[("User-Agent", "stepworker/0.1"), ("Expect", "100-continue"),
                  ("X-Amzn-Trace-Id", "Root=1-abc"), ("Content-Type", JSON)],
         body=b"{}"),
    case("host-with-port", host="127.0.0.1:8083",
         headers=[("Content-Type", JSON), ("X-Amz-Target", "AWSStepFunctions.GetActivityTask")],
         body=b'{"activityArn":"arn:aws:states:us-east-1:123456789012:activity:a"}'),
    case("sts-query-protocol", host="sts.us-west-2.amazonaws.com", region="us-west-2", service="sts",
         headers=[("Content-Type", "application/x-www-form-urlencoded; charset=utf-8")],
         body=b"Action=AssumeRole&RoleArn=arn%3Aaws%3Aiam%3A%3A123456789012%3Arole%2Fw&"
              b"RoleSessionName=s&Version=2011-06-15", token=TOKEN),
    case("leap-day-midnight", when="2024-02-29T00:00:00",
         headers=[("Content-Type", JSON)], body=b"{}"),
    case("china-partition", host="states.cn-north-1.amazonaws.com.cn", region="cn-north-1",
         headers=[("Content-Type", JSON)], body=b"{}", when="1999-12-31T23:59:59"),
]


class RecordingSigV4Auth(botocore.auth.SigV4Auth):
    """botocore's signer, keeping the intermediate values it computed while signing."""

    def canonical_request(self, request):
        self.recorded_canonical_request = super().canonical_request(request)
        return self.recorded_canonical_request

    def string_to_sign(self, request, canonical_request):
        self.recorded_string_to_sign = super().string_to_sign(request, canonical_request)
        return self.recorded_string_to_sign


def vector(c):
    when = datetime.datetime.fromisoformat(c["when"])
    request = AWSRequest(method=c["method"],
                         url=f"http://{c['host']}{c['path']}" + (f"?{c['query']}" if c["query"] else ""),
                         data=c["body"])
    request.headers["Host"] = c["host"]
    for name, value in c["headers"]:
        request.headers[name] = value  # HTTPHeaders appends: a repeated name keeps both values
    headers_before = [[name, value] for name, value in request.headers.items()]
    auth = RecordingSigV4Auth(Credentials(KEY, SECRET, c["token"]), c["service"], c["region"])
    with mock.patch.object(botocore.auth, "get_current_datetime", return_value=when):
        auth.add_auth(request)
    canonical = auth.recorded_canonical_request
    string_to_sign = auth.recorded_string_to_sign
    authorization = request.headers["Authorization"]
    return {
        "name": c["name"],
        "request": {
            "method": c["method"],
            "path": c["path"],
            "query": c["query"],
            "headers": headers_before,
            "bodyBase64": base64.b64encode(c["body"]).decode("ascii"),
        },
        "credentials": {"accessKeyID": KEY, "secretAccessKey": SECRET, "sessionToken": c["token"]},
        "region": c["region"],
        "service": c["service"],
        "timestamp": request.context["timestamp"],
        "unixTime": int(when.replace(tzinfo=datetime.timezone.utc).timestamp()),
        "expected": {
            "canonicalRequest": canonical,
            "stringToSign": string_to_sign,
            "signature": authorization.rsplit("Signature=", 1)[1],
            "authorization": authorization,
            "signedHeaders": [[name, value] for name, value in request.headers.items()],
        },
    }


def main():
    vectors = [vector(c) for c in CASES]
    json.dump({"generator": f"botocore {botocore.__version__}", "vectors": vectors},
              sys.stdout, indent=2, ensure_ascii=False)
    sys.stdout.write("\n")


if __name__ == "__main__":
    main()
