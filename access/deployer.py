"""The identity that runs `pulumi up` on one stack: its IAM policy, and whether each tenant's key lets it work.

- `deployer_policy(stack, ...)` is the identity policy, built from `DEPLOYER_ACTIONS` and `DEPLOYER_KEY_USE`
  (`access.aws_rules`). Every action lands in one or more `Scope`s (`deployer_scopes.py`): ARN patterns of
  Tributary's own names on that stack.
- `deployer_key_check(evaluation, ...)` evaluates every use of a tenant's KMS key that creating the tenant's
  resources needs against that key's policy (as the program generates it) together with `deployer_policy`.

Names are `<tenant>--<stack>--<part>` and neither a tenant nor a stack name may hold `--`, so `*--dev--events`
matches the streams of stack `dev` and no other stack's.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from functools import cache

from access.aws_rules import DEPLOYER_ACTIONS, DEPLOYER_KEY_USE, DYNAMODB_KEYS, SAR_KMS
from access.deployer_scopes import KEY_TYPE, Scope, scopes_of, stack_scopes
from access.evaluate import evaluate, grant_matches, grants
from access.policy_types import Grant, LabelledPolicy, PolicySet, Request
from components.offline import Evaluation, RegisteredResource

PROVIDER_KEY_ROTATION = "terraform-provider-aws internal/service/kms/key.go: updateKeyRotationEnabled"

DEFAULT_DEPLOYER_ROLE = "tributary-deployer"

KMS_WILDCARDS: dict[str, tuple[str, ...]] = {
    # Only DynamoDB's minimum uses kms:GenerateDataKey* and kms:ReEncrypt*; its page spells them out as
    # "kms:GenerateDataKey* (for kms:GenerateDataKey and kms:GenerateDataKeyWithoutPlaintext)" and
    # "kms:ReEncrypt* (for kms:ReEncryptFrom and kms:ReEncryptTo)" (DYNAMODB_KEYS), so the data key pair
    # actions the pattern would also match are neither asked of the key policy nor granted.
    "kms:GenerateDataKey*": ("kms:GenerateDataKey", "kms:GenerateDataKeyWithoutPlaintext"),
    "kms:ReEncrypt*": ("kms:ReEncryptFrom", "kms:ReEncryptTo"),
    # The Kinesis page names no List action: every one whose SAR_KMS entry requires the `key*` resource type.
    # kms:ListAliases, kms:ListKeys and kms:ListRetirableGrants take no key, so no key policy is asked for them.
    "kms:List*": ("kms:ListGrants", "kms:ListKeyPolicies", "kms:ListKeyRotations", "kms:ListResourceTags"),
}
"""What a wildcard in aws_rules stands for on one key, so each action is checked and granted by name."""

KMS_WILDCARD_SOURCES: dict[str, str] = {
    "kms:GenerateDataKey*": DYNAMODB_KEYS,
    "kms:ReEncrypt*": DYNAMODB_KEYS,
    "kms:List*": SAR_KMS,
}
"""The page behind each KMS_WILDCARDS entry."""


@dataclass(frozen=True)
class RefusedAction:
    """A documented deployer action the key policy refuses on purpose, and why that is safe."""

    reason: str
    source: str


DEPLOYER_EXCEPTIONS: dict[str, RefusedAction] = {
    "kms:DisableKeyRotation": RefusedAction(
        "the provider calls DisableKeyRotation only when enable_key_rotation is false; the program always sets "
        "it from defaults.KMS_KEY_ROTATION (True) and no tenant field changes it, so neither the key policy nor "
        "the deployer policy grants a way to stop rotation",
        PROVIDER_KEY_ROTATION,
    ),
}
"""Actions that DEPLOYER_ACTIONS/DEPLOYER_KEY_USE list but Tributary never needs: granted nowhere, not checked."""


@dataclass(frozen=True)
class Finding:
    """A key use the deployer needs but would be refused, for one tenant's resource type."""

    tenant: str
    type: str
    action: str
    reason: str

    def __str__(self) -> str:
        return f"{self.tenant}: {self.type}: {self.action}: {self.reason}"


def concrete(action: str) -> tuple[str, ...]:
    """The KMS actions a wildcard in aws_rules stands for on one key (KMS_WILDCARDS); other actions as they are."""
    return KMS_WILDCARDS.get(action, (action,))


def needed_actions() -> Iterable[tuple[str, str, str | None]]:
    """(type acted on, concrete action, via service) for every action the deployer needs, exceptions included.
    A key use acts on the tenant's key, whichever resource's creation needs it."""
    for resource_type, actions in DEPLOYER_ACTIONS.items():
        for action in actions:
            yield resource_type, action, None
    for uses in DEPLOYER_KEY_USE.values():
        for use in uses:
            for pattern in use.actions:
                for action in concrete(pattern):
                    yield KEY_TYPE, action, use.via_service


# -- The policy --------------------------------------------------------------------------------------------------


def deployer_policy(stack: str, region: str = "*", account: str = "*", partition: str = "aws") -> dict:
    """The IAM identity policy for whoever runs `pulumi up` on `stack`: every action the program's resource types
    need, each on Tributary's names on that stack. `region` and `account` narrow the ARNs; `*` keeps them open."""
    scopes = stack_scopes(stack, region, account, partition)
    granted: dict[str, set[str]] = {sid: set() for sid in scopes}
    for resource_type, action, via in needed_actions():
        if action in DEPLOYER_EXCEPTIONS:
            continue
        for sid in scopes_of(resource_type, action, via):
            granted[sid].add(action)
    statements = [_statement(scopes[sid], actions) for sid, actions in granted.items() if actions]
    return {"Version": "2012-10-17", "Statement": statements}


def _statement(scope: Scope, actions: set[str]) -> dict:
    statement = {
        "Sid": scope.sid,
        "Effect": "Allow",
        "Action": sorted(actions),
        "Resource": scope.resources[0] if len(scope.resources) == 1 else list(scope.resources),
    }
    if scope.condition:
        statement["Condition"] = {operator: dict(keys) for operator, keys in scope.condition.items()}
    return statement


# -- The key check -----------------------------------------------------------------------------------------------


def deployer_key_check(evaluation: Evaluation, deployer_arn: str | None = None) -> list[Finding]:
    """Every key use DEPLOYER_KEY_USE lists for the resources the plan registers, evaluated for the deployer
    against the tenant key's generated policy plus `deployer_policy`. kms:CreateKey (and the kms:TagResource
    its tags need) are judged by the identity policy alone: the key does not exist yet.

    `deployer_arn` defaults to the role `tributary-deployer` in the key's account."""
    keys = {r.tenant: r for r in evaluation.resources if r.type == KEY_TYPE and r.tenant}
    findings: dict[Finding, None] = {}  # in plan order, each once (a tenant may have two buckets of one type)
    for resource in evaluation.resources:
        if not resource.tenant or not DEPLOYER_KEY_USE.get(resource.type):
            continue
        key = keys.get(resource.tenant)
        if key is None:
            findings[Finding(resource.tenant, resource.type, "kms:*", "the plan registers no KMS key")] = None
            continue
        for action, refusal in _key_decisions(evaluation.stack, resource, key, deployer_arn):
            if refusal is not None:
                findings[Finding(resource.tenant, resource.type, action, refusal)] = None
    return list(findings)


def _key_decisions(
    stack: str, resource: RegisteredResource, key: RegisteredResource, deployer_arn: str | None
) -> Iterable[tuple[str, str | None]]:
    """(action, None if allowed else the reason it is refused) for each key use `resource`'s type needs."""
    _, partition, _, region, account, _ = key.state["arn"].split(":", 5)
    principal = deployer_arn or f"arn:{partition}:iam::{account}:role/{DEFAULT_DEPLOYER_ROLE}"
    identity = LabelledPolicy("deployer-policy", _policy(stack, region, account, partition))
    on_key = PolicySet(identity=[identity], key_policy=LabelledPolicy("tenant-key", _key_policy(key)))
    tags = dict(key.inputs.get("tags") or {})
    caller = {"kms:CallerAccount": account}
    for use in DEPLOYER_KEY_USE[resource.type]:
        for action in (a for pattern in use.actions for a in concrete(pattern)):
            if action in DEPLOYER_EXCEPTIONS:
                continue
            if action == "kms:CreateKey":
                # No key yet: IAM alone decides, for CreateKey and for the kms:TagResource its tags need
                # (KMS_TAG_PERMISSIONS), on the request's tags.
                requested = {**caller, **_tags("aws:RequestTag", tags)}
                iam_only = PolicySet(identity=[identity])
                yield action, _refusal(Request(principal, action, "*", requested), iam_only)
                on_create = _refusal(Request(principal, "kms:TagResource", key.state["arn"], requested), iam_only)
                yield "kms:TagResource", on_create and f"tagging the key in CreateKey: {on_create}"
                continue
            context = {**caller, **_tags("aws:ResourceTag", tags)}
            if use.via_service:
                context["kms:ViaService"] = f"{use.via_service}.{region}.amazonaws.com"
            if action == "kms:CreateGrant":
                context["kms:GrantIsForAWSResource"] = "true"
            yield action, _refusal(Request(principal, action, key.state["arn"], context), on_key)


def _refusal(request: Request, policies: PolicySet) -> str | None:
    """None if `request` is allowed; else the evaluator's reason, plus the key policy's statements that name the
    caller and the action but whose conditions do not hold (the usual way a key policy refuses by accident)."""
    decision = evaluate(request, policies)
    if decision.allowed:
        return None
    key_policy = policies.key_policy
    near = [] if key_policy is None else _conditions_fail(key_policy, request)
    return decision.reason + (f"; {', '.join(near)} name it but their conditions do not hold" if near else "")


def _conditions_fail(policy: LabelledPolicy, request: Request) -> list[str]:
    unconditioned = (
        Grant(grant.ref, grant.action, grant.resource, {**grant.statement, "Condition": {}})
        for grant in grants(policy.document, policy.label)
    )
    return sorted({str(grant.ref) for grant in unconditioned if grant_matches(grant, request)})


def _tags(condition_key: str, tags: Mapping[str, str]) -> dict[str, str]:
    return {f"{condition_key}/{name}": value for name, value in tags.items()}


def _key_policy(key: RegisteredResource) -> dict:
    policy = key.inputs.get("policy")
    return json.loads(policy) if isinstance(policy, str) else dict(policy or {})


@cache
def _policy(stack: str, region: str, account: str, partition: str) -> dict:
    return deployer_policy(stack, region, account, partition)
