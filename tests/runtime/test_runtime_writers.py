"""The write modes' writers (runtime/modes/) against moto, throttling and conflicts injected by a wrapped client."""

from __future__ import annotations

from decimal import Decimal

import pytest
from botocore.exceptions import ReadTimeoutError
from runtime_helpers import FakeClock, aws_account, client_error, config, json_bytes, kinesis_record, table_items

from runtime.modes import MODES
from runtime.modes.base import AwsClients
from runtime.records import decode_batch
from runtime.retry import Backoff, Deadline
from runtime.types import Outcome


class Scripted:
    """Wraps a client: the first calls of an operation fail as scripted, then the real call runs."""

    def __init__(self, client, **script):
        self.client, self.script, self.calls = client, {k: list(v) for k, v in script.items()}, []

    def __getattr__(self, name):
        real = getattr(self.client, name)

        def call(**kwargs):
            self.calls.append((name, kwargs))
            plan = self.script.get(name) or []
            step = plan.pop(0) if plan else None
            if step == "unprocessed":  # nothing written, everything handed back
                ((table, requests),) = kwargs["RequestItems"].items()
                return {"UnprocessedItems": {table: requests}}
            if step == "lost":
                real(**kwargs)
                raise ReadTimeoutError(endpoint_url="https://dynamodb")
            if isinstance(step, Exception):
                raise step
            return real(**kwargs)

        return call


def records_for(cfg, payloads, start=1):
    valid, failures = decode_batch([kinesis_record(start + i, json_bytes(p)) for i, p in enumerate(payloads)], cfg)
    assert not failures
    return valid


def writer_for(cfg, client, clock):
    backoff = Backoff(base=0.1, cap=1.0, sleep=clock.sleep, rng=lambda: 0.5)
    return MODES[cfg.write_mode].writer(cfg, AwsClients(lambda service: client), backoff=backoff)


THROTTLE = client_error("ProvisionedThroughputExceededException", "PutItem")
CONFLICT = client_error(
    "TransactionCanceledException",
    "TransactWriteItems",
    CancellationReasons=[{"Code": "None"}, {"Code": "TransactionConflict"}],
)


def test_writers_events_chunks_of_25_distinct_keys_and_dedupes_within_batch():
    cfg = config(event_id_field="id")
    with aws_account() as (dynamodb, _, _):
        spy, clock = Scripted(dynamodb), FakeClock()
        payloads = [{"device_id": "a", "id": str(i % 40)} for i in range(60)]
        report = writer_for(cfg, spy, clock).write(records_for(cfg, payloads), Deadline.after(5, clock))
        assert set(report.outcomes.values()) == {Outcome.WRITTEN} and len(report.outcomes) == 60
        for _, kwargs in spy.calls:
            (requests,) = kwargs["RequestItems"].values()
            keys = [(r["PutRequest"]["Item"]["pk"]["S"], r["PutRequest"]["Item"]["sk"]["S"]) for r in requests]
            assert len(keys) <= 25 and len(set(keys)) == len(keys)
        assert sorted(i["sk"] for i in table_items(dynamodb)) == sorted(str(i) for i in range(40))


def test_writers_events_unprocessed_items_retried_with_backoff_within_budget():
    cfg = config()
    with aws_account() as (dynamodb, _, _):
        spy, clock = Scripted(dynamodb, batch_write_item=["unprocessed", THROTTLE]), FakeClock()
        report = writer_for(cfg, spy, clock).write(records_for(cfg, [{"device_id": "a"}] * 3), Deadline.after(5, clock))
        assert set(report.outcomes.values()) == {Outcome.WRITTEN}
        assert report.retries == 2 and clock.slept == [0.05, 0.1]  # full jitter: rng * min(cap, base * 2**n)
        assert len(table_items(dynamodb)) == 3


def test_writers_events_unprocessed_past_deadline_is_transient():
    cfg = config()
    with aws_account() as (dynamodb, _, _):
        spy, clock = Scripted(dynamodb, batch_write_item=["unprocessed"] * 100), FakeClock()
        report = writer_for(cfg, spy, clock).write(
            records_for(cfg, [{"device_id": "a"}] * 2), Deadline.after(0.5, clock)
        )
        assert set(report.outcomes.values()) == {Outcome.TRANSIENT}
        assert clock.now - 1_000 < 0.5  # never slept past the deadline


def test_writers_latest_keeps_newest_version_and_counts_stale():
    cfg = config(write_mode="latest", version_field="v")
    with aws_account() as (dynamodb, _, _):
        clock = FakeClock()
        writer = writer_for(cfg, dynamodb, clock)
        payloads = [
            {"device_id": "a", "v": 2},
            {"device_id": "a", "v": 5},
            {"device_id": "a", "v": 3},
            {"device_id": "b", "v": 1},
            {"device_id": "a", "v": 5},
        ]
        report = writer.write(records_for(cfg, payloads), Deadline.after(5, clock))
        assert [report.outcomes[i] for i in range(5)] == [
            Outcome.WRITTEN,
            Outcome.WRITTEN,
            Outcome.STALE,
            Outcome.WRITTEN,
            Outcome.STALE,
        ]
        assert {i["pk"]: i["v"] for i in table_items(dynamodb)} == {"device#a": 5, "device#b": 1}


def test_writers_latest_throttled_past_deadline_is_transient_and_stops_that_key():
    cfg = config(write_mode="latest", version_field="v")
    with aws_account() as (dynamodb, _, _):
        spy, clock = Scripted(dynamodb, put_item=[THROTTLE] * 3), FakeClock()
        payloads = [{"device_id": "a", "v": 1}, {"device_id": "a", "v": 2}]
        report = writer_for(cfg, spy, clock).write(records_for(cfg, payloads), Deadline.after(0.2, clock))
        assert report.outcomes == {0: Outcome.TRANSIENT, 1: Outcome.TRANSIENT}
        assert table_items(dynamodb) == []


def test_writers_latest_lost_response_is_retried_and_settles_as_stale():
    cfg = config(write_mode="latest", version_field="v")
    with aws_account() as (dynamodb, _, _):
        spy, clock = Scripted(dynamodb, put_item=["lost"]), FakeClock()
        report = writer_for(cfg, spy, clock).write(
            records_for(cfg, [{"device_id": "a", "v": 1}]), Deadline.after(5, clock)
        )
        assert report.outcomes == {0: Outcome.STALE} and report.retries == 1
        assert len(table_items(dynamodb)) == 1


@pytest.mark.parametrize("fault", [CONFLICT, "lost", client_error("ThrottlingException", "TransactWriteItems")])
def test_writers_counters_fault_then_retry_counts_exactly_once(fault):
    cfg = config(write_mode="counters", counter_fields="n,x", ttl_days=1, dedupe_ttl_seconds=60)
    with aws_account() as (dynamodb, _, _):
        spy, clock = Scripted(dynamodb, transact_write_items=[fault]), FakeClock()
        writer = writer_for(cfg, spy, clock)
        records = records_for(cfg, [{"device_id": "a", "n": 2, "x": 0.25}, {"device_id": "a", "n": 3, "x": 0.5}])
        report = writer.write(records, Deadline.after(5, clock))
        again = writer.write(records, Deadline.after(5, clock))  # a replay of the same batch
        assert set(again.outcomes.values()) == {Outcome.DUPLICATE}
        assert report.retries == 1
        items = {i["pk"]: i for i in table_items(dynamodb)}
        counter = items["device#a"]
        assert (counter["n"], counter["x"], counter["events"]) == (5, Decimal("0.75"), 2)
        assert "expires_at" in counter
        markers = [i for pk, i in items.items() if pk.startswith("dedupe#")]
        assert len(markers) == 2 and all(m["sk"] == "dedupe" and "expires_at" in m for m in markers)


def test_writers_counters_conflict_past_deadline_is_transient_and_nothing_counted():
    cfg = config(write_mode="counters", counter_fields="n")
    with aws_account() as (dynamodb, _, _):
        spy, clock = Scripted(dynamodb, transact_write_items=[CONFLICT] * 10), FakeClock()
        report = writer_for(cfg, spy, clock).write(
            records_for(cfg, [{"device_id": "a", "n": 1}]), Deadline.after(0, clock)
        )
        assert report.outcomes == {0: Outcome.TRANSIENT}
        assert table_items(dynamodb) == []


def test_writers_single_item_validation_error_is_write_rejected():
    cfg = config(write_mode="latest", version_field="v")
    with aws_account() as (dynamodb, _, _):
        spy = Scripted(dynamodb, put_item=[client_error("ValidationException", "PutItem")])
        report = writer_for(cfg, spy, FakeClock()).write(
            records_for(cfg, [{"device_id": "a", "v": 1}]), Deadline.after(5)
        )
        assert report.outcomes == {0: Outcome.INVALID} and 0 in report.rejected


def test_writers_events_batch_validation_error_isolates_the_bad_item():
    cfg = config()
    with aws_account() as (dynamodb, _, _):
        bad = client_error("ValidationException", "BatchWriteItem")
        spy = Scripted(
            dynamodb, batch_write_item=[bad], put_item=[None, client_error("ValidationException", "PutItem")]
        )
        report = writer_for(cfg, spy, FakeClock()).write(records_for(cfg, [{"device_id": "a"}] * 3), Deadline.after(5))
        assert sorted(report.outcomes.values(), key=lambda o: o.value) == [
            Outcome.INVALID,
            Outcome.WRITTEN,
            Outcome.WRITTEN,
        ]
        assert len(report.rejected) == 1 and len(table_items(dynamodb)) == 2


def test_writers_backoff_full_jitter_never_crosses_the_deadline():
    clock = FakeClock()
    backoff = Backoff(base=0.1, cap=0.4, sleep=clock.sleep, rng=lambda: 0.999)
    deadline = Deadline.after(1.0, clock)
    attempts = 0
    while backoff.wait(attempts, deadline):
        attempts += 1
    assert clock.now - 1_000 <= 1.0
    assert max(clock.slept) <= 0.4 and attempts >= 3
