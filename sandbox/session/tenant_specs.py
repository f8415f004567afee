"""What the engines run for one tenant, read from AWS's own descriptions of what was deployed.

- the event source mapping: as the deployment record describes it, in the shape of Lambda's
  GetEventSourceMapping (`described.py` writes it at deploy time);
- its function: as the emulator stores it, GetFunctionConfiguration (and GetFunctionConcurrency);
- the Firehose delivery stream: as the emulator stores it, DescribeDeliveryStream.

So the engines run with the settings AWS would report for the deployed resources, and nothing here reads the
program's resource inputs.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any

from components.offline import RegisteredResource
from sandbox.engines.emulator import EmulatorClients
from sandbox.engines.specs import DeliverySpec, FunctionSpec, MappingSpec
from sandbox.session.described import EVENT_SOURCE_MAPPING

DELIVERY_STREAM = "aws:kinesis/firehoseDeliveryStream:FirehoseDeliveryStream"
# A Kinesis consumer's ARN is its stream's ARN, then this, its name and its creation time (the ConsumerARN
# pattern, https://docs.aws.amazon.com/kinesis/latest/APIReference/API_Consumer.html).
CONSUMER_INFIX = "/consumer/"
REPORT_BATCH_ITEM_FAILURES = "ReportBatchItemFailures"
PARQUET_DEFAULT_COMPRESSION = "SNAPPY"  # ParquetSerDe's Compression when none is given


@dataclass(frozen=True)
class TenantSpecs:
    """One tenant's engines: its mapping, its function's reserved concurrency (None: unreserved), and its delivery
    stream with the role Firehose acts as."""

    mapping: MappingSpec
    reserved_concurrency: int | None = None
    delivery: DeliverySpec | None = None
    delivery_role: str | None = None


def function_spec(configuration: dict[str, Any]) -> FunctionSpec:
    """A function from GetFunctionConfiguration's answer."""
    return FunctionSpec(
        name=configuration["FunctionName"],
        handler=configuration["Handler"],
        environment=dict((configuration.get("Environment") or {}).get("Variables") or {}),
        timeout_seconds=int(configuration["Timeout"]),
        memory_mb=int(configuration["MemorySize"]),
        function_arn=configuration["FunctionArn"],
        role_arn=configuration.get("Role"),
    )


def stream_arn_of(event_source_arn: str) -> str:
    """The stream a mapping reads: its source, or the stream of the dedicated consumer it reads through (the
    sandbox reads shards directly; a consumer changes throughput, not what is read)."""
    return event_source_arn.split(CONSUMER_INFIX, 1)[0]


def mapping_spec(description: dict[str, Any], function: FunctionSpec) -> MappingSpec:
    """A mapping from its GetEventSourceMapping description."""
    return MappingSpec(
        uuid=description["UUID"],
        stream_arn=stream_arn_of(description["EventSourceArn"]),
        function=function,
        batch_size=int(description["BatchSize"]),
        batching_window_seconds=int(description["MaximumBatchingWindowInSeconds"]),
        parallelization_factor=int(description["ParallelizationFactor"]),
        starting_position=description["StartingPosition"],
        bisect_on_error=bool(description["BisectBatchOnFunctionError"]),
        max_retries=int(description["MaximumRetryAttempts"]),
        max_record_age_seconds=int(description["MaximumRecordAgeInSeconds"]),
        report_batch_item_failures=REPORT_BATCH_ITEM_FAILURES in description["FunctionResponseTypes"],
        on_failure_destination=description["DestinationConfig"].get("OnFailure", {}).get("Destination"),
    )


def delivery_spec(description: dict[str, Any]) -> DeliverySpec:
    """A delivery stream from DescribeDeliveryStream's DeliveryStreamDescription. The Glue columns are left to
    the engine, which reads the table's latest version as Firehose does."""
    destination = description["Destinations"][0]["ExtendedS3DestinationDescription"]
    conversion = destination.get("DataFormatConversionConfiguration") or {}
    converts = bool(conversion.get("Enabled", bool(conversion)))
    schema = conversion.get("SchemaConfiguration") or {}
    parquet = ((conversion.get("OutputFormatConfiguration") or {}).get("Serializer") or {}).get("ParquetSerDe") or {}
    logging = destination.get("CloudWatchLoggingOptions") or {}
    return DeliverySpec(
        name=description["DeliveryStreamName"],
        stream_arn=description["Source"]["KinesisStreamSourceDescription"]["KinesisStreamARN"],
        bucket_arn=destination["BucketARN"],
        prefix=destination.get("Prefix", ""),
        error_output_prefix=destination.get("ErrorOutputPrefix", ""),
        buffer_mb=int(destination["BufferingHints"]["SizeInMBs"]),
        buffer_seconds=int(destination["BufferingHints"]["IntervalInSeconds"]),
        output_format="parquet" if converts else "json",
        columns=[],
        compression=parquet.get("Compression", PARQUET_DEFAULT_COMPRESSION)
        if converts
        else destination.get("CompressionFormat", "UNCOMPRESSED"),
        version=int(description.get("VersionId", 1)),
        glue_database=schema.get("DatabaseName") if converts else None,
        glue_table=schema.get("TableName") if converts else None,
        log_group=logging.get("LogGroupName") if logging.get("Enabled") else None,
        log_stream=logging.get("LogStreamName"),
    )


def _only(resources: list[RegisteredResource], type_: str) -> RegisteredResource | None:
    return next((resource for resource in resources if resource.type == type_), None)


def read_tenant_specs(
    resources: list[RegisteredResource], event_source_mappings: dict[str, dict[str, Any]], clients: EmulatorClients
) -> TenantSpecs:
    """A tenant's engines from the deployment record and the emulator. ValueError when the record holds no
    mapping for the tenant; the emulator's ClientError when it no longer holds the function or stream."""
    mapping = _only(resources, EVENT_SOURCE_MAPPING)
    if mapping is None:
        raise ValueError("the tenant has no event source mapping")
    description = event_source_mappings.get(mapping.id)
    if description is None:
        raise ValueError(f"the deployment record does not describe the event source mapping {mapping.id}")
    lambda_ = clients.awslambda
    function = function_spec(lambda_.get_function_configuration(FunctionName=description["FunctionArn"]))
    reserved = lambda_.get_function_concurrency(FunctionName=description["FunctionArn"]).get(
        "ReservedConcurrentExecutions"
    )
    specs = TenantSpecs(mapping_spec(description, function), reserved)
    delivery = _only(resources, DELIVERY_STREAM)
    if delivery is None:
        return specs
    stream = clients.firehose.describe_delivery_stream(DeliveryStreamName=delivery.state["name"])
    described = stream["DeliveryStreamDescription"]
    role = described["Source"]["KinesisStreamSourceDescription"].get("RoleARN")
    return replace(specs, delivery=delivery_spec(described), delivery_role=role)
