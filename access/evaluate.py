"""Decide whether AWS allows one request, from the identity, resource and key policies that apply to it.

Same-account evaluation only, over the policy grammar Tributary emits: no permissions boundaries, session
policies, SCPs, grants or cross-account requests. Anything outside that grammar raises `UnsupportedPolicy`
rather than being guessed at. Each rule names the AWS page it comes from.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from enum import IntEnum

from access.matching import action_matches, conditions_hold, resource_matches
from access.policy_types import (
    IAM_GUIDE,
    SERVICE_PREFIX,
    Decision,
    Grant,
    LabelledPolicy,
    PolicySet,
    Request,
    StatementRef,
    UnsupportedPolicy,
)

EVALUATION_LOGIC = f"{IAM_GUIDE}/reference_policies_evaluation-logic.html"
PRINCIPAL_ELEMENT = f"{IAM_GUIDE}/reference_policies_elements_principal.html"
KEY_POLICIES = "https://docs.aws.amazon.com/kms/latest/developerguide/key-policies.html"

STATEMENT_ELEMENTS = {"Sid", "Effect", "Principal", "NotPrincipal", "Action", "NotAction", "Resource", "NotResource"}
_IAM_PRINCIPAL = re.compile(r"arn:(?P<partition>[\w-]+):iam::(?P<account>\d{12}):(?P<name>root|role/.+|user/.+)")


class _Reach(IntEnum):
    """How a statement's Principal names the caller."""

    NONE = 0
    # The caller's account: in a resource policy this only delegates to identity policies (PRINCIPAL_ELEMENT,
    # "AWS account principals": "This delegates authority to the account").
    ACCOUNT = 1
    DIRECT = 2


@dataclass(frozen=True)
class _Caller:
    arn: str | None = None
    account: str | None = None
    root: str | None = None  # the account's root ARN, one way a Principal names the account
    service: str | None = None


@dataclass(frozen=True)
class _Hit:
    ref: StatementRef
    effect: str
    reach: _Reach


def evaluate(request: Request, policies: PolicySet) -> Decision:
    """AWS's same-account decision (EVALUATION_LOGIC): an explicit Deny anywhere wins; a KMS key must allow
    the caller itself, or its account together with an identity policy (KEY_POLICIES); any other resource is
    allowed by an identity policy or by a resource policy naming the caller; otherwise implicitly denied."""
    caller = _caller(request.principal)
    context = _context(request, caller)
    on_key = request.action.lower().startswith("kms:") and policies.key_policy is not None
    target = policies.key_policy if on_key else policies.resource
    identity = [hit for policy in policies.identity for hit in _hits(policy, request, context, caller, False)]
    targeted = _hits(target, request, context, caller, True) if target else []
    denials = tuple(hit.ref for hit in identity + targeted if hit.effect == "Deny")
    if denials:
        return Decision(False, f"explicitly denied by {_names(denials)}", denied_by=denials)
    by_identity = tuple(hit.ref for hit in identity if hit.effect == "Allow")
    direct = tuple(hit.ref for hit in targeted if hit.effect == "Allow" and hit.reach is _Reach.DIRECT)
    delegated = tuple(hit.ref for hit in targeted if hit.effect == "Allow" and hit.reach is _Reach.ACCOUNT)
    if on_key:
        return _key_decision(request, direct, delegated, by_identity)
    if caller.arn and caller.arn == caller.root:
        # EVALUATION_LOGIC: "all requests are implicitly denied with the exception of the AWS account root
        # user, which has full access" (a KMS key must still allow it: KEY_POLICIES).
        return Decision(True, "allowed: the account root user has full access unless explicitly denied")
    allowed_by = by_identity + direct + (delegated if by_identity else ())
    if allowed_by:
        return Decision(True, f"allowed by {_names(allowed_by)}", allowed_by=allowed_by)
    return Decision(False, f"implicitly denied: no policy allows {request.action} on {request.resource}")


def _key_decision(request: Request, direct, delegated, by_identity) -> Decision:
    allowed_by = direct + ((delegated + by_identity) if delegated and by_identity else ())
    if allowed_by:
        return Decision(True, f"allowed by {_names(allowed_by)}", allowed_by=allowed_by)
    if delegated:
        why = f"the key policy delegates to the account ({_names(delegated)}) but no identity policy allows it"
    else:
        why = "the key policy neither names the caller nor delegates to its account"
    return Decision(False, f"implicitly denied: {request.action} by {request.principal}: {why}")


def grants(document: Mapping, label: str = "") -> list[Grant]:
    """Every (action, resource) pattern each Allow statement of `document` grants. A statement without a
    Resource (a role trust policy) grants on the resource the policy is attached to, written `*`."""
    found = []
    for index, statement in _statements(document):
        if statement["Effect"] != "Allow":
            continue
        if "NotAction" in statement or "NotResource" in statement:
            raise UnsupportedPolicy(f"statement {index}: what NotAction/NotResource grants cannot be listed")
        ref = StatementRef(label, statement.get("Sid"), index)
        for action in _strings(statement.get("Action"), "Action"):
            for resource in _strings(statement.get("Resource", "*"), "Resource"):
                found.append(Grant(ref, action, resource, statement))
    return found


def grant_matches(grant: Grant, request: Request) -> bool:
    """Whether `request` is one the grant covers: its action, resource, principal (if the statement names
    one) and conditions all match."""
    caller = _caller(request.principal)
    statement = grant.statement
    names_principal = "Principal" in statement or "NotPrincipal" in statement
    if names_principal and _reach(statement, caller) is _Reach.NONE:
        return False
    return (
        action_matches(grant.action, request.action)
        and resource_matches(grant.resource, request.resource)
        and conditions_hold(statement.get("Condition", {}), _context(request, caller))
    )


def _hits(policy: LabelledPolicy, request: Request, context, caller: _Caller, resource_based: bool) -> list[_Hit]:
    hits = []
    for index, statement in _statements(policy.document):
        if ("Principal" in statement or "NotPrincipal" in statement) != resource_based:
            # PRINCIPAL_ELEMENT: "You cannot use the Principal element in an identity-based policy".
            raise UnsupportedPolicy(f"{policy.label} statement {index}: Principal belongs in resource policies only")
        reach = _reach(statement, caller) if resource_based else _Reach.DIRECT
        if reach is not _Reach.NONE and _applies(statement, request, context):
            hits.append(_Hit(StatementRef(policy.label, statement.get("Sid"), index), statement["Effect"], reach))
    return hits


def _statements(document: Mapping) -> list[tuple[int, Mapping]]:
    if not isinstance(document, Mapping) or set(document) - {"Version", "Id", "Statement"}:
        raise UnsupportedPolicy(f"not a policy document: {document!r}")
    if document.get("Version", "2012-10-17") != "2012-10-17":
        raise UnsupportedPolicy(f"policy language version {document['Version']!r}")
    raw = document.get("Statement", [])
    listed = raw if isinstance(raw, list) else [raw]
    for index, statement in enumerate(listed):
        if not isinstance(statement, Mapping) or set(statement) - STATEMENT_ELEMENTS - {"Condition"}:
            raise UnsupportedPolicy(f"statement {index}: unknown element in {statement!r}")
        if statement.get("Effect") not in ("Allow", "Deny"):
            raise UnsupportedPolicy(f"statement {index}: Effect must be Allow or Deny")
    return list(enumerate(listed))


def _applies(statement: Mapping, request: Request, context) -> bool:
    return (
        _element_matches(statement, "Action", request.action, action_matches)
        and _element_matches(statement, "Resource", request.resource, resource_matches)
        and conditions_hold(statement.get("Condition", {}), context)
    )


def _element_matches(statement: Mapping, name: str, value: str, matches: Callable[[str, str], bool]) -> bool:
    negated = f"Not{name}"
    if name in statement and negated in statement:
        raise UnsupportedPolicy(f"both {name} and {negated} in {statement!r}")
    if name in statement:
        return any(matches(pattern, value) for pattern in _strings(statement[name], name))
    if negated in statement:
        return not any(matches(pattern, value) for pattern in _strings(statement[negated], negated))
    if name == "Resource" and ("Principal" in statement or "NotPrincipal" in statement):
        return True  # a role trust policy: the resource is the role the policy is attached to
    raise UnsupportedPolicy(f"statement without {name} or {negated}: {statement!r}")


def _strings(raw, element: str) -> list[str]:
    values = raw if isinstance(raw, list) else [raw]
    if not values or not all(isinstance(value, str) for value in values):
        raise UnsupportedPolicy(f"{element} must be a string or a list of strings, got {raw!r}")
    if any("${" in value for value in values):
        raise UnsupportedPolicy(f"policy variables in {element}: {raw!r}")
    return values


def _caller(principal: str) -> _Caller:
    if principal.startswith(SERVICE_PREFIX):
        return _Caller(service=principal.removeprefix(SERVICE_PREFIX))
    parsed = _IAM_PRINCIPAL.fullmatch(principal)
    if not parsed:
        raise ValueError(f"principal must be an IAM role, user or root ARN, or service:<name>: {principal!r}")
    root = f"arn:{parsed['partition']}:iam::{parsed['account']}:root"
    return _Caller(arn=principal, account=parsed["account"], root=root)


def _reach(statement: Mapping, caller: _Caller) -> _Reach:
    if "Principal" in statement:
        return max(_named(statement["Principal"], caller), default=_Reach.NONE)
    if statement["Effect"] == "Allow":
        # NOTPRINCIPAL (reference_policies_elements_notprincipal.html): "strongly recommend that you do not
        # use NotPrincipal" with Allow; most resource policy types refuse it.
        raise UnsupportedPolicy("NotPrincipal with Allow")
    named = _named(statement["NotPrincipal"], caller)
    if _Reach.DIRECT not in named:
        return _Reach.DIRECT
    if caller.arn and _Reach.ACCOUNT not in named and caller.arn != caller.root:
        # The same page: without the principal's account ARN too, "the policy might deny access to the
        # entire account containing the principal" - an outcome AWS leaves open.
        raise UnsupportedPolicy(f"NotPrincipal names {caller.arn} without its account")
    return _Reach.NONE


def _named(principal, caller: _Caller) -> set[_Reach]:
    """How each entry of a Principal element names the caller (PRINCIPAL_ELEMENT)."""
    if principal == "*":
        return {_Reach.DIRECT, _Reach.ACCOUNT}  # "All principals", and so every account
    if not isinstance(principal, Mapping) or not principal or set(principal) - {"AWS", "Service"}:
        raise UnsupportedPolicy(f"Principal {principal!r}: only *, AWS and Service are judged")
    reaches = set()
    for entry in _strings(principal["AWS"], "Principal.AWS") if "AWS" in principal else []:
        reaches |= _aws_reach(entry, caller)
    for entry in _strings(principal["Service"], "Principal.Service") if "Service" in principal else []:
        reaches.add(_Reach.DIRECT if entry == caller.service else _Reach.NONE)
    return reaches - {_Reach.NONE}


def _aws_reach(entry: str, caller: _Caller) -> set[_Reach]:
    if entry == "*":
        return _named("*", caller)  # {"AWS": "*"} is equivalent to "*" (PRINCIPAL_ELEMENT, "All principals")
    if "*" in entry or "?" in entry:
        raise UnsupportedPolicy(f"wildcard inside principal {entry!r}: AWS does not allow one")
    if caller.arn and entry == caller.arn:
        return {_Reach.DIRECT}
    # An account ID and its root ARN "behave the same way" (PRINCIPAL_ELEMENT, "AWS account principals").
    if caller.account and entry in (caller.account, caller.root):
        return {_Reach.ACCOUNT}
    return set()


def _context(request: Request, caller: _Caller) -> dict[str, list[str] | str]:
    """The request's condition keys by case-folded name: "Condition key names are not case-sensitive"
    (reference_policies_elements_condition.html). aws:PrincipalArn and aws:PrincipalAccount are added for
    IAM principals (reference_policies_condition-keys.html); the caller's own values take precedence."""
    derived = {"aws:PrincipalArn": caller.arn, "aws:PrincipalAccount": caller.account} if caller.arn else {}
    merged = {**derived, **request.context}
    folded = {key.casefold(): value for key, value in merged.items()}
    if len(folded) != len(merged):
        raise UnsupportedPolicy(f"context keys differ only by case: {sorted(merged)}")
    return folded


def _names(refs: Iterable[StatementRef]) -> str:
    return ", ".join(str(ref) for ref in refs)
