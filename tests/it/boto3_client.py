"""Calls the served function with boto3's connectparticipant client (as the README shows) and
checks that each answer arrives as boto3's modeled exception. Run by tests/boto3.rs."""
import sys

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


assert complete(first, "boto-1")["ResponseMetadata"]["HTTPStatusCode"] == 200
assert complete(first, "boto-1")["ResponseMetadata"]["HTTPStatusCode"] == 200  # a replay
expect(client.exceptions.ConflictException, complete, first, "boto-2")
expect(client.exceptions.AccessDeniedException, complete, first, "boto-3", connection_token="no-such-token")
expect(client.exceptions.AccessDeniedException, complete, "no-such-attachment", "boto-4")
expect(client.exceptions.ValidationException, complete, first, "c" * 501)
complete(second, "boto-5")
expect(client.exceptions.ServiceQuotaExceededException, complete, third, "boto-6")
print("boto3: every answer parsed as its modeled exception")
