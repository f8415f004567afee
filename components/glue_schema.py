"""The archive's columns, derived from the tenant's JSON Schema.

Firehose converts each JSON record to Parquet through a Glue table; its columns come from the schema's
top-level properties, so the archive's shape changes when the tenant file does.
"""

from __future__ import annotations

from typing import Any

# JSON Schema type -> Glue (Hive) type. Objects and arrays are kept as their JSON text: their shape
# may vary per record, and Athena reads them with json_extract.
_SCALARS = {"integer": "bigint", "number": "double", "boolean": "boolean", "string": "string"}
# `format: date` (RFC 3339 full-date, `2024-05-01`) is the one layout Glue's `date` reads. `format: date-time`
# stays a string column: Firehose's OpenX JSON SerDe parses only `yyyy-MM-dd'T'HH:mm:ss[.S]'Z'`, the
# space-separated form and epoch numbers into a `timestamp` ("Record format conversion",
# https://docs.aws.amazon.com/firehose/latest/dev/record-format-conversion.html), so a valid RFC 3339 offset
# such as `+02:00` would send the whole record to errors/. As text, every value the schema accepts is kept
# exactly; Athena reads it with `from_iso8601_timestamp(column)`.
_FORMATS = {"date": "date"}


def glue_type(property_schema: dict[str, Any]) -> str:
    kind = property_schema.get("type", "string")
    if isinstance(kind, list):
        non_null = [k for k in kind if k != "null"]
        kind = non_null[0] if len(non_null) == 1 else "string"
    if kind == "string":
        return _FORMATS.get(property_schema.get("format", ""), "string")
    return _SCALARS.get(kind, "string")


def glue_columns(schema: dict[str, Any]) -> list[dict[str, str]]:
    """[{"name", "type"}] for each top-level property, in declaration order, names lowercased."""
    return [
        {"name": name.lower(), "type": glue_type(spec if isinstance(spec, dict) else {})}
        for name, spec in schema.get("properties", {}).items()
    ]
