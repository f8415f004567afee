"""No single record can fail the invocation: a payload that is valid JSON but cannot be keyed or stored
(a lone surrogate escape, nesting deeper than DynamoDB allows) is that record's permanent failure, sent to
the failure queue with its payload once per delivery, while the rest of the batch is written."""

from __future__ import annotations

import base64

import pytest
from runtime_helpers import Harness, aws_account, config, kinesis_record, queue_messages, table_items

from runtime.attribute_values import MAX_NESTING_LEVELS
from runtime.records import decode_batch

LONE_HIGH = "\\ud800"  # the six characters of a JSON escape: valid JSON, not encodable as UTF-8
LONE_LOW = "\\udfff"
MODES = {
    "events": {"event_id_field": "id"},
    "latest": {"version_field": "v", "event_id_field": "id"},
    "counters": {"counter_fields": "n", "event_id_field": "id"},
}


def nested(levels: int) -> str:
    """JSON text of a value spanning ``levels`` levels as a top-level attribute (1 is a scalar)."""
    return '{"k": ' * (levels - 1) + "1" + "}" * (levels - 1)


def payload(device: str = '"d-1"', event_id: str = '"e-1"', extra: str = "") -> bytes:
    return f'{{"device_id": {device}, "id": {event_id}, "v": 1, "n": 2{extra}}}'.encode()


def decode_one(data: bytes, **overrides):
    valid, failures = decode_batch([kinesis_record(1, data)], config(**overrides))
    assert len(valid) + len(failures) == 1
    return valid, failures


@pytest.mark.parametrize(
    "data",
    [
        payload(device=f'"{LONE_HIGH}"'),  # key template field
        payload(device=f'"sensor-{LONE_LOW}"'),
        payload(event_id=f'"{LONE_HIGH}"'),  # event id field
        payload(extra=f', "note": "{LONE_LOW}"'),  # any stored value
        payload(extra=f', "{LONE_HIGH}": 1'),  # an attribute name
        payload(extra=f', "deep": {{"list": ["{LONE_HIGH}"]}}'),
    ],
)
def test_records_lone_surrogate_escape_is_undecodable(data):
    _, failures = decode_one(data, event_id_field="id")
    (failure,) = failures
    assert failure.reason == "undecodable"
    assert "surrogate" in failure.detail
    assert failure.payload == data


def test_records_surrogate_pair_escape_is_one_character_and_valid():
    (record,), _ = decode_one(payload(device='"\\ud83d\\ude00"'), event_id_field="id")
    assert record.pk == "device#\U0001f600"


def test_records_nesting_up_to_dynamodbs_limit_is_stored():
    (record,), _ = decode_one(payload(extra=f', "deep": {nested(MAX_NESTING_LEVELS)}'))
    depth, value = 1, record.attributes["deep"]
    while "M" in value:
        depth, value = depth + 1, value["M"]["k"]
    assert depth == MAX_NESTING_LEVELS == 32


@pytest.mark.parametrize("levels", [MAX_NESTING_LEVELS + 1, 250, 900])
def test_records_nesting_beyond_dynamodbs_limit_is_value_invalid(levels):
    data = payload(extra=f', "deep": {nested(levels)}')
    _, (failure,) = decode_one(data)
    assert failure.reason == "value_invalid"
    assert "'deep'" in failure.detail and "32 levels" in failure.detail


def test_records_nesting_through_lists_counts_like_maps():
    deep_list = "[" * (MAX_NESTING_LEVELS) + "1" + "]" * (MAX_NESTING_LEVELS)  # 33 levels
    _, (failure,) = decode_one(payload(extra=f', "deep": {deep_list}'))
    assert failure.reason == "value_invalid"


BAD = {
    "surrogate_key": (payload(device=f'"{LONE_HIGH}"', event_id='"e-2"'), "undecodable"),
    "surrogate_event_id": (payload(event_id=f'"{LONE_LOW}"'), "undecodable"),
    "too_deep": (payload(event_id='"e-3"', extra=f', "deep": {nested(250)}'), "value_invalid"),
}


@pytest.mark.parametrize("bad", sorted(BAD))
@pytest.mark.parametrize("mode", sorted(MODES))
def test_handler_unstorable_record_is_a_failure_and_the_batch_still_settles(mode, bad):
    data, reason = BAD[bad]
    datas = [payload(device='"d-0"', event_id='"ok-0"'), data, payload(device='"d-1"', event_id='"ok-1"')]
    records = [kinesis_record(100 + i, data) for i, data in enumerate(datas)]
    with aws_account() as (dynamodb, sqs, queue_url):
        harness = Harness(config(failure_queue_url=queue_url, write_mode=mode, **MODES[mode]), dynamodb, sqs, 5.0)

        assert harness.deliver(records) == []
        assert harness.deliver(records) == []  # a redelivery: the pill once more, nothing else changes

        items = [i for i in table_items(dynamodb) if not i["pk"].startswith("dedupe#")]
        assert sorted(i["pk"] for i in items) == ["device#d-0", "device#d-1"]
        messages = queue_messages(sqs, queue_url)
        sent = [(m["sequenceNumber"], m["reason"], m["payload"]) for m in messages]
        assert sent == [("101", reason, base64.b64encode(data).decode())] * 2  # once per delivery
