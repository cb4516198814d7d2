"""Signs requests with botocore's own S3 signer (botocore.auth.S3SigV4Auth), for comparison.

Reads a JSON list of requests on stdin: {"method", "url" (percent-encoded as sent), "headers"
([[name, value], ...]), "body_hex" or "unsigned": true, "timestamp" ("20130524T000000Z"),
"access_key", "secret_key", "region"}. Prints a JSON list of the Authorization headers.
"""
import datetime
import json
import sys
from unittest import mock

import botocore.auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials


class _S3Config:
    def __init__(self, sign_payload):
        self.s3 = {"payload_signing_enabled": sign_payload}


def sign(spec):
    body = bytes.fromhex(spec.get("body_hex", ""))
    request = AWSRequest(method=spec["method"], url=spec["url"], headers=dict(spec["headers"]), data=body)
    if spec.get("unsigned"):
        request.context["client_config"] = _S3Config(False)
    signer = botocore.auth.S3SigV4Auth(
        Credentials(spec["access_key"], spec["secret_key"]), "s3", spec["region"])
    moment = datetime.datetime.strptime(spec["timestamp"], "%Y%m%dT%H%M%SZ")
    with mock.patch.object(botocore.auth, "get_current_datetime", return_value=moment):
        signer.add_auth(request)
    return request.headers["Authorization"]


print(json.dumps([sign(spec) for spec in json.load(sys.stdin)]))
