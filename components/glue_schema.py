"""The archive's columns, derived from the tenant's JSON Schema.

Firehose converts each JSON record to Parquet through a Glue table; its columns come from the schema's
top-level properties, so the archive's shape changes when the tenant file does.
"""

from __future__ import annotations

from typing import Any

# JSON Schema type -> Glue (Hive) type. Objects and arrays are kept as their JSON text: their shape
# may vary per record, and Athena reads them with json_extract.
_SCALARS = {"integer": "bigint", "number": "double", "boolean": "boolean", "string": "string"}
_FORMATS = {"date-time": "timestamp", "date": "date"}


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
