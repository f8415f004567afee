"""Pure record logic: decode, deaggregate, decompress, parse, validate, key. No I/O.

``decode_batch`` turns the Kinesis event's records into valid ``DecodedRecord``s and permanent
``RecordFailure``s, in batch order. Nothing here raises for a bad record: every problem becomes a
failure with a reason code the tenant sees in its failure queue.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
import re
import zlib
from collections.abc import Iterable, Iterator, Mapping
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from runtime import settings
from runtime.attribute_values import payload_attribute_values
from runtime.config import HandlerConfig
from runtime.exceptions import (
    CorruptAggregateError,
    ItemTooLargeError,
    KeyFieldMissingError,
    KeyInvalidError,
    PermanentRecordError,
    SchemaInvalidError,
    TimestampInvalidError,
    UndecodableRecordError,
)
from runtime.modes import DEDUPE_PREFIX, MODES
from runtime.templates import lookup, scalar_text
from runtime.types import DecodedRecord, RecordFailure, RecordSource

KPL_MAGIC = b"\xf3\x89\x9a\xc2"
KPL_DIGEST_SIZE = 16  # MD5
MAX_DECOMPRESSED_BYTES = 4 * 1024 * 1024  # a Kinesis record is at most 1 MiB; refuse larger bombs
MAX_ITEM_BYTES = 400 * 1024
ITEM_OVERHEAD_BYTES = 1024  # metadata attributes and keys, generously
MAX_PK_BYTES = 2048
MAX_SK_BYTES = 1024
MILLIS_THRESHOLD = 100_000_000_000  # epoch numbers at or above this are milliseconds (year 5138 in s)

# A JSON escape in the surrogate range (\uD800-\uDFFF); only escapes can put a surrogate into a parsed string,
# because the UTF-8 decoder already refuses encoded ones.
_SURROGATE_ESCAPE = re.compile(r"\\u[dD][89a-fA-F]")


def shard_id_of(record: Mapping[str, Any]) -> str:
    """The shard id is eventID's prefix before ':' (``shardId-000000000000:<sequence>``)."""
    return str(record.get("eventID", "")).split(":", 1)[0] or "shardId-unknown"


def decode_batch(
    records: Iterable[Mapping[str, Any]], config: HandlerConfig
) -> tuple[list[DecodedRecord], list[RecordFailure]]:
    """Decode every record of a Kinesis event; valid records and permanent failures, in batch order."""
    valid: list[DecodedRecord] = []
    failures: list[RecordFailure] = []
    for index, record in enumerate(records):
        kinesis = record["kinesis"]
        parent = RecordSource(
            batch_index=index,
            shard_id=shard_id_of(record),
            sequence_number=str(kinesis["sequenceNumber"]),
            sub_sequence_number=0,
            partition_key=str(kinesis.get("partitionKey", "")),
            arrival_timestamp=float(kinesis.get("approximateArrivalTimestamp") or 0.0),
            event_source_arn=str(record.get("eventSourceARN", "")),
        )
        try:
            raw = base64.b64decode(kinesis.get("data", ""), validate=True)
        except (binascii.Error, ValueError) as exc:
            failures.append(RecordFailure(parent, b"", UndecodableRecordError.reason, f"not base64 ({exc})"))
            continue
        try:
            user_records = list(split_user_records(raw, parent))
        except CorruptAggregateError as exc:
            failures.append(RecordFailure(parent, raw, exc.reason, exc.detail))
            continue
        for source, data in user_records:
            try:
                valid.append(decode_user_record(source, data, config))
            except PermanentRecordError as exc:
                failures.append(RecordFailure(source, data, exc.reason, exc.detail))
    return valid, failures


def split_user_records(raw: bytes, parent: RecordSource) -> Iterator[tuple[RecordSource, bytes]]:
    """Yield the user records of a Kinesis record: itself, or each user record of a KPL aggregate
    (magic F3 89 9A C2, protobuf AggregatedRecord, MD5 trailer) with its sub-sequence number."""
    if not raw.startswith(KPL_MAGIC):
        yield parent, raw
        return
    if len(raw) <= len(KPL_MAGIC) + KPL_DIGEST_SIZE:
        raise CorruptAggregateError("KPL magic bytes but too short for an aggregate")
    body, digest = raw[len(KPL_MAGIC) : -KPL_DIGEST_SIZE], raw[-KPL_DIGEST_SIZE:]
    if hashlib.md5(body).digest() != digest:
        raise CorruptAggregateError("KPL aggregate MD5 trailer does not match its body")
    aggregate = _parse_aggregate(body)
    keys = list(aggregate.partition_key_table)
    if not aggregate.records:
        raise CorruptAggregateError("KPL aggregate holds no user records")
    out = []
    for sub, user in enumerate(aggregate.records):
        if user.partition_key_index >= len(keys):
            raise CorruptAggregateError(f"user record {sub} points past the partition key table")
        source = RecordSource(
            batch_index=parent.batch_index,
            shard_id=parent.shard_id,
            sequence_number=parent.sequence_number,
            sub_sequence_number=sub,
            partition_key=keys[user.partition_key_index],
            arrival_timestamp=parent.arrival_timestamp,
            event_source_arn=parent.event_source_arn,
            aggregated=True,
        )
        out.append((source, bytes(user.data)))
    # all or nothing: a half-parsed aggregate is reported whole, never partly written
    yield from out


def _parse_aggregate(body: bytes) -> Any:
    # The library's generated protobuf message. Its module expects the library's own sys.path setup,
    # which importing the deaggregator performs; imported lazily so plain records skip protobuf.
    import aws_kinesis_agg.deaggregator  # noqa: F401
    from aws_kinesis_agg import messages_pb2
    from google.protobuf.message import DecodeError

    aggregate = messages_pb2.AggregatedRecord()
    try:
        aggregate.ParseFromString(body)
    except (DecodeError, ValueError) as exc:
        raise CorruptAggregateError(f"KPL aggregate protobuf does not parse ({exc})") from None
    return aggregate


def decode_user_record(source: RecordSource, data: bytes, config: HandlerConfig) -> DecodedRecord:
    """Decode, validate and key one user record; raises a PermanentRecordError subclass."""
    text = decompress(data)
    parsed = parse_json(text, config)
    event_time = event_time_of(parsed, source, config)
    event_id = event_id_of(parsed, source, config)
    pk, sk = keys_of(parsed, event_time, event_id, config)
    MODES[config.write_mode].check_payload(parsed, config)
    attributes = serialize_attributes(parsed, source, event_id)
    if len(text) + len(pk) + len(sk) + ITEM_OVERHEAD_BYTES > MAX_ITEM_BYTES:
        raise ItemTooLargeError(f"payload of {len(text)} bytes exceeds DynamoDB's 400 KB item limit")
    expires_at = None
    if config.ttl_days:
        expires_at = int(event_time.timestamp()) + config.ttl_days * 86400
    return DecodedRecord(
        source=source,
        payload=data,
        parsed=parsed,
        event_id=event_id,
        event_time=event_time,
        pk=pk,
        sk=sk,
        attributes=attributes,
        expires_at=expires_at,
    )


def decompress(data: bytes) -> bytes:
    """Return the JSON bytes: gzip (1F 8B) or zlib (78 xx) payloads are inflated, others kept."""
    is_gzip = data[:2] == b"\x1f\x8b"
    is_zlib = len(data) >= 2 and data[0] == 0x78 and (data[0] * 256 + data[1]) % 31 == 0
    if not (is_gzip or is_zlib):
        return data
    out = bytearray()
    rest = data
    try:
        while rest:
            inflater = zlib.decompressobj(47)  # 32 + 15: detect the gzip or zlib header
            out += inflater.decompress(rest, MAX_DECOMPRESSED_BYTES + 1 - len(out))
            if len(out) > MAX_DECOMPRESSED_BYTES or inflater.unconsumed_tail:
                raise UndecodableRecordError(f"decompressed payload exceeds {MAX_DECOMPRESSED_BYTES} bytes")
            if not inflater.eof:
                raise UndecodableRecordError("compressed payload is truncated")
            rest = inflater.unused_data  # concatenated gzip members
    except zlib.error as exc:
        raise UndecodableRecordError(f"compressed payload does not inflate ({exc})") from None
    return bytes(out)


def _refuse_constant(name: str) -> Any:
    raise ValueError(f"{name} is not a JSON number DynamoDB can store")


# One decoder for every record: json.loads builds a new one per call when given a parse_float.
_DECODER = json.JSONDecoder(parse_float=Decimal, parse_constant=_refuse_constant)
_BOM = "\ufeff"


def parse_json(text: bytes, config: HandlerConfig) -> dict[str, Any]:
    """Parse a JSON object (non-integral numbers as Decimal) and validate it against the schema."""
    try:
        decoded = text.decode("utf-8")
        if decoded.startswith(_BOM):  # json.loads's own refusal, which the decoder leaves to its caller
            raise json.JSONDecodeError("Unexpected UTF-8 BOM (decode using utf-8-sig)", decoded, 0)
        parsed = _DECODER.decode(decoded)
    except (UnicodeDecodeError, ValueError, RecursionError) as exc:
        raise UndecodableRecordError(f"not UTF-8 JSON ({exc})") from None
    if _SURROGATE_ESCAPE.search(decoded):
        refuse_lone_surrogates(parsed)
    if not isinstance(parsed, dict):
        raise SchemaInvalidError(f"payload is a JSON {type(parsed).__name__}, not an object")
    if config.validator is not None:
        import fastjsonschema

        # Validated on a float copy: JSON Schema treats 1.0 as an integer, and fastjsonschema only does so
        # for floats; the Decimal original is what gets stored, digit for digit.
        try:
            floats = float_copy(parsed)
        except RecursionError:  # nested deeper than a Python walk may go, though not the C parser: parse again
            floats = json.loads(decoded)
        try:
            config.validator(floats)
        except fastjsonschema.JsonSchemaValueException as exc:
            raise SchemaInvalidError(exc.message) from None
    reserved = sorted(k for k in parsed if k in settings.RESERVED_ATTRIBUTES or not k)
    if reserved:
        raise SchemaInvalidError(f"field {reserved[0]!r} is reserved by the table")
    return parsed


def float_copy(value: Any) -> Any:
    """``value`` as ``json.loads`` parses its text without ``parse_float``: every Decimal a float. The floats are
    the same: ``float(Decimal(t))`` and ``float(t)`` both round the decimal number ``t`` to the nearest float.
    Walking the parsed value costs less than parsing the text a second time."""
    kind = type(value)
    if kind is dict:
        return {key: float_copy(element) for key, element in value.items()}
    if kind is list:
        return [float_copy(element) for element in value]
    return float(value) if kind is Decimal else value


def refuse_lone_surrogates(parsed: Any) -> None:
    """Refuse a string (name or value) holding half of a surrogate pair.

    ``"\\ud800"`` is valid JSON, but the text it stands for cannot be encoded as UTF-8, and DynamoDB strings
    are "Unicode with UTF-8 binary encoding"
    (https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/HowItWorks.NamingRulesDataTypes.html):
    such a record could be neither keyed nor stored."""
    pending = [parsed]
    while pending:  # iterative: json.loads accepts nesting deeper than Python's recursion limit
        value = pending.pop()
        if isinstance(value, dict):
            pending.extend(value)
            pending.extend(value.values())
        elif isinstance(value, list):
            pending.extend(value)
        elif isinstance(value, str):
            try:
                value.encode("utf-8")
            except UnicodeEncodeError:
                raise UndecodableRecordError("a \\u escape encodes a lone surrogate, which is not UTF-8 text") from None


def event_time_of(parsed: dict[str, Any], source: RecordSource, config: HandlerConfig) -> datetime:
    """The event time in UTC: TIMESTAMP_FIELD (ISO-8601 or epoch seconds/millis), else arrival."""
    if not config.timestamp_field:
        return datetime.fromtimestamp(source.arrival_timestamp, tz=UTC)
    value = lookup(parsed, config.timestamp_field)
    try:
        if isinstance(value, str):
            moment = datetime.fromisoformat(value)
            return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)
        if isinstance(value, int | Decimal) and not isinstance(value, bool):
            seconds = Decimal(value)
            if abs(seconds) >= MILLIS_THRESHOLD:
                seconds /= 1000
            return datetime.fromtimestamp(float(seconds), tz=UTC)
    except (ValueError, OverflowError, OSError) as exc:
        raise TimestampInvalidError(f"field '{config.timestamp_field}': {value!r} ({exc})") from None
    raise TimestampInvalidError(
        f"field '{config.timestamp_field}' must be an ISO-8601 string or epoch seconds/milliseconds"
    )


def event_id_of(parsed: dict[str, Any], source: RecordSource, config: HandlerConfig) -> str:
    """The producer's event id if configured, else the record's stream position."""
    if not config.event_id_field:
        return source.position_id
    value = lookup(parsed, config.event_id_field)
    if isinstance(value, dict | list) or value is None:
        raise KeyFieldMissingError(f"field '{config.event_id_field}' must be a string or number")
    text = scalar_text(value, config.event_id_field)
    if not text:
        raise KeyFieldMissingError(f"field '{config.event_id_field}' is empty")
    return text


def keys_of(parsed: dict[str, Any], event_time: datetime, event_id: str, config: HandlerConfig) -> tuple[str, str]:
    """Render (pk, sk) for the write mode; see runtime/README.md for each mode's layout."""
    pk = config.partition_template.render(parsed, event_time)
    sort = config.sort_template.render(parsed, event_time) if config.sort_template else None
    sk = MODES[config.write_mode].keys.sort_key(sort, event_id)
    for name, value, limit in (
        (settings.PARTITION_KEY_ATTRIBUTE, pk, MAX_PK_BYTES),
        (settings.SORT_KEY_ATTRIBUTE, sk, MAX_SK_BYTES),
    ):
        size = len(value.encode("utf-8"))
        if not value or size > limit:
            raise KeyInvalidError(f"{name} is {size} bytes; DynamoDB allows 1..{limit}")
    if pk.startswith(DEDUPE_PREFIX):
        raise KeyInvalidError(f"pk must not start with {DEDUPE_PREFIX!r} (reserved for dedupe markers)")
    if len((DEDUPE_PREFIX + event_id).encode("utf-8")) > MAX_PK_BYTES:
        raise KeyInvalidError("event id is too long for a dedupe marker key")
    return pk, sk


def serialize_attributes(parsed: dict[str, Any], source: RecordSource, event_id: str) -> dict[str, Any]:
    """The payload's fields plus metadata as DynamoDB attribute values (refuses what DynamoDB
    cannot store, so the write itself never fails on a value)."""
    attributes = payload_attribute_values(parsed)
    attributes[settings.EVENT_ID_ATTRIBUTE] = {"S": event_id}
    attributes[settings.SHARD_ATTRIBUTE] = {"S": source.shard_id}
    attributes[settings.SEQUENCE_ATTRIBUTE] = {"S": source.sequence_number}
    attributes[settings.SUB_SEQUENCE_ATTRIBUTE] = {"N": str(source.sub_sequence_number)}
    attributes[settings.ARRIVAL_ATTRIBUTE] = {"N": _number_text(source.arrival_timestamp)}
    return attributes


def _number_text(value: float) -> str:
    return format(Decimal(repr(value)), "f")
