"""Properties of the whole handler against moto's DynamoDB and SQS.

Given any stream of valid events with producer duplicates, KPL aggregates and poison pills, delivered
with Lambda's retry protocol, whole-batch replays and out-of-order redeliveries, and with DynamoDB
and SQS faults injected (throttling, partial BatchWriteItem, transaction conflicts, lost responses),
the table ends equal to a simple model of the write mode, and every poison pill reaches the failure
queue exactly once per invocation that settled it.
"""

from __future__ import annotations

import json
import random
from collections import Counter, defaultdict
from decimal import Decimal

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

from runtime.records import KPL_MAGIC

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
MODES = {
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
    """Kinesis records plus, per user record, what it is: (sequence, sub or None, event or pill)."""
    records, valid, pills = [], [], {}
    for i, (kind, users, aggregated) in enumerate(scenario["shapes"]):
        sequence = str(FIRST_SEQUENCE + i * scenario["step"])
        if kind == "corrupt":
            records.append(kinesis_record(sequence, CORRUPT))
            pills[(sequence, None)] = (CORRUPT, "corrupt_aggregate")
            continue
        datas = []
        for sub, (what, ref) in enumerate(users):
            key = (sequence, sub if aggregated else None)
            if what == "event":
                payload = scenario["pool"][ref % len(scenario["pool"])]
                datas.append(json.dumps(payload).encode())
                valid.append((sequence, sub, payload))
            else:
                data, reason = PILLS[ref]
                datas.append(data)
                pills[key] = (data, reason)
        data = aggregate([(f"pk-{j}", d) for j, d in enumerate(datas)]) if aggregated else datas[0]
        records.append(kinesis_record(sequence, data))
    return records, valid, pills


def identity(scenario, sequence, sub, payload):
    if scenario["event_id_field"]:
        return payload["event_id"]
    return f"{SHARD}:{int(sequence):0129d}:{sub:07d}"


def unique_events(scenario, valid):
    events = {}
    for sequence, sub, payload in valid:
        events.setdefault(identity(scenario, sequence, sub, payload), payload)
    return events


def run(scenario, mode):
    records, valid, pills = build_stream(scenario)
    cfg = config(
        write_mode=mode, schema=SCHEMA, event_id_field="event_id" if scenario["event_id_field"] else None, **MODES[mode]
    )
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
        return table_items(dynamodb), unique_events(scenario, valid)


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
        assert message["payload"] == __import__("base64").b64encode(data).decode()
        assert message["tenant"] == "acme" and message["shardId"] == SHARD
        assert message["payloadTruncated"] is False


def payload_fields(item):
    return {k: v for k, v in item.items() if k in ("device_id", "event_id", "version", "n", "x", "ts")}


def expected_payload(payload):
    return {**payload, "x": Decimal(repr(payload["x"]))}


@settings(max_examples=50)
@given(scenarios())
def test_properties_events_table_equals_one_item_per_unique_event(scenario):
    items, events = run(scenario, "events")
    expected = {
        (f"device#{e['device_id']}", f"{e['ts'][:10]}#{event_id}"): expected_payload(e)
        for event_id, e in events.items()
    }
    actual = {(i["pk"], i["sk"]): payload_fields(i) for i in items}
    assert actual == expected


@settings(max_examples=50)
@given(scenarios())
def test_properties_latest_table_holds_max_version_per_entity(scenario):
    items, events = run(scenario, "latest")
    candidates = defaultdict(list)
    for e in events.values():
        candidates[f"device#{e['device_id']}"].append(expected_payload(e))
    assert {(i["pk"], i["sk"]) for i in items} == {(pk, "state") for pk in candidates}
    for item in items:
        options = candidates[item["pk"]]
        top = max(o["version"] for o in options)
        assert item["version"] == top
        assert payload_fields(item) in [o for o in options if o["version"] == top]


@settings(max_examples=50)
@given(scenarios())
def test_properties_counters_sum_each_unique_event_once(scenario):
    items, events = run(scenario, "counters")
    expected = defaultdict(lambda: {"n": 0, "x": Decimal(0), "events": 0})
    for e in events.values():
        totals = expected[(f"device#{e['device_id']}", e["ts"][:10])]
        totals["n"] += e["n"]
        totals["x"] += Decimal(repr(e["x"]))
        totals["events"] += 1
    counters = {
        (i["pk"], i["sk"]): {k: i[k] for k in ("n", "x", "events")} for i in items if not i["pk"].startswith("dedupe#")
    }
    assert counters == dict(expected)
    markers = [i for i in items if i["pk"].startswith("dedupe#")]
    assert sorted(m["pk"] for m in markers) == sorted(f"dedupe#{event_id}" for event_id in events)
