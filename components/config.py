"""The tenant file: its schema, and the one place where it is validated.

A tenant file is YAML, one per tenant, in `tenants/`. Every problem in a file is reported as one line,
`tenants/acme.yaml: processing.batch_size: must be between 1 and 10000 (got 20000)`, and loading never
raises anything but `TenantFileError` (which carries those lines). Reading the file and its YAML safely
is `tenant_yaml.py`'s part; turning pydantic's errors into lines is `problems.py`'s; what a key template
means is the handler's (`runtime/templates.py`), and the handler's parser is the one used here.
"""

from __future__ import annotations

import contextlib
import json
import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any, Literal

import fastjsonschema
from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    EmailStr,
    Field,
    StrictBool,
    StrictInt,
    ValidationError,
    model_validator,
)
from pydantic_core import PydanticCustomError

from components import handler_env, naming
from components.meta_schema import json_problem, meta_schema_problem
from components.problems import TenantFileError, field_messages, format_line, model_at, quote, refuse
from components.tenant_yaml import load_tenant_document, read_tenant_file
from runtime.templates import BUCKETS, KeyTemplate

TENANT_NAME_PATTERN = r"^[a-z][a-z0-9-]{1,23}$"
ROLE_ARN_PATTERN = r"^arn:aws[a-z-]*:iam::\d{12}:role/[\w+=,.@/-]+$"
RoleArn = Annotated[str, Field(pattern=ROLE_ARN_PATTERN)]
# Time buckets a key template may use besides payload fields; the handler fills them from the event time.
TIME_BUCKETS = tuple(BUCKETS)
# Deprecated: placeholders as a regular expression, still read by sandbox/runner.py. What a template means
# is `runtime.templates.KeyTemplate.parse(text).fields`; new code uses that.
TEMPLATE_FIELD = re.compile(r"\{([^{}]*)\}")
# Glue/Athena column names: Firehose maps JSON keys to these columns case-insensitively.
COLUMN_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]{0,127}$")
NUMERIC_TYPES = {"integer", "number"}
# Attribute names the table and handler use themselves (runtime/config.py: RESERVED_ATTRIBUTES and the
# counters' `events` count); a payload field with one of these names would collide with them.
RESERVED_FIELDS = frozenset({"pk", "sk", "expires_at", "_event_id", "_shard", "_sequence", "_sub_sequence", "_arrival"})
COUNTERS_RESERVED_FIELDS = RESERVED_FIELDS | {"events"}
# Friendlier words for the patterns a person meets most.
PATTERN_WORDS = {
    TENANT_NAME_PATTERN: "must be 2 to 24 characters: lowercase letters, digits and '-', starting with a letter",
    ROLE_ARN_PATTERN: "must be an IAM role ARN, arn:aws:iam::<12-digit account id>:role/<name>",
    naming.REGION_PATTERN: "must be an AWS region code such as eu-west-1",
}


def _between(low: int, high: int):
    """An integer range check whose message names both bounds and the value it got."""

    def check(value: int) -> int:
        if not low <= value <= high:
            raise PydanticCustomError(
                "range", "must be between {low} and {high} (got {got})", {"low": low, "high": high, "got": quote(value)}
            )
        return value

    return AfterValidator(check)


def Range(low: int, high: int):  # noqa: N802 - reads like a type in the field declarations
    return Annotated[StrictInt, _between(low, high)]


class _Section(BaseModel):
    """Every section refuses unknown keys and never coerces types behind the user's back."""

    model_config = ConfigDict(extra="forbid", strict=True, frozen=True)


class Account(_Section):
    """Deploy this tenant into another account or region through an assume-role provider."""

    role_arn: RoleArn
    region: Annotated[str, Field(pattern=naming.REGION_PATTERN)] | None = None


class Stream(_Section):
    mode: Literal["on_demand", "provisioned"] = "on_demand"
    shards: Range(1, 500) | None = None
    retention_hours: Range(24, 8760) = 24
    enhanced_fan_out: StrictBool = False
    # IAM roles that put records: the key policy lets them use the tenant key through Kinesis; the
    # `producer_policy` output is the IAM policy to attach to them (this stream and nothing else).
    producers: list[RoleArn] = []

    @model_validator(mode="after")
    def _shards_only_when_provisioned(self) -> Stream:
        if self.mode == "provisioned" and self.shards is None:
            refuse([("shards", "required when mode is provisioned")])
        if self.mode == "on_demand" and self.shards is not None:
            refuse([("shards", "only allowed when mode is provisioned (on_demand scales by itself)")])
        return self


class Processing(_Section):
    batch_size: Range(1, 10000) = 100
    batch_window_seconds: Range(0, 300) = 5
    parallelization_factor: Range(1, 10) = 1
    starting_position: Literal["TRIM_HORIZON", "LATEST"] = "TRIM_HORIZON"
    # Lambda's -1 (retry forever) would let one poison pill stall a shard until its records expire.
    max_retries: Range(0, 10000) = 3
    max_record_age_seconds: Range(60, 604800) = 3600
    memory_mb: Range(128, 10240) = 256
    timeout_seconds: Range(1, 900) = 60
    reserved_concurrency: Range(1, 1000) | None = None
    on_failure: Literal["sqs", "s3"] = "sqs"


class Records(_Section):
    schema_: Annotated[dict[str, Any], Field(alias="schema")]
    write: Literal["events", "latest", "counters"] = "events"
    partition_key: Annotated[str, Field(min_length=1, max_length=256)]
    sort_key: Annotated[str, Field(min_length=1, max_length=256)] | None = None
    event_id: str | None = None
    timestamp: str | None = None
    version: str | None = None
    counters: list[str] | None = None
    ttl_days: Range(1, 36500) | None = None

    model_config = ConfigDict(extra="forbid", strict=True, frozen=True, populate_by_name=True)

    @model_validator(mode="after")
    def _consistent(self) -> Records:
        refuse(_records_problems(self))
        return self

    def declared_fields(self) -> dict[str, dict[str, Any]]:
        return dict(self.schema_.get("properties", {}))


class Archive(_Section):
    enabled: StrictBool = True
    format: Literal["parquet", "json"] = "parquet"
    # Firehose refuses a buffer below 64 MiB when it converts to Parquet.
    buffer_mb: Range(1, 128) = 64
    buffer_seconds: Range(60, 900) = 300
    expire_days: Range(1, 36500) | None = None

    @model_validator(mode="after")
    def _parquet_buffer(self) -> Archive:
        if self.format == "parquet" and self.buffer_mb < 64:
            refuse([("buffer_mb", f"must be at least 64 when format is parquet (got {self.buffer_mb})")])
        return self


class Access(_Section):
    """Who may read the tenant's data besides its pipeline (the README's "Permissions" section)."""

    # IAM roles that read the table, the archive and the failure records: the key policy lets them
    # decrypt through DynamoDB, S3 and SQS; the `reader_policy` output is the IAM policy to attach to them.
    readers: list[RoleArn] = []


class Table(_Section):
    point_in_time_recovery: StrictBool = True
    deletion_protection: StrictBool = True


class Alarms(_Section):
    """Alarm thresholds. Each default is the seed checklist's; alarms.py says why for each."""

    notify: list[EmailStr] | None = None
    iterator_age_seconds: Range(1, 604800) = 60
    error_rate_percent: Annotated[float, Field(gt=0, le=100, allow_inf_nan=False)] = 1.0
    duration_percent_of_timeout: Range(1, 100) = 50
    failure_queue_oldest_seconds: Range(60, 1209600) = 3600
    archive_freshness_seconds: Range(60, 86400) = 900


def _tag_problems(tags: dict[str, str]) -> Iterable[tuple[str, str]]:
    # AWS allows 50 user-defined tags per resource, keys of 1 to 128 characters that do not begin with `aws:`,
    # values of at most 256 (https://docs.aws.amazon.com/tag-editor/latest/userguide/reference.html); we add
    # tenant, stack and managed-by ourselves.
    if len(tags) > 47:
        yield "", f"at most 47 tags (got {len(tags)}); three more are added to every resource"
    for key, value in tags.items():
        if not 1 <= len(key) <= 128:
            yield key, "tag keys must be 1 to 128 characters"
        elif key.lower().startswith("aws:"):
            yield key, "the aws: prefix is reserved by AWS"
        elif key in naming.RESERVED_TAGS:
            yield key, "is set by tributary on every resource"
        if len(value) > 256:
            yield key, f"tag values must be at most 256 characters (got {len(value)})"


def _checked_tags(tags: dict[str, str]) -> dict[str, str]:
    refuse(_tag_problems(tags))
    return tags


class TenantFile(_Section):
    tenant: Annotated[str, Field(pattern=TENANT_NAME_PATTERN)]
    description: Annotated[str, Field(max_length=256)] = ""
    owner: EmailStr
    labels: dict[str, str] = {}
    tags: Annotated[dict[str, str], AfterValidator(_checked_tags)] = {}
    account: Account | None = None
    # Removing a tenant file keeps its table, buckets and key unless this is set to false.
    retain_on_delete: StrictBool = True
    stream: Stream = Stream()
    processing: Processing = Processing()
    records: Records
    archive: Archive = Archive()
    table: Table = Table()
    alarms: Alarms = Alarms()
    access: Access = Access()

    @model_validator(mode="after")
    def _cross_section(self) -> TenantFile:
        sections = {"stream": self.stream, "processing": self.processing, "records": self.records}
        refuse(cross_section_problems({**sections, "archive": self.archive}))
        return self

    @property
    def notify_emails(self) -> list[str]:
        return list(self.alarms.notify) if self.alarms.notify else [self.owner]


# ---------------------------------------------------------------------------------------------------------
# Rules within `records:`. Each yields (dotted field path relative to `records`, message).


def _records_problems(records: Records) -> Iterable[tuple[str, str]]:
    schema = records.schema_
    problem = _schema_problem(schema)
    if problem is not None:
        yield problem
        return
    declared = records.declared_fields()
    reserved = COUNTERS_RESERVED_FIELDS if records.write == "counters" else RESERVED_FIELDS
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

    The handler trims each setting and reads `counters` as a comma-separated list (runtime/config.py).
    """
    if not name.strip():
        return "must name a field (got an empty name)"
    if name != name.strip():
        return f"must not start or end with spaces (got {name!r})"
    if "," in name:
        return f"must not contain ',' (got {name!r})"
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
    if records.write == "latest" and records.version is None:
        yield "version", "required when write is latest (newer versions replace older state)"
    if records.write == "counters":
        yield from _counter_problems(records)
    elif records.counters:
        yield "counters", "only allowed when write is counters"


def _counter_problems(records: Records) -> Iterable[tuple[str, str]]:
    if not records.counters:
        yield "counters", "required when write is counters: the numeric fields to sum"
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
_SECTION_MODELS: dict[str, type[_Section]] = {
    "stream": Stream,
    "processing": Processing,
    "records": Records,
    "archive": Archive,
}


def cross_section_problems(sections: Mapping[str, BaseModel]) -> Iterable[tuple[str, str]]:
    """The problems every rule finds in the valid `sections` of a file."""
    for rule in CROSS_SECTION_RULES:
        yield from rule.check(*(sections[name] for name in rule.reads))


def refused_cross_section_problems(data: dict[str, Any]) -> Iterable[tuple[str, str]]:
    """The same rules on a file pydantic refused: each rule that can read valid values of its fields."""
    for rule in CROSS_SECTION_RULES:
        sections = [_section_for(data, name, fields) for name, fields in rule.reads.items()]
        if all(section is not None for section in sections):
            yield from rule.check(*sections)


def _section_for(data: dict[str, Any], name: str, fields: tuple[str, ...]) -> BaseModel | None:
    """Section `name` of a refused file: as written if valid, else only `fields` if those are valid alone
    (absent fields and sections take their defaults); None when the fields cannot be read."""
    model = _SECTION_MODELS[name]
    if name not in data and not TenantFile.model_fields[name].is_required():
        return model()
    value = data.get(name)
    if not isinstance(value, dict):
        return None
    for candidate in (value, {key: value[key] for key in fields if key in value}):
        try:
            return model.model_validate(candidate)
        except ValidationError:
            continue  # its problems are already among the file's
    return None


# ---------------------------------------------------------------------------------------------------------
# Turning pydantic's errors into one line per problem.


def problems_from_validation(error: ValidationError, root: type[BaseModel] | None = None) -> list[tuple[str, str]]:
    """(dotted field, message) for each problem in `error`; `root` (the validated model) suggests names."""
    return field_messages(error, root, PATTERN_WORDS)


def _model_at(loc: tuple[Any, ...]) -> type[BaseModel] | None:
    """The tenant file's section model that owns the field at `loc`."""
    return model_at(TenantFile, loc)


# ---------------------------------------------------------------------------------------------------------
# Loading.


def parse_tenant(text: str, source: str, stack: str = naming.DEFAULT_STACK) -> TenantFile:
    """Parse and validate one tenant file's text; raise TenantFileError with one line per problem."""
    data = load_tenant_document(text, source)
    if data is None:
        raise TenantFileError([f"{source}: the file is empty; `tributary new NAME` writes a starting file"])
    if not isinstance(data, dict):
        raise TenantFileError([f"{source}: must be a mapping of fields (got a {_kind(data)})"])
    try:
        tenant = TenantFile.model_validate(data)
    except RecursionError:
        raise TenantFileError([f"{source}: records.schema: nested too deeply"]) from None
    except ValidationError as error:
        problems = [*problems_from_validation(error, TenantFile), *_refused_file_problems(data, source, stack)]
        raise TenantFileError(_lines(source, problems)) from None
    problems = list(tenant_level_problems(tenant, source, stack))
    if problems:
        raise TenantFileError(_lines(source, problems))
    return tenant


def _kind(value: Any) -> str:
    return {list: "list", str: "text", int: "number", float: "number", bool: "boolean"}.get(type(value), "value")


def _lines(source: str, problems: Iterable[tuple[str, str]]) -> list[str]:
    """`source: field: message` lines in order, each once (a rule may run twice on a refused file)."""
    return list(dict.fromkeys(format_line(source, field, message) for field, message in problems))


def _refused_file_problems(data: dict[str, Any], source: str, stack: str) -> list[tuple[str, str]]:
    """The checks pydantic did not reach in a refused file: rules across the sections that are valid on
    their own, and the names a well-formed tenant name derives."""
    problems: list[tuple[str, str]] = []
    with contextlib.suppress(RecursionError):  # the nesting is already reported by the section that holds it
        problems += refused_cross_section_problems(data)
    name = data.get("tenant")
    problems += _file_name_problems(name, source)
    if isinstance(name, str) and re.match(TENANT_NAME_PATTERN, name):
        problems += naming.name_problems(name, stack)
    return problems


def _file_name_problems(name: Any, source: str) -> list[tuple[str, str]]:
    stem = Path(source).stem
    if isinstance(name, str) and Path(source).suffix in (".yaml", ".yml") and stem != name:
        return [("tenant", f"must match the file name ({stem!r}, got {name!r})")]
    return []


def tenant_level_problems(tenant: TenantFile, source: str, stack: str) -> Iterable[tuple[str, str]]:
    """Checks that need more than the file itself: its name on disk and the AWS names it derives."""
    yield from _file_name_problems(tenant.tenant, source)
    yield from naming.name_problems(tenant.tenant, stack)
    size = handler_env.estimated_size(tenant, stack)
    if size > naming.LAMBDA_ENVIRONMENT_LIMIT:
        yield (
            "records.schema",
            f"the function's environment would be about {size} bytes, above Lambda's "
            f"{naming.LAMBDA_ENVIRONMENT_LIMIT}-byte limit; shorten the schema (descriptions, titles)",
        )


def load_tenant(path: Path, stack: str = naming.DEFAULT_STACK) -> TenantFile:
    """Read and validate the tenant file at `path` (only a regular file, of bounded size)."""
    return parse_tenant(read_tenant_file(path), str(path), stack)


def tenant_files(directory: Path) -> list[Path]:
    """The tenant files in `directory`: its `*.yaml` and `*.yml` entries, sorted."""
    return sorted([*directory.glob("*.yaml"), *directory.glob("*.yml")])


def expand_tenant_paths(paths: Iterable[Path]) -> list[Path]:
    """The files named, with each directory replaced by its tenant files; an empty directory is a problem."""
    expanded: list[Path] = []
    problems: list[str] = []
    for path in paths:
        if path.is_dir():
            found = tenant_files(path)
            if not found:
                problems.append(f"{path}: no tenant files (*.yaml) in this directory; `tributary new NAME` writes one")
            expanded.extend(found)
        else:
            expanded.append(path)
    if problems:
        raise TenantFileError(problems)
    return expanded


def load_tenants(paths: Iterable[Path], stack: str = naming.DEFAULT_STACK) -> list[TenantFile]:
    """Load every file, collecting every problem of every file before failing."""
    tenants: list[TenantFile] = []
    problems: list[str] = []
    defined_in: dict[str, Path] = {}
    for path in paths:
        try:
            tenant = load_tenant(path, stack)
        except TenantFileError as error:
            problems.extend(error.problems)
            continue
        if tenant.tenant in defined_in:
            problems.append(f"{path}: tenant: {tenant.tenant!r} is already defined in {defined_in[tenant.tenant]}")
            continue
        defined_in[tenant.tenant] = path
        tenants.append(tenant)
    if problems:
        raise TenantFileError(problems)
    return tenants
