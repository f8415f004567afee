"""No principal gets an AWS managed policy: those grant every resource of a kind and change when AWS changes them."""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from typing import Any

from .documents import as_list
from .rule import resource_rule
from .types import POLICY_ATTACHMENTS, ROLE

# AWS managed policies live in the account named "aws": arn:<partition>:iam::aws:policy/<path><name>
# ("Managed policies and inline policies").
AWS_MANAGED = re.compile(r"^arn:[^:]+:iam::aws:policy/")


def check(props: Mapping[str, Any]) -> Iterator[str]:
    arns = [props.get("policyArn"), *as_list(props.get("managedPolicyArns"))]
    for arn in arns:
        if isinstance(arn, str) and AWS_MANAGED.match(arn):
            yield f"attaches the AWS managed policy {arn}"


RULE = resource_rule(
    name="iam-no-aws-managed-policies",
    description="No role or attachment uses an AWS managed policy.",
    types=(ROLE, *POLICY_ATTACHMENTS),
    check=check,
    fix="replace it with an inline policy that names the tenant's own resources (components/policies.py)",
    url="https://docs.aws.amazon.com/IAM/latest/UserGuide/access_policies_managed-vs-inline.html",
)
