"""Properties of the whole handler against moto's DynamoDB and SQS.

Given any stream of valid events with producer duplicates, KPL aggregates and poison pills, delivered
with Lambda's retry protocol, whole-batch replays and out-of-order redeliveries, and with DynamoDB
and SQS faults injected (throttling, partial BatchWriteItem, transaction conflicts, lost responses),
the table ends equal to the write mode's own model (runtime/modes/<mode>.py: one item per unique event,
the highest version per entity, sums over unique events with one marker each), and every poison pill
reaches the failure queue exactly once per invocation that settled it.
"""

from __future__ import annotations

import base64
import json
import random
from collections import Counter

from hypothesis import given, settings
from hypothesis import strategies as st
from runtime_helpers import (
    FIRST_SEQUENCE,
    SHARD,
    FlakyDynamoDB,
    FlakySQS,
    Harness,
    aggregate,
    aws_account,
    config,
    kinesis_record,
    queue_messages,
    table_items,
)

from runtime.modes import MODES
from runtime.records import KPL_MAGIC, decode_batch

SCHEMA = {
    "type": "object",
    "required": ["event_id", "ts"],
    "properties": {
        "device_id": {"type": "string"},
        "event_id": {"type": "string"},
        "version": {"type": "integer"},
        "n": {"type": "integer"},
        "x": {"type": "number"},
        "ts": {"type": "string"},
    },
}
MODE_SETTINGS = {
    "events": {"sort_template": "{day}", "timestamp_field": "ts"},
    "latest": {"version_field": "version"},
    "counters": {"counter_fields": "n,x", "sort_template": "{day}", "timestamp_field": "ts"},
}
TS = "2026-11-2{day}T{hour:02d}:15:00Z"
PILLS = {
    "garbage": (b"\xff\x00not json", "undecodable"),
    "nan": (b'{"device_id": "a", "event_id": "q", "ts": "2026-11-26T00:00:00Z", "x": NaN}', "undecodable"),
    "array": (b"[1, 2]", "schema_invalid"),
    "wrong_type": (b'{"device_id": 7, "event_id": "p", "ts": "2026-11-26T00:00:00Z"}', "schema_invalid"),
    "no_device": (
        b'{"event_id": "p", "ts": "2026-11-26T00:00:00Z", "version": 1, "n": 1, "x": 1.5}',
        "key_field_missing",
    ),
}
CORRUPT = KPL_MAGIC + b"\x0a\x01a" + b"\x00" * 16  # magic, a protobuf body, an MD5 that does not match

events_pool = st.lists(
    st.fixed_dictionaries(
        {
            "device_id": st.sampled_from(["a", "b", "c"]),
            "version": st.integers(0, 5),
            "n": st.integers(0, 50),
            "x": st.integers(0, 10_000).map(lambda cents: cents / 100),
            "day": st.integers(6, 7),
            "hour": st.integers(0, 23),
        }
    ),
    min_size=1,
    max_size=8,
).map(
    lambda pool: [
        {
            "event_id": f"e{i}",
            "device_id": e["device_id"],
            "version": e["version"],
            "n": e["n"],
            "x": e["x"],
            "ts": TS.format(day=e["day"], hour=e["hour"]),
        }
        for i, e in enumerate(pool)
    ]
)
user_record = st.one_of(
    st.integers(0, 7).map(lambda i: ("event", i)), st.sampled_from(sorted(PILLS)).map(lambda k: ("pill", k))
)
kinesis_shape = st.one_of(
    st.lists(user_record, min_size=1, max_size=3).flatmap(
        lambda users: st.booleans().map(lambda agg: ("records", users, agg or len(users) > 1))
    ),
    st.just(("corrupt", [], True)),
)


@st.composite
def scenarios(draw):
    pool = draw(events_pool)
    shapes = draw(st.lists(kinesis_shape, min_size=1, max_size=12))
    step = draw(st.sampled_from([1, 10**20, 7 * 10**50]))
    n = len(shapes)
    slice_ = st.tuples(st.integers(0, n - 1), st.integers(1, 6))
    return {
        "pool": pool,
        "shapes": shapes,
        "step": step,
        "batch_size": draw(st.integers(1, 6)),
        "before": draw(st.lists(slice_, max_size=2)),
        "after": draw(st.lists(slice_, max_size=2)),
        "fault_rate": draw(st.sampled_from([0.0, 0.0, 0.2, 0.4])),
        "sqs_fault_rate": draw(st.sampled_from([0.0, 0.0, 0.3])),
        "budget": draw(st.sampled_from([0.0, 0.3, 5.0])),
        "event_id_field": draw(st.booleans()),
        "seed": draw(st.integers(0, 2**32 - 1)),
    }


def build_stream(scenario):
    """Kinesis records, the valid events in stream order, and per poison pill its bytes and reason by
    (sequence, sub or None)."""
    records, events, pills = [], [], {}
    for i, (kind, users, aggregated) in enumerate(scenario["shapes"]):
        sequence = str(FIRST_SEQUENCE + i * scenario["step"])
        if kind == "corrupt":
            records.append(kinesis_record(sequence, CORRUPT))
            pills[(sequence, None)] = (CORRUPT, "corrupt_aggregate")
            continue
        datas = []
        for sub, (what, ref) in enumerate(users):
            if what == "event":
                events.append(scenario["pool"][ref % len(scenario["pool"])])
                datas.append(json.dumps(events[-1]).encode())
            else:
                data, reason = PILLS[ref]
                datas.append(data)
                pills[(sequence, sub if aggregated else None)] = (data, reason)
        data = aggregate([(f"pk-{j}", d) for j, d in enumerate(datas)]) if aggregated else datas[0]
        records.append(kinesis_record(sequence, data))
    return records, events, pills


def modelled(cfg, records, events):
    """The write mode's model of the table, given every valid record of the stream in stream order."""
    model = MODES[cfg.write_mode].model(cfg)
    valid, _ = decode_batch(records, cfg)
    assert [json.loads(record.payload) for record in valid] == events, "the model must see every event"
    for index, record in enumerate(valid):
        model.add(record, index)
    return model


def run(scenario, mode):
    """Deliver the scenario's stream to the mode's handler; the table's differences from the mode's model."""
    records, events, pills = build_stream(scenario)
    event_id_field = "event_id" if scenario["event_id_field"] else None
    cfg = config(write_mode=mode, schema=SCHEMA, event_id_field=event_id_field, **MODE_SETTINGS[mode])
    with aws_account() as (dynamodb, sqs, queue_url):
        rng = random.Random(scenario["seed"])
        harness = Harness(
            config(**{**_args(cfg), "failure_queue_url": queue_url}),
            FlakyDynamoDB(dynamodb, rng, scenario["fault_rate"]),
            FlakySQS(sqs, rng, scenario["sqs_fault_rate"]),
            budget_seconds=scenario["budget"],
            seed=scenario["seed"],
        )
        for start, length in scenario["before"]:
            harness.deliver(records[start : start + length])
        harness.run_protocol(records, scenario["batch_size"])
        for start, length in scenario["after"]:
            harness.deliver(records[start : start + length])
        if scenario["fault_rate"] == 0 and scenario["sqs_fault_rate"] == 0:
            assert all(not reported for _, reported in harness.deliveries)
        check_failure_queue(harness, pills, queue_messages(sqs, queue_url))
        items = {(item["pk"], item["sk"]): item for item in table_items(dynamodb)}
        return modelled(cfg, records, events).problems(items)


def _args(cfg):
    return {
        "write_mode": cfg.write_mode,
        "schema": cfg.schema,
        "event_id_field": cfg.event_id_field,
        "sort_template": cfg.sort_template.text if cfg.sort_template else None,
        "timestamp_field": cfg.timestamp_field,
        "version_field": cfg.version_field,
        "counter_fields": list(cfg.counter_fields),
    }


def check_failure_queue(harness, pills, messages):
    """Each pill once per delivery that settled it (did not report it for retry); at most once in a
    delivery that reported it (only when the queue itself failed); nothing else, ever."""
    settled, reported_in = Counter(), Counter()
    for records, reported in harness.deliveries:
        for record in records:
            sequence = record["kinesis"]["sequenceNumber"]
            keys = [key for key in pills if key[0] == sequence]
            (reported_in if sequence in reported else settled).update(keys)
    seen = Counter((m["sequenceNumber"], m["subSequenceNumber"]) for m in messages)
    assert set(seen) <= set(pills)
    for key in set(seen) | set(settled):
        assert settled[key] <= seen[key] <= settled[key] + reported_in[key], key
    if harness.sqs.rate == 0:
        assert seen == settled
    for message in messages:
        data, reason = pills[(message["sequenceNumber"], message["subSequenceNumber"])]
        assert message["reason"] == reason
        assert message["payload"] == base64.b64encode(data).decode()
        assert message["tenant"] == "acme" and message["shardId"] == SHARD
        assert message["payloadTruncated"] is False


@settings(max_examples=50)
@given(scenarios())
def test_properties_events_table_equals_one_item_per_unique_event(scenario):
    assert run(scenario, "events") == []


@settings(max_examples=50)
@given(scenarios())
def test_properties_latest_table_holds_max_version_per_entity(scenario):
    assert run(scenario, "latest") == []


@settings(max_examples=50)
@given(scenarios())
def test_properties_counters_sum_each_unique_event_once(scenario):
    assert run(scenario, "counters") == []
