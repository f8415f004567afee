"""Hypothesis strategies for valid tenant files, as the schema documents them.

A valid document is a plain dict that `yaml.safe_dump` turns into a tenant file `parse_tenant` accepts.
Optional keys are left out at random so the schema's defaults are exercised too. Invalid files are
`tenant_mutations.py`'s.
"""

from __future__ import annotations

import math
from typing import Any

import annotated_types
import yaml
from hypothesis import strategies as st

from components import naming
from components.tenant_fields import field_at, integer_ranges
from components.tenant_rules import COUNTERS_RESERVED_FIELDS, PARQUET_MIN_BUFFER_MB
from runtime.templates import BUCKETS


def _derives_valid_names(tenant: str) -> bool:
    """Every name derived on the dev stack follows AWS's rules (`naming.name_problems` says which do not: a
    `--` in the tenant, or a bucket that would begin with a reserved prefix, as tenant `xn` would: `xn--dev--`)."""
    return not list(naming.name_problems(tenant, "dev"))


TENANT_NAMES = st.from_regex(r"[a-z][a-z0-9-]{1,23}", fullmatch=True).filter(_derives_valid_names)
REGIONS = ("us-east-1", "eu-west-1", "us-west-2", "ap-southeast-2")
EMAILS = st.builds(
    "{}@{}".format,
    st.from_regex(r"[a-z][a-z0-9.]{0,10}[a-z0-9]", fullmatch=True).filter(lambda local: ".." not in local),
    st.sampled_from(("example.com", "example.org", "corp.example.net")),
)
ACCOUNT_IDS = st.from_regex(r"[0-9]{12}", fullmatch=True)
ROLE_ARNS = st.builds(
    "arn:aws:iam::{}:role/{}".format, ACCOUNT_IDS, st.from_regex(r"[A-Za-z][A-Za-z0-9_-]{0,20}", fullmatch=True)
)
# Names the handler keeps for itself (table keys, TTL, metadata, the counters' event count): the schema
# refuses them as payload fields, so the valid files here leave them out.
HANDLER_RESERVED = COUNTERS_RESERVED_FIELDS
# Payload field names usable as archive columns and as handler template placeholders.
FIELD_NAMES = st.from_regex(r"[a-z][a-z0-9_]{0,11}", fullmatch=True).filter(lambda n: n not in HANDLER_RESERVED)
TEMPLATE_LITERALS = st.text(alphabet="abcdefghijklmnopqrstuvwxyz0123456789#|:-_", max_size=8)
NUMERIC = ("integer", "number")
SCALAR_TYPES = ("string", "integer", "number", "boolean")
TAG_KEYS = st.from_regex(r"[A-Za-z][A-Za-z0-9_.:/=+-]{0,20}", fullmatch=True).filter(
    lambda key: key not in ("tenant", "stack", "managed-by") and not key.lower().startswith("aws:")
)
TAG_VALUES = st.from_regex(r"[A-Za-z0-9 _.:/=+@-]{0,30}", fullmatch=True)
LABEL_KEYS = st.sampled_from(("cell", "tier", "team", "region"))
LABEL_VALUES = st.from_regex(r"[a-z0-9]{1,5}", fullmatch=True)


# Every bounded integer of the schema, by dotted path, with the range the schema declares for it.
SCHEMA_RANGES = integer_ranges()


def within(path: str, low: int | None = None, high: int | None = None) -> st.SearchStrategy[int]:
    """Integers the schema accepts for the field at `path`, narrowed to [low, high] where a rule between
    fields asks for less."""
    bounds = SCHEMA_RANGES[path]
    low = bounds.low if low is None else max(bounds.low, low)
    high = bounds.high if high is None else min(bounds.high, high)
    return st.integers(low, high)


def choices(path: str) -> st.SearchStrategy[str]:
    """The values the schema's Literal field at `path` takes."""
    return st.sampled_from(field_at(path).choices)


def default(path: str) -> Any:
    """The schema's default for the field at `path`."""
    return field_at(path).default


def maybe(draw, mapping: dict[str, Any], key: str, value: Any) -> None:
    """Set `key` or leave it out, so the schema's default applies."""
    if draw(st.booleans()):
        mapping[key] = value


# -------------------------------------------------------------------------------------------------------
# Valid sections


@st.composite
def property_specs(draw, numeric: bool = False) -> dict[str, Any]:
    kind = draw(st.sampled_from(NUMERIC if numeric else SCALAR_TYPES + ("object", "array", "nullable")))
    if kind == "nullable":
        return {"type": ["string", "null"]}
    spec: dict[str, Any] = {"type": kind}
    if kind == "string" and draw(st.booleans()):
        spec["format"] = draw(st.sampled_from(("date-time", "date")))
    if kind in NUMERIC and draw(st.booleans()):
        spec["minimum"] = draw(st.integers(-1000, 0))
    return spec


def _template(draw, fields: list[str], time_buckets: bool) -> str:
    names = draw(st.lists(st.sampled_from(fields), min_size=1, max_size=2, unique=True))
    if time_buckets and draw(st.booleans()):
        names.append(draw(st.sampled_from(tuple(BUCKETS))))
    return "".join(draw(TEMPLATE_LITERALS) + "{" + name + "}" for name in names) + draw(TEMPLATE_LITERALS)


@st.composite
def records_sections(draw) -> dict[str, Any]:
    """`records:` with a random schema and a write mode with exactly the fields it needs."""
    names = draw(st.lists(FIELD_NAMES, min_size=1, max_size=6, unique=True))
    write = draw(choices("records.write"))
    numeric = set()
    if write != "events":
        numeric = set(draw(st.lists(st.sampled_from(names), min_size=1, unique=True)))
    properties = {name: draw(property_specs(numeric=name in numeric)) for name in names}
    schema: dict[str, Any] = {"type": "object", "properties": properties}
    maybe(draw, schema, "required", draw(st.lists(st.sampled_from(names), unique=True)))
    records: dict[str, Any] = {"schema": schema, "partition_key": _template(draw, names, time_buckets=True)}
    if write != "events" or draw(st.booleans()):
        records["write"] = write
    maybe(draw, records, "sort_key", _template(draw, names, time_buckets=True))
    maybe(draw, records, "event_id", draw(st.sampled_from(names)))
    maybe(draw, records, "timestamp", draw(st.sampled_from(names)))
    if write == "latest":
        records["version"] = draw(st.sampled_from(sorted(numeric)))
    if write == "counters":
        records["counters"] = draw(st.lists(st.sampled_from(sorted(numeric)), min_size=1, unique=True))
    maybe(draw, records, "ttl_days", draw(within("records.ttl_days")))
    return records


@st.composite
def stream_sections(draw) -> dict[str, Any]:
    stream: dict[str, Any] = {}
    if draw(st.booleans()):
        stream["mode"] = "provisioned"
        stream["shards"] = draw(within("stream.shards"))
    else:
        maybe(draw, stream, "mode", "on_demand")
    maybe(draw, stream, "retention_hours", draw(within("stream.retention_hours")))
    maybe(draw, stream, "enhanced_fan_out", draw(st.booleans()))
    maybe(draw, stream, "producers", draw(st.lists(ROLE_ARNS, max_size=2)))
    return stream


@st.composite
def processing_sections(draw, retention_hours: int) -> dict[str, Any]:
    processing: dict[str, Any] = {}
    for key in ("batch_size", "batch_window_seconds", "parallelization_factor", "max_retries"):
        maybe(draw, processing, key, draw(within(f"processing.{key}")))
    maybe(draw, processing, "starting_position", draw(choices("processing.starting_position")))
    age = within("processing.max_record_age_seconds", high=retention_hours * 3600)  # within the retention
    maybe(draw, processing, "max_record_age_seconds", draw(age))
    for key in ("memory_mb", "timeout_seconds", "reserved_concurrency"):
        maybe(draw, processing, key, draw(within(f"processing.{key}")))
    maybe(draw, processing, "on_failure", draw(choices("processing.on_failure")))
    return processing


@st.composite
def archive_sections(draw) -> dict[str, Any]:
    archive: dict[str, Any] = {}
    state = draw(st.sampled_from(("off", "parquet", "json", "default")))
    if state == "default":
        return archive
    if state == "off":
        archive["enabled"] = False
        return archive
    maybe(draw, archive, "enabled", True)
    if state == "json":
        archive["format"] = "json"
        maybe(draw, archive, "buffer_mb", draw(within("archive.buffer_mb")))
    else:
        maybe(draw, archive, "format", "parquet")
        maybe(draw, archive, "buffer_mb", draw(within("archive.buffer_mb", low=PARQUET_MIN_BUFFER_MB)))
    maybe(draw, archive, "buffer_seconds", draw(within("archive.buffer_seconds")))
    maybe(draw, archive, "expire_days", draw(within("archive.expire_days")))
    return archive


@st.composite
def alarms_sections(draw) -> dict[str, Any]:
    alarms: dict[str, Any] = {}
    maybe(draw, alarms, "notify", draw(st.lists(EMAILS, min_size=1, max_size=2, unique=True)))
    maybe(draw, alarms, "iterator_age_seconds", draw(within("alarms.iterator_age_seconds")))
    maybe(draw, alarms, "error_rate_percent", draw(_error_rates()))
    for key in ("duration_percent_of_timeout", "failure_queue_oldest_seconds", "archive_freshness_seconds"):
        maybe(draw, alarms, key, draw(within(f"alarms.{key}")))
    return alarms


def _error_rates() -> st.SearchStrategy[float | int]:
    """Whole and fractional percentages within the schema's bounds (above `gt`, at most `le`)."""
    constraints = field_at("alarms.error_rate_percent").constraints
    above = next(item.gt for item in constraints if isinstance(item, annotated_types.Gt))
    at_most = next(item.le for item in constraints if isinstance(item, annotated_types.Le))
    # Hundredths at the finest: a percentage as people write it, and as YAML spells it without an exponent.
    fractions = st.floats(max(above, 0.01), at_most, allow_nan=False, allow_infinity=False)
    return st.one_of(st.integers(math.floor(above) + 1, math.floor(at_most)), fractions)


@st.composite
def tenant_documents(draw, name: str | None = None) -> dict[str, Any]:
    """One valid tenant file, as the mapping its YAML holds."""
    document: dict[str, Any] = {"tenant": name or draw(TENANT_NAMES), "owner": draw(EMAILS)}
    maybe(draw, document, "description", draw(st.text(alphabet="abc xyz.-", max_size=40)))
    maybe(draw, document, "labels", draw(st.dictionaries(LABEL_KEYS, LABEL_VALUES, max_size=3)))
    maybe(draw, document, "tags", draw(st.dictionaries(TAG_KEYS, TAG_VALUES, max_size=4)))
    if draw(st.integers(0, 4)) == 0:
        account: dict[str, Any] = {"role_arn": draw(ROLE_ARNS)}
        maybe(draw, account, "region", draw(st.sampled_from(REGIONS)))
        document["account"] = account
    maybe(draw, document, "retain_on_delete", draw(st.booleans()))
    stream = draw(stream_sections())
    maybe(draw, document, "stream", stream)
    retention = document.get("stream", {}).get("retention_hours", default("stream.retention_hours"))
    maybe(draw, document, "processing", draw(processing_sections(retention)))
    document["records"] = draw(records_sections())
    maybe(draw, document, "archive", draw(archive_sections()))
    maybe(
        draw,
        document,
        "table",
        {"point_in_time_recovery": draw(st.booleans()), "deletion_protection": draw(st.booleans())},
    )
    maybe(draw, document, "alarms", draw(alarms_sections()))
    return document


def tenant_names_sharing_prefixes(first: str) -> st.SearchStrategy[str]:
    """Names that start with `first` + '-', like the suffixes of its own resources' logical names."""
    return (
        st.sampled_from(("catalog", "archive", "alarms", "key", "processor", "x1"))
        .map(lambda suffix: f"{first}-{suffix}")
        .filter(lambda name: len(name) <= 24 and _derives_valid_names(name))
    )


@st.composite
def tenant_document_sets(draw, min_size: int = 2, max_size: int = 3) -> list[dict[str, Any]]:
    """Several valid tenant files with distinct names, some of them prefixes of others."""
    first = draw(TENANT_NAMES.filter(lambda name: len(name) <= 12))
    names = [first]
    size = draw(st.integers(min_size, max_size))
    while len(names) < size:
        candidate = draw(st.one_of(TENANT_NAMES, tenant_names_sharing_prefixes(first)))
        if candidate not in names:
            names.append(candidate)
    return [draw(tenant_documents(name=name)) for name in names]


def to_yaml(document: Any) -> str:
    return yaml.safe_dump(document, sort_keys=False, allow_unicode=True)
