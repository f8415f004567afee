"""Synthetic producers: deterministic, schema-true, and accounted for record by record."""

from __future__ import annotations

import json
from collections import Counter
from datetime import UTC, datetime

import fastjsonschema
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from sandbox.session.synthetic import FieldHints, ProducedRecord, TrafficOptions, generate
from sandbox.session.traffic import chunks, produce

SCHEMA = {
    "type": "object",
    "required": ["order_id", "device_id", "status", "amount", "occurred_at", "version"],
    "properties": {
        "order_id": {"type": "string", "format": "uuid"},
        "device_id": {"type": "string", "minLength": 3, "maxLength": 8},
        "status": {"type": "string", "enum": ["new", "paid", "shipped"]},
        "amount": {"type": "number", "minimum": 0, "maximum": 500},
        "quantity": {"type": "integer", "minimum": 1, "maximum": 9},
        "gift": {"type": "boolean"},
        "occurred_at": {"type": "string", "format": "date-time"},
        "version": {"type": "integer", "minimum": 1},
        "customer": {
            "type": "object",
            "required": ["email"],
            "properties": {"email": {"type": "string", "format": "email"}, "tier": {"enum": ["a", "b"]}},
        },
        "tags": {"type": "array", "items": {"type": "string", "maxLength": 5}, "maxItems": 3},
        "note": {"type": ["string", "null"], "maxLength": 20},
    },
    "additionalProperties": False,
}
HINTS = FieldHints(
    event_id="order_id", timestamp="occurred_at", version="version", partition_key_fields=("device_id",), entities=5
)
VALIDATE = fastjsonschema.compile(SCHEMA)


def _is_valid(data: bytes) -> bool:
    try:
        VALIDATE(json.loads(data))
    except (ValueError, fastjsonschema.JsonSchemaException):
        return False
    return True


def test_traffic_is_deterministic_for_a_seed():
    now = datetime(2024, 1, 1, tzinfo=UTC)
    options = TrafficOptions(events=50, duplicates_pct=10, invalid_pct=10, out_of_order_pct=10, seed=42)
    first = generate(SCHEMA, options, HINTS, now)
    second = generate(SCHEMA, options, HINTS, now)
    assert [(r.data, r.partition_key, r.kind) for r in first] == [(r.data, r.partition_key, r.kind) for r in second]


def test_traffic_mix_matches_the_options_and_hints():
    options = TrafficOptions(events=200, duplicates_pct=5, invalid_pct=10, out_of_order_pct=10, seed=1)
    records = generate(SCHEMA, options, HINTS)

    kinds = Counter(r.kind for r in records)
    assert kinds == {"valid": 170, "duplicate": 10, "invalid": 20}
    valid = [r for r in records if r.kind == "valid"]
    assert len({r.event_id for r in valid}) == len(valid), "event ids are unique"
    assert len({r.partition_key for r in valid}) <= 5, "entities repeat"
    for duplicate in (r for r in records if r.kind == "duplicate"):
        original = records[duplicate.duplicate_of]
        assert original.kind == "valid" and original.index < duplicate.index
        assert (original.data, original.partition_key) == (duplicate.data, duplicate.partition_key)
    assert sum(r.out_of_order for r in valid) >= 16
    by_entity: dict[str, list[int]] = {}
    for record in valid:
        by_entity.setdefault(record.partition_key, []).append(json.loads(record.data)["version"])
    assert any(versions != sorted(versions) for versions in by_entity.values()), "some versions arrive late"
    assert {r.reason.split(":")[0] for r in records if r.kind == "invalid"} <= {
        "not-json",
        "missing-required",
        "wrong-type",
    }


def test_traffic_chunks_respect_putrecords_limits():
    big = [ProducedRecord(i, b"x" * 400_000, "k", "valid") for i in range(30)]
    calls = chunks(big)
    assert all(sum(len(r.data) + 1 for r in call) <= 5 * 1024 * 1024 for call in calls)
    assert [r.index for call in calls for r in call] == list(range(30))
    assert all(len(call) <= 500 for call in chunks([ProducedRecord(i, b"x", "k", "valid") for i in range(1200)]))
    with pytest.raises(ValueError, match="1 MiB"):
        chunks([ProducedRecord(0, b"x" * (1024 * 1024), "k", "valid")])


def test_traffic_manifest_matches_what_is_in_the_stream(aws, make_stream):
    name, _ = make_stream(shards=2)
    kinesis = aws("kinesis")
    options = TrafficOptions(events=1200, duplicates_pct=5, invalid_pct=5, seed=9)

    manifest = produce(kinesis, name, SCHEMA, options, HINTS)

    in_stream = []
    for shard in kinesis.list_shards(StreamName=name)["Shards"]:
        iterator = kinesis.get_shard_iterator(
            StreamName=name, ShardId=shard["ShardId"], ShardIteratorType="TRIM_HORIZON"
        )["ShardIterator"]
        while True:
            page = kinesis.get_records(ShardIterator=iterator, Limit=10000)
            in_stream += [
                (shard["ShardId"], r["SequenceNumber"], r["Data"], r["PartitionKey"]) for r in page["Records"]
            ]
            if not page["Records"]:
                break
            iterator = page["NextShardIterator"]
    assert manifest.counts == {"valid": 1080, "duplicate": 60, "invalid": 60}
    assert manifest.put_calls >= 3
    expected = sorted((r.shard_id, r.sequence_number, r.data, r.partition_key) for r in manifest.records)
    assert sorted(in_stream) == expected


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    seed=st.integers(0, 2**32),
    events=st.integers(1, 60),
    invalid_pct=st.sampled_from([0, 10, 50, 100]),
    duplicates_pct=st.sampled_from([0, 20]),
    out_of_order_pct=st.sampled_from([0, 30]),
)
def test_traffic_valid_records_validate_and_invalid_ones_do_not(
    seed, events, invalid_pct, duplicates_pct, out_of_order_pct
):
    options = TrafficOptions(
        events=events,
        invalid_pct=invalid_pct,
        duplicates_pct=duplicates_pct,
        out_of_order_pct=out_of_order_pct,
        seed=seed,
    )
    records = generate(SCHEMA, options, HINTS)
    assert len(records) == events
    for record in records:
        if record.kind == "invalid":
            assert not _is_valid(record.data), f"{record.reason}: {record.data!r}"
        else:
            assert _is_valid(record.data), record.data
