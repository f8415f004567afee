"""counters: an event id seen on two keys in one batch counts on its first occurrence in batch order,
whatever the threads' timing. Delays per counter item and the number of workers vary the order in which
the writer's threads reach DynamoDB; the table must not."""

from __future__ import annotations

import threading
import time
from collections import defaultdict

from hypothesis import given, settings
from hypothesis import strategies as st
from runtime_helpers import FakeClock, aws_account, config, json_bytes, kinesis_record, table_items

from runtime.modes import MODES
from runtime.modes.base import AwsClients
from runtime.records import decode_batch
from runtime.retry import Backoff, Deadline
from runtime.types import Outcome

DEVICES = ("a", "b", "c")


class DelayedDynamoDB:
    """Holds each transaction back by its counter items' longest delay before it reaches moto. Transactions are
    serialized once there: moto rolls a cancelled transaction back by restoring a copy of the whole
    table, which would erase the other threads' writes (DynamoDB isolates per item)."""

    def __init__(self, client, delays):
        self.client, self.delays, self.lock = client, delays, threading.Lock()

    def transact_write_items(self, TransactItems):
        counter_pks = [item["Update"]["Key"]["pk"]["S"] for item in TransactItems if "Update" in item]
        time.sleep(max(self.delays[pk.removeprefix("device#")] for pk in counter_pks))
        with self.lock:
            return self.client.transact_write_items(TransactItems=TransactItems)


batches = st.lists(
    st.tuples(st.sampled_from(DEVICES), st.sampled_from(["e0", "e1", "e2", "e3"]), st.integers(1, 9)),
    min_size=1,
    max_size=10,
)
delays = st.fixed_dictionaries({device: st.sampled_from([0.0, 0.002, 0.01]) for device in DEVICES})


def first_occurrences(batch):
    """The model: each event id counts once, on the key of its first occurrence in batch order."""
    first = {}
    for position, (device, event_id, n) in enumerate(batch):
        first.setdefault(event_id, (position, device, n))
    return first


@settings(max_examples=25)
@given(batch=batches, delays=delays, workers=st.sampled_from([1, 2, 4]))
def test_writers_counters_event_id_on_two_keys_counts_on_its_first_occurrence(batch, delays, workers):
    cfg = config(write_mode="counters", counter_fields="n", event_id_field="id")
    payloads = [{"device_id": device, "id": event_id, "n": n} for device, event_id, n in batch]
    records, failures = decode_batch([kinesis_record(1 + i, json_bytes(p)) for i, p in enumerate(payloads)], cfg)
    assert not failures
    first = first_occurrences(batch)

    with aws_account() as (dynamodb, _, _):
        clock = FakeClock()
        client = DelayedDynamoDB(dynamodb, delays)
        writer = MODES[cfg.write_mode].writer(
            cfg, AwsClients(lambda service: client), backoff=Backoff(sleep=clock.sleep), max_workers=workers
        )
        report = writer.write(records, Deadline.after(5, clock))
        replay = writer.write(records, Deadline.after(5, clock))
        items = table_items(dynamodb)

    counted = {position for position, _, _ in first.values()}
    assert report.outcomes == {
        position: Outcome.WRITTEN if position in counted else Outcome.DUPLICATE for position in range(len(batch))
    }
    assert set(replay.outcomes.values()) == {Outcome.DUPLICATE}

    expected = defaultdict(lambda: {"n": 0, "events": 0})
    for _, device, n in first.values():
        expected[f"device#{device}"]["n"] += n
        expected[f"device#{device}"]["events"] += 1
    counters = {i["pk"]: {"n": i["n"], "events": i["events"]} for i in items if not i["pk"].startswith("dedupe#")}
    assert counters == dict(expected)
    markers = {i["pk"]: i["_counter_pk"] for i in items if i["pk"].startswith("dedupe#")}
    assert markers == {f"dedupe#{event_id}": f"device#{device}" for event_id, (_, device, _) in first.items()}
