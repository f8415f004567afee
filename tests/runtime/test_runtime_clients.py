"""The writers' AWS clients and how many calls they keep in flight (runtime/modes/base.py).

The clients skip botocore's parameter validation: DynamoDB's own ValidationException must still settle a bad item
as write_rejected, through the client the handler really builds, while the rest of its chunk is written.
"""

from __future__ import annotations

import dataclasses
import math
import threading

import pytest
from botocore.exceptions import ClientError
from hypothesis import given
from hypothesis import strategies as st
from runtime_helpers import TABLE, aws_account, config, json_bytes, kinesis_record, table_items

from runtime.modes import MODES
from runtime.modes.base import MAX_CONCURRENT_CALLS, AwsClients, concurrency
from runtime.records import decode_batch
from runtime.retry import Deadline
from runtime.types import Outcome

ITEM_LIMIT_BYTES = 400 * 1024


def decoded(cfg, count):
    records = [kinesis_record(1 + i, json_bytes({"device_id": f"d{i}", "n": i})) for i in range(count)]
    valid, failures = decode_batch(records, cfg)
    assert not failures
    return valid


def test_clients_send_requests_unchecked_and_dynamodb_answers_for_them():
    """A mistyped attribute value botocore's check would stop before sending (ParamValidationError) reaches
    DynamoDB, which answers with its own error; either way the writer leaves the record for redelivery."""
    with aws_account():
        client = AwsClients().dynamodb
        with pytest.raises(ClientError) as refused:
            client.put_item(TableName=TABLE, Item={"pk": {"S": "p"}, "sk": {"S": 5}})
        assert refused.value.response["Error"]["Code"] == "SerializationException"
        assert client.meta.config.max_pool_connections >= MAX_CONCURRENT_CALLS
        cfg = config()
        (record,) = decoded(cfg, 1)
        mistyped = dataclasses.replace(record, attributes={**record.attributes, "n": {"S": 5}})
        report = MODES["events"].writer(cfg, AwsClients()).write([mistyped], Deadline.after(30))
        assert report.outcomes == {0: Outcome.TRANSIENT} and not report.rejected


def test_clients_events_item_dynamodb_refuses_is_write_rejected_and_its_chunk_still_written():
    """An item over DynamoDB's 400 KB and one with a number DynamoDB cannot read, among good items of one chunk:
    DynamoDB refuses the BatchWriteItem, the writer finds the two items one by one."""
    cfg = config()
    records = decoded(cfg, 6)
    oversized = dataclasses.replace(
        records[1], attributes={**records[1].attributes, "blob": {"S": "x" * ITEM_LIMIT_BYTES}}
    )
    not_a_number = dataclasses.replace(records[4], attributes={**records[4].attributes, "n": {"N": "twelve"}})
    records[1], records[4] = oversized, not_a_number
    with aws_account() as (dynamodb, _, _):
        report = MODES["events"].writer(cfg, AwsClients()).write(records, Deadline.after(30))
        assert report.outcomes == {
            0: Outcome.WRITTEN,
            1: Outcome.INVALID,
            2: Outcome.WRITTEN,
            3: Outcome.WRITTEN,
            4: Outcome.INVALID,
            5: Outcome.WRITTEN,
        }
        assert set(report.rejected) == {1, 4}
        assert all("ValidationException" in detail for detail in report.rejected.values())
        assert sorted(item["device_id"] for item in table_items(dynamodb)) == ["d0", "d2", "d3", "d5"]


@given(st.integers(0, 2_000), st.integers(1, 64))
def test_clients_concurrency_is_the_fewest_threads_for_the_fewest_rounds(calls, limit):
    threads = concurrency(calls, limit)
    assert 1 <= threads <= max(1, min(calls, limit))
    if calls:
        rounds = math.ceil(calls / min(calls, limit))
        assert math.ceil(calls / threads) == rounds
        assert threads == 1 or math.ceil(calls / (threads - 1)) > rounds


class InFlight:
    """A DynamoDB stand-in whose BatchWriteItem answers only once ``expected`` calls are in flight together, and
    that counts the most calls it held at once."""

    def __init__(self, expected: int):
        self.barrier = threading.Barrier(expected, timeout=60)
        self.lock = threading.Lock()
        self.in_flight = self.peak = 0

    def batch_write_item(self, RequestItems):
        with self.lock:
            self.in_flight += 1
            self.peak = max(self.peak, self.in_flight)
        self.barrier.wait()  # a writer with fewer calls in flight breaks the barrier: its calls fail
        with self.lock:
            self.in_flight -= 1
        return {"UnprocessedItems": {}}


def test_clients_events_batch_of_500_writes_its_20_calls_ten_at_a_time():
    cfg = config()
    records = decoded(cfg, 500)
    client = InFlight(expected=concurrency(20))
    assert concurrency(20) == 10
    report = MODES["events"].writer(cfg, AwsClients(lambda service: client)).write(records, Deadline.after(120))
    assert set(report.outcomes.values()) == {Outcome.WRITTEN}
    assert client.peak == 10
