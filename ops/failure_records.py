"""The event source mapping's records of batches it gave up on, where the mapping keeps them.

Lambda describes a discarded Kinesis batch by its range, not its data: `KinesisBatchInfo` holds the shard, the
first and last sequence numbers, the batch size and the stream
(https://docs.aws.amazon.com/lambda/latest/dg/kinesis-on-failure-destination.html; the sandbox writes the same
record, sandbox/engines/lambda_records.py). The tenant's `processing.on_failure` picks where they go:

- `sqs`: one message each in the failure queue, which also holds the handler's poison pills (left alone here);
- `s3`: one object each in the failure bucket (with the invocation's payload, which redrive does not need: the
  stream is read again, so every record is replayed the way the mapping would deliver it).

A source reads every record once, then deletes the ones replayed, and keeps the others: queue messages are made
visible again at once, so the next redrive (or `failures export`) sees them without waiting.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any, Protocol

from ops.failures import BATCH_RECORD, DELETE_BATCH, RECEIVE_MAX_MESSAGES, RECEIVE_WAIT_SECONDS

# The longest a received message may stay hidden (ChangeMessageVisibility's maximum, 12 hours):
# https://docs.aws.amazon.com/AWSSimpleQueueService/latest/APIReference/API_ChangeMessageVisibility.html
MAX_VISIBILITY_SECONDS = 12 * 3600
# DeleteObjects takes at most 1,000 keys: https://docs.aws.amazon.com/AmazonS3/latest/API/API_DeleteObjects.html
DELETE_OBJECTS_MAX = 1000


@dataclass(frozen=True, order=True)
class BatchRange:
    """A given-up batch: `batch_size` records of `shard_id` from `start` to `end` (sequence numbers, inclusive).

    Ordered as the shard holds them, so ranges sort into stream order."""

    shard_id: str
    start: int
    end: int
    batch_size: int
    stream_arn: str

    @classmethod
    def from_body(cls, body: Any) -> BatchRange | None:
        """The range a destination record describes; None when `body` is not one (a pill, a stranger)."""
        info = body.get(BATCH_RECORD) if isinstance(body, dict) else None
        if not isinstance(info, dict):
            return None
        try:
            return cls(
                shard_id=str(info["shardId"]),
                start=int(info["startSequenceNumber"]),
                end=int(info["endSequenceNumber"]),
                batch_size=int(info["batchSize"]),
                stream_arn=str(info["streamArn"]),
            )
        except (KeyError, TypeError, ValueError):
            return None

    def describe(self) -> str:
        return f"{self.shard_id} {self.start}..{self.end}"


@dataclass
class FailureRecord:
    """One record in the destination: its range and what deletes it (a receipt handle, an object key)."""

    range: BatchRange
    handle: str


@dataclass
class Found:
    """What one pass over the destination found."""

    records: list[FailureRecord] = field(default_factory=list)
    others: int = 0  # messages or objects that are no batch record: poison pills, anything else


class FailureSource(Protocol):
    """Where the mapping keeps a tenant's batch records."""

    kind: str  # "message" or "object", for what the summary counts

    @property
    def where(self) -> str: ...

    def read(self) -> Found: ...

    def hide(self, records: list[FailureRecord], seconds: int) -> None:
        """Keep `records` from other readers for `seconds` while they are replayed."""

    def delete(self, records: list[FailureRecord]) -> int:
        """Delete `records`; return how many were not deleted."""

    def keep(self, records: list[FailureRecord]) -> None:
        """Leave `records` where they are, for the next reader."""


# --------------------------------------------------------------------------------- the failure queue


class QueueSource:
    """The failure queue: batch records among the handler's poison pills."""

    kind = "message"

    def __init__(self, sqs: Any, queue_url: str) -> None:
        self._sqs = sqs
        self._url = queue_url

    @property
    def where(self) -> str:
        return self._url

    def read(self) -> Found:
        """Receive every visible message once; each stays hidden (its visibility timeout) until deleted or kept."""
        found = Found()
        records: dict[str, FailureRecord] = {}  # message id -> its batch record
        passed_over: dict[str, str] = {}  # message id -> receipt handle, for every other message
        while True:
            messages = self._sqs.receive_message(
                QueueUrl=self._url, MaxNumberOfMessages=RECEIVE_MAX_MESSAGES, WaitTimeSeconds=RECEIVE_WAIT_SECONDS
            ).get("Messages", [])
            fresh = [message for message in messages if message["MessageId"] not in records | passed_over]
            for message in messages:  # seen again (its visibility ran out): only its newest receipt counts
                if message["MessageId"] in records:
                    records[message["MessageId"]].handle = message["ReceiptHandle"]
                elif message["MessageId"] in passed_over:
                    passed_over[message["MessageId"]] = message["ReceiptHandle"]
            if not fresh:  # empty, or every message has come round again
                break
            for message in fresh:
                batch = BatchRange.from_body(_json(message["Body"]))
                if batch is None:
                    passed_over[message["MessageId"]] = message["ReceiptHandle"]
                else:
                    records[message["MessageId"]] = FailureRecord(batch, message["ReceiptHandle"])
        # Poison pills and strangers were only passed over: visible again at once, for `failures export`.
        self._set_visibility(list(passed_over.values()), 0)
        found.records, found.others = list(records.values()), len(passed_over)
        return found

    def hide(self, records: list[FailureRecord], seconds: int) -> None:
        self._set_visibility([record.handle for record in records], min(seconds, MAX_VISIBILITY_SECONDS))

    def delete(self, records: list[FailureRecord]) -> int:
        failed = 0
        for start in range(0, len(records), DELETE_BATCH):
            chunk = records[start : start + DELETE_BATCH]
            entries = [{"Id": str(n), "ReceiptHandle": record.handle} for n, record in enumerate(chunk)]
            failed += len(self._sqs.delete_message_batch(QueueUrl=self._url, Entries=entries).get("Failed", []))
        return failed

    def keep(self, records: list[FailureRecord]) -> None:
        self._set_visibility([record.handle for record in records], 0)

    def _set_visibility(self, handles: list[str], seconds: int) -> None:
        # ChangeMessageVisibilityBatch takes at most 10 entries, as DeleteMessageBatch:
        # https://docs.aws.amazon.com/AWSSimpleQueueService/latest/APIReference/API_ChangeMessageVisibilityBatch.html
        for start in range(0, len(handles), DELETE_BATCH):
            entries = [
                {"Id": str(n), "ReceiptHandle": handle, "VisibilityTimeout": seconds}
                for n, handle in enumerate(handles[start : start + DELETE_BATCH])
            ]
            self._sqs.change_message_visibility_batch(QueueUrl=self._url, Entries=entries)


# --------------------------------------------------------------------------------- the failure bucket


class BucketSource:
    """The failure bucket (`on_failure: s3`): one object per batch record, under Lambda's `aws/lambda/` keys."""

    kind = "object"

    def __init__(self, s3: Any, bucket: str) -> None:
        self._s3 = s3
        self._bucket = bucket

    @property
    def where(self) -> str:
        return f"s3://{self._bucket}/"

    def read(self) -> Found:
        found = Found()
        for page in self._s3.get_paginator("list_objects_v2").paginate(Bucket=self._bucket):
            for listed in page.get("Contents", []):
                body = self._s3.get_object(Bucket=self._bucket, Key=listed["Key"])["Body"].read()
                batch = BatchRange.from_body(_json(body))
                if batch is None:
                    found.others += 1
                else:
                    found.records.append(FailureRecord(batch, listed["Key"]))
        return found

    def hide(self, records: list[FailureRecord], seconds: int) -> None:
        """Objects have no visibility: two redrives at once replay a range twice, which the write modes absorb."""

    def delete(self, records: list[FailureRecord]) -> int:
        failed = 0
        for start in range(0, len(records), DELETE_OBJECTS_MAX):
            keys = [{"Key": record.handle} for record in records[start : start + DELETE_OBJECTS_MAX]]
            answer = self._s3.delete_objects(Bucket=self._bucket, Delete={"Objects": keys, "Quiet": True})
            failed += len(answer.get("Errors", []))
        return failed

    def keep(self, records: list[FailureRecord]) -> None:
        """An object stays where it is until deleted."""


def _json(text: str | bytes) -> Any:
    try:
        return json.loads(text)
    except ValueError:  # UnicodeDecodeError included
        return None
