"""The tenant file's schema: every field with its type, default, range and description, said once.

A tenant file is YAML, one per tenant, in `tenants/`. The models here are the one place a field is
declared: the README's reference table and the file `tributary new` writes are rendered from them
(`tenant_fields.py`), and the tests draw their values from the ranges they expose. Rules between fields
are `tenant_rules.py`'s; loading a file and reporting its problems is `config.py`'s.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, EmailStr, Field, StrictBool, StrictInt, model_validator
from pydantic_core import PydanticCustomError, core_schema

from components import naming, tenant_rules
from components.lifecycle import ACTIVE, DELETE_DATA, LIFECYCLE_TAG, OFFBOARDED, Lifecycle
from components.problems import quote, refuse
from runtime.modes import DEFAULT_WRITE_MODE, WRITE_MODES
from runtime.templates import BUCKETS


@dataclass(frozen=True)
class Range:
    """An inclusive integer range, as data: the schema validates with it, the docs and tests read it.

    Used as `Annotated[StrictInt, Range(1, 10000)]`; a None value (an optional field left out) passes.
    """

    low: int
    high: int

    def check(self, value: int | None) -> int | None:
        if value is not None and not self.low <= value <= self.high:
            raise PydanticCustomError(
                "range",
                "must be between {low} and {high} (got {got})",
                {"low": self.low, "high": self.high, "got": quote(value)},
            )
        return value

    def __get_pydantic_core_schema__(self, source: Any, handler: Any) -> core_schema.CoreSchema:
        return core_schema.no_info_after_validator_function(self.check, handler(source))

    def __str__(self) -> str:
        return f"{self.low}..{self.high}"


@dataclass(frozen=True)
class Kind:
    """What the reference calls a field's type when the Python type alone does not say (a template is a str)."""

    name: str


TENANT_NAME_PATTERN = r"^[a-z][a-z0-9-]{1,23}$"
ROLE_ARN_PATTERN = r"^arn:aws[a-z-]*:iam::\d{12}:role/[\w+=,.@/-]+$"
RoleArn = Annotated[str, Kind("role ARN"), Field(pattern=ROLE_ARN_PATTERN)]
Region = Annotated[str, Kind("region"), Field(pattern=naming.REGION_PATTERN)]
KeyTemplateText = Annotated[str, Kind("template"), Field(min_length=1, max_length=256)]
PayloadField = Annotated[str, Kind("field")]
# Friendlier words for the patterns a person meets most.
PATTERN_WORDS = {
    TENANT_NAME_PATTERN: "must be 2 to 24 characters: lowercase letters, digits and '-', starting with a letter",
    ROLE_ARN_PATTERN: "must be an IAM role ARN, arn:aws:iam::<12-digit account id>:role/<name>",
    naming.REGION_PATTERN: "must be an AWS region code such as eu-west-1",
}
_TIME_BUCKETS = ", ".join(f"`{{{name}}}`" for name in BUCKETS)


class _Section(BaseModel):
    """Every section refuses unknown keys and never coerces types behind the user's back."""

    model_config = ConfigDict(extra="forbid", strict=True, frozen=True)


class Account(_Section):
    """Deploy this tenant into another account or region through an assume-role provider."""

    role_arn: RoleArn = Field(
        description="the role the deployment assumes; required when `account` is set",
        examples=["arn:aws:iam::123456789012:role/tributary-deploy"],
    )
    region: Region | None = Field(
        None, description="the region to deploy into; else the stack's", examples=["eu-west-1"]
    )


class Stream(_Section):
    """The Kinesis data stream producers write to."""

    mode: Literal["on_demand", "provisioned"] = Field("on_demand", description="how the stream scales")
    shards: Annotated[StrictInt | None, Range(1, 500)] = Field(
        None, description="required when mode is provisioned, and only then", examples=[2]
    )
    retention_hours: Annotated[StrictInt, Range(24, 8760)] = Field(24, description="how long the stream keeps records")
    enhanced_fan_out: StrictBool = Field(False, description="a dedicated consumer (2 MB/s per shard) for the processor")
    # The key policy lets these roles use the tenant key through Kinesis; the `producer_policy` output is the
    # IAM policy to attach to them (this stream and nothing else).
    producers: list[RoleArn] = Field(
        [], description="roles allowed to put records; attach the `producer_policy` output to them"
    )

    @model_validator(mode="after")
    def _shards_only_when_provisioned(self) -> Stream:
        refuse(tenant_rules.stream_problems(self))
        return self


class Processing(_Section):
    """The event source mapping and the function that process the stream."""

    batch_size: Annotated[StrictInt, Range(1, 10000)] = Field(100, description="records per invocation")
    batch_window_seconds: Annotated[StrictInt, Range(0, 300)] = Field(5, description="wait this long to fill a batch")
    parallelization_factor: Annotated[StrictInt, Range(1, 10)] = Field(
        1, description="concurrent batches per shard (order kept per partition key)"
    )
    starting_position: Literal["TRIM_HORIZON", "LATEST"] = Field(
        "TRIM_HORIZON", description="where a new mapping starts reading"
    )
    # Lambda's -1 (retry forever) would let one poison pill stall a shard until its records expire.
    max_retries: Annotated[StrictInt, Range(0, 10000)] = Field(
        3, description="retries of a failing batch; never infinite"
    )
    max_record_age_seconds: Annotated[StrictInt, Range(60, 604800)] = Field(
        3600, description="older records are recorded as failures, not processed; at most the stream's retention"
    )
    memory_mb: Annotated[StrictInt, Range(128, 10240)] = Field(256, description="the function's memory")
    timeout_seconds: Annotated[StrictInt, Range(1, 900)] = Field(60, description="the function's timeout")
    reserved_concurrency: Annotated[StrictInt | None, Range(1, 1000)] = Field(
        None, description="concurrency reserved for the function; else unreserved", examples=[10]
    )
    on_failure: Literal["sqs", "s3"] = Field(
        "sqs", description="where batches that run out of retries or age are recorded"
    )


class Records(_Section):
    """What a record is and how it is written to the table."""

    schema_: Annotated[dict[str, Any], Kind("JSON Schema")] = Field(
        alias="schema",
        description=(
            "JSON Schema of one payload: an object with `properties`; invalid records go to the failure queue. "
            f"It travels in the function's environment, which must stay under {naming.LAMBDA_ENVIRONMENT_LIMIT} bytes"
        ),
        examples=[
            {
                "type": "object",
                "required": ["id", "at"],
                "properties": {
                    "id": {"type": "string"},
                    "at": {"type": "string", "format": "date-time"},
                    "value": {"type": "number"},
                    "version": {"type": "integer"},
                },
            }
        ],
    )
    write: Literal[WRITE_MODES] = Field(  # the registered modes (runtime/modes/__init__.py), in their order
        DEFAULT_WRITE_MODE,
        description='append every event, keep the newest version, or sum counters (see "Write modes")',
    )
    partition_key: KeyTemplateText = Field(
        description=f"payload fields and the event time's {_TIME_BUCKETS}, e.g. `device#{{device_id}}`",
        examples=["item#{id}"],
    )
    sort_key: KeyTemplateText | None = Field(None, description="a template like `partition_key`", examples=["{day}"])
    event_id: PayloadField | None = Field(
        None, description="the producer's event id; else shard + sequence number", examples=["id"]
    )
    timestamp: PayloadField | None = Field(
        None, description="the event time, for the time buckets; else arrival time", examples=["at"]
    )
    version: PayloadField | None = Field(
        None, description="numeric; required for `latest`: newer versions replace older state", examples=["version"]
    )
    counters: list[PayloadField] | None = Field(
        None, description="numeric fields to sum; required for `counters`", examples=[["value"]]
    )
    ttl_days: Annotated[StrictInt | None, Range(1, 36500)] = Field(
        None, description="items expire this many days after their event time", examples=[30]
    )

    model_config = ConfigDict(extra="forbid", strict=True, frozen=True, populate_by_name=True)

    @model_validator(mode="after")
    def _consistent(self) -> Records:
        refuse(tenant_rules.records_problems(self))
        return self

    def declared_fields(self) -> dict[str, dict[str, Any]]:
        return dict(self.schema_.get("properties", {}))


class Archive(_Section):
    """Firehose's copy of every record in S3, for Athena."""

    enabled: StrictBool = Field(True, description="archive every record to S3")
    format: Literal["parquet", "json"] = Field("parquet", description="the archive's file format")
    # Firehose's buffer size is 1 to 128 MiB ("SizeInMBs",
    # https://docs.aws.amazon.com/firehose/latest/APIReference/API_BufferingHints.html).
    buffer_mb: Annotated[StrictInt, Range(1, 128)] = Field(
        64, description=f"Firehose's buffer size; at least {tenant_rules.PARQUET_MIN_BUFFER_MB} with parquet"
    )
    buffer_seconds: Annotated[StrictInt, Range(60, 900)] = Field(300, description="Firehose's buffer interval")
    expire_days: Annotated[StrictInt | None, Range(1, 36500)] = Field(
        None, description="archived objects expire after this many days; else never", examples=[365]
    )

    @model_validator(mode="after")
    def _parquet_buffer(self) -> Archive:
        refuse(tenant_rules.archive_problems(self))
        return self


class Access(_Section):
    """Who may read the tenant's data besides its pipeline (the README's "Permissions" section)."""

    # The key policy lets these roles decrypt through DynamoDB, S3 and SQS; the `reader_policy` output is the
    # IAM policy to attach to them.
    readers: list[RoleArn] = Field(
        [],
        description="roles that read the table, the archive (and Athena's catalog) and failed records, decrypting "
        "through DynamoDB, S3 and SQS only; attach the `reader_policy` output to them",
    )


class Table(_Section):
    """The DynamoDB table the processor writes."""

    point_in_time_recovery: StrictBool = Field(True, description="continuous backups of the table")
    deletion_protection: StrictBool = Field(True, description="the table cannot be deleted while this is on")


class Alarms(_Section):
    """Alarm thresholds. Each default is the seed checklist's; alarm_specs.py says why for each."""

    notify: list[EmailStr] | None = Field(
        None, description="who the alarms notify; else the owner", examples=[["oncall@example.com"]]
    )
    iterator_age_seconds: Annotated[StrictInt, Range(1, 604800)] = Field(
        60, description="alarm when the processor is this far behind the stream"
    )
    error_rate_percent: Annotated[float, Field(gt=0, le=100, allow_inf_nan=False)] = Field(
        1.0, description="alarm when this share of invocations fail"
    )
    duration_percent_of_timeout: Annotated[StrictInt, Range(1, 100)] = Field(
        50, description="alarm when invocations take this share of the timeout"
    )
    failure_queue_oldest_seconds: Annotated[StrictInt, Range(60, 1209600)] = Field(
        3600, description="alarm when a failed record has waited this long"
    )
    archive_freshness_seconds: Annotated[StrictInt, Range(60, 86400)] = Field(
        900, description="alarm when the oldest record not yet in S3 is this old"
    )


def _checked_tags(tags: dict[str, str]) -> dict[str, str]:
    refuse(tenant_rules.tag_problems(tags))
    return tags


class TenantFile(_Section):
    """One tenant file: who the tenant is, and every part of its pipeline."""

    tenant: Annotated[str, Field(pattern=TENANT_NAME_PATTERN)] = Field(
        description=(
            "names every AWS resource of the tenant; equals the file name, without "
            f"`{naming.SEPARATOR}` or a prefix S3 reserves for buckets "
            f"({', '.join(f'`{prefix}`' for prefix in naming.S3_BUCKET.reserved_prefixes)})"
        ),
    )
    description: Annotated[str, Field(max_length=256)] = Field(
        "", description="free text, shown in resource descriptions"
    )
    owner: EmailStr = Field(
        description="alarms notify this address unless `alarms.notify` is set", examples=["owner@example.com"]
    )
    labels: dict[str, str] = Field({}, description='stacks select tenants by label, e.g. `cell: "1"`')
    tags: Annotated[dict[str, str], AfterValidator(_checked_tags)] = Field(
        {},
        description=(
            f"added to every AWS resource of the tenant; at most {tenant_rules.MAX_USER_TAGS} (tributary adds "
            f"{', '.join(f'`{tag}`' for tag in naming.RESERVED_TAGS)}, and `{LIFECYCLE_TAG}` while the "
            "data is deleted), no `aws:` prefix, keys of "
            f"{tenant_rules.TAG_KEY_LENGTH[0]}..{tenant_rules.TAG_KEY_LENGTH[1]} and values of at most "
            f"{tenant_rules.TAG_VALUE_LENGTH} characters"
        ),
    )
    account: Account | None = None
    retain_on_delete: StrictBool = Field(
        True,
        description="removing the file keeps the table, buckets and key; `false` lets pulumi delete them "
        "(buckets emptied)",
    )
    lifecycle: Lifecycle = Field(
        ACTIVE,
        description=f"`{OFFBOARDED}` removes the stream, function, mapping, Firehose and alarms and keeps "
        f"the key, table, failure queue and buckets; `{DELETE_DATA}` (with `delete_data_confirm`) lets "
        'removing the file delete those too (see "Offboarding a tenant")',
    )
    delete_data_confirm: str = Field(
        "",
        description=f"the tenant's name, to confirm `lifecycle: {DELETE_DATA}`; only with it",
    )
    stream: Stream = Stream()
    processing: Processing = Processing()
    records: Records
    archive: Archive = Archive()
    table: Table = Table()
    alarms: Alarms = Alarms()
    access: Access = Access()

    @model_validator(mode="after")
    def _cross_section(self) -> TenantFile:
        refuse(
            [
                *tenant_rules.cross_section_problems(dict(self)),
                *tenant_rules.lifecycle_problems(self.tenant, self.lifecycle, self.delete_data_confirm),
            ]
        )
        return self

    @property
    def notify_emails(self) -> list[str]:
        return list(self.alarms.notify) if self.alarms.notify else [self.owner]
