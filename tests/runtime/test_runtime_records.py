"""records.py: decoding, KPL deaggregation, compression, validation, keys and buckets (no I/O)."""

from __future__ import annotations

import gzip
import hashlib
from datetime import UTC, datetime
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st
from runtime_helpers import ARRIVAL, SHARD, aggregate, config, json_bytes, kinesis_record

from runtime.records import KPL_MAGIC, decode_batch

READING = {"device_id": "d-1", "temp": 21.5, "ts": "2026-11-26T17:42:10Z", "id": "evt-1"}


def decode(records, **overrides):
    return decode_batch(records, config(**overrides))


def only_valid(records, **overrides):
    valid, failures = decode(records, **overrides)
    assert failures == []
    return valid


def only_failure(records, **overrides):
    valid, failures = decode(records, **overrides)
    assert valid == []
    assert len(failures) == 1
    return failures[0]


@pytest.mark.parametrize("compress", [None, "gzip", "zlib"])
def test_records_decode_json_object_plain_or_compressed(compress):
    (record,) = only_valid([kinesis_record(7, json_bytes(READING, compress))])
    assert record.parsed == {**READING, "temp": Decimal("21.5")}
    assert record.pk == "device#d-1"
    assert record.payload == json_bytes(READING, compress)
    assert record.source.shard_id == SHARD and record.source.sequence_number == "7"


def test_records_floats_become_exact_decimals_digit_for_digit():
    (record,) = only_valid([kinesis_record(1, b'{"device_id": "a", "v": 0.1000000000000000055511}')])
    assert record.parsed["v"] == Decimal("0.1000000000000000055511")
    assert record.attributes["v"] == {"N": "0.1000000000000000055511"}


@pytest.mark.parametrize(
    ("data", "reason"),
    [
        (b"\xff\xfe not utf-8", "undecodable"),
        (b'{"device_id": "a"', "undecodable"),
        (b'{"device_id": "a", "v": NaN}', "undecodable"),
        (b'{"device_id": "a", "v": Infinity}', "undecodable"),
        (b"\x1f\x8b\x08\x00garbage", "undecodable"),
        (b"[1, 2, 3]", "schema_invalid"),
        (b'"a string"', "schema_invalid"),
        (b'{"device_id": "a", "pk": "mine"}', "schema_invalid"),
        (b'{"device_id": "a", "_sequence": "1"}', "schema_invalid"),
        (b'{"other": 1}', "key_field_missing"),
        (b'{"device_id": null}', "key_field_missing"),
        (b'{"device_id": {"nested": 1}}', "key_field_missing"),
        (b'{"device_id": "' + b"x" * 2100 + b'"}', "key_invalid"),
        (b'{"device_id": "a", "big": 123456789012345678901234567890123456789012}', "value_invalid"),
        (b'{"device_id": "a", "tiny": 1e-300}', "value_invalid"),
        (b'{"device_id": "a", "huge": 1e400}', "value_invalid"),
    ],
)
def test_records_decode_permanent_failure_with_reason(data, reason):
    failure = only_failure([kinesis_record(5, data)])
    assert failure.reason == reason, failure.detail
    assert failure.payload == data
    assert failure.source.sequence_number == "5"


def test_records_decode_not_base64_is_undecodable():
    record = kinesis_record(5, b"x")
    record["kinesis"]["data"] = "***not base64***"
    assert only_failure([record]).reason == "undecodable"


def test_records_schema_invalid_payload_names_the_rule():
    schema = {"type": "object", "required": ["device_id", "temp"], "properties": {"temp": {"type": "number"}}}
    failure = only_failure([kinesis_record(1, json_bytes({"device_id": "a", "temp": "hot"}))], schema=schema)
    assert failure.reason == "schema_invalid"
    assert "temp" in failure.detail


def test_records_schema_integer_accepts_integral_float_like_json_schema():
    schema = {"type": "object", "properties": {"n": {"type": "integer"}, "x": {"multipleOf": 0.5}}}
    (record,) = only_valid([kinesis_record(1, b'{"device_id": "a", "n": 1.0, "x": 2.5}')], schema=schema)
    assert record.parsed["n"] == Decimal("1.0")


def test_records_kpl_aggregate_yields_user_records_with_parent_sequence_and_sub_sequence():
    data = aggregate(
        [
            ("pk-a", json_bytes({"device_id": "a"})),
            ("pk-b", json_bytes({"device_id": "b"})),
            ("pk-a", json_bytes({"device_id": "c"}, "gzip")),
        ]
    )
    assert data.startswith(KPL_MAGIC)
    valid = only_valid([kinesis_record(99, data)])
    assert [r.pk for r in valid] == ["device#a", "device#b", "device#c"]
    assert [r.source.sub_sequence_number for r in valid] == [0, 1, 2]
    assert {r.source.sequence_number for r in valid} == {"99"}
    assert [r.source.partition_key for r in valid] == ["pk-a", "pk-b", "pk-a"]
    assert len({r.event_id for r in valid}) == 3


def test_records_kpl_aggregate_with_one_invalid_user_record_fails_only_that_one():
    data = aggregate([("k", json_bytes({"device_id": "a"})), ("k", b"not json")])
    valid, failures = decode([kinesis_record(3, data)])
    assert [r.pk for r in valid] == ["device#a"]
    assert [(f.reason, f.source.sub_sequence_number, f.payload) for f in failures] == [("undecodable", 1, b"not json")]


@pytest.mark.parametrize(
    "corrupt",
    [
        lambda agg: agg[:-1] + bytes([agg[-1] ^ 0xFF]),  # MD5 trailer flipped
        lambda agg: agg[:6] + b"\x00" + agg[7:],  # body changed, trailer stale
        lambda agg: KPL_MAGIC + b"\xff\xff\xff" + hashlib.md5(b"\xff\xff\xff").digest(),  # bad protobuf
        lambda agg: KPL_MAGIC + b"\x01\x02",  # too short
    ],
)
def test_records_corrupt_aggregate_is_permanent_never_a_crash(corrupt):
    data = corrupt(aggregate([("k", json_bytes({"device_id": "a"})), ("k", json_bytes({"device_id": "b"}))]))
    failure = only_failure([kinesis_record(11, data)])
    assert failure.reason == "corrupt_aggregate"
    assert failure.payload == data
    assert failure.source.sequence_number == "11"


def test_records_batch_order_is_kept_across_valid_and_invalid_records():
    records = [kinesis_record(i, json_bytes({"device_id": str(i)}) if i % 2 else b"bad") for i in range(6)]
    valid, failures = decode(records)
    assert [r.source.batch_index for r in valid] == [1, 3, 5]
    assert [f.source.batch_index for f in failures] == [0, 2, 4]


@pytest.mark.parametrize(
    ("ts", "hour", "day"),
    [
        ("2026-11-26T17:42:10Z", "2026-11-26T17", "2026-11-26"),
        ("2026-11-26T23:30:00-02:00", "2026-11-27T01", "2026-11-27"),
        ("2026-11-26T17:00:00", "2026-11-26T17", "2026-11-26"),
        (1_795_705_300, "2026-11-26T15", "2026-11-26"),
        (1_795_705_300_123, "2026-11-26T15", "2026-11-26"),
        (1_795_705_300.5, "2026-11-26T15", "2026-11-26"),
    ],
)
def test_records_time_buckets_use_utc_event_time(ts, hour, day):
    (record,) = only_valid(
        [kinesis_record(1, json_bytes({"device_id": "a", "ts": ts, "v": 1}))],
        partition_template="device#{device_id}#{day}",
        sort_template="{hour}",
        write_mode="latest",
        version_field="v",
        timestamp_field="ts",
    )
    assert record.pk == f"device#a#{day}"
    assert record.sk == hour


def test_records_without_timestamp_field_buckets_by_arrival_time():
    (record,) = only_valid(
        [kinesis_record(1, json_bytes({"device_id": "a", "v": 1}))],
        sort_template="{hour}",
        write_mode="latest",
        version_field="v",
    )
    assert record.event_time == datetime.fromtimestamp(ARRIVAL, tz=UTC)
    assert record.sk == "2026-11-26T15"


@pytest.mark.parametrize(
    ("ts", "reason"),
    [
        ("yesterday", "timestamp_invalid"),
        (True, "timestamp_invalid"),
        (None, "timestamp_invalid"),
        ("missing", "key_field_missing"),
    ],
)
def test_records_bad_event_time_is_permanent(ts, reason):
    payload = {"device_id": "a"} if ts == "missing" else {"device_id": "a", "ts": ts}
    assert only_failure([kinesis_record(1, json_bytes(payload))], timestamp_field="ts").reason == reason


def test_records_template_names_nested_fields_and_missing_field_is_key_field_missing():
    payload = {"site": {"region": "eu"}, "device_id": "a"}
    (record,) = only_valid([kinesis_record(1, json_bytes(payload))], partition_template="{site.region}#{device_id}")
    assert record.pk == "eu#a"
    failure = only_failure(
        [kinesis_record(1, json_bytes({"device_id": "a"}))], partition_template="{site.region}#{device_id}"
    )
    assert failure.reason == "key_field_missing" and "site.region" in failure.detail


def test_records_events_mode_sort_key_is_template_then_event_identity():
    (record,) = only_valid(
        [kinesis_record(42, json_bytes({"device_id": "a", "ts": "2026-11-26T17:00:00Z"}))],
        sort_template="{day}",
        timestamp_field="ts",
    )
    assert record.sk == f"2026-11-26#{SHARD}:{'42'.zfill(129)}:0000000"
    assert record.event_id == f"{SHARD}:{'42'.zfill(129)}:0000000"


def test_records_event_id_field_overrides_stream_position():
    (record,) = only_valid([kinesis_record(42, json_bytes(READING))], event_id_field="id")
    assert record.event_id == "evt-1" and record.sk == "evt-1"
    assert only_failure([kinesis_record(1, json_bytes({"device_id": "a"}))], event_id_field="id").reason == (
        "key_field_missing"
    )


@pytest.mark.parametrize(("mode", "sk"), [("latest", "state"), ("counters", "total")])
def test_records_default_sort_key_per_mode(mode, sk):
    (record,) = only_valid(
        [kinesis_record(1, json_bytes({"device_id": "a", "v": 1}))],
        write_mode=mode,
        version_field="v",
        counter_fields="v",
    )
    assert record.sk == sk


@pytest.mark.parametrize(
    ("mode", "payload"),
    [
        ("latest", {"device_id": "a", "v": "1"}),
        ("latest", {"device_id": "a"}),
        ("counters", {"device_id": "a", "v": True}),
        ("counters", {"device_id": "a", "v": "3"}),
    ],
)
def test_records_version_or_counter_field_must_be_a_number(mode, payload):
    failure = only_failure(
        [kinesis_record(1, json_bytes(payload))], write_mode=mode, version_field="v", counter_fields="v"
    )
    assert failure.reason in ("value_invalid", "key_field_missing")


def test_records_counter_field_left_out_is_valid_and_adds_nothing():
    (record,) = only_valid(
        [kinesis_record(1, json_bytes({"device_id": "a"}))], write_mode="counters", counter_fields="v"
    )
    assert "v" not in record.parsed


def test_records_ttl_days_sets_expires_at_from_event_time():
    (record,) = only_valid(
        [kinesis_record(1, json_bytes({"device_id": "a", "ts": 1_795_705_300}))], timestamp_field="ts", ttl_days=3
    )
    assert record.expires_at == 1_795_705_300 + 3 * 86400


def test_records_oversized_item_is_permanent_item_too_large():
    payload = {"device_id": "a", "blob": "x" * (400 * 1024)}
    assert only_failure([kinesis_record(1, json_bytes(payload))]).reason == "item_too_large"


@given(st.lists(st.integers(0, 10**129 - 1), min_size=2, max_size=20, unique=True))
def test_records_position_identity_sorts_like_sequence_numbers(sequences):
    records = [kinesis_record(s, json_bytes({"device_id": "a"})) for s in sequences]
    valid = only_valid(records)
    by_identity = sorted(valid, key=lambda r: r.event_id)
    assert [int(r.source.sequence_number) for r in by_identity] == sorted(sequences)
    assert all(len(r.event_id.split(":")[1]) == 129 for r in valid)


@given(st.binary(max_size=300))
def test_records_decode_never_raises_on_arbitrary_bytes(data):
    valid, failures = decode([kinesis_record(1, data), kinesis_record(2, KPL_MAGIC + data)])
    assert len(valid) + len(failures) >= 2
    for failure in failures:
        assert failure.reason in {
            "undecodable",
            "corrupt_aggregate",
            "schema_invalid",
            "key_field_missing",
            "key_invalid",
            "value_invalid",
        }


# A KPL aggregate written byte by byte from the format's specification (magic, protobuf AggregatedRecord, MD5 of
# the protobuf), not by the library the decoder uses:
# https://github.com/awslabs/amazon-kinesis-producer/blob/master/aggregation-format.md
AGGREGATE_MAGIC = b"\xf3\x89\x9a\xc2"
PLAIN = b'{"device_id": "x", "n": 1}'
# gzip (RFC 1952, mtime 0) of b'{"device_id": "y", "n": 2}'
GZIPPED = bytes.fromhex("1f8b0800000000000203ab564a492dcb4c4e8dcf4c51b25250aa54d25150ca03b28c6a0112a3e4141a000000")


def _length_delimited(field: int, value: bytes) -> bytes:
    """A protobuf field of wire type 2 (bytes, string or message) shorter than 128 bytes."""
    assert len(value) < 128
    return bytes([field << 3 | 2, len(value)]) + value


def _user_record(partition_key_index: int, data: bytes) -> bytes:
    # Record: partition_key_index = 1 (varint), data = 3 (bytes)
    return bytes([1 << 3 | 0, partition_key_index]) + _length_delimited(3, data)


def test_records_decode_an_aggregate_built_from_the_format_specification():
    assert gzip.decompress(GZIPPED) == b'{"device_id": "y", "n": 2}'
    # AggregatedRecord: partition_key_table = 1 (repeated string), records = 3 (repeated Record)
    body = (
        _length_delimited(1, b"pa")
        + _length_delimited(1, b"pb")
        + _length_delimited(3, _user_record(0, PLAIN))
        + _length_delimited(3, _user_record(1, GZIPPED))
    )
    data = AGGREGATE_MAGIC + body + hashlib.md5(body).digest()

    valid = only_valid([kinesis_record(21, data)])

    assert [(r.pk, r.parsed["n"]) for r in valid] == [("device#x", 1), ("device#y", 2)]
    assert [(r.source.partition_key, r.source.sub_sequence_number) for r in valid] == [("pa", 0), ("pb", 1)]
    assert [r.payload for r in valid] == [PLAIN, GZIPPED]  # what the producer sent, still compressed
    assert {r.source.sequence_number for r in valid} == {"21"}
