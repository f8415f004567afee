"""The tenant file: its schema, its loader, and the one place where it is validated.

A tenant file is YAML, one per tenant, in `tenants/`. Every problem in a file is reported as one line,
`tenants/acme.yaml: processing.batch_size: must be between 1 and 10000 (got 20000)`, and loading never
raises anything but `TenantFileError` (which carries those lines).
"""

from __future__ import annotations

import difflib
import json
import re
from collections.abc import Iterable
from pathlib import Path
from typing import Annotated, Any, Literal

import fastjsonschema
import yaml
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

TENANT_NAME_PATTERN = r"^[a-z][a-z0-9-]{1,23}$"
ROLE_ARN_PATTERN = r"^arn:aws[a-z-]*:iam::\d{12}:role/[\w+=,.@/-]+$"
RoleArn = Annotated[str, Field(pattern=ROLE_ARN_PATTERN)]
TEMPLATE_FIELD = re.compile(r"\{([^{}]*)\}")
# Time buckets a key template may use besides payload fields; the handler fills them from the event time.
TIME_BUCKETS = ("hour", "day", "month")
# Glue/Athena column names: Firehose maps JSON keys to these columns case-insensitively.
COLUMN_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]{0,127}$")
NUMERIC_TYPES = {"integer", "number"}
# Attribute names the table and handler use themselves (runtime/config.py: RESERVED_ATTRIBUTES and the
# counters' `events` count); a payload field with one of these names would collide with them.
RESERVED_FIELDS = frozenset({"pk", "sk", "expires_at", "_event_id", "_shard", "_sequence", "_sub_sequence", "_arrival"})
COUNTERS_RESERVED_FIELDS = RESERVED_FIELDS | {"events"}


def _between(low: int, high: int):
    """An integer range check whose message names both bounds and the value it got."""

    def check(value: int) -> int:
        if not low <= value <= high:
            raise PydanticCustomError(
                "range", "must be between {low} and {high} (got {got})", {"low": low, "high": high, "got": value}
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
    region: Annotated[str, Field(pattern=r"^[a-z]{2}(-gov)?-[a-z]+-\d$")] | None = None


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
            raise _field_error("shards", "required when mode is provisioned")
        if self.mode == "on_demand" and self.shards is not None:
            raise _field_error("shards", "only allowed when mode is provisioned (on_demand scales by itself)")
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
        problems = list(_records_problems(self))
        if problems:
            field, message = problems[0]
            raise _field_error(field, message)
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
            raise _field_error("buffer_mb", f"must be at least 64 when format is parquet (got {self.buffer_mb})")
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
    error_rate_percent: Annotated[float, Field(gt=0, le=100)] = 1.0
    duration_percent_of_timeout: Range(1, 100) = 50
    failure_queue_oldest_seconds: Range(60, 1209600) = 3600
    archive_freshness_seconds: Range(60, 86400) = 900


class TenantFile(_Section):
    tenant: Annotated[str, Field(pattern=TENANT_NAME_PATTERN)]
    description: Annotated[str, Field(max_length=256)] = ""
    owner: EmailStr
    labels: dict[str, str] = {}
    tags: dict[str, str] = {}
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
        for field, message in _cross_section_problems(self):
            raise _field_error(field, message)
        return self

    @property
    def notify_emails(self) -> list[str]:
        return list(self.alarms.notify) if self.alarms.notify else [self.owner]


class TenantFileError(Exception):
    """Raised when one or more tenant files are invalid; `problems` holds one line per problem."""

    def __init__(self, problems: list[str]):
        super().__init__("\n".join(problems))
        self.problems = problems


# ---------------------------------------------------------------------------------------------------------
# Rules that span fields. Each yields (dotted field path relative to its model, message).


def _field_error(field: str, message: str) -> PydanticCustomError:
    # The loc of a model-level error is the model itself; the field goes into the message's prefix,
    # and _format_error splits it back out so the line names the exact field.
    return PydanticCustomError("field", "{field}\x00{message}", {"field": field, "message": message})


def _records_problems(records: Records) -> Iterable[tuple[str, str]]:
    schema = records.schema_
    try:
        fastjsonschema.compile(schema)
    except Exception as error:  # fastjsonschema raises several types for a bad definition
        yield "schema", f"is not a valid JSON Schema ({error})"
        return
    if schema.get("type") != "object" or not isinstance(schema.get("properties"), dict):
        yield "schema", "must describe an object: `type: object` with `properties`"
        return
    declared = records.declared_fields()
    reserved = COUNTERS_RESERVED_FIELDS if records.write == "counters" else RESERVED_FIELDS
    for name in declared:
        if name in reserved:
            yield f"schema.properties.{name}", f"{name!r} is reserved by the table (rename the field)"
    for key in ("partition_key", "sort_key"):
        template = getattr(records, key)
        if template is None:
            continue
        names = TEMPLATE_FIELD.findall(template)
        if key == "partition_key" and not names:
            yield key, "must name at least one payload field, e.g. `device#{device_id}`"
        for name in names:
            if name not in TIME_BUCKETS and not _declares(records.schema_, name):
                yield key, f"names {{{name}}}, which the schema does not declare"
    yield from _named_field_problems(records)


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


def _named_field_problems(records: Records) -> Iterable[tuple[str, str]]:
    for key in ("event_id", "timestamp", "version"):
        name = getattr(records, key)
        if name is not None and not _declares(records.schema_, name):
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
        if not records.counters:
            yield "counters", "required when write is counters: the numeric fields to sum"
        for name in records.counters or []:
            if not _declares(records.schema_, name):
                yield "counters", f"names field {name!r}, which the schema does not declare"
            elif not _field_type(records.schema_, name) & NUMERIC_TYPES:
                yield "counters", f"field {name!r} must be declared as integer or number"
    elif records.counters:
        yield "counters", "only allowed when write is counters"


def _cross_section_problems(tenant: TenantFile) -> Iterable[tuple[str, str]]:
    retention_seconds = tenant.stream.retention_hours * 3600
    age = tenant.processing.max_record_age_seconds
    if age > retention_seconds:
        yield (
            "processing.max_record_age_seconds",
            f"{age} is above the stream's retention ({retention_seconds} s)",
        )
    if tenant.processing.timeout_seconds * 1000 <= 0:
        yield "processing.timeout_seconds", "must be positive"
    if tenant.archive.enabled and tenant.archive.format == "parquet":
        columns: dict[str, str] = {}
        for name in tenant.records.declared_fields():
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
    yield from _tag_problems(tenant.tags)


def _tag_problems(tags: dict[str, str]) -> Iterable[tuple[str, str]]:
    # We add tenant, stack and managed-by ourselves; AWS allows 50 tags per resource.
    if len(tags) > 47:
        yield "tags", f"at most 47 tags (got {len(tags)}); three more are added to every resource"
    for key, value in tags.items():
        if not 1 <= len(key) <= 128:
            yield f"tags.{key}", "tag keys must be 1 to 128 characters"
        elif key.lower().startswith("aws:"):
            yield f"tags.{key}", "the aws: prefix is reserved by AWS"
        elif key in naming.RESERVED_TAGS:
            yield f"tags.{key}", "is set by tributary on every resource"
        if len(value) > 256:
            yield f"tags.{key}", f"tag values must be at most 256 characters (got {len(value)})"


# ---------------------------------------------------------------------------------------------------------
# Turning pydantic's errors into one line per problem.

_MESSAGES = {
    "missing": "required",
    "extra_forbidden": "unknown field",
    "int_type": "must be a whole number (got {got})",
    "bool_type": "must be true or false (got {got})",
    "string_type": "must be a string (got {got})",
    "dict_type": "must be a mapping (got {got})",
    "model_type": "must be a mapping (got {got})",
    "list_type": "must be a list (got {got})",
    "float_type": "must be a number (got {got})",
    "literal_error": "must be one of {expected} (got {got})",
    "string_pattern_mismatch": "does not match {pattern} (got {got})",
}
# Friendlier words for the patterns a person meets most.
_PATTERN_WORDS = {
    TENANT_NAME_PATTERN: "must be 2 to 24 characters: lowercase letters, digits and '-', starting with a letter",
}


def _dotted(loc: tuple[Any, ...]) -> str:
    parts = []
    for part in loc:
        if isinstance(part, int):
            parts[-1] = f"{parts[-1]}[{part}]" if parts else f"[{part}]"
        elif part in ("function-after[check(), int]", "str", "int", "function-after[check(), constrained-int]"):
            continue  # pydantic's union/validator branch names are not fields
        else:
            parts.append(str(part))
    return ".".join(parts)


def _short(value: Any) -> str:
    text = json.dumps(value, default=str) if not isinstance(value, str) else repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def _did_you_mean(field: str, model: type[BaseModel] | None) -> str:
    if model is None:
        return ""
    known = [info.alias or name for name, info in model.model_fields.items()]
    close = difflib.get_close_matches(field, known, n=1)
    return f" (did you mean {close[0]!r}?)" if close else f" (expected one of: {', '.join(known)})"


def _model_at(loc: tuple[Any, ...]) -> type[BaseModel] | None:
    """The section model that owns the field at `loc`, to suggest names for a mistyped key."""
    model: type[BaseModel] | None = TenantFile
    for part in loc[:-1]:
        if model is None or not isinstance(part, str):
            return None
        field = model.model_fields.get(part) or next((f for f in model.model_fields.values() if f.alias == part), None)
        annotation = getattr(field, "annotation", None)
        candidates = [a for a in getattr(annotation, "__args__", (annotation,)) if isinstance(a, type)]
        model = next((c for c in candidates if issubclass(c, BaseModel)), None)
    return model


def _format_error(error: dict[str, Any]) -> tuple[str, str]:
    loc = tuple(error["loc"])
    kind = error["type"]
    ctx = error.get("ctx") or {}
    if kind == "field":
        field, message = ctx["field"], ctx["message"]
        return _dotted((*loc, *field.split("."))), message
    if kind == "extra_forbidden":
        return _dotted(loc), "unknown field" + _did_you_mean(str(loc[-1]), _model_at(loc))
    if kind == "literal_error":
        return _dotted(loc), f"must be one of {ctx.get('expected')} (got {_short(error.get('input'))})"
    if kind == "string_pattern_mismatch" and ctx.get("pattern") in _PATTERN_WORDS:
        return _dotted(loc), f"{_PATTERN_WORDS[ctx['pattern']]} (got {_short(error.get('input'))})"
    template = _MESSAGES.get(kind)
    if template is not None:
        return _dotted(loc), template.format(got=_short(error.get("input")), **ctx)
    return _dotted(loc), error["msg"]


def problems_from_validation(error: ValidationError) -> list[tuple[str, str]]:
    seen: list[tuple[str, str]] = []
    for item in error.errors(include_url=False):
        line = _format_error(item)
        if line not in seen:
            seen.append(line)
    return seen


# ---------------------------------------------------------------------------------------------------------
# Loading.


def parse_tenant(text: str, source: str, stack: str = naming.DEFAULT_STACK) -> TenantFile:
    """Parse and validate one tenant file's text; raise TenantFileError with one line per problem."""
    try:
        data = yaml.safe_load(text)
    except RecursionError:
        raise TenantFileError([f"{source}: nested too deeply to be a tenant file"]) from None
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None)
        where = f" at line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        problem = getattr(error, "problem", None) or "not valid YAML"
        raise TenantFileError([f"{source}: not valid YAML{where}: {problem}"]) from None
    if data is None:
        raise TenantFileError([f"{source}: the file is empty; `tributary new NAME` writes a starting file"])
    if not isinstance(data, dict):
        raise TenantFileError([f"{source}: must be a mapping of fields (got a {type(data).__name__})"])
    try:
        tenant = TenantFile.model_validate(data)
    except RecursionError:
        raise TenantFileError([f"{source}: records.schema: nested too deeply"]) from None
    except ValidationError as error:
        raise TenantFileError(
            [f"{source}: {field}: {message}" for field, message in problems_from_validation(error)]
        ) from None
    problems = [f"{source}: {field}: {message}" for field, message in tenant_level_problems(tenant, source, stack)]
    if problems:
        raise TenantFileError(problems)
    return tenant


def tenant_level_problems(tenant: TenantFile, source: str, stack: str) -> Iterable[tuple[str, str]]:
    """Checks that need more than the file itself: its name on disk and the AWS names it derives."""
    stem = Path(source).stem
    if Path(source).suffix in (".yaml", ".yml") and stem != tenant.tenant:
        yield "tenant", f"must match the file name ({stem!r}, got {tenant.tenant!r})"
    yield from naming.name_problems(tenant.tenant, stack)
    size = handler_env.estimated_size(tenant, stack)
    if size > naming.LAMBDA_ENVIRONMENT_LIMIT:
        yield (
            "records.schema",
            f"the function's environment would be about {size} bytes, above Lambda's "
            f"{naming.LAMBDA_ENVIRONMENT_LIMIT}-byte limit; shorten the schema (descriptions, titles)",
        )


def load_tenant(path: Path, stack: str = naming.DEFAULT_STACK) -> TenantFile:
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as error:
        raise TenantFileError([f"{path}: cannot be read ({error.__class__.__name__}: {error})"]) from None
    return parse_tenant(text, str(path), stack)


def tenant_files(directory: Path) -> list[Path]:
    return sorted([*directory.glob("*.yaml"), *directory.glob("*.yml")])


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
