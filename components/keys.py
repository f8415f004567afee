"""The tenant's KMS key: one per tenant, rotated, with a policy that names only its own roles and services.

While the pipeline runs, the key's policy is `key_policy.key_policy`. A tenant whose pipeline is gone
(`lifecycle: offboarded` or `delete-data`) keeps the key for its data; its policy is `retained_key_policy`.
"""

from __future__ import annotations

from dataclasses import dataclass

import pulumi
import pulumi_aws as aws

from components import defaults
from components.context import PipelineContext
from components.key_policy import KEY_ADMIN_ACTIONS, _split_grant, _use_statement, deployer_key_use, reader_key_use
from components.policies import document


@dataclass
class TenantKey:
    key: aws.kms.Key
    alias: aws.kms.Alias


@dataclass(frozen=True)
class RetainedKeyArns:
    """What the key policy of a tenant without its pipeline names: the account, the data stores, the readers."""

    partition: str
    region: str
    account_id: str
    table_name: str
    archive_bucket: str | None = None
    failure_bucket: str | None = None
    reader_roles: tuple[str, ...] = ()


# The deployer still updates the encrypted table; no function environment is left to encrypt.
RETAINED_DEPLOYER_SERVICES = ("dynamodb",)


def retained_key_policy(arns: RetainedKeyArns) -> dict:
    """The key's policy once the pipeline is gone: the account administers the key, the deployer updates the
    table, readers still read the table, archive and failed records. The pipeline's roles leave the policy with
    the roles themselves: KMS refuses a policy that names a principal which no longer exists
    (https://repost.aws/knowledge-center/kms-policy-error-invalid-principals); so do producers, log groups and
    alarms, which have nothing left to use the key on."""
    root = f"arn:{arns.partition}:iam::{arns.account_id}:root"
    holders = [([root], [use for use in deployer_key_use() if use.service in RETAINED_DEPLOYER_SERVICES])]
    if arns.reader_roles:
        # The readers' uses name only the table and the buckets, which RetainedKeyArns carries by the same names.
        holders.append((list(arns.reader_roles), reader_key_use(arns)))
    administer = {
        "Sid": "AccountAdministersKey",
        "Effect": "Allow",
        "Principal": {"AWS": root},
        "Action": list(KEY_ADMIN_ACTIONS),
        "Resource": "*",
    }
    uses = [
        _use_statement(part, principals, arns.region, arns.account_id)
        for principals, key_uses in holders
        for use in key_uses
        for part in _split_grant(use)
    ]
    return document(administer, *uses)


def create_key(ctx: PipelineContext, policy: pulumi.Input[str]) -> TenantKey:
    name = ctx.tenant.tenant
    key = aws.kms.Key(
        f"{name}-key",
        description=f"tributary: encrypts every data store of tenant {name} on stack {ctx.stack}",
        enable_key_rotation=defaults.KMS_KEY_ROTATION,
        # Deleting the key (a tenant removed after `lifecycle: delete-data`) only schedules it for deletion.
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
