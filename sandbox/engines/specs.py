"""The sandbox engines' inputs: plain, frozen descriptions of what the deploy step created.

The deploy part fills these from the resources' inputs (and the emulator's ARNs); the engines in
`event_source`, `workers` and `firehose` read nothing else. Field names follow the AWS API
parameters they stand for (`BatchSize` -> `batch_size`, ...).
"""

from __future__ import annotations

from dataclasses import dataclass

STARTING_POSITIONS = ("TRIM_HORIZON", "LATEST")
GLUE_TYPES = ("string", "bigint", "int", "double", "float", "boolean", "timestamp", "date")


@dataclass(frozen=True)
class FunctionSpec:
    """One Lambda function: what to import, with which environment and limits."""

    name: str
    handler: str  # dotted "module.path.function", e.g. "runtime.handler.handler"
    environment: dict[str, str]
    timeout_seconds: int
    memory_mb: int
    function_arn: str
    role_arn: str | None = None  # the event's invokeIdentityArn; a placeholder when unknown


@dataclass(frozen=True)
class MappingSpec:
    """One Kinesis event source mapping (CreateEventSourceMapping's parameters)."""

    uuid: str
    stream_arn: str
    function: FunctionSpec
    batch_size: int
    batching_window_seconds: int
    parallelization_factor: int
    starting_position: str  # TRIM_HORIZON | LATEST
    bisect_on_error: bool
    max_retries: int  # -1 = infinite
    max_record_age_seconds: int  # -1 = infinite
    report_batch_item_failures: bool
    on_failure_destination: str | None  # SQS queue ARN or S3 bucket ARN

    def __post_init__(self) -> None:
        if self.starting_position not in STARTING_POSITIONS:
            raise ValueError(
                f"starting_position must be one of {', '.join(STARTING_POSITIONS)} (got {self.starting_position!r})"
            )
        if not 1 <= self.parallelization_factor <= 10:
            raise ValueError(f"parallelization_factor must be 1..10 (got {self.parallelization_factor})")
        if not 1 <= self.batch_size <= 10000:
            raise ValueError(f"batch_size must be 1..10000 (got {self.batch_size})")


@dataclass(frozen=True)
class DeliverySpec:
    """One Firehose delivery stream reading a Kinesis stream into S3."""

    name: str
    stream_arn: str
    bucket_arn: str
    prefix: str
    error_output_prefix: str
    buffer_mb: int
    buffer_seconds: int
    output_format: str  # "parquet" | "json"
    columns: list[tuple[str, str]]  # Glue columns (name, type)
    compression: str  # "SNAPPY" for parquet; "GZIP" or "UNCOMPRESSED" for json
    version: int = 1  # the delivery stream's version id, part of every object name
    # Where Firehose reads the columns (record format conversion) and logs delivery errors, when configured.
    glue_database: str | None = None
    glue_table: str | None = None
    log_group: str | None = None
    log_stream: str | None = None

    def __post_init__(self) -> None:
        if self.output_format not in ("parquet", "json"):
            raise ValueError(f"output_format must be 'parquet' or 'json' (got {self.output_format!r})")
        for name, type_ in self.columns:
            if type_.lower() not in GLUE_TYPES:
                raise ValueError(f"column {name!r}: unsupported Glue type {type_!r}")


def arn_resource(arn: str) -> str:
    """The resource part of an ARN: `stream/orders` for a Kinesis stream, `bucket` for S3."""
    parts = arn.split(":", 5)
    if len(parts) != 6 or parts[0] != "arn":
        raise ValueError(f"not an ARN: {arn!r}")
    return parts[5]


def arn_service(arn: str) -> str:
    return arn.split(":", 5)[2]


def arn_account(arn: str) -> str:
    return arn.split(":", 5)[4]


def stream_name(stream_arn: str) -> str:
    """`arn:aws:kinesis:r:a:stream/orders` -> `orders`."""
    return arn_resource(stream_arn).split("/", 1)[1]
