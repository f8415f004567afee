"""The tenant's KMS key: one per tenant, rotated, with a policy that names only its own roles and services."""

from __future__ import annotations

from dataclasses import dataclass

import pulumi
import pulumi_aws as aws

from components import defaults
from components.context import PipelineContext


@dataclass
class TenantKey:
    key: aws.kms.Key
    alias: aws.kms.Alias


def create_key(ctx: PipelineContext, policy: pulumi.Input[str]) -> TenantKey:
    name = ctx.tenant.tenant
    key = aws.kms.Key(
        f"{name}-key",
        description=f"tributary: encrypts every data store of tenant {name} on stack {ctx.stack}",
        enable_key_rotation=defaults.KMS_KEY_ROTATION,
        deletion_window_in_days=defaults.KMS_DELETION_WINDOW_DAYS,
        policy=policy,
        tags=ctx.tags,
        opts=ctx.opts(retain=True),
    )
    alias = aws.kms.Alias(
        f"{name}-key-alias",
        name=ctx.names.key_alias,
        target_key_id=key.key_id,
        opts=ctx.opts(),
    )
    return TenantKey(key=key, alias=alias)
