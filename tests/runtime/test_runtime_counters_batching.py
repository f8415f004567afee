"""counters writes each key's new events in transactions of up to 99 markers and one ADD of their sums
(runtime/modes/counters.py). Against moto: the table equals the mode's model after a replay of events
already counted, a key with more events than one transaction holds is written in order, a few transactions
for a hot key, and a transaction that fails for good leaves its chunk and the rest for redelivery."""

from __future__ import annotations

import threading
from collections import Counter
from decimal import Decimal

from hypothesis import given, settings
from hypothesis import strategies as st
from runtime_helpers import FakeClock, aws_account, client_error, config, json_bytes, kinesis_record, table_items

from runtime.modes import MODES
from runtime.modes.base import AwsClients
from runtime.modes.counters_batching import MAX_EVENTS_PER_TRANSACTION
from runtime.records import decode_batch
from runtime.retry import Backoff, Deadline
from runtime.types import Outcome

# The fake clock bounds the retries; the grace bounds, in real seconds, how long a call to moto may take: generous,
# so that a loaded machine never turns a slow moto call into a given-up one.
GRACE = 60.0
CONFLICT = client_error(
    "TransactionCanceledException",
    "TransactWriteItems",
    CancellationReasons=[{"Code": "None"}, {"Code": "TransactionConflict"}],
)


class Spy:
    """Counts TransactWriteItems calls and their sizes; the calls numbered in ``failing`` are cancelled by a
    conflict every time they are retried, until the writer gives up. Transactions reach moto one at a time: it
    rolls a cancelled one back by restoring a copy of the whole table (DynamoDB isolates per item)."""

    def __init__(self, client, failing=()):
        self.client, self.failing, self.sizes, self.lock = client, set(failing), [], threading.Lock()

    def transact_write_items(self, TransactItems):
        with self.lock:
            if len(self.sizes) in self.failing:
                raise CONFLICT
            self.sizes.append(len(TransactItems))
            return self.client.transact_write_items(TransactItems=TransactItems)

    def __getattr__(self, name):
        return getattr(self.client, name)


def decoded(batch):
    """``batch``: (device, event id, n) per record, in batch order."""
    cfg = config(write_mode="counters", counter_fields="n,x", event_id_field="id", ttl_days=1)
    payloads = [{"device_id": d, "id": f"e{e}", "n": n, "x": n / 4} for d, e, n in batch]
    records, failures = decode_batch([kinesis_record(1 + i, json_bytes(p)) for i, p in enumerate(payloads)], cfg)
    assert not failures
    return cfg, records


def writer_for(cfg, client, clock):
    backoff = Backoff(base=0.05, cap=0.4, sleep=clock.sleep, rng=lambda: 0.5)
    return MODES[cfg.write_mode].writer(cfg, AwsClients(lambda service: client), backoff=backoff)


def model_problems(cfg, delivered, dynamodb):
    """The mode's model fed every record delivered, in order, against the table."""
    model = MODES[cfg.write_mode].model(cfg)
    for index, record in enumerate(delivered):
        model.add(record, index)
    return model.problems({(i["pk"], i["sk"]): i for i in table_items(dynamodb)})


def expected_outcomes(records, counted_before=()):
    """Each record's outcome in batch order: the first occurrence of an event not counted before is written."""
    seen, outcomes = set(counted_before), {}
    for position, record in enumerate(records):
        outcomes[position] = Outcome.DUPLICATE if record.event_id in seen else Outcome.WRITTEN
        seen.add(record.event_id)
    return outcomes


hot_batches = st.lists(
    st.tuples(st.sampled_from(["a", "b"]), st.integers(0, 260), st.integers(0, 9)), min_size=1, max_size=230
)


@settings(max_examples=15)
@given(batch=hot_batches, data=st.data())
def test_counters_replay_after_a_partial_failure_counts_each_event_once(batch, data):
    """Given some of the batch's records already written (a delivery that failed part-way), the whole batch
    again counts only the events not counted yet."""
    cfg, records = decoded(batch)
    written_before = sorted(data.draw(st.sets(st.integers(0, len(records) - 1))))
    earlier = [records[p] for p in written_before]
    with aws_account() as (dynamodb, _, _):
        writer = writer_for(cfg, Spy(dynamodb), clock := FakeClock())
        first = writer.write(earlier, Deadline.after(5, clock, grace=GRACE))
        assert set(first.outcomes.values()) <= {Outcome.WRITTEN, Outcome.DUPLICATE}
        report = writer.write(records, Deadline.after(5, clock, grace=GRACE))
        assert report.outcomes == expected_outcomes(records, {r.event_id for r in earlier})
        assert model_problems(cfg, earlier + records, dynamodb) == []


@settings(max_examples=10)
@given(unique=st.integers(1, 3 * MAX_EVENTS_PER_TRANSACTION + 1), repeats=st.integers(0, 20))
def test_counters_hot_key_takes_one_transaction_per_99_new_events(unique, repeats):
    """One key's events: ceil(n / 99) transactions of at most 100 items, repeats of an event counted once."""
    batch = [("hot", e, e % 7) for e in range(unique)] + [("hot", e, 1) for e in range(min(repeats, unique))]
    cfg, records = decoded(batch)
    with aws_account() as (dynamodb, _, _):
        spy = Spy(dynamodb)
        report = writer_for(cfg, spy, clock := FakeClock()).write(records, Deadline.after(5, clock, grace=GRACE))
        chunks = -(-unique // MAX_EVENTS_PER_TRANSACTION)
        assert len(spy.sizes) == (chunks if unique > 1 else 1) and max(spy.sizes) <= 100
        assert report.outcomes == expected_outcomes(records)
        assert model_problems(cfg, records, dynamodb) == []
        (counter,) = [i for i in table_items(dynamodb) if i["pk"] == "device#hot"]
        assert (counter["events"], counter["n"]) == (unique, sum(e % 7 for e in range(unique)))
        assert counter["x"] == Decimal(sum(e % 7 for e in range(unique))) / 4


@settings(max_examples=10)
@given(unique=st.integers(MAX_EVENTS_PER_TRANSACTION + 1, 3 * MAX_EVENTS_PER_TRANSACTION), data=st.data())
def test_counters_transaction_given_up_reports_from_its_first_event_and_keeps_earlier_ones(unique, data):
    """A key of several transactions whose k-th is given up on: the earlier ones are written, that chunk's first
    event and every later one are left for redelivery, and the table holds exactly the written chunks."""
    chunks = -(-unique // MAX_EVENTS_PER_TRANSACTION)
    failing = data.draw(st.integers(0, chunks - 1))
    cfg, records = decoded([("hot", e, 1) for e in range(unique)])
    with aws_account() as (dynamodb, _, _):
        spy = Spy(dynamodb, failing={failing})
        report = writer_for(cfg, spy, clock := FakeClock()).write(records, Deadline.after(1, clock, grace=GRACE))
        cut = failing * MAX_EVENTS_PER_TRANSACTION
        assert report.outcomes == {p: Outcome.WRITTEN if p < cut else Outcome.TRANSIENT for p in range(len(records))}
        assert report.retries > 0
        assert model_problems(cfg, records[:cut], dynamodb) == []


def test_counters_event_on_two_keys_in_a_hot_batch_counts_on_its_first_key():
    """A hot key's batch that shares one event id with another key is settled one by one: the event counts
    where it occurs first, the rest of the hot key's events once each."""
    batch = [("hot", e, 1) for e in range(5)] + [("other", 2, 1), ("other", 9, 1)]
    cfg, records = decoded(batch)
    with aws_account() as (dynamodb, _, _):
        report = writer_for(cfg, Spy(dynamodb), clock := FakeClock()).write(
            records, Deadline.after(5, clock, grace=GRACE)
        )
        assert report.outcomes == expected_outcomes(records)
        counters = {i["pk"]: i["events"] for i in table_items(dynamodb) if not i["pk"].startswith("dedupe#")}
        assert counters == {"device#hot": 5, "device#other": 1}
        assert Counter(o for o in report.outcomes.values()) == {Outcome.WRITTEN: 6, Outcome.DUPLICATE: 1}
