"""Synthetic traffic: records generated from a tenant's JSON Schema, nothing sent (`traffic.py` puts them).

    records = generate(schema, TrafficOptions(events=1000, duplicates_pct=2, invalid_pct=1), hints)

Everything is deterministic for a seed. Of `events` records:

- `invalid_pct` are poison pills (kind `invalid`), each with its `reason`: `not-json` (bytes that are
  not JSON), `missing-required:<field>` (a required top-level field removed) or
  `wrong-type:<field>` (a top-level field given a value of a type the schema does not allow);
- `duplicates_pct` re-send an earlier valid record, identical bytes and partition key (kind
  `duplicate`, `duplicate_of` = the original's index);
- the rest are valid. Hints name the event id field (unique uuid4s from the seeded RNG), the
  timestamp field (ISO-8601 UTC, increasing, ending near now), the version field (1, 2, 3... per
  entity) and the partition-key fields (drawn from a pool of `entities` so entities repeat);
- `out_of_order_pct` of the valid records trade places with a later record of the same entity, so the
  newer version (and timestamp) arrives first (`out_of_order=True` on both).

`traffic_hints(tenant)` reads the hints from a tenant file.
"""

from __future__ import annotations

import json
import random
import string
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from components.config import TenantFile
from runtime.templates import BUCKETS, KeyTemplate
from sandbox.session.kinesis_limits import MAX_PARTITION_KEY_LENGTH

KINDS = ("valid", "duplicate", "invalid")
ALPHABET = string.ascii_letters + string.digits
TIMESTAMP_STEP_MS = 10
ENTITIES = 25  # partition-key values drawn per tenant, so entities repeat and versions climb


@dataclass(frozen=True)
class TrafficOptions:
    events: int = 100
    rate: float = 0.0  # events per second; 0 = as fast as possible
    duplicates_pct: float = 0.0
    invalid_pct: float = 0.0
    out_of_order_pct: float = 0.0
    seed: int = 0


@dataclass(frozen=True)
class FieldHints:
    """Which payload fields carry the event id, event time, version and partition key."""

    event_id: str | None = None
    timestamp: str | None = None
    version: str | None = None
    partition_key_fields: tuple[str, ...] = ()
    entities: int = 10


@dataclass
class ProducedRecord:
    index: int  # position in the produced order
    data: bytes
    partition_key: str
    kind: str  # valid | duplicate | invalid
    reason: str | None = None  # why an invalid record is invalid
    event_id: str | None = None
    entity: str | None = None
    duplicate_of: int | None = None
    out_of_order: bool = False
    shard_id: str | None = None
    sequence_number: str | None = None


def entity_fields(template: str) -> tuple[str, ...]:
    """The payload fields a key template names (its time buckets come from the event time, not the payload)."""
    return tuple(name for name in KeyTemplate.parse(template).fields if name not in BUCKETS)


def traffic_hints(tenant: TenantFile) -> FieldHints:
    """Which of a tenant's payload fields the generator fills with ids, times, versions and entities."""
    records = tenant.records
    templates = [template for template in (records.partition_key, records.sort_key) if template]
    return FieldHints(
        event_id=records.event_id,
        timestamp=records.timestamp,
        version=records.version,
        partition_key_fields=tuple(name for template in templates for name in entity_fields(template)),
        entities=ENTITIES,
    )


# --------------------------------------------------------------------------- values from a schema


def _type_of(schema: dict[str, Any]) -> str | None:
    kind = schema.get("type")
    if isinstance(kind, list):
        kind = next((k for k in kind if k != "null"), "null")
    if kind is None and "properties" in schema:
        kind = "object"
    return kind


def _string(schema: dict[str, Any], rng: random.Random, now: datetime) -> str:
    fmt = schema.get("format")
    if fmt == "date-time":
        return iso_utc(now - timedelta(seconds=rng.randint(0, 3600)))
    if fmt == "date":
        return (now - timedelta(days=rng.randint(0, 30))).date().isoformat()
    if fmt == "uuid":
        return str(seeded_uuid(rng))
    if fmt == "email":
        return f"{''.join(rng.choices(string.ascii_lowercase, k=8))}@example.com"
    low = int(schema.get("minLength", 1))
    high = int(schema.get("maxLength", max(low, 12)))
    return "".join(rng.choices(ALPHABET, k=rng.randint(low, max(low, high))))


def _integer(schema: dict[str, Any], rng: random.Random) -> int:
    low = schema.get("minimum", 0)
    high = schema.get("maximum", max(low, 0) + 1000)
    if "exclusiveMinimum" in schema:
        low = max(low, int(schema["exclusiveMinimum"]) + 1)
    if "exclusiveMaximum" in schema:
        high = min(high, int(schema["exclusiveMaximum"]) - 1)
    return rng.randint(int(low), int(high))


def _number(schema: dict[str, Any], rng: random.Random) -> float:
    low = float(schema.get("minimum", 0.0))
    high = float(schema.get("maximum", low + 1000.0))
    value = round(rng.uniform(low, high), 2)
    return min(max(value, low), high)


def _object(schema: dict[str, Any], rng: random.Random, now: datetime) -> dict[str, Any]:
    required = set(schema.get("required", ()))
    return {
        name: value_for(sub, rng, now)
        for name, sub in schema.get("properties", {}).items()
        if name in required or rng.random() < 0.7
    }


def _array(schema: dict[str, Any], rng: random.Random, now: datetime) -> list[Any]:
    low = int(schema.get("minItems", 0))
    high = int(schema.get("maxItems", low + 3))
    return [value_for(schema.get("items", {"type": "string"}), rng, now) for _ in range(rng.randint(low, high))]


def value_for(schema: dict[str, Any], rng: random.Random, now: datetime) -> Any:
    """A random value that validates against `schema` (the JSON Schema subset tenants use)."""
    if "const" in schema:
        return schema["const"]
    if "enum" in schema:
        return rng.choice(schema["enum"])
    kind = _type_of(schema)
    if kind == "string":
        return _string(schema, rng, now)
    if kind == "integer":
        return _integer(schema, rng)
    if kind == "number":
        return _number(schema, rng)
    if kind == "boolean":
        return rng.random() < 0.5
    if kind == "object":
        return _object(schema, rng, now)
    if kind == "array":
        return _array(schema, rng, now)
    return None


def seeded_uuid(rng: random.Random) -> uuid.UUID:
    return uuid.UUID(int=rng.getrandbits(128), version=4)


def iso_utc(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


# --------------------------------------------------------------------------- generating


def _json_type(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int):
        return "integer"
    if isinstance(value, float):
        return "number"
    return {str: "string", dict: "object", list: "array"}[type(value)]


WRONG_VALUES: tuple[Any, ...] = ("not-a-number", 12345, True, {"unexpected": "object"}, ["unexpected"])


def _wrong_value(schema: dict[str, Any]) -> Any | None:
    """A value whose JSON type the property's schema does not allow, or None if all are allowed."""
    allowed = schema.get("type")
    if allowed is None:
        return None
    allowed = set(allowed) if isinstance(allowed, list) else {allowed}
    if "number" in allowed:
        allowed.add("integer")
    for value in WRONG_VALUES:
        if _json_type(value) not in allowed:
            return value
    return None


def _encode(payload: dict[str, Any]) -> bytes:
    return json.dumps(payload, separators=(",", ":")).encode()


class _Generator:
    def __init__(self, schema: dict[str, Any], options: TrafficOptions, hints: FieldHints, now: datetime) -> None:
        self.schema = schema
        self.options = options
        self.hints = hints
        self.rng = random.Random(options.seed)
        self.now = now
        self.properties: dict[str, Any] = schema.get("properties", {})
        self.entities = self._entity_pool()
        self.versions: dict[str, int] = {}

    def _entity_pool(self) -> list[dict[str, Any]]:
        pool: list[dict[str, Any]] = []
        for _ in range(max(1, self.hints.entities)):
            pool.append(
                {
                    name: value_for(self.properties.get(name, {"type": "string"}), self.rng, self.now)
                    for name in self.hints.partition_key_fields
                }
            )
        return pool

    def payload(self, position: int, total: int) -> tuple[dict[str, Any], str]:
        """A valid payload (position orders the timestamps) and its entity key."""
        payload = _object(self.schema, self.rng, self.now)
        entity = self.rng.choice(self.entities)
        payload.update(entity)
        entity_key = "#".join(str(entity[name]) for name in self.hints.partition_key_fields)
        if self.hints.event_id:
            payload[self.hints.event_id] = str(seeded_uuid(self.rng))
        if self.hints.timestamp:
            moment = self.now - timedelta(milliseconds=TIMESTAMP_STEP_MS * (total - position))
            payload[self.hints.timestamp] = iso_utc(moment)
        if self.hints.version:
            self.versions[entity_key] = self.versions.get(entity_key, 0) + 1
            payload[self.hints.version] = self.versions[entity_key]
        return payload, entity_key

    def partition_key(self, payload: dict[str, Any], entity_key: str) -> str:
        if self.hints.partition_key_fields and entity_key:
            return entity_key[:MAX_PARTITION_KEY_LENGTH]
        if self.hints.event_id and self.hints.event_id in payload:
            return str(payload[self.hints.event_id])
        return seeded_uuid(self.rng).hex

    def invalid(self, position: int, total: int) -> tuple[bytes, str, str]:
        """(bytes, partition key, reason) for a poison pill."""
        payload, entity_key = self.payload(position, total)
        key = self.partition_key(payload, entity_key)
        reasons = ["not-json"]
        required = [name for name in self.schema.get("required", ()) if name in payload]
        if required:
            reasons.append("missing-required")
        wrong = [name for name, sub in self.properties.items() if _wrong_value(sub) is not None]
        if wrong:
            reasons.append("wrong-type")
        reason = self.rng.choice(reasons)
        if reason == "missing-required":
            name = self.rng.choice(required)
            del payload[name]
            return _encode(payload), key, f"missing-required:{name}"
        if reason == "wrong-type":
            name = self.rng.choice(wrong)
            payload[name] = _wrong_value(self.properties[name])
            return _encode(payload), key, f"wrong-type:{name}"
        return f"<<not json {self.rng.getrandbits(64):016x}>>".encode(), key, "not-json"


def _swap_out_of_order(valid: list[ProducedRecord], pct: float, rng: random.Random) -> None:
    """Let `pct` of the valid records trade places with a later record of the same entity."""
    wanted = round(len(valid) * pct / 100)
    attempts = 0
    while sum(r.out_of_order for r in valid) < wanted and attempts < 10 * len(valid):
        attempts += 1
        i = rng.randrange(len(valid) - 1) if len(valid) > 1 else 0
        if valid[i].out_of_order or len(valid) < 2:
            continue
        later = [
            j for j in range(i + 1, len(valid)) if valid[j].entity == valid[i].entity and not valid[j].out_of_order
        ]
        j = later[0] if later else i + 1
        if j >= len(valid) or valid[j].out_of_order:
            continue
        valid[i], valid[j] = valid[j], valid[i]
        valid[i].out_of_order = valid[j].out_of_order = True


def generate(
    schema: dict[str, Any],
    options: TrafficOptions,
    hints: FieldHints | None = None,
    now: datetime | None = None,
) -> list[ProducedRecord]:
    """The records to produce, in order; nothing is sent."""
    hints = hints or FieldHints()
    gen = _Generator(schema, options, hints, now or datetime.now(UTC))
    total = options.events
    invalid_count = round(total * options.invalid_pct / 100)
    duplicate_count = round(total * options.duplicates_pct / 100)
    valid_count = total - invalid_count - duplicate_count
    if valid_count < 1:  # a duplicate needs an original
        valid_count, duplicate_count = total - invalid_count, 0

    valid: list[ProducedRecord] = []
    for position in range(valid_count):
        payload, entity_key = gen.payload(position, valid_count)
        valid.append(
            ProducedRecord(
                index=-1,
                data=_encode(payload),
                partition_key=gen.partition_key(payload, entity_key),
                kind="valid",
                event_id=str(payload[hints.event_id]) if hints.event_id else None,
                entity=entity_key or None,
            )
        )
    _swap_out_of_order(valid, options.out_of_order_pct, gen.rng)

    # Place the extras between the valid records by sort key: duplicates after their original.
    placed: list[tuple[float, ProducedRecord]] = [(float(i), record) for i, record in enumerate(valid)]
    for _ in range(duplicate_count):
        original = gen.rng.randrange(valid_count)
        source = valid[original]
        copy = ProducedRecord(
            -1,
            source.data,
            source.partition_key,
            "duplicate",
            event_id=source.event_id,
            entity=source.entity,
            duplicate_of=original,
        )
        placed.append((gen.rng.uniform(original + 0.5, valid_count), copy))
    for _ in range(invalid_count):
        data, key, reason = gen.invalid(gen.rng.randrange(max(1, valid_count)), max(1, valid_count))
        placed.append((gen.rng.uniform(-0.5, valid_count), ProducedRecord(-1, data, key, "invalid", reason)))
    placed.sort(key=lambda item: item[0])

    records = [record for _, record in placed]
    position_of = {id(record): index for index, record in enumerate(records)}
    for index, record in enumerate(records):
        record.index = index
        if record.duplicate_of is not None:
            record.duplicate_of = position_of[id(valid[record.duplicate_of])]
    return records
