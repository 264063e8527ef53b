"""Calls the served function with boto3's connectparticipant client (as the README shows): the
whole lifecycle (start, upload with HeadersToInclude, complete, get, download), and each error
as boto3's modeled exception. Run by tests/it/boto3.rs, with a quota of 3 per contact."""
import sys
import urllib.request

import boto3
from botocore.config import Config

url, token, first, second, third = sys.argv[1:6]
client = boto3.client(
    "connectparticipant",
    endpoint_url=url,
    region_name="us-east-1",
    aws_access_key_id="unused",
    aws_secret_access_key="unused",
    config=Config(retries={"mode": "standard", "max_attempts": 1}),
)


def complete(attachment_id, client_token, connection_token=token):
    return client.complete_attachment_upload(
        ConnectionToken=connection_token, AttachmentIds=[attachment_id], ClientToken=client_token
    )


def expect(exception, call, *args, **kwargs):
    try:
        call(*args, **kwargs)
    except exception as error:
        assert error.response["Error"]["Message"], error.response
        return
    raise AssertionError(f"expected {exception.__name__}")


# The lifecycle, as a chat widget runs it.
data = "hello from boto3 \u00e9\n".encode()
started = client.start_attachment_upload(
    ConnectionToken=token, AttachmentName="boto.txt", AttachmentSizeInBytes=len(data),
    ContentType="text/plain", ClientToken="boto-start-1",
)
metadata = started["UploadMetadata"]
put = urllib.request.Request(metadata["Url"], data=data, method="PUT", headers=metadata["HeadersToInclude"])
assert urllib.request.urlopen(put).status == 200
attachment_id = started["AttachmentId"]
client.complete_attachment_upload(ConnectionToken=token, AttachmentIds=[attachment_id], ClientToken="boto-c")
got = client.get_attachment(ConnectionToken=token, AttachmentId=attachment_id, UrlExpiryInSeconds=60)
assert got["AttachmentSizeInBytes"] == len(data), got
with urllib.request.urlopen(got["Url"]) as download:
    assert download.read() == data
    assert download.headers["Content-Disposition"].startswith("attachment;"), download.headers

def start(content_type="text/plain", connection_token=token):
    return client.start_attachment_upload(
        ConnectionToken=connection_token, AttachmentName="a.txt", AttachmentSizeInBytes=1,
        ContentType=content_type, ClientToken="boto-start-2",
    )

assert complete(first, "boto-1")["ResponseMetadata"]["HTTPStatusCode"] == 200
assert complete(first, "boto-1")["ResponseMetadata"]["HTTPStatusCode"] == 200  # a replay
expect(client.exceptions.ConflictException, complete, first, "boto-2")
expect(client.exceptions.AccessDeniedException, complete, first, "boto-3", connection_token="no-such-token")
expect(client.exceptions.AccessDeniedException, complete, "no-such-attachment", "boto-4")
expect(client.exceptions.ValidationException, complete, first, "c" * 501)
complete(second, "boto-5")
expect(client.exceptions.ServiceQuotaExceededException, complete, third, "boto-6")
expect(client.exceptions.ValidationException, start, content_type="text/html")
expect(client.exceptions.AccessDeniedException, start, connection_token="no-such-token")
expect(
    client.exceptions.AccessDeniedException, client.get_attachment,
    ConnectionToken=token, AttachmentId="no-such-attachment",
)
expect(client.exceptions.ConflictException, complete, start()["AttachmentId"], "boto-7")
print("boto3: the lifecycle works and every answer parsed as its modeled exception")
