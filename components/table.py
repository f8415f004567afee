"""The tenant's DynamoDB table: on demand, CMK-encrypted, recoverable, protected from deletion."""

from __future__ import annotations

import pulumi_aws as aws

from components import defaults
from components.context import PipelineContext
from runtime.modes import MODES
from runtime.settings import PARTITION_KEY_ATTRIBUTE, SORT_KEY_ATTRIBUTE, TTL_ATTRIBUTE


def create_table(ctx: PipelineContext, key_arn) -> aws.dynamodb.Table:
    """The table the tenant's handler writes, keyed and expired by the handler's own attribute names."""
    settings = ctx.tenant.table
    records = ctx.tenant.records
    # A mode that keeps dedupe markers needs them to expire, so it needs TTL even without ttl_days.
    ttl_enabled = records.ttl_days is not None or MODES[records.write].dedupe_markers
    return aws.dynamodb.Table(
        f"{ctx.tenant.tenant}-table",
        name=ctx.names.table,
        billing_mode=defaults.TABLE_BILLING_MODE,
        # The handler writes every item under these string keys.
        hash_key=PARTITION_KEY_ATTRIBUTE,
        range_key=SORT_KEY_ATTRIBUTE,
        attributes=[{"name": PARTITION_KEY_ATTRIBUTE, "type": "S"}, {"name": SORT_KEY_ATTRIBUTE, "type": "S"}],
        server_side_encryption={"enabled": True, "kms_key_arn": key_arn},
        point_in_time_recovery={"enabled": settings.point_in_time_recovery},
        # The second explicit step (`lifecycle: delete-data`) turns protection off, so removing the file deletes it.
        deletion_protection_enabled=settings.deletion_protection and not ctx.lets_data_go,
        ttl={"attribute_name": TTL_ATTRIBUTE, "enabled": True} if ttl_enabled else None,
        tags=ctx.tags,
        opts=ctx.opts(retain=True),
    )
