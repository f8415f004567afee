"""The tenant's two roles (processor, Firehose) and their inline least-privilege policies.

Roles are created first with trust only, so the key policy can name them; the permission policies are
attached once every ARN they name exists. No AWS-managed policies: each grant names this tenant's ARNs.
"""

from __future__ import annotations

import pulumi
import pulumi_aws as aws

from components import policies
from components.context import PipelineContext, to_json


def create_role(ctx: PipelineContext, part: str, name: str, service: str) -> aws.iam.Role:
    return aws.iam.Role(
        f"{ctx.tenant.tenant}-{part}-role",
        name=name,
        description=f"tributary: {part} of tenant {ctx.tenant.tenant}",
        assume_role_policy=ctx.account_id.apply(lambda account: to_json(policies.assume_role_policy(service, account))),
        tags=ctx.tags,
        opts=ctx.opts(),
    )


def attach_policy(
    ctx: PipelineContext, part: str, role: aws.iam.Role, document: pulumi.Output[dict]
) -> aws.iam.RolePolicy:
    return aws.iam.RolePolicy(
        f"{ctx.tenant.tenant}-{part}-policy",
        name=f"{ctx.tenant.tenant}-{part}",
        role=role.id,
        policy=document.apply(to_json),
        opts=ctx.opts(),
    )
