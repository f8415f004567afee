"""failures.py: the failure queue message, its size limits and its batching."""

from __future__ import annotations

import base64
import hashlib
import json

from runtime_helpers import FakeClock, aws_account, client_error

from runtime.failures import MAX_MESSAGE_BYTES, FailureQueue, _chunks, failure_message
from runtime.modes.base import AwsClients
from runtime.retry import Backoff, Deadline
from runtime.types import RecordFailure, RecordSource

SOURCE = RecordSource(
    0, "shardId-000000000001", "4960", 0, "pk-9", 1_795_705_200.5, "arn:aws:kinesis:us-east-1:1:stream/s"
)


def failure(payload: bytes, index: int = 0) -> RecordFailure:
    source = RecordSource(
        index,
        *[
            getattr(SOURCE, f)
            for f in (
                "shard_id",
                "sequence_number",
                "sub_sequence_number",
                "partition_key",
                "arrival_timestamp",
                "event_source_arn",
            )
        ],
    )
    return RecordFailure(source, payload, "schema_invalid", "data.temp must be number")


def test_failures_message_has_every_field_and_the_payload():
    body = json.loads(failure_message("acme", failure(b'{"temp": "hot"}')))
    assert body == {
        "tenant": "acme",
        "reason": "schema_invalid",
        "detail": "data.temp must be number",
        "shardId": "shardId-000000000001",
        "sequenceNumber": "4960",
        "subSequenceNumber": None,
        "partitionKey": "pk-9",
        "approximateArrivalTimestamp": 1_795_705_200.5,
        "eventSourceARN": "arn:aws:kinesis:us-east-1:1:stream/s",
        "payloadSize": 15,
        "payloadSha256": hashlib.sha256(b'{"temp": "hot"}').hexdigest(),
        "payloadTruncated": False,
        "payload": base64.b64encode(b'{"temp": "hot"}').decode(),
    }


def test_failures_message_too_large_is_truncated_and_says_so():
    payload = bytes(range(256)) * 4096  # 1 MiB, the largest Kinesis record
    text = failure_message("acme", failure(payload))
    body = json.loads(text)
    assert len(text.encode()) <= MAX_MESSAGE_BYTES
    assert body["payloadTruncated"] is True
    assert body["payloadSize"] == len(payload)
    assert body["payloadSha256"] == hashlib.sha256(payload).hexdigest()
    kept = base64.b64decode(body["payload"])
    assert payload.startswith(kept) and len(kept) > 150_000


def test_failures_chunks_respect_ten_entries_and_256_kib():
    assert [len(c) for c in _chunks(["x"] * 23)] == [10, 10, 3]
    big = "y" * 200_000
    assert _chunks([big, big, "z"]) == [[0], [1, 2]]


def test_failures_queue_receives_each_failure_once():
    with aws_account() as (_, sqs, url):
        queue = FailureQueue(AwsClients(lambda s: sqs), url, "acme")
        assert queue.send([failure(b"p%d" % i, i) for i in range(13)], Deadline.after(5)) == set()
        bodies = []
        while page := sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10).get("Messages"):
            bodies += [json.loads(m["Body"]) for m in page]
        assert sorted(base64.b64decode(b["payload"]) for b in bodies) == sorted(b"p%d" % i for i in range(13))


class BrokenSQS:
    def __init__(self, fail_ids):
        self.fail_ids, self.calls = fail_ids, []

    def send_message_batch(self, QueueUrl, Entries):
        self.calls.append([e["Id"] for e in Entries])
        if self.fail_ids == "all":
            raise client_error("AWS.SimpleQueueService.RequestThrottled", "SendMessageBatch", status=403)
        return {
            "Successful": [],
            "Failed": [
                {"Id": e["Id"], "SenderFault": False, "Code": "InternalError"}
                for e in Entries
                if e["Id"] in self.fail_ids
            ],
        }


def test_failures_unsent_entries_are_reported_and_later_chunks_not_sent():
    sqs = BrokenSQS({"3"})
    clock = FakeClock()
    queue = FailureQueue(AwsClients(lambda s: sqs), "url", "acme", Backoff(sleep=clock.sleep, rng=lambda: 1.0))
    unsent = queue.send([failure(b"p", i) for i in range(15)], Deadline.after(0.2, clock=clock))
    assert unsent == {3, *range(10, 15)}
    assert sqs.calls[0] == [str(i) for i in range(10)] and all(c == ["3"] for c in sqs.calls[1:])
    assert len(sqs.calls) > 1  # retried within the time budget


def test_failures_queue_error_leaves_everything_unsent():
    queue = FailureQueue(AwsClients(lambda s: BrokenSQS("all")), "url", "acme")
    assert queue.send([failure(b"p", i) for i in range(3)], Deadline.after(0)) == {0, 1, 2}
