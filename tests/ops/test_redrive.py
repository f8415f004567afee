"""Redrive against moto: a stream with records, the mapping's on-failure records of some of its ranges (built by
the sandbox's own writer of Lambda's format), and a function that records what it is given."""

from __future__ import annotations

import base64
import json
from dataclasses import dataclass, field, replace
from typing import Any

import boto3
import pytest
from moto import mock_aws

from ops.failure_records import BucketSource, QueueSource
from ops.redrive import REPLAY_ATTEMPTS, ReplaySettings, redrive
from runtime.failures import failure_message
from runtime.types import RecordFailure, RecordSource
from sandbox.engines.lambda_records import failure_record, kinesis_event, s3_failure_key
from sandbox.engines.shard_reader import StreamRecord
from sandbox.engines.workers import InvocationResult

REGION = "us-east-1"
SHARD = "shardId-000000000000"
ROLE = "arn:aws:iam::123456789012:role/tally--dev--processor"
FUNCTION = "arn:aws:lambda:us-east-1:123456789012:function:tally--dev--processor"
CRASH = InvocationResult("crashed", function_error="Unhandled", error_type="Runtime.ExitError", error_message="gone")


@dataclass
class RecordingInvoker:
    """The function: records each event, and answers with `answers` in turn (then success for everything)."""

    answers: list[Any] = field(default_factory=list)
    events: list[dict] = field(default_factory=list)

    def invoke(self, event: dict[str, Any]) -> InvocationResult:
        self.events.append(event)
        answer = self.answers.pop(0) if self.answers else {"batchItemFailures": []}
        if isinstance(answer, InvocationResult):
            return answer
        return InvocationResult(f"request-{len(self.events)}", payload=answer)

    def sequences(self) -> list[list[str]]:
        return [[record["kinesis"]["sequenceNumber"] for record in event["Records"]] for event in self.events]


@dataclass
class Pipeline:
    """A tenant's stream, failure queue and failure bucket in moto."""

    kinesis: Any
    sqs: Any
    s3: Any
    queue_url: str
    bucket: str
    stream: str
    stream_arn: str
    records: list[StreamRecord]  # what the stream holds, in order

    def settings(self, batch_size: int = 3) -> ReplaySettings:
        return ReplaySettings(self.stream_arn, self.stream, REGION, batch_size, ROLE, timeout_seconds=3)

    def given_up(self, first: int, last: int, **changes: Any) -> dict[str, Any]:
        """Lambda's on-failure record of records[first..last] (inclusive); `changes` alter the records first."""
        batch = [replace(record, **changes) for record in self.records[first : last + 1]]
        return failure_record(
            function_arn=FUNCTION,
            stream_arn=self.stream_arn,
            records=batch,
            invocations=2,
            last_result=CRASH,
            condition="RetryAttemptsExhausted",
            now=batch[-1].arrival + 60,
        )

    def queue(self, *bodies: dict[str, Any] | str) -> None:
        for body in bodies:
            text = body if isinstance(body, str) else json.dumps(body)
            self.sqs.send_message(QueueUrl=self.queue_url, MessageBody=text)

    def store(self, message: dict[str, Any], batch: list[StreamRecord]) -> str:
        """The record as Lambda writes it to an S3 destination: with the invocation's payload."""
        key = s3_failure_key("mapping-uuid", batch[0].shard_id, batch[-1].arrival + 60)
        body = message | {"payload": kinesis_event(batch, self.stream_arn, REGION, ROLE)}
        self.s3.put_object(Bucket=self.bucket, Key=key, Body=json.dumps(body).encode())
        return key

    def messages(self) -> tuple[int, int]:
        """(visible, hidden) messages in the failure queue."""
        attributes = self.sqs.get_queue_attributes(
            QueueUrl=self.queue_url,
            AttributeNames=["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"],
        )["Attributes"]
        return int(attributes["ApproximateNumberOfMessages"]), int(attributes["ApproximateNumberOfMessagesNotVisible"])

    def queue_source(self) -> QueueSource:
        return QueueSource(self.sqs, self.queue_url)

    def run(self, invoker: RecordingInvoker, source: Any = None, batch_size: int = 3, **options: Any):
        return redrive(
            source or self.queue_source(),
            self.kinesis,
            self.settings(batch_size),
            invoker,
            sleep=lambda seconds: None,
            **options,
        )


@pytest.fixture
def pipeline():
    with mock_aws():
        kinesis = boto3.client("kinesis", region_name=REGION)
        kinesis.create_stream(StreamName="tally--dev--events", ShardCount=1)
        summary = kinesis.describe_stream_summary(StreamName="tally--dev--events")["StreamDescriptionSummary"]
        for n in range(12):
            kinesis.put_record(StreamName="tally--dev--events", Data=f'{{"n": {n}}}'.encode(), PartitionKey=f"k{n % 4}")
        iterator = kinesis.get_shard_iterator(
            StreamName="tally--dev--events", ShardId=SHARD, ShardIteratorType="TRIM_HORIZON"
        )["ShardIterator"]
        raw = kinesis.get_records(ShardIterator=iterator)["Records"]
        records = [
            StreamRecord(
                SHARD, r["SequenceNumber"], r["PartitionKey"], r["Data"], r["ApproximateArrivalTimestamp"].timestamp()
            )
            for r in raw
        ]
        sqs = boto3.client("sqs", region_name=REGION)
        queue_url = sqs.create_queue(QueueName="tally--dev--failures")["QueueUrl"]
        s3 = boto3.client("s3", region_name=REGION)
        s3.create_bucket(Bucket="tally--dev--failed-batches")
        yield Pipeline(
            kinesis,
            sqs,
            s3,
            queue_url,
            "tally--dev--failed-batches",
            "tally--dev--events",
            summary["StreamARN"],
            records,
        )


def _pill(pipeline: Pipeline) -> str:
    """A poison pill as the handler sends it to the same queue."""
    record = pipeline.records[0]
    source = RecordSource(
        0, SHARD, record.sequence_number, 0, record.partition_key, record.arrival, pipeline.stream_arn
    )
    return failure_message(
        "tally", RecordFailure(source=source, payload=b"<<not json>>", reason="not-json", detail="x")
    )


# --------------------------------------------------------------------------------- the failure queue


def test_redrive_replays_exactly_each_ranges_records_in_order_then_deletes_its_message(pipeline):
    # Given: two given-up ranges, queued out of stream order, and a poison pill beside them.
    pipeline.queue(pipeline.given_up(8, 10), _pill(pipeline), pipeline.given_up(2, 5))
    invoker = RecordingInvoker()
    # When
    summary = pipeline.run(invoker, batch_size=3)
    # Then: each range's records, in shard order, in chunks of at most the batch size, as Lambda's event.
    held = [record.sequence_number for record in pipeline.records]
    assert invoker.sequences() == [held[2:5], held[5:6], held[8:11]]
    first = invoker.events[0]["Records"][0]
    assert base64.b64decode(first["kinesis"]["data"]) == b'{"n": 2}' and first["kinesis"]["partitionKey"] == "k2"
    assert first["eventSourceARN"] == pipeline.stream_arn and first["invokeIdentityArn"] == ROLE
    assert first["eventID"] == f"{SHARD}:{held[2]}"
    assert [(o.reread, o.replayed, o.failed, o.past_retention, o.deleted) for o in summary.outcomes] == [
        (4, 4, 0, 0, 1),
        (3, 3, 0, 0, 1),
    ]
    assert summary.line() == "2 batches, 7 records replayed, 0 failed, 0 past retention; 2 messages deleted"
    # The pill is left, visible at once for `failures export`.
    assert summary.others == 1 and pipeline.messages() == (1, 0)


def test_redrive_retries_from_the_first_reported_failure_and_deletes_once_all_succeeded(pipeline):
    pipeline.queue(pipeline.given_up(0, 2))
    held = [record.sequence_number for record in pipeline.records]
    # The first invocation reports the second record (and what follows) as failed, as the handler does.
    invoker = RecordingInvoker(answers=[{"batchItemFailures": [{"itemIdentifier": held[1]}]}])
    summary = pipeline.run(invoker)
    assert invoker.sequences() == [held[0:3], held[1:3]]
    assert (summary.outcomes[0].replayed, summary.failed, pipeline.messages()) == (3, 0, (0, 0))


def test_redrive_keeps_the_message_when_the_replay_fails_every_attempt(pipeline):
    pipeline.queue(pipeline.given_up(3, 7))
    invoker = RecordingInvoker(answers=[CRASH] * REPLAY_ATTEMPTS)
    summary = pipeline.run(invoker, batch_size=10)
    (outcome,) = summary.outcomes
    assert len(invoker.events) == REPLAY_ATTEMPTS
    assert (outcome.replayed, outcome.failed, outcome.deleted, outcome.kept) == (0, 5, 0, 1)
    assert "Runtime.ExitError: gone" in outcome.line("message", dry_run=False)
    # Kept, and visible again at once for the next redrive.
    assert pipeline.messages() == (1, 0)


def test_redrive_stops_a_range_at_its_first_chunk_that_keeps_failing(pipeline):
    pipeline.queue(pipeline.given_up(0, 8))
    held = [record.sequence_number for record in pipeline.records]
    # The second chunk's last record fails every time; the third chunk is never sent (per-key order).
    failing = {"batchItemFailures": [{"itemIdentifier": held[5]}]}
    invoker = RecordingInvoker(answers=[{"batchItemFailures": []}, failing, failing, failing])
    summary = pipeline.run(invoker, batch_size=3)
    assert invoker.sequences() == [held[0:3], held[3:6], held[5:6], held[5:6]]
    assert (summary.outcomes[0].replayed, summary.failed) == (5, 4)
    assert f"sequence number {held[5]} failed {REPLAY_ATTEMPTS} invocations" in summary.outcomes[0].failure
    assert pipeline.messages() == (1, 0)


def test_redrive_dry_run_counts_and_neither_invokes_nor_deletes(pipeline):
    pipeline.queue(pipeline.given_up(0, 3), pipeline.given_up(6, 6))
    invoker = RecordingInvoker()
    summary = pipeline.run(invoker, dry_run=True)
    assert invoker.events == []
    assert [outcome.reread for outcome in summary.outcomes] == [4, 1]
    assert summary.line() == "dry run: 2 batches, 5 records to replay, 0 past retention; nothing invoked or deleted"
    assert pipeline.messages() == (2, 0)


def test_redrive_replays_a_range_recorded_twice_once_and_deletes_both_records(pipeline):
    pipeline.queue(pipeline.given_up(4, 6), pipeline.given_up(4, 6))
    invoker = RecordingInvoker()
    summary = pipeline.run(invoker)
    assert len(invoker.events) == 1 and summary.outcomes[0].deleted == 2
    assert pipeline.messages() == (0, 0)


def test_redrive_leaves_records_of_another_stream_alone(pipeline):
    other = pipeline.given_up(0, 1)
    other["KinesisBatchInfo"]["streamArn"] = pipeline.stream_arn.replace("tally--dev--events", "other--dev--events")
    pipeline.queue(other)
    invoker = RecordingInvoker()
    summary = pipeline.run(invoker)
    assert (invoker.events, summary.outcomes, summary.others, pipeline.messages()) == ([], [], 1, (1, 0))


# --------------------------------------------------------------------------------- past retention


def test_redrive_counts_a_range_on_a_shard_the_stream_no_longer_has_as_past_retention(pipeline):
    pipeline.queue(pipeline.given_up(0, 4, shard_id="shardId-000000000009"))
    invoker = RecordingInvoker()
    summary = pipeline.run(invoker)
    (outcome,) = summary.outcomes
    assert invoker.events == []
    assert (outcome.reread, outcome.past_retention, outcome.kept) == (0, 5, 1)
    assert "ResourceNotFoundException" in (outcome.why_gone or "")
    assert "--drop-expired" in outcome.line("message", dry_run=False)
    assert pipeline.messages() == (1, 0)
    # With --drop-expired, nothing is left to replay, so the record goes.
    dropped = pipeline.run(invoker, drop_expired=True)
    assert (dropped.outcomes[0].past_retention, dropped.outcomes[0].deleted, pipeline.messages()) == (5, 1, (0, 0))


def test_redrive_replays_what_is_left_of_a_range_whose_oldest_records_were_trimmed(pipeline):
    # Given: a range that starts before the oldest record the shard still holds, as after trimming; the batch
    # held 6 records, 4 of them are still there (the first one, sequence number 1, and those after it).
    trimmed = pipeline.given_up(0, 3)
    trimmed["KinesisBatchInfo"] |= {
        "startSequenceNumber": str(int(pipeline.records[0].sequence_number) - 2),
        "batchSize": 6,
    }
    pipeline.queue(trimmed)
    invoker = RecordingInvoker()
    summary = pipeline.run(invoker, batch_size=10)
    (outcome,) = summary.outcomes
    assert invoker.sequences() == [[record.sequence_number for record in pipeline.records[0:4]]]
    assert (outcome.replayed, outcome.past_retention, outcome.kept) == (4, 2, 1)


# --------------------------------------------------------------------------------- the failure bucket


def test_redrive_from_the_failure_bucket_deletes_each_object_once_replayed(pipeline):
    first = pipeline.store(pipeline.given_up(1, 2), pipeline.records[1:3])
    second = pipeline.store(pipeline.given_up(9, 11), pipeline.records[9:12])
    pipeline.s3.put_object(Bucket=pipeline.bucket, Key="notes/readme.txt", Body=b"not a batch record")
    invoker = RecordingInvoker()
    summary = pipeline.run(invoker, source=BucketSource(pipeline.s3, pipeline.bucket))
    held = [record.sequence_number for record in pipeline.records]
    assert invoker.sequences() == [held[1:3], held[9:12]]
    assert summary.line() == "2 batches, 5 records replayed, 0 failed, 0 past retention; 2 objects deleted"
    keys = [item["Key"] for item in pipeline.s3.list_objects_v2(Bucket=pipeline.bucket).get("Contents", [])]
    assert keys == ["notes/readme.txt"] and first not in keys and second not in keys and summary.others == 1


def test_redrive_from_the_failure_bucket_keeps_an_object_whose_replay_failed(pipeline):
    key = pipeline.store(pipeline.given_up(1, 2), pipeline.records[1:3])
    invoker = RecordingInvoker(answers=[CRASH] * REPLAY_ATTEMPTS)
    summary = pipeline.run(invoker, source=BucketSource(pipeline.s3, pipeline.bucket))
    assert summary.failed == 2
    assert [item["Key"] for item in pipeline.s3.list_objects_v2(Bucket=pipeline.bucket)["Contents"]] == [key]
