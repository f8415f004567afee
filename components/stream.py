"""The tenant's Kinesis Data Stream, encrypted with its key, and its enhanced fan-out consumer."""

from __future__ import annotations

from dataclasses import dataclass

import pulumi_aws as aws

from components.context import PipelineContext

MODES = {"on_demand": "ON_DEMAND", "provisioned": "PROVISIONED"}


@dataclass
class TenantStream:
    stream: aws.kinesis.Stream
    consumer: aws.kinesis.StreamConsumer | None


def create_stream(ctx: PipelineContext, key_arn) -> TenantStream:
    settings = ctx.tenant.stream
    name = ctx.tenant.tenant
    stream = aws.kinesis.Stream(
        f"{name}-stream",
        name=ctx.names.stream,
        stream_mode_details={"stream_mode": MODES[settings.mode]},
        shard_count=settings.shards if settings.mode == "provisioned" else None,
        retention_period=settings.retention_hours,
        encryption_type="KMS",
        kms_key_id=key_arn,
        # Shard-level metrics let the dashboard and alarms see a hot shard, not just the average.
        shard_level_metrics=["IncomingRecords", "IteratorAgeMilliseconds", "WriteProvisionedThroughputExceeded"],
        enforce_consumer_deletion=True,
        tags=ctx.tags,
        opts=ctx.opts(),
    )
    consumer = None
    if settings.enhanced_fan_out:
        consumer = aws.kinesis.StreamConsumer(
            f"{name}-consumer",
            name=ctx.names.consumer,
            stream_arn=stream.arn,
            tags=ctx.tags,
            opts=ctx.opts(),
        )
    return TenantStream(stream=stream, consumer=consumer)
