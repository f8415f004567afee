"""Tiny Lambda handlers for the sandbox engine tests (the real handler lives in runtime/)."""

from __future__ import annotations

import base64
import json
import os
import time

import boto3


def _payloads(event):
    for record in event["Records"]:
        yield record, base64.b64decode(record["kinesis"]["data"])


def record_to_table(event, context):
    """Append every record to the table named by TABLE_NAME, with its position in the batch."""
    table = boto3.resource("dynamodb").Table(os.environ["TABLE_NAME"])
    invocation = context.aws_request_id
    for index, (record, data) in enumerate(_payloads(event)):
        table.put_item(
            Item={
                "pk": record["kinesis"]["sequenceNumber"] + "#" + record["eventID"].split(":")[0],
                "data": data.decode(),
                "partition_key": record["kinesis"]["partitionKey"],
                "shard": record["eventID"].split(":")[0],
                "seq": record["kinesis"]["sequenceNumber"],
                "invocation": invocation,
                "index": index,
                "batch_size": len(event["Records"]),
                "written_at": str(time.time()),
            }
        )
    return {"batchItemFailures": []}


def fail_marked(event, context):
    """Report every record whose payload contains b"FAIL" as a batch item failure."""
    failures = [
        {"itemIdentifier": record["kinesis"]["sequenceNumber"]} for record, data in _payloads(event) if b"FAIL" in data
    ]
    return {"batchItemFailures": failures}


def raise_on_poison(event, context):
    """Raise when any record in the batch is b"POISON"; everything else succeeds."""
    if any(data == b"POISON" for _, data in _payloads(event)):
        raise ValueError("poison record in batch")
    return None


def always_raise(event, context):
    raise RuntimeError("handler always fails")


def malformed_response(event, context):
    """A partial batch response whose identifier is not in the batch."""
    return {"batchItemFailures": [{"itemIdentifier": "no-such-sequence-number"}]}


def sleep_past_timeout(event, context):
    if any(data == b"SLOW" for _, data in _payloads(event)):
        time.sleep(60)
    return {"remaining_ms": context.get_remaining_time_in_millis()}


def exit_on_crash(event, context):
    if any(data == b"CRASH" for _, data in _payloads(event)):
        os._exit(137)
    return {"pid": os.getpid()}


def report_environment(event, context):
    """Return what the execution environment looks like from inside."""
    keys = (
        "TENANT",
        "AWS_ENDPOINT_URL",
        "AWS_LAMBDA_FUNCTION_NAME",
        "AWS_LAMBDA_FUNCTION_MEMORY_SIZE",
        "POWERTOOLS_TRACE_DISABLED",
        "_X_AMZN_TRACE_ID",
        "OTHER_ONLY",
    )
    print(json.dumps({"message": "environment", "function": context.function_name}))
    return {
        "env": {key: os.environ.get(key) for key in keys},
        "pid": os.getpid(),
        "context": {
            "function_name": context.function_name,
            "function_version": context.function_version,
            "invoked_function_arn": context.invoked_function_arn,
            "memory_limit_in_mb": context.memory_limit_in_mb,
            "aws_request_id": context.aws_request_id,
            "log_group_name": context.log_group_name,
            "log_stream_name": context.log_stream_name,
            "remaining_ms": context.get_remaining_time_in_millis(),
        },
    }


def dynamodb_calls(event, context):
    """One DynamoDB PutItem per record; reports how many calls botocore had to retry."""
    return _put_each(boto3.client("dynamodb"), event)


def dynamodb_calls_own_session(event, context):
    """As dynamodb_calls, with a client from a session of its own, as the shared handler builds them."""
    return _put_each(boto3.session.Session().client("dynamodb"), event)


def _put_each(client, event):
    retried = 0
    for record, data in _payloads(event):
        response = client.put_item(
            TableName=os.environ["TABLE_NAME"],
            Item={"pk": {"S": record["kinesis"]["sequenceNumber"]}, "data": {"S": data.decode()}},
        )
        retried += response["ResponseMetadata"]["RetryAttempts"]
    return {"retried": retried}
