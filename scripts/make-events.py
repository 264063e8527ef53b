#!/usr/bin/env python3
"""Writes events/*.json: API Gateway proxy events for each meaningful case.

HTTP API (payload 2.0, what template.yaml's API and `cargo lambda watch` send) for every case,
and REST API (payload 1.0, the stage in the path) for a few, so both routes stay tested.
Run it again after changing a case; the fixture tests check every file it writes.
"""
import base64
import json
import pathlib

PATH = "/participant/complete-attachment-upload"
TOKEN = "demo-connection-token"  # the connection `make run` seeds
ATTACHMENT = "demo-attachment"   # the attachment `make run` seeds


def body(attachment_ids=(ATTACHMENT,), client_token="demo-1", **extra):
    b = {}
    if attachment_ids is not None:
        b["AttachmentIds"] = list(attachment_ids)
    if client_token is not None:
        b["ClientToken"] = client_token
    b.update(extra)
    return json.dumps(b)


def http_api(name, body_text, token=TOKEN, method="POST", path=PATH):
    headers = {
        "content-type": "application/json",
        "host": "abcdef1234.execute-api.us-east-1.amazonaws.com",
        "user-agent": "aws-sdk-rust/1.3.10 os/linux lang/rust/1.94.1",
        "x-forwarded-proto": "https",
    }
    if token is not None:
        headers["x-amz-bearer"] = token
    return {
        "version": "2.0",
        "routeKey": f"{method} {PATH}",
        "rawPath": path,
        "rawQueryString": "",
        "headers": headers,
        "requestContext": {
            "accountId": "123456789012",
            "apiId": "abcdef1234",
            "domainName": "abcdef1234.execute-api.us-east-1.amazonaws.com",
            "domainPrefix": "abcdef1234",
            "http": {"method": method, "path": path, "protocol": "HTTP/1.1",
                     "sourceIp": "203.0.113.7", "userAgent": headers["user-agent"]},
            "requestId": f"evt-{name}",
            "routeKey": f"{method} {PATH}",
            "stage": "$default",
            "time": "28/Nov/2026:14:00:00 +0000",
            "timeEpoch": 1795874400000,
        },
        "body": body_text,
        "isBase64Encoded": False,
    }


def rest_api(name, body_text, token=TOKEN, encode=False):
    headers = {"Content-Type": "application/json", "Host": "abcdef1234.execute-api.us-east-1.amazonaws.com"}
    if token is not None:
        headers["X-Amz-Bearer"] = token
    return {
        "resource": PATH,
        "path": PATH,
        "httpMethod": "POST",
        "headers": headers,
        "multiValueHeaders": {k: [v] for k, v in headers.items()},
        "queryStringParameters": None,
        "multiValueQueryStringParameters": None,
        "pathParameters": None,
        "stageVariables": None,
        "requestContext": {
            "accountId": "123456789012",
            "apiId": "abcdef1234",
            "domainName": "abcdef1234.execute-api.us-east-1.amazonaws.com",
            "httpMethod": "POST",
            "identity": {"sourceIp": "203.0.113.7", "userAgent": "aws-sdk-rust"},
            "path": f"/prod{PATH}",
            "protocol": "HTTP/1.1",
            "requestId": f"evt-{name}",
            "requestTime": "28/Nov/2026:14:00:00 +0000",
            "requestTimeEpoch": 1795874400,
            "resourceId": "a1b2c3",
            "resourcePath": PATH,
            "stage": "prod",
        },
        "body": base64.b64encode(body_text.encode()).decode() if encode else body_text,
        "isBase64Encoded": encode,
    }


EVENTS = {
    # In the order a fresh `make run` answers them: 200, 200 (replay), 409, then refusals.
    "success": http_api("success", body()),
    "replay": http_api("replay", body()),
    "conflict-new-client-token": http_api("conflict-new-client-token", body(client_token="demo-2")),
    "missing-header": http_api("missing-header", body(), token=None),
    "empty-header": http_api("empty-header", body(), token=""),
    "unknown-token": http_api("unknown-token", body(), token="no-such-connection-token"),
    "unknown-attachment": http_api("unknown-attachment", body(attachment_ids=["no-such-attachment"], client_token="demo-3")),
    "validation-long-header": http_api("validation-long-header", body(), token="t" * 1001),
    "validation-body-not-json": http_api("validation-body-not-json", "AttachmentIds=demo-attachment"),
    "validation-body-not-an-object": http_api("validation-body-not-an-object", json.dumps([ATTACHMENT])),
    "validation-body-too-large": http_api("validation-body-too-large", body(Padding=" " * (64 * 1024))),
    "validation-attachment-id-not-a-string": http_api("validation-attachment-id-not-a-string", body(attachment_ids=[42])),
    "validation-client-token-not-a-string": http_api("validation-client-token-not-a-string", body(client_token=["demo-1"])),
    "validation-missing-attachment-ids": http_api("validation-missing-attachment-ids", body(attachment_ids=None)),
    "validation-empty-attachment-ids": http_api("validation-empty-attachment-ids", body(attachment_ids=[])),
    "validation-two-attachment-ids": http_api("validation-two-attachment-ids", body(attachment_ids=[ATTACHMENT, "other"])),
    "validation-empty-attachment-id": http_api("validation-empty-attachment-id", body(attachment_ids=[""])),
    "validation-long-attachment-id": http_api("validation-long-attachment-id", body(attachment_ids=["a" * 257])),
    "validation-missing-client-token": http_api("validation-missing-client-token", body(client_token=None)),
    "validation-empty-client-token": http_api("validation-empty-client-token", body(client_token="")),
    "validation-long-client-token": http_api("validation-long-client-token", body(client_token="c" * 501)),
    "wrong-path": http_api("wrong-path", body(), path="/participant/attachment"),
    "wrong-method": http_api("wrong-method", body(), method="GET"),
    "rest-api-success": rest_api("rest-api-success", body(attachment_ids=["demo-attachment-rest"], client_token="rest-1")),
    "rest-api-base64-replay": rest_api("rest-api-base64-replay", body(attachment_ids=["demo-attachment-rest"], client_token="rest-1"), encode=True),
    "rest-api-missing-header": rest_api("rest-api-missing-header", body(), token=None),
}

out = pathlib.Path(__file__).resolve().parent.parent / "events"
out.mkdir(exist_ok=True)
for name, event in EVENTS.items():
    (out / f"{name}.json").write_text(json.dumps(event, indent=2) + "\n")
print(f"wrote {len(EVENTS)} events to {out}")
