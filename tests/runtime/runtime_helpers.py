"""Factories and fakes shared by the handler's tests: Kinesis records, a moto account, fault
injection, a fake clock, and Lambda's retry protocol for Kinesis."""

from __future__ import annotations

import base64
import contextlib
import gzip
import json
import random
import threading
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

import boto3
from aws_kinesis_agg.aggregator import RecordAggregator
from boto3.dynamodb.types import TypeDeserializer
from botocore.exceptions import ClientError, ReadTimeoutError
from moto import mock_aws

from runtime.config import HandlerConfig
from runtime.failures import FailureQueue
from runtime.modes import MODES
from runtime.modes.base import AwsClients
from runtime.retry import Backoff, Deadline

SHARD = "shardId-000000000000"
STREAM_ARN = "arn:aws:kinesis:us-east-1:123456789012:stream/acme-events"
ARRIVAL = 1_795_705_200.25  # 2026-11-26T15:00:00.25Z
FIRST_SEQUENCE = 49_650_000_000_000_000_000_000_000_000_000_000_000_000_000_000_000_000  # 56 digits
TABLE = "acme-table"


def kinesis_record(
    sequence: int | str, data: bytes, partition_key: str = "pk-1", arrival: float = ARRIVAL, shard: str = SHARD
) -> dict[str, Any]:
    """One record exactly as Lambda delivers it from a Kinesis event source mapping."""
    return {
        "kinesis": {
            "kinesisSchemaVersion": "1.0",
            "partitionKey": partition_key,
            "sequenceNumber": str(sequence),
            "data": base64.b64encode(data).decode("ascii"),
            "approximateArrivalTimestamp": arrival,
        },
        "eventSource": "aws:kinesis",
        "eventVersion": "1.0",
        "eventID": f"{shard}:{sequence}",
        "eventName": "aws:kinesis:record",
        "invokeIdentityArn": "arn:aws:iam::123456789012:role/acme-processor",
        "awsRegion": "us-east-1",
        "eventSourceARN": STREAM_ARN,
    }


def json_bytes(payload: Any, compress: str | None = None) -> bytes:
    raw = json.dumps(payload).encode("utf-8")
    if compress == "gzip":
        return gzip.compress(raw)
    if compress == "zlib":
        import zlib

        return zlib.compress(raw)
    return raw


def aggregate(user_records: list[tuple[str, bytes]]) -> bytes:
    """A KPL aggregate built by the library's own aggregator."""
    aggregator = RecordAggregator()
    for partition_key, data in user_records:
        assert aggregator.add_user_record(partition_key, data) is None
    _, _, data = aggregator.clear_and_get().get_contents()
    return data


def event(records: list[dict[str, Any]]) -> dict[str, Any]:
    return {"Records": records}


def config(**overrides: Any) -> HandlerConfig:
    base = {
        "tenant": "acme",
        "table_name": TABLE,
        "failure_queue_url": "https://sqs.us-east-1.amazonaws.com/123456789012/acme-failures",
        "partition_template": "device#{device_id}",
    }
    base.update(overrides)
    return HandlerConfig.from_env({}, **base)


@dataclass
class FakeClock:
    """Monotonic time that only moves when the code under test sleeps."""

    now: float = 1_000.0
    slept: list[float] = field(default_factory=list)

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.now += seconds


class FakeContext:
    """The attributes powertools reads from a Lambda context."""

    function_name = "acme-processor"
    function_version = "$LATEST"
    memory_limit_in_mb = 256
    invoked_function_arn = "arn:aws:lambda:us-east-1:123456789012:function:acme-processor"
    aws_request_id = "c6af9ac6-7b61-11e6-9a41-93e812345678"
    log_group_name = "/aws/lambda/acme-processor"
    log_stream_name = "2026/11/26/[$LATEST]abc"

    def __init__(self, remaining_ms: int = 60_000):
        self.remaining_ms = remaining_ms

    def get_remaining_time_in_millis(self) -> int:
        return self.remaining_ms


@contextlib.contextmanager
def aws_account():
    """A fresh moto account with the tenant's table (pk, sk, TTL expires_at) and failure queue."""
    with mock_aws():
        dynamodb = boto3.client("dynamodb", region_name="us-east-1")
        dynamodb.create_table(
            TableName=TABLE,
            KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}, {"AttributeName": "sk", "KeyType": "RANGE"}],
            AttributeDefinitions=[
                {"AttributeName": "pk", "AttributeType": "S"},
                {"AttributeName": "sk", "AttributeType": "S"},
            ],
            BillingMode="PAY_PER_REQUEST",
        )
        sqs = boto3.client("sqs", region_name="us-east-1")
        queue_url = sqs.create_queue(QueueName="acme-failures")["QueueUrl"]
        yield dynamodb, sqs, queue_url


_deserializer = TypeDeserializer()


def table_items(dynamodb: Any) -> list[dict[str, Any]]:
    items, kwargs = [], {"TableName": TABLE}
    while True:
        page = dynamodb.scan(**kwargs)
        items += [{k: _deserializer.deserialize(v) for k, v in item.items()} for item in page["Items"]]
        if "LastEvaluatedKey" not in page:
            return items
        kwargs["ExclusiveStartKey"] = page["LastEvaluatedKey"]


def queue_messages(sqs: Any, queue_url: str) -> list[dict[str, Any]]:
    bodies = []
    while True:
        page = sqs.receive_message(QueueUrl=queue_url, MaxNumberOfMessages=10, VisibilityTimeout=600)
        if not page.get("Messages"):
            return bodies
        bodies += [json.loads(m["Body"]) for m in page["Messages"]]


def client_error(code: str, operation: str, status: int = 400, **extra: Any) -> ClientError:
    return ClientError(
        {"Error": {"Code": code, "Message": code}, "ResponseMetadata": {"HTTPStatusCode": status}, **extra}, operation
    )


class FlakyDynamoDB:
    """Wraps a real client; with probability ``rate`` a call is throttled, partly processed, or
    applied and then its response lost (a read timeout), the way DynamoDB misbehaves under load."""

    def __init__(self, client: Any, rng: random.Random, rate: float):
        self.client, self.rng, self.rate = client, rng, rate
        self.faults = Counter()
        self.lock = threading.Lock()

    def _fault(self) -> str | None:
        if self.rng.random() >= self.rate:
            return None
        return self.rng.choice(["before", "after"])

    def batch_write_item(self, RequestItems: dict[str, list]) -> dict[str, Any]:
        fault = self._fault()
        if fault == "before":
            self.faults["throttled"] += 1
            raise client_error("ProvisionedThroughputExceededException", "BatchWriteItem")
        if fault == "after":  # partly processed: the rest comes back as UnprocessedItems
            self.faults["unprocessed"] += 1
            ((table, requests),) = RequestItems.items()
            cut = self.rng.randrange(len(requests))
            if cut:
                self.client.batch_write_item(RequestItems={table: requests[:cut]})
            return {"UnprocessedItems": {table: requests[cut:]}}
        return self.client.batch_write_item(RequestItems=RequestItems)

    def put_item(self, **kwargs: Any) -> dict[str, Any]:
        return self._single("PutItem", self.client.put_item, kwargs, "ProvisionedThroughputExceededException")

    def transact_write_items(self, **kwargs: Any) -> dict[str, Any]:
        # moto rolls a cancelled transaction back by restoring a deep copy of the WHOLE table, which
        # also erases writes other threads made meanwhile (DynamoDB isolates per item). Serialising
        # transactions here restores DynamoDB's semantics; the writer's own concurrency is unchanged.
        with self.lock:
            return self._single("TransactWriteItems", self.client.transact_write_items, kwargs, "conflict")

    def _single(self, operation: str, call: Any, kwargs: dict, before: str) -> dict[str, Any]:
        fault = self._fault()
        if fault == "before":
            self.faults[before] += 1
            if before == "conflict":
                raise client_error(
                    "TransactionCanceledException",
                    operation,
                    CancellationReasons=[{"Code": "None"}, {"Code": "TransactionConflict"}],
                )
            raise client_error(before, operation)
        response = call(**kwargs)
        if fault == "after":
            self.faults["lost_response"] += 1
            raise ReadTimeoutError(endpoint_url="https://dynamodb.us-east-1.amazonaws.com")
        return response

    def __getattr__(self, name: str) -> Any:
        return getattr(self.client, name)


class FlakySQS:
    """Wraps a real SQS client; with probability ``rate`` a SendMessageBatch entry fails (not sent)
    or the whole call is throttled before anything is sent."""

    def __init__(self, client: Any, rng: random.Random, rate: float):
        self.client, self.rng, self.rate = client, rng, rate

    def send_message_batch(self, QueueUrl: str, Entries: list[dict]) -> dict[str, Any]:
        if self.rng.random() < self.rate / 2:
            raise client_error("RequestThrottled", "SendMessageBatch")
        failing = [e for e in Entries if self.rng.random() < self.rate]
        sending = [e for e in Entries if e not in failing]
        response = self.client.send_message_batch(QueueUrl=QueueUrl, Entries=sending) if sending else {}
        failed = [{"Id": e["Id"], "SenderFault": False, "Code": "InternalError"} for e in failing]
        return {"Successful": response.get("Successful", []), "Failed": failed}

    def __getattr__(self, name: str) -> Any:
        return getattr(self.client, name)


@dataclass
class Harness:
    """Delivers batches to process_batch the way the event source mapping does."""

    cfg: HandlerConfig
    dynamodb: Any
    sqs: Any
    budget_seconds: float = 0.0
    seed: int = 0
    clock: FakeClock = field(default_factory=FakeClock)

    def __post_init__(self) -> None:
        rng = random.Random(self.seed)
        backoff = Backoff(base=0.05, cap=1.0, sleep=self.clock.sleep, rng=rng.random)
        clients = AwsClients(lambda service: {"dynamodb": self.dynamodb, "sqs": self.sqs}[service])
        self.writer = MODES[self.cfg.write_mode].writer(self.cfg, clients, backoff=backoff)
        self.sink = FailureQueue(clients, self.cfg.failure_queue_url, self.cfg.tenant, backoff=backoff)
        self.deliveries: list[tuple[list[dict], list[str]]] = []

    def deliver(self, records: list[dict[str, Any]]) -> list[str]:
        from runtime.batch import process_batch

        # The fake clock bounds the retries; the grace bounds, in real seconds, how long a call to moto may
        # take: generous, so that a loaded machine never turns a slow moto call into a given-up one.
        deadline = Deadline.after(self.budget_seconds, clock=self.clock, grace=60.0)
        response = process_batch(event(records), self.cfg, self.writer, self.sink, deadline).response()
        reported = assert_well_formed(response, records)
        self.deliveries.append((records, reported))
        return reported

    def run_protocol(self, records: list[dict[str, Any]], batch_size: int, max_deliveries: int = 1_000) -> None:
        """Lambda's retry protocol: deliver a batch; on failures, redeliver from the lowest
        reported sequence number onwards; repeat until the whole stream succeeded."""
        position = 0
        sequences = [r["kinesis"]["sequenceNumber"] for r in records]
        for _ in range(max_deliveries):
            if position >= len(records):
                return
            batch = records[position : position + batch_size]
            reported = self.deliver(batch)
            if reported:
                position = sequences.index(reported[0])  # always >= position: checked well formed
            else:
                position += len(batch)
        raise AssertionError(f"stream not drained after {max_deliveries} deliveries")


def assert_well_formed(response: dict[str, Any], records: list[dict[str, Any]]) -> list[str]:
    """The partial batch response names sequence numbers of the batch, each once, and is exactly
    the batch's distinct sequence numbers from the first reported one to the end."""
    assert set(response) == {"batchItemFailures"}, response
    failures = response["batchItemFailures"]
    assert isinstance(failures, list)
    assert all(set(f) == {"itemIdentifier"} and isinstance(f["itemIdentifier"], str) for f in failures)
    reported = [f["itemIdentifier"] for f in failures]
    distinct = list(dict.fromkeys(r["kinesis"]["sequenceNumber"] for r in records))
    if reported:
        assert reported[0] in distinct, (reported, distinct)
        assert reported == distinct[distinct.index(reported[0]) :], (reported, distinct)
    return reported
