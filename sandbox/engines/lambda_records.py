"""What Lambda exchanges with a function and its on-failure destination for a Kinesis event source mapping.

- `kinesis_event`: the event a function receives for a batch of records;
- `first_failed_index`: the partial batch response (`batchItemFailures`) read the way Lambda reads it;
- `failure_record`, `s3_failure_key`: what Lambda writes to the on-failure destination for a discarded batch.

Pure functions of the records and results; the mapping (`event_source.py`) does the calls.
"""

from __future__ import annotations

import base64
import uuid
from datetime import UTC, datetime
from typing import Any

from sandbox.engines.shard_reader import StreamRecord
from sandbox.engines.workers import InvocationResult


def iso_millis(epoch: float) -> str:
    """`2019-11-14T00:38:06.021Z`: the timestamp format of Lambda's invocation records."""
    return datetime.fromtimestamp(epoch, UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def kinesis_event(records: list[StreamRecord], stream_arn: str, region: str, identity_arn: str) -> dict:
    """The event Lambda passes to a function for a batch of Kinesis records."""
    return {
        "Records": [
            {
                "kinesis": {
                    "kinesisSchemaVersion": "1.0",
                    "partitionKey": record.partition_key,
                    "sequenceNumber": record.sequence_number,
                    "data": base64.b64encode(record.data).decode("ascii"),
                    "approximateArrivalTimestamp": record.arrival,
                },
                "eventSource": "aws:kinesis",
                "eventVersion": "1.0",
                "eventID": f"{record.shard_id}:{record.sequence_number}",
                "eventName": "aws:kinesis:record",
                "invokeIdentityArn": identity_arn,
                "awsRegion": region,
                "eventSourceARN": stream_arn,
            }
            for record in records
        ]
    }


def first_failed_index(response: Any, records: list[StreamRecord]) -> int | None:
    """Index of the lowest reported failure in a partial batch response; None if all succeeded.

    Raises ValueError for a response Lambda treats as a failure of the whole batch.
    """
    if response is None:
        return None
    if not isinstance(response, dict):
        raise ValueError(f"response is a {type(response).__name__}, not an object")
    failures = response.get("batchItemFailures")
    if failures is None:
        return None
    if not isinstance(failures, list):
        raise ValueError("batchItemFailures is not a list")
    positions = {record.sequence_number: index for index, record in enumerate(records)}
    lowest: int | None = None
    for failure in failures:
        identifier = failure.get("itemIdentifier") if isinstance(failure, dict) else None
        if not isinstance(identifier, str) or not identifier:
            raise ValueError(f"bad itemIdentifier in {failure!r}")
        if identifier not in positions:
            raise ValueError(f"itemIdentifier {identifier!r} is not in the batch")
        index = positions[identifier]
        lowest = index if lowest is None else min(lowest, index)
    return lowest


def failure_record(
    *,
    function_arn: str,
    stream_arn: str,
    records: list[StreamRecord],
    invocations: int,
    last_result: InvocationResult | None,
    condition: str,
    now: float,
) -> dict[str, Any]:
    """What Lambda sends to a Kinesis mapping's on-failure destination for a discarded batch."""
    first, last = records[0], records[-1]
    response_context: dict[str, Any] = {"statusCode": last_result.status_code if last_result else 200}
    response_context["executedVersion"] = "$LATEST"
    response_context["functionError"] = (last_result.function_error if last_result else None) or ""
    return {
        "requestContext": {
            "requestId": last_result.request_id if last_result else str(uuid.uuid4()),
            "functionArn": function_arn,
            "condition": condition,
            "approximateInvokeCount": invocations,
        },
        "responseContext": response_context,
        "version": "1.0",
        "timestamp": iso_millis(now),
        "KinesisBatchInfo": {
            "shardId": first.shard_id,
            "startSequenceNumber": first.sequence_number,
            "endSequenceNumber": last.sequence_number,
            "approximateArrivalOfFirstRecord": iso_millis(first.arrival),
            "approximateArrivalOfLastRecord": iso_millis(last.arrival),
            "batchSize": len(records),
            "streamArn": stream_arn,
        },
    }


def s3_failure_key(mapping_uuid: str, shard_id: str, now: float) -> str:
    """The object key Lambda gives an invocation record in an S3 on-failure destination."""
    stamp = datetime.fromtimestamp(now, UTC)
    return f"aws/lambda/{mapping_uuid}/{shard_id}/{stamp:%Y/%m/%d}/{stamp:%Y-%m-%dT%H.%M.%S}-{uuid.uuid4()}"
