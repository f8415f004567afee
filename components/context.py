"""What every part of one tenant's pipeline needs to know: the tenant, its names, where it deploys."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

import pulumi
import pulumi_aws as aws

from components import defaults, lifecycle
from components.config import TenantFile
from components.naming import TenantNames, tenant_names


@dataclass(frozen=True)
class PipelineContext:
    tenant: TenantFile
    stack: str
    names: TenantNames
    account_id: pulumi.Output[str]
    region: pulumi.Output[str]
    partition: pulumi.Output[str]
    parent: pulumi.Resource
    provider: pulumi.ProviderResource | None
    settings: Any  # components.stack.StackSettings

    @property
    def tags(self) -> dict[str, str]:
        """Tags for every resource that takes them: ours last, so a tenant cannot override them. A tenant whose
        data is let go says so on each resource, for the policy pack's data-protection rules."""
        ours = {"tenant": self.tenant.tenant, "stack": self.stack, "managed-by": defaults.MANAGED_BY}
        if self.lets_data_go:
            ours[lifecycle.LIFECYCLE_TAG] = lifecycle.DELETE_DATA
        return {**self.tenant.tags, **ours}

    @property
    def lets_data_go(self) -> bool:
        """Whether the tenant file's second explicit step (`lifecycle: delete-data`) releases its data."""
        return lifecycle.lets_data_go(self.tenant.lifecycle)

    @property
    def keeps_data(self) -> bool:
        """Whether removing the tenant (its file, or a selection that leaves it out) keeps what holds data."""
        return self.tenant.retain_on_delete and not self.lets_data_go

    def opts(self, *, retain: bool = False, **kwargs: Any) -> pulumi.ResourceOptions:
        """Options for a child: parented, on the tenant's provider, and kept on delete if it holds data."""
        return pulumi.ResourceOptions(
            parent=self.parent,
            provider=self.provider,
            retain_on_delete=retain and self.keeps_data,
            **kwargs,
        )

    def names_in_account(self) -> pulumi.Output[TenantNames]:
        """The names once the account id is known (bucket names embed it, being global)."""
        return self.account_id.apply(lambda account: tenant_names(self.tenant.tenant, self.stack, account))

    def arn(self, service: str, resource: str, *, regional: bool = True) -> pulumi.Output[str]:
        """An ARN in this tenant's account and region, e.g. arn("dynamodb", "table/x")."""
        return pulumi.Output.all(self.partition, self.region, self.account_id).apply(
            lambda values: f"arn:{values[0]}:{service}:{values[1] if regional else ''}:{values[2]}:{resource}"
        )


def encrypted_log_group(ctx: PipelineContext, part: str, name: str, key_arn: Any) -> aws.cloudwatch.LogGroup:
    """A log group created before its writer, with the standard retention and the tenant key."""
    return aws.cloudwatch.LogGroup(
        f"{ctx.tenant.tenant}-{part}-logs",
        name=name,
        retention_in_days=defaults.LOG_RETENTION_DAYS,
        kms_key_id=key_arn,
        tags=ctx.tags,
        opts=ctx.opts(),
    )


def to_json(value: Any) -> str:
    return json.dumps(value, sort_keys=True)
