#!/usr/bin/python3
# A Lambda custom runtime for the API Gateway tests: answers proxy responses chosen by the
# request path. /echo…: the event as the JSON body; /binary: the request body back as base64;
# /status: a numeric-string statusCode; /fail: a function error; /malformed: an unknown key;
# /sleep: answers after 5 s (past the tests' integration timeout).
import base64
import json
import os
import sys
import time
import urllib.request

api = "http://" + os.environ["AWS_LAMBDA_RUNTIME_API"] + "/2018-06-01/runtime"


def post(path, body):
    urllib.request.urlopen(urllib.request.Request(api + path, data=body.encode(), method="POST")).read()


while True:
    with urllib.request.urlopen(api + "/invocation/next") as r:
        request_id = r.headers["Lambda-Runtime-Aws-Request-Id"]
        event = json.loads(r.read())
    path = event.get("path", "")
    print("proxy function got", event.get("httpMethod"), path, flush=True)
    if path.startswith("/fail"):
        post("/invocation/%s/error" % request_id, json.dumps({"errorType": "Failure", "errorMessage": "asked to"}))
        continue
    if path.startswith("/sleep"):
        time.sleep(5)
    if path.startswith("/malformed"):
        answer = {"statusCode": 200, "wrongValue": 1}
    elif path.startswith("/binary"):
        body = event["body"] or ""
        if not event["isBase64Encoded"]:
            body = base64.b64encode(body.encode()).decode()
        answer = {"statusCode": 200, "headers": {"Content-Type": "application/octet-stream"},
                  "body": body, "isBase64Encoded": True}
    elif path.startswith("/status"):
        answer = {"statusCode": "201", "body": "created", "headers": None}
    else:
        answer = {"statusCode": 200,
                  "headers": {"X-Solo": "solo", "X-Both": "solo-value"},
                  "multiValueHeaders": {"X-Multi": ["a", "b"], "x-both": ["multi-value"]},
                  "body": json.dumps(event)}
    post("/invocation/%s/response" % request_id, json.dumps(answer))
