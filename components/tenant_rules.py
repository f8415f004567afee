"""The tenant file's rules between fields: what one field's value says about another's.

The schema (`tenant_schema.py`) checks each field alone; its validators call these rules. Each rule yields
`(dotted field, message)` pairs, relative to the section it reads, and never raises: every problem in a file
is reported, not only the first. What a key template means is the handler's (`runtime/templates.py`), and the
handler's parser and its reserved attribute names are the ones used here.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import fastjsonschema

from components import naming
from components.lifecycle import DELETE_DATA, LIFECYCLE_TAG
from components.meta_schema import json_problem, meta_schema_problem
from components.problems import quote
from runtime.modes import MODES
from runtime.settings import COUNTER_FIELDS_SEPARATOR
from runtime.templates import BUCKETS, KeyTemplate

if TYPE_CHECKING:
    from components.tenant_schema import Archive, Processing, Records, Stream

# Glue/Athena column names: Firehose maps JSON keys to these columns case-insensitively.
COLUMN_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]{0,127}$")
NUMERIC_TYPES = {"integer", "number"}
# A payload field named like an attribute the table and handler keep for themselves would collide with it; each
# write mode declares the names its items keep (runtime/modes/), counters the most.
COUNTERS_RESERVED_FIELDS = MODES["counters"].reserved_attributes
# AWS allows 50 user-defined tags per resource, keys of 1 to 128 characters that do not begin with `aws:`,
# values of at most 256 (https://docs.aws.amazon.com/tag-editor/latest/userguide/reference.html); tributary
# adds `naming.RESERVED_TAGS` itself, and LIFECYCLE_TAG to a tenant whose data is deleted. A file may set none
# of them: the policy pack lets a resource tagged `lifecycle: delete-data` be deleted.
AWS_TAG_LIMIT = 50
TRIBUTARY_TAGS = (*naming.RESERVED_TAGS, LIFECYCLE_TAG)
MAX_USER_TAGS = AWS_TAG_LIMIT - len(TRIBUTARY_TAGS)
TAG_KEY_LENGTH = (1, 128)
TAG_VALUE_LENGTH = 256
# Firehose refuses a buffer below 64 MiB when it converts to Parquet ("Record format conversion":
# https://docs.aws.amazon.com/firehose/latest/dev/record-format-conversion.html).
PARQUET_MIN_BUFFER_MB = 64


def tag_problems(tags: dict[str, str]) -> Iterable[tuple[str, str]]:
    """Tags AWS would refuse, or that collide with the ones tributary sets; fields are the tag keys."""
    if len(tags) > MAX_USER_TAGS:
        yield "", f"at most {MAX_USER_TAGS} tags (got {len(tags)}); tributary adds up to {len(TRIBUTARY_TAGS)} more"
    low, high = TAG_KEY_LENGTH
    for key, value in tags.items():
        if not low <= len(key) <= high:
            yield key, f"tag keys must be {low} to {high} characters"
        elif key.lower().startswith("aws:"):
            yield key, "the aws: prefix is reserved by AWS"
        elif key in naming.RESERVED_TAGS:
            yield key, "is set by tributary on every resource"
        elif key == LIFECYCLE_TAG:
            yield key, f"is set by tributary on a tenant whose data is deleted (`lifecycle: {DELETE_DATA}`)"
        if len(value) > TAG_VALUE_LENGTH:
            yield key, f"tag values must be at most {TAG_VALUE_LENGTH} characters (got {len(value)})"


def lifecycle_problems(tenant: str, lifecycle: str, confirmation: str) -> Iterable[tuple[str, str]]:
    """Deleting a tenant's data is confirmed by its name, and a confirmation goes with that state only: a
    mistyped state or a leftover confirmation never lets data go."""
    if lifecycle == DELETE_DATA and confirmation != tenant:
        got = f" (got {quote(confirmation)})" if confirmation else ""
        yield (
            "delete_data_confirm",
            f"must be the tenant's name, {tenant!r}, with `lifecycle: {DELETE_DATA}`: removing the file afterwards "
            f"deletes its table, buckets and key{got}",
        )
    if lifecycle != DELETE_DATA and confirmation:
        yield "delete_data_confirm", f"only allowed with `lifecycle: {DELETE_DATA}` (got lifecycle {lifecycle!r})"


def stream_problems(stream: Stream) -> Iterable[tuple[str, str]]:
    """`shards` goes with a provisioned stream, and only with one."""
    if stream.mode == "provisioned" and stream.shards is None:
        yield "shards", "required when mode is provisioned"
    if stream.mode == "on_demand" and stream.shards is not None:
        yield "shards", "only allowed when mode is provisioned (on_demand scales by itself)"


def archive_problems(archive: Archive) -> Iterable[tuple[str, str]]:
    """Parquet conversion needs a larger buffer than JSON."""
    if archive.format == "parquet" and archive.buffer_mb < PARQUET_MIN_BUFFER_MB:
        yield "buffer_mb", f"must be at least {PARQUET_MIN_BUFFER_MB} when format is parquet (got {archive.buffer_mb})"


# ---------------------------------------------------------------------------------------------------------
# Rules within `records:`. Each yields (dotted field path relative to `records`, message).


def records_problems(records: Records) -> Iterable[tuple[str, str]]:
    """The schema is usable, and every field the other settings name is declared in it with a fitting type."""
    schema = records.schema_
    problem = _schema_problem(schema)
    if problem is not None:
        yield problem
        return
    declared = records.declared_fields()
    reserved = MODES[records.write].reserved_attributes
    for name in declared:
        if name in reserved:
            yield f"schema.properties.{name}", f"{name!r} is reserved by the table (rename the field)"
    yield from _template_problems(records)
    yield from _named_field_problems(records)


def _schema_problem(schema: dict[str, Any]) -> tuple[str, str] | None:
    """The first reason `schema` is not a usable JSON Schema of an object, checked cheapest first."""
    not_json = json_problem(schema)
    if not_json is not None:
        path, message = not_json
        return f"schema.{path}" if path else "schema", message
    size = len(json.dumps(schema, separators=(",", ":")).encode())
    if size > naming.LAMBDA_ENVIRONMENT_LIMIT:
        # It travels in the function's environment, whose keys and values share Lambda's 4 KB quota ("Function
        # environment variables", https://docs.aws.amazon.com/lambda/latest/dg/gettingstarted-limits.html).
        return "schema", (
            f"is {size} bytes as compact JSON, above Lambda's {naming.LAMBDA_ENVIRONMENT_LIMIT}-byte environment "
            "limit that it shares with the other settings; shorten the schema (descriptions, titles)"
        )
    invalid = meta_schema_problem(schema)
    if invalid is not None:
        path, message = invalid
        return f"schema.{path}" if path else "schema", message
    try:
        fastjsonschema.compile(schema)
    except Exception as error:  # fastjsonschema raises several types for a definition it cannot compile
        return "schema", f"is not a usable JSON Schema ({_one_line(error)})"
    if schema.get("type") != "object" or not isinstance(schema.get("properties"), dict):
        return "schema", "must describe an object: `type: object` with `properties`"
    return None


def _one_line(error: Exception) -> str:
    text = " ".join(str(error).split())
    return text if len(text) <= 120 else text[:117] + "..."


def _template_problems(records: Records) -> Iterable[tuple[str, str]]:
    """Key templates, read by the handler's own parser: what it refuses, and fields the schema lacks."""
    for key in ("partition_key", "sort_key"):
        text = getattr(records, key)
        if text is None:
            continue
        try:
            template = KeyTemplate.parse(text)
        except ValueError as error:
            hint = "; a literal brace is written {{ or }}" if str(error).startswith("not a valid template") else ""
            yield key, f"{error}{hint} (got {quote(text)})"
            continue
        if key == "partition_key" and not template.fields:
            hint = " ({{ and }} are literal braces)" if "{{" in text or "}}" in text else ""
            yield key, f"must name at least one payload field, e.g. `device#{{device_id}}`{hint} (got {quote(text)})"
        for name in template.fields:
            if name not in BUCKETS and not _declares(records.schema_, name):
                yield key, f"names {{{name}}}, which the schema does not declare"


def _declares(schema: dict[str, Any], path: str) -> bool:
    """Whether the schema declares `path`; the handler reads `a.b` as field b of object a."""
    node: Any = schema
    for part in path.split("."):
        properties = node.get("properties") if isinstance(node, dict) else None
        if not isinstance(properties, dict) or part not in properties:
            return False
        node = properties[part]
    return True


def _field_type(schema: dict[str, Any], path: str) -> set[str]:
    """The JSON types the schema allows at a declared (possibly dotted) path."""
    node: Any = schema
    for part in path.split("."):
        node = node["properties"][part]
    kind = node.get("type", []) if isinstance(node, dict) else []
    return set([kind] if isinstance(kind, str) else kind)


def _field_name_problem(name: str) -> str | None:
    """Why the handler would read this field name differently from the file, if it would.

    The handler trims each setting and reads `counters` as a list split at COUNTER_FIELDS_SEPARATOR
    (runtime/config.py).
    """
    if not name.strip():
        return "must name a field (got an empty name)"
    if name != name.strip():
        return f"must not start or end with spaces (got {name!r})"
    if COUNTER_FIELDS_SEPARATOR in name:
        return f"must not contain {COUNTER_FIELDS_SEPARATOR!r} (got {name!r})"
    return None


def _named_field_problems(records: Records) -> Iterable[tuple[str, str]]:
    for key in ("event_id", "timestamp", "version"):
        name = getattr(records, key)
        if name is None:
            continue
        problem = _field_name_problem(name)
        if problem is not None:
            yield key, problem
        elif not _declares(records.schema_, name):
            yield key, f"names field {name!r}, which the schema does not declare"
    if (
        records.version is not None
        and _declares(records.schema_, records.version)
        and not _field_type(records.schema_, records.version) & NUMERIC_TYPES
    ):
        yield "version", f"field {records.version!r} must be declared as integer or number"
    yield from _write_mode_problems(records)
    if records.write == "counters":
        yield from _counter_problems(records)


def _write_mode_problems(records: Records) -> Iterable[tuple[str, str]]:
    """The settings the write mode requires, and those only another mode takes (runtime/modes/<mode>.py)."""
    write_mode = MODES[records.write]
    for required in write_mode.required_settings:
        if getattr(records, required.field) in (None, []):
            yield required.field, f"required when write is {write_mode.name} ({required.purpose})"
    for other in MODES.values():
        for setting in other.required_settings:
            if setting.exclusive and other is not write_mode and getattr(records, setting.field) not in (None, []):
                yield setting.field, f"only allowed when write is {other.name}"


def _counter_problems(records: Records) -> Iterable[tuple[str, str]]:
    seen: set[str] = set()
    for index, name in enumerate(records.counters or []):
        problem = _field_name_problem(name)
        if problem is not None:
            yield f"counters[{index}]", problem
        elif name in seen:
            yield f"counters[{index}]", f"names field {name!r} twice (each counter is summed once)"
        elif not _declares(records.schema_, name):
            yield "counters", f"names field {name!r}, which the schema does not declare"
        elif not _field_type(records.schema_, name) & NUMERIC_TYPES:
            yield "counters", f"field {name!r} must be declared as integer or number"
        seen.add(name)


# ---------------------------------------------------------------------------------------------------------
# Rules that span sections. Each rule names the sections it reads, so that it also runs on a file whose
# other sections are invalid (every problem is reported, not the first); each yields (dotted field, message).


def _age_within_retention(stream: Stream, processing: Processing) -> Iterable[tuple[str, str]]:
    retention_seconds = stream.retention_hours * 3600
    age = processing.max_record_age_seconds
    if age > retention_seconds:
        yield "processing.max_record_age_seconds", f"{age} is above the stream's retention ({retention_seconds} s)"


def _archive_columns(records: Records, archive: Archive) -> Iterable[tuple[str, str]]:
    if not (archive.enabled and archive.format == "parquet"):
        return
    columns: dict[str, str] = {}
    for name in records.declared_fields():
        if not COLUMN_NAME.match(name):
            yield (
                f"records.schema.properties.{name}",
                "is not usable as an archive column name (letters, digits and _ only)",
            )
        elif name.lower() in columns:
            yield (
                f"records.schema.properties.{name}",
                f"is the same archive column as {columns[name.lower()]!r} (columns ignore case)",
            )
        columns.setdefault(name.lower(), name)


@dataclass(frozen=True)
class CrossSectionRule:
    """A rule across sections: `check(*sections)` yields (dotted field, message) for each problem.

    `reads` names, per section, the fields the rule reads: on a refused file, a section that is invalid
    as a whole still serves the rule when those fields alone are valid.
    """

    reads: dict[str, tuple[str, ...]]
    check: Callable[..., Iterable[tuple[str, str]]]


CROSS_SECTION_RULES = (
    CrossSectionRule(
        {"stream": ("retention_hours",), "processing": ("max_record_age_seconds",)}, _age_within_retention
    ),
    CrossSectionRule({"records": ("schema",), "archive": ("enabled", "format")}, _archive_columns),
)


def cross_section_problems(sections: Mapping[str, Any]) -> Iterable[tuple[str, str]]:
    """The problems every rule finds in the valid `sections` of a file (section name -> section)."""
    for rule in CROSS_SECTION_RULES:
        yield from rule.check(*(sections[name] for name in rule.reads))
