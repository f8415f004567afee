"""The tenant's archive: Firehose reads the stream and writes Parquet (Snappy) to S3 in Hive date partitions.

The Glue table Firehose converts through is derived from the tenant's JSON Schema, and declares partition
projection, so Athena queries new hours without a crawler.
"""

from __future__ import annotations

from dataclasses import dataclass

import pulumi
import pulumi_aws as aws

from components import defaults, glue_schema
from components.buckets import secure_bucket
from components.context import PipelineContext, encrypted_log_group

FIREHOSE_LOG_STREAM = "DestinationDelivery"
PARQUET_INPUT = "org.apache.hadoop.hive.ql.io.parquet.MapredParquetInputFormat"
PARQUET_OUTPUT = "org.apache.hadoop.hive.ql.io.parquet.MapredParquetOutputFormat"
PARQUET_SERDE = "org.apache.hadoop.hive.ql.io.parquet.serde.ParquetHiveSerDe"
JSON_SERDE = "org.openx.data.jsonserde.JsonSerDe"
TEXT_INPUT = "org.apache.hadoop.mapred.TextInputFormat"
TEXT_OUTPUT = "org.apache.hadoop.hive.ql.io.HiveIgnoreKeyTextOutputFormat"
PARTITIONS = ("year", "month", "day", "hour")


@dataclass
class Archive:
    bucket: aws.s3.Bucket
    log_group: aws.cloudwatch.LogGroup
    database: aws.glue.CatalogDatabase
    table: aws.glue.CatalogTable
    delivery_stream: aws.kinesis.FirehoseDeliveryStream


def _projection_parameters(location: str) -> dict[str, str]:
    """Athena partition projection for the year=/month=/day=/hour= layout Firehose writes."""
    parameters = {
        "projection.enabled": "true",
        "projection.year.type": "integer",
        "projection.year.range": "2020,2100",
        "storage.location.template": location + "year=${year}/month=${month}/day=${day}/hour=${hour}/",
    }
    for part, high in (("month", 12), ("day", 31), ("hour", 23)):
        low = 0 if part == "hour" else 1
        parameters.update(
            {
                f"projection.{part}.type": "integer",
                f"projection.{part}.range": f"{low},{high}",
                f"projection.{part}.digits": "2",
            }
        )
    return parameters


def create_archive_bucket(ctx: PipelineContext, key_arn) -> aws.s3.Bucket:
    return secure_bucket(
        ctx,
        f"{ctx.tenant.tenant}-archive",
        ctx.names_in_account().apply(lambda names: names.archive_bucket),
        key_arn,
        expire_days=ctx.tenant.archive.expire_days,
    )


def create_archive_log_group(ctx: PipelineContext, key_arn) -> aws.cloudwatch.LogGroup:
    log_group = encrypted_log_group(ctx, "archive", ctx.names.firehose_log_group, key_arn)
    aws.cloudwatch.LogStream(
        f"{ctx.tenant.tenant}-archive-log-stream",
        name=FIREHOSE_LOG_STREAM,
        log_group_name=log_group.name,
        opts=ctx.opts(),
    )
    return log_group


def create_catalog(
    ctx: PipelineContext, bucket: aws.s3.Bucket
) -> tuple[aws.glue.CatalogDatabase, aws.glue.CatalogTable]:
    name = ctx.tenant.tenant
    parquet = ctx.tenant.archive.format == "parquet"
    database = aws.glue.CatalogDatabase(
        f"{name}-catalog",
        name=ctx.names.glue_database,
        description=f"tributary: archive of tenant {name}",
        tags=ctx.tags,
        opts=ctx.opts(),
    )
    location = bucket.bucket.apply(lambda bucket_name: f"s3://{bucket_name}/data/")
    table = aws.glue.CatalogTable(
        f"{name}-catalog-table",
        name=ctx.names.glue_table,
        database_name=database.name,
        table_type="EXTERNAL_TABLE",
        parameters=location.apply(
            lambda loc: {"classification": "parquet" if parquet else "json", **_projection_parameters(loc)}
        ),
        partition_keys=[{"name": part, "type": "string"} for part in PARTITIONS],
        storage_descriptor={
            "location": location,
            "input_format": PARQUET_INPUT if parquet else TEXT_INPUT,
            "output_format": PARQUET_OUTPUT if parquet else TEXT_OUTPUT,
            "ser_de_info": {"serialization_library": PARQUET_SERDE if parquet else JSON_SERDE},
            "columns": glue_schema.glue_columns(ctx.tenant.records.schema_),
        },
        opts=ctx.opts(),
    )
    return database, table


def _conversion(ctx: PipelineContext, role_arn, database, table) -> dict:
    return {
        "enabled": True,
        # OpenX maps JSON keys to columns case-insensitively and ignores keys the table lacks.
        "input_format_configuration": {"deserializer": {"open_x_json_ser_de": {}}},
        "output_format_configuration": {
            "serializer": {"parquet_ser_de": {"compression": defaults.ARCHIVE_COMPRESSION}}
        },
        "schema_configuration": {
            "database_name": database.name,
            "table_name": table.name,
            "role_arn": role_arn,
            "region": ctx.region,
            "catalog_id": ctx.account_id,
            "version_id": "LATEST",
        },
    }


def create_archive(
    ctx: PipelineContext,
    *,
    bucket: aws.s3.Bucket,
    log_group: aws.cloudwatch.LogGroup,
    role: aws.iam.Role,
    role_policy: aws.iam.RolePolicy,
    key_arn,
    stream_arn,
) -> Archive:
    settings = ctx.tenant.archive
    database, table = create_catalog(ctx, bucket)
    parquet = settings.format == "parquet"
    s3_configuration = {
        "bucket_arn": bucket.arn,
        "role_arn": role.arn,
        "buffering_size": settings.buffer_mb,
        "buffering_interval": settings.buffer_seconds,
        "prefix": defaults.ARCHIVE_PREFIX,
        "error_output_prefix": defaults.ARCHIVE_ERROR_PREFIX,
        # Parquet compresses inside the file (Snappy); the object itself must then be uncompressed.
        "compression_format": "UNCOMPRESSED" if parquet else "GZIP",
        "kms_key_arn": key_arn,
        "cloudwatch_logging_options": {
            "enabled": True,
            "log_group_name": log_group.name,
            "log_stream_name": FIREHOSE_LOG_STREAM,
        },
    }
    if parquet:
        s3_configuration["data_format_conversion_configuration"] = _conversion(ctx, role.arn, database, table)
    delivery = aws.kinesis.FirehoseDeliveryStream(
        f"{ctx.tenant.tenant}-delivery",
        name=ctx.names.delivery_stream,
        destination="extended_s3",
        kinesis_source_configuration={"kinesis_stream_arn": stream_arn, "role_arn": role.arn},
        extended_s3_configuration=s3_configuration,
        tags=ctx.tags,
        opts=ctx.opts(depends_on=[role_policy, table]),
    )
    return Archive(bucket=bucket, log_group=log_group, database=database, table=table, delivery_stream=delivery)


def table_arns(ctx: PipelineContext) -> tuple[pulumi.Output[str], pulumi.Output[str]]:
    """The Glue database and table ARNs, known before either exists (the Firehose policy needs them)."""
    return (
        ctx.arn("glue", f"database/{ctx.names.glue_database}"),
        ctx.arn("glue", f"table/{ctx.names.glue_database}/{ctx.names.glue_table}"),
    )
