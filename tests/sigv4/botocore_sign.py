"""Signs requests with botocore, the independent signer of the cross-check test.

Reads a JSON list of cases on stdin and writes a JSON list of results on stdout:
  case:   {method, url, headers: [[name, value], ...], body, service, region, time
           ("yyyymmddThhmmssZ"), akid, secret, token, presign (seconds or 0), unsigned_payload}
  result: {authorization, url, signature}
Run with Debian's /usr/bin/python3 (python3-botocore).
"""
import datetime
import json
import sys
import types

import botocore.auth
from botocore.awsrequest import AWSRequest
from botocore.config import Config
from botocore.credentials import Credentials


def signer_for(case, credentials):
    s3 = case["service"] == "s3"
    if case["presign"]:
        cls = botocore.auth.S3SigV4QueryAuth if s3 else botocore.auth.SigV4QueryAuth
        return cls(credentials, case["service"], case["region"], expires=case["presign"])
    cls = botocore.auth.S3SigV4Auth if s3 else botocore.auth.SigV4Auth
    return cls(credentials, case["service"], case["region"])


def sign(case):
    fixed = datetime.datetime.strptime(case["time"], "%Y%m%dT%H%M%SZ")

    class FixedDateTime(datetime.datetime):
        @classmethod
        def utcnow(cls):
            return fixed

    botocore.auth.datetime = types.SimpleNamespace(datetime=FixedDateTime)
    credentials = Credentials(case["akid"], case["secret"], case["token"] or None)
    request = AWSRequest(method=case["method"], url=case["url"], data=case["body"].encode("utf-8"))
    for name, value in case["headers"]:
        request.headers[name] = value  # HTTPHeaders: repeated names are kept, in order
    if case["unsigned_payload"]:
        request.context["client_config"] = Config(s3={"payload_signing_enabled": False})
    signer_for(case, credentials).add_auth(request)
    authorization = request.headers.get("Authorization", "")
    if case["presign"]:
        signature = request.url.rsplit("X-Amz-Signature=", 1)[1]
    else:
        signature = authorization.rsplit("Signature=", 1)[1]
    return {"authorization": authorization, "url": request.url, "signature": signature}


def main():
    cases = json.load(sys.stdin)
    json.dump([sign(c) for c in cases], sys.stdout)


if __name__ == "__main__":
    main()
