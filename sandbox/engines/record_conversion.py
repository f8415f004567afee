"""Firehose's record format conversion: JSON records read by the OpenX JSON SerDe into Glue columns, as Parquet.

Each record is read as a JSON object the way the OpenX JSON SerDe does (keys matched case-insensitively,
fields not in the Glue columns dropped, missing ones null, values cast to the column types); a record it
cannot read fails with the error code Firehose reports ("Record format conversion",
https://docs.aws.amazon.com/firehose/latest/dev/record-format-conversion.html).
"""

from __future__ import annotations

import io
import json
import re
from collections.abc import Callable
from datetime import date, datetime, timedelta
from typing import Any

PARSE_ERROR = "DataFormatConversion.ParseError"
MALFORMED_DATA = "DataFormatConversion.MalformedData"
INT32 = (-(2**31), 2**31 - 1)
INT64 = (-(2**63), 2**63 - 1)
EPOCH_DATE = date(1970, 1, 1)


class ConversionError(ValueError):
    """A record Firehose cannot convert; `code` is the error code it reports."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code


def _cast_string(value: Any) -> str:
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "true" if value else "false"
    return json.dumps(value, separators=(",", ":"))


def _cast_integer(value: Any, bounds: tuple[int, int]) -> int:
    if isinstance(value, bool):
        raise TypeError("a boolean is not an integer")
    integral_float = isinstance(value, float) and value.is_integer()
    if integral_float or (isinstance(value, str) and re.fullmatch(r"[+-]?\d+", value.strip())):
        value = int(value)
    if not isinstance(value, int):
        raise TypeError(f"{value!r} is not an integer")
    if not bounds[0] <= value <= bounds[1]:
        raise TypeError(f"{value} is out of range")
    return value


def _cast_float(value: Any) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        raise TypeError(f"{value!r} is not a number")
    return float(value)


def _cast_boolean(value: Any) -> bool:
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.lower() in ("true", "false"):
        return value.lower() == "true"
    raise TypeError(f"{value!r} is not a boolean")


# The OpenX JSON SerDe's timestamp layouts ("Record format conversion",
# https://docs.aws.amazon.com/firehose/latest/dev/record-format-conversion.html): ISO text only with a literal
# `Z` (no numeric offset), the space-separated form with 1- or 2-digit month and day, fractions up to 9 digits.
_OPENX_ISO_UTC = re.compile(r"(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})(?:\.(\d{1,9}))?Z")
_OPENX_SPACED = re.compile(r"(\d{4})-(\d{1,2})-(\d{1,2}) (\d{2}):(\d{2}):(\d{2})(?:\.(\d{1,9}))?")
# Epoch numbers: seconds (1518033528), milliseconds (1518033528123), fractional seconds (1518033528.123).
# The page gives one example of each; a 13-digit magnitude is read as milliseconds.
_EPOCH_MILLIS_FROM = 10**11


def _cast_timestamp(value: Any) -> datetime:
    """Parse a timestamp exactly as Firehose's OpenX JSON SerDe does; anything else fails the record."""
    if isinstance(value, bool):
        raise TypeError("a boolean is not a timestamp")
    if isinstance(value, int):
        seconds = value / 1000 if abs(value) >= _EPOCH_MILLIS_FROM else value
        return datetime(1970, 1, 1) + timedelta(seconds=seconds)
    if isinstance(value, float):
        return datetime(1970, 1, 1) + timedelta(seconds=value)
    if not isinstance(value, str):
        raise TypeError(f"{value!r} is not a timestamp")
    match = _OPENX_ISO_UTC.fullmatch(value) or _OPENX_SPACED.fullmatch(value)
    if match is None:
        raise ValueError(f"{value!r} is not a timestamp layout the OpenX JSON SerDe parses")
    year, month, day, hour, minute, second, fraction = match.groups()
    microseconds = int((fraction or "0").ljust(9, "0")[:6])
    return datetime(int(year), int(month), int(day), int(hour), int(minute), int(second), microseconds)


def _cast_date(value: Any) -> date:
    if isinstance(value, int) and not isinstance(value, bool):
        return EPOCH_DATE + timedelta(days=value)
    if isinstance(value, str):
        return date.fromisoformat(value.strip()[:10])
    raise TypeError(f"{value!r} is not a date")


CASTS: dict[str, Callable[[Any], Any]] = {
    "string": _cast_string,
    "bigint": lambda v: _cast_integer(v, INT64),
    "int": lambda v: _cast_integer(v, INT32),
    "double": _cast_float,
    "float": _cast_float,
    "boolean": _cast_boolean,
    "timestamp": _cast_timestamp,
    "date": _cast_date,
}


def glue_columns(glue: Any, database: str, table: str) -> list[tuple[str, str]]:
    """The newest version's columns of a Glue table, as (name, type)."""
    versions = glue.get_table_versions(DatabaseName=database, TableName=table)["TableVersions"]
    newest = max(versions, key=lambda version: int(version.get("VersionId", "0")))
    return [(column["Name"], column["Type"]) for column in newest["Table"]["StorageDescriptor"]["Columns"]]


def arrow_schema(columns: list[tuple[str, str]]) -> Any:
    import pyarrow as pa

    types = {
        "string": pa.string(),
        "bigint": pa.int64(),
        "int": pa.int32(),
        "double": pa.float64(),
        "float": pa.float32(),
        "boolean": pa.bool_(),
        "timestamp": pa.timestamp("ms"),
        "date": pa.date32(),
    }
    return pa.schema([(name, types[type_.lower()]) for name, type_ in columns])


def convert_record(data: bytes, columns: list[tuple[str, str]]) -> dict[str, Any]:
    """One record as a row of the Glue columns; raises ConversionError as Firehose would fail it."""
    try:
        document = json.loads(data)
    except (UnicodeDecodeError, json.JSONDecodeError) as error:
        raise ConversionError(PARSE_ERROR, f"Malformed JSON: {error}") from None
    if not isinstance(document, dict):
        raise ConversionError(PARSE_ERROR, f"Expected a JSON object, got {type(document).__name__}")
    fields = {key.lower(): value for key, value in document.items()}
    row: dict[str, Any] = {}
    for name, type_ in columns:
        value = fields.get(name.lower())
        if value is None:
            row[name] = None
            continue
        try:
            row[name] = CASTS[type_.lower()](value)
        except (TypeError, ValueError, OverflowError) as error:
            message = f"Cannot convert field '{name}' to {type_}: {error}"
            raise ConversionError(MALFORMED_DATA, message) from None
    return row


def parquet_bytes(rows: list[dict[str, Any]], schema: Any, compression: str) -> bytes:
    """The rows as one Parquet file with `compression` (SNAPPY, GZIP, ZSTD or UNCOMPRESSED)."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    table = pa.Table.from_pylist(rows, schema=schema)
    sink = io.BytesIO()
    codec = compression.lower()
    pq.write_table(table, sink, compression="none" if codec == "uncompressed" else codec)
    return sink.getvalue()
