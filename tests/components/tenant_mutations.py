"""Hypothesis strategies for invalid tenant files: a valid document (`strategies.py`) with one mutation applied,
paired with the dotted field the problem must name (None for problems with the file as a whole: not YAML, not a
mapping, empty).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from hypothesis import strategies as st
from strategies import FIELD_NAMES, SCHEMA_RANGES, TENANT_NAMES, default, tenant_documents, to_yaml, within

from components.problems import model_at
from components.tenant_rules import PARQUET_MIN_BUFFER_MB
from components.tenant_schema import TenantFile
from runtime.templates import BUCKETS


@dataclass(frozen=True)
class InvalidFile:
    """An invalid tenant file's text, the tenant file name it lives under, and the field at fault."""

    text: str
    stem: str
    field: str | None
    mutation: str

    @property
    def source(self) -> str:
        return f"tenants/{self.stem}.yaml"


# The bounded integers whose out-of-range value is the file's only problem; `stream.shards` is one only in
# a provisioned stream (`_shards_out_of_range`).
RANGES = {path: bounds for path, bounds in SCHEMA_RANGES.items() if path != "stream.shards"}
INTEGER_FIELDS = tuple(RANGES)
BOOLEAN_FIELDS = (
    "retain_on_delete",
    "stream.enhanced_fan_out",
    "archive.enabled",
    "table.point_in_time_recovery",
    "table.deletion_protection",
)
STRING_FIELDS = ("owner", "description", "records.partition_key", "records.sort_key")
SECTIONS = ("stream", "processing", "records", "archive", "table", "alarms", "labels", "tags", "account")
REQUIRED = ("tenant", "owner", "records", "records.schema", "records.partition_key")
LITERAL_FIELDS = (
    "stream.mode",
    "processing.starting_position",
    "processing.on_failure",
    "records.write",
    "archive.format",
)


def _set(document: dict[str, Any], dotted: str, value: Any) -> None:
    *sections, key = dotted.split(".")
    target = document
    for section in sections:
        if not isinstance(target.get(section), dict):
            target[section] = {}
        target = target[section]
    target[key] = value


def _delete(document: dict[str, Any], dotted: str) -> None:
    *sections, key = dotted.split(".")
    target = document
    for section in sections:
        target = target[section]
    target.pop(key, None)


def _valid_bounds(document: dict[str, Any]) -> None:
    """Keep the cross-field rules satisfied, so the mutation is the file's only problem."""
    retention = document.get("stream", {}).get("retention_hours", default("stream.retention_hours"))
    age = default("processing.max_record_age_seconds")
    document.setdefault("processing", {})["max_record_age_seconds"] = min(age, retention * 3600)


def _out_of_range(draw, document):
    path = draw(st.sampled_from(INTEGER_FIELDS))
    bounds = RANGES[path]
    excess = draw(st.one_of(st.integers(1, 1000), st.integers(10**6, 10**30)))
    value = bounds.low - excess if draw(st.booleans()) else bounds.high + excess
    if path == "archive.buffer_mb" and value < bounds.low:
        document.setdefault("archive", {})["format"] = "json"  # parquet's own minimum would be a second problem
    if path.startswith("stream."):
        _valid_bounds(document)
    _set(document, path, value)
    return document, path


def _shards_out_of_range(draw, document):
    excess = draw(st.integers(1, 10**20))
    stream = document.setdefault("stream", {})
    stream["mode"] = "provisioned"
    shards = SCHEMA_RANGES["stream.shards"]
    stream["shards"] = draw(st.sampled_from((shards.low - excess, shards.high + excess)))
    return document, "stream.shards"


def _wrong_type(draw, document):
    kind = draw(st.sampled_from(("integer", "boolean", "string", "section", "literal")))
    if kind == "integer":
        field = draw(st.sampled_from(INTEGER_FIELDS))
        value = draw(st.sampled_from(("ten", 1.5, True, [1], {"a": 1}, "12")))
    elif kind == "boolean":
        field = draw(st.sampled_from(BOOLEAN_FIELDS))
        value = draw(st.sampled_from(("yes", "true", 1, 0, [True], None)))
    elif kind == "string":
        field = draw(st.sampled_from(STRING_FIELDS))
        value = draw(st.sampled_from((5, 2.5, ["a"], {"a": "b"}, True)))
    elif kind == "literal":
        field = draw(st.sampled_from(LITERAL_FIELDS))
        value = draw(st.sampled_from(("sometimes", 3, "ON_DEMAND", "trim_horizon", "Parquet")))
    else:
        field = draw(st.sampled_from(SECTIONS))
        value = draw(st.sampled_from(([1, 2], "text", 7, True)))
    if field.startswith("stream."):
        _valid_bounds(document)
    _set(document, field, value)
    return document, field


def _unknown_key(draw, document):
    section = draw(st.sampled_from(("", "stream", "processing", "records", "archive", "table", "alarms")))
    key = draw(st.from_regex(r"[a-z][a-z_]{0,14}", fullmatch=True))
    model = model_at(TenantFile, (section, key)) if section else TenantFile
    known = {info.alias or name for name, info in model.model_fields.items()} | set(model.model_fields)
    if key in known:
        key = f"{key}_unknown"
    dotted = f"{section}.{key}" if section else key
    _set(document, dotted, draw(st.sampled_from((1, "x", True, None))))
    return document, dotted


def _undeclared_template_field(draw, document):
    declared = set(document["records"]["schema"]["properties"]) | set(BUCKETS)
    name = draw(FIELD_NAMES.filter(lambda candidate: candidate not in declared))
    key = draw(st.sampled_from(("partition_key", "sort_key")))
    document["records"][key] = f"x#{{{name}}}"
    return document, f"records.{key}"


def _age_above_retention(draw, document):
    longest_age = SCHEMA_RANGES["processing.max_record_age_seconds"].high
    retention = draw(within("stream.retention_hours", high=(longest_age - 1) // 3600))
    document.setdefault("stream", {})["retention_hours"] = retention
    age = draw(within("processing.max_record_age_seconds", low=retention * 3600 + 1))
    document.setdefault("processing", {})["max_record_age_seconds"] = age
    return document, "processing.max_record_age_seconds"


def _small_parquet_buffer(draw, document):
    archive = document.setdefault("archive", {})
    small = within("archive.buffer_mb", high=PARQUET_MIN_BUFFER_MB - 1)
    archive.update({"enabled": True, "format": "parquet", "buffer_mb": draw(small)})
    return document, "archive.buffer_mb"


def _missing_required(draw, document):
    field = draw(st.sampled_from(REQUIRED))
    _delete(document, field)
    return document, field


def _inconsistent_records(draw, document):
    records = document["records"]
    properties = records["schema"]["properties"]
    case = draw(st.sampled_from(("latest-without-version", "counters-without-fields", "counters-on-events")))
    for key in ("version", "counters"):
        records.pop(key, None)
    if case == "latest-without-version":
        records["write"] = "latest"
        return document, "records.version"
    if case == "counters-without-fields":
        records["write"] = "counters"
        return document, "records.counters"
    records["write"] = "events"
    records["counters"] = [next(iter(properties))]
    return document, "records.counters"


def _non_numeric_counter_or_version(draw, document):
    records = document["records"]
    text_field = draw(FIELD_NAMES.filter(lambda name: name not in records["schema"]["properties"]))
    records["schema"]["properties"][text_field] = {"type": "string"}
    records.pop("counters", None)
    records.pop("version", None)
    if draw(st.booleans()):
        records.update(write="latest", version=text_field)
        return document, "records.version"
    records.update(write="counters", counters=[text_field])
    return document, "records.counters"


def _shards_without_provisioned(draw, document):
    stream = document.setdefault("stream", {})
    if draw(st.booleans()):
        stream.update(mode="on_demand", shards=draw(within("stream.shards")))
    else:
        stream["mode"] = "provisioned"
        stream.pop("shards", None)
    return document, "stream.shards"


def _bad_tenant_name(draw, document):
    name = draw(
        st.one_of(
            st.from_regex(r"[A-Z0-9_][a-zA-Z0-9_]{1,10}", fullmatch=True),
            st.from_regex(r"[a-z][a-z0-9-]{24,40}", fullmatch=True),
            st.just("a"),
        )
    )
    document["tenant"] = name
    return document, "tenant"


def _name_not_file_name(draw, document):
    document["tenant"] = draw(TENANT_NAMES.filter(lambda name: name != document["tenant"]))
    return document, "tenant"


def _reserved_tag(draw, document):
    key = draw(st.sampled_from(("tenant", "stack", "managed-by", "aws:cost", "AWS:x")))
    document["tags"] = {key: "v"}
    return document, f"tags.{key}"


def _bad_email(draw, document):
    field = draw(st.sampled_from(("owner", "alarms.notify")))
    value = draw(st.sampled_from(("not-an-email", "a@", "@example.com", "a b@example.com")))
    _set(document, field, [value] if field == "alarms.notify" else value)
    return document, field


def _huge_schema(draw, document):
    records = document["records"]
    for index in range(draw(st.integers(2, 4))):
        records["schema"][f"description_{index}"] = "x" * 2000
    return document, "records.schema"


MUTATIONS = {
    "out-of-range": _out_of_range,
    "shards-out-of-range": _shards_out_of_range,
    "wrong-type": _wrong_type,
    "unknown-key": _unknown_key,
    "undeclared-template-field": _undeclared_template_field,
    "age-above-retention": _age_above_retention,
    "small-parquet-buffer": _small_parquet_buffer,
    "missing-required": _missing_required,
    "inconsistent-records": _inconsistent_records,
    "non-numeric-counter-or-version": _non_numeric_counter_or_version,
    "shards-without-provisioned": _shards_without_provisioned,
    "bad-tenant-name": _bad_tenant_name,
    "name-not-file-name": _name_not_file_name,
    "reserved-tag": _reserved_tag,
    "bad-email": _bad_email,
    "huge-schema": _huge_schema,
}


@st.composite
def mutated_files(draw) -> InvalidFile:
    document = draw(tenant_documents())
    stem = document["tenant"]
    mutation = draw(st.sampled_from(sorted(MUTATIONS)))
    document, field = MUTATIONS[mutation](draw, document)
    return InvalidFile(to_yaml(document), stem, field, mutation)


@st.composite
def non_mapping_files(draw) -> InvalidFile:
    value = draw(
        st.one_of(
            st.lists(st.integers(), min_size=1, max_size=3),
            st.integers(),
            st.text(alphabet="abc xyz", min_size=1, max_size=20).filter(lambda text: text.strip()),
        )
    )
    return InvalidFile(to_yaml(value), "tenant", None, "non-mapping")


@st.composite
def garbage_files(draw) -> InvalidFile:
    text = draw(
        st.one_of(
            st.text(max_size=200),
            st.text(alphabet="{}[]:,-'\"!&*|> \n\tab1", max_size=60),
            st.binary(max_size=60).map(lambda data: data.decode("latin-1")),
        )
    )
    return InvalidFile(text, "tenant", None, "garbage")


def invalid_files() -> st.SearchStrategy[InvalidFile]:
    return st.one_of(mutated_files(), mutated_files(), non_mapping_files(), garbage_files())
