"""runtime/modes/: every registered mode declares every part, and each mode's model tells a table that holds
the records' effects from one that lost, doubled or regressed them (no AWS: tables are written by hand)."""

from __future__ import annotations

from decimal import Decimal

import pytest
from runtime_helpers import config, json_bytes, kinesis_record

from components.tenant_schema import Records
from runtime import settings
from runtime.config import HandlerConfig
from runtime.modes import DEFAULT_WRITE_MODE, MODES, WRITE_MODES, KeyLayout, WriteMode, mode
from runtime.modes.base import Writer
from runtime.modes.counters import marker_key
from runtime.modes.model import TableModel
from runtime.records import decode_batch

SETTINGS = {
    "events": {},
    "latest": {"version_field": "v"},
    "counters": {"counter_fields": "n"},
}


@pytest.mark.parametrize("name", WRITE_MODES)
def test_modes_every_registered_mode_declares_every_part(name):
    declared = MODES[name]
    assert isinstance(declared, WriteMode) and declared.name == name and declared.summary
    assert isinstance(declared.keys, KeyLayout)
    assert callable(declared.check_payload)
    assert declared.reserved_attributes >= settings.RESERVED_ATTRIBUTES
    assert declared.table_actions and all(a.startswith("dynamodb:") for a in declared.table_actions)
    assert issubclass(declared.writer, Writer) and declared.writer.write is not Writer.write
    model = declared.model(config(write_mode=name, **SETTINGS[name]))
    assert isinstance(model, TableModel)
    for part in ("add", "allow", "expected_keys", "mode_problems"):
        assert getattr(type(model), part) is not getattr(TableModel, part), f"{name}'s model lacks {part}"
    for required in declared.required_settings:
        assert required.variable in settings.ALL
        assert required.attribute in HandlerConfig.__dataclass_fields__
        assert required.field in Records.model_fields
        assert required.purpose


def test_modes_registry_order_default_and_unknown_name():
    assert WRITE_MODES == ("events", "latest", "counters")
    assert DEFAULT_WRITE_MODE == "events"
    assert mode("latest") is MODES["latest"]
    with pytest.raises(ValueError, match="must be one of events, latest, counters"):
        mode("append")


def test_modes_a_layout_without_an_item_per_event_needs_a_default_sort_key():
    with pytest.raises(ValueError):
        KeyLayout(one_item_per_event=False)


def decoded(name, payloads, **overrides):
    cfg = config(write_mode=name, **{**SETTINGS[name], **overrides})
    valid, failures = decode_batch([kinesis_record(i + 1, json_bytes(p)) for i, p in enumerate(payloads)], cfg)
    assert failures == []
    return cfg, valid


def stored(record, **changes):
    """The item a writer puts for ``record`` (its payload and keys; metadata left out), with ``changes``."""
    return {
        settings.PARTITION_KEY_ATTRIBUTE: record.pk,
        settings.SORT_KEY_ATTRIBUTE: record.sk,
        **record.parsed,
        **changes,
    }


def problems(cfg, added, items, allowed=()):
    model = MODES[cfg.write_mode].model(cfg)
    for index, record in enumerate(added):
        model.add(record, index)
    for record in allowed:
        model.allow(record, -1)
    return [problem.text for problem in model.problems({(i["pk"], i["sk"]): i for i in items})]


def test_modes_events_model_wants_each_event_once_with_its_payload():
    cfg, (a, b) = decoded("events", [{"device_id": "a", "t": 1}, {"device_id": "b", "t": 2}])
    assert problems(cfg, [a, b], [stored(a), stored(b)]) == []
    assert problems(cfg, [a, b], [stored(a)]) == [f"no item {(b.pk, b.sk)}"]
    assert problems(cfg, [a, b], [stored(a), stored(b, t=3)]) == [
        f"{(b.pk, b.sk)} holds a payload no record of its key has"
    ]
    assert problems(cfg, [a], [stored(a), stored(b)]) == [f"item {(b.pk, b.sk)} matches no produced record"]
    # A record of a batch given up on may be there or not.
    assert problems(cfg, [a], [stored(a)], allowed=[b]) == problems(cfg, [a], [stored(a), stored(b)], allowed=[b]) == []


def test_modes_latest_model_wants_the_highest_version_and_its_payload():
    cfg, (old, new, other) = decoded(
        "latest", [{"device_id": "a", "v": 1}, {"device_id": "a", "v": 2, "x": "new"}, {"device_id": "b", "v": 0}]
    )
    key = (new.pk, new.sk)
    assert problems(cfg, [old, new, other], [stored(new), stored(other)]) == []
    assert problems(cfg, [old, new, other], [stored(old), stored(other)]) == [f"{key} holds version 1 instead of 2"]
    assert problems(cfg, [old, new, other], [stored(new, x="old"), stored(other)]) == [
        f"{key} holds a payload no record of version 2 has"
    ]
    assert problems(cfg, [old, new, other], [stored(new)]) == [
        f"{(other.pk, other.sk)} holds version None instead of 0"
    ]
    # A newer version from a batch given up on may have won; one nobody produced may not.
    assert problems(cfg, [old, other], [stored(new), stored(other)], allowed=[new]) == []
    assert problems(cfg, [other], [stored(old), stored(other)], allowed=[new]) == [
        f"{key} holds version 1, which no produced record has"
    ]


def counter_item(record, n, events):
    return {"pk": record.pk, "sk": record.sk, "n": Decimal(n), settings.EVENTS_COUNTER: Decimal(events)}


def marker(record):
    pk, sk = marker_key(record.event_id)
    return {"pk": pk, "sk": sk, "_counter_pk": record.pk, "_counter_sk": record.sk}


def test_modes_counters_model_counts_each_event_once_with_its_marker():
    cfg, (first, again, second) = decoded(
        "counters",
        [
            {"device_id": "a", "id": "e1", "n": 2},
            {"device_id": "a", "id": "e1", "n": 2},
            {"device_id": "a", "id": "e2"},
        ],
        event_id_field="id",
    )
    key = (first.pk, first.sk)
    good = [counter_item(first, 2, 2), marker(first), marker(second)]
    assert problems(cfg, [first, again, second], good) == []
    doubled = [counter_item(first, 4, 3), marker(first), marker(second)]
    assert problems(cfg, [first, again, second], doubled)[:2] == [f"{key}.n = 4, expected 2"] * 2
    assert problems(cfg, [first, second], [counter_item(first, 2, 2), marker(first)]) == [
        "no dedupe marker for event 'e2'"
    ]
    stray = {**marker(second), "pk": "dedupe#e9"}
    assert problems(cfg, [first, second], [*good, stray]) == [
        "dedupe marker ('dedupe#e9', 'dedupe') matches no counted event"
    ]
    # A given-up event counts where its marker says it was counted, and only there.
    assert problems(cfg, [first], [counter_item(first, 2, 1), marker(first)], allowed=[second]) == []
    assert problems(cfg, [first], good, allowed=[second]) == []
    assert problems(cfg, [first], [counter_item(first, 2, 2), marker(first)], allowed=[second]) == [
        f"{key}.events = 2, expected 1"
    ]
