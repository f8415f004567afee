"""Decide whether AWS allows one request, from the identity, resource and key policies that apply to it.

Same-account evaluation only, over the policy grammar Tributary emits: no permissions boundaries, session
policies, SCPs, grants or cross-account requests. Anything outside that grammar raises `UnsupportedPolicy`
rather than being guessed at. Each rule names the AWS page it comes from.
"""

from __future__ import annotations

import operator
import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from enum import IntEnum
from functools import cache

IAM_GUIDE = "https://docs.aws.amazon.com/IAM/latest/UserGuide"
EVALUATION_LOGIC = f"{IAM_GUIDE}/reference_policies_evaluation-logic.html"
PRINCIPAL_ELEMENT = f"{IAM_GUIDE}/reference_policies_elements_principal.html"
CONDITION_OPERATORS = f"{IAM_GUIDE}/reference_policies_elements_condition_operators.html"
SET_OPERATORS = f"{IAM_GUIDE}/reference_policies_condition-single-vs-multi-valued-context-keys.html"
KEY_POLICIES = "https://docs.aws.amazon.com/kms/latest/developerguide/key-policies.html"

STATEMENT_ELEMENTS = {"Sid", "Effect", "Principal", "NotPrincipal", "Action", "NotAction", "Resource", "NotResource"}
_IAM_PRINCIPAL = re.compile(r"arn:(?P<partition>[\w-]+):iam::(?P<account>\d{12}):(?P<name>root|role/.+|user/.+)")


class UnsupportedPolicy(ValueError):
    """Raised when a policy, or a request against it, uses an element, operator or value outside the grammar
    this module judges exactly (for example `DateLessThan`, a policy variable, or `NotPrincipal` in an Allow).
    The message names the construct; extend the evaluator, with its AWS page, before relying on it."""


@dataclass(frozen=True)
class StatementRef:
    """One statement: the caller's label for its policy, its Sid if any, and its index in the policy."""

    policy: str
    sid: str | None
    index: int

    def __str__(self) -> str:
        return f"{self.policy}:{self.sid}" if self.sid else f"{self.policy}#{self.index}"


@dataclass(frozen=True)
class Request:
    """One AWS call: who (an IAM ARN, or `service:<name>` for a service principal), what, on which resource,
    with the condition keys AWS would put in its context (a list for a multivalued key)."""

    principal: str
    action: str
    resource: str
    context: Mapping[str, str | list[str]] = field(default_factory=dict)


@dataclass(frozen=True)
class Decision:
    """The outcome, a sentence saying why, and the statements that allowed or explicitly denied it."""

    allowed: bool
    reason: str
    allowed_by: tuple[StatementRef, ...] = ()
    denied_by: tuple[StatementRef, ...] = ()


@dataclass(frozen=True)
class LabelledPolicy:
    """A policy document and the name decisions give it (e.g. `processor-role`, `tenant-key`)."""

    label: str
    document: dict


@dataclass(frozen=True)
class PolicySet:
    """The policies that apply to one request. `key_policy` is consulted for `kms:` actions only (the target
    is the key), `resource` (queue, topic or bucket policy) for every other action."""

    identity: list[LabelledPolicy] = field(default_factory=list)
    resource: LabelledPolicy | None = None
    key_policy: LabelledPolicy | None = None


@dataclass(frozen=True)
class Grant:
    """One (action pattern, resource pattern) pair an Allow statement grants, with the statement it came from."""

    ref: StatementRef
    action: str
    resource: str
    statement: Mapping = field(compare=False, repr=False)


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
        _action_matches(grant.action, request.action)
        and _resource_matches(grant.resource, request.resource)
        and _conditions_hold(statement.get("Condition", {}), _context(request, caller))
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
        _element_matches(statement, "Action", request.action, _action_matches)
        and _element_matches(statement, "Resource", request.resource, _resource_matches)
        and _conditions_hold(statement.get("Condition", {}), context)
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
    if principal.startswith("service:"):
        return _Caller(service=principal.removeprefix("service:"))
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


@cache
def _wildcards(pattern: str, within_segments: bool) -> re.Pattern:
    """`*` and `?` as a regex. Within ARN segments (IAM reference_policies_elements_resource.html, "Using
    wildcards in resource ARNs") they stop at `:`, except a `*` that ends a segment, which may expand
    beyond the colon."""
    parts = []
    for position, char in enumerate(pattern):
        ends_segment = position + 1 == len(pattern) or pattern[position + 1] == ":"
        if char == "*":
            parts.append("[^:]*" if within_segments and not ends_segment else ".*")
        elif char == "?":
            parts.append("[^:]" if within_segments else ".")
        else:
            parts.append(re.escape(char))
    return re.compile("".join(parts), re.DOTALL)


def _action_matches(pattern: str, action: str) -> bool:
    # reference_policies_elements_action.html: "The prefix and the action name are case insensitive".
    return re.fullmatch(_wildcards(pattern.lower(), False), action.lower()) is not None


def _resource_matches(pattern: str, resource: str) -> bool:
    # Case-sensitive: reference_policies_elements_resource.html ("the IAM user name is case sensitive").
    # In a key policy "*" means the key itself (kms key-policy-overview.html), which "*" matches anyway.
    return _wildcards(pattern, True).fullmatch(resource) is not None


def _string_like(value: str, pattern: str) -> bool:
    return _wildcards(pattern, False).fullmatch(value) is not None


def _arn_like(value: str, pattern: str) -> bool:
    # CONDITION_OPERATORS: "Each of the six colon-delimited components of the ARN is checked separately".
    values, patterns = value.split(":", 5), pattern.split(":", 5)
    return len(values) == len(patterns) == 6 and all(map(_string_like, values, patterns))


def _is_number(text: str) -> bool:
    return re.fullmatch(r"-?\d+(\.\d+)?", text) is not None


def _numeric(compare: Callable[[float, float], bool]) -> Callable[[str, str], bool]:
    return lambda value, pattern: _is_number(value) and compare(float(value), float(pattern))


# Operator -> (does one request value match one policy value, is the operator negated). CONDITION_OPERATORS.
OPERATORS: dict[str, tuple[Callable[[str, str], bool], bool]] = {
    "StringEquals": (operator.eq, False),
    "StringNotEquals": (operator.eq, True),
    "StringEqualsIgnoreCase": (lambda value, pattern: value.casefold() == pattern.casefold(), False),
    "StringNotEqualsIgnoreCase": (lambda value, pattern: value.casefold() == pattern.casefold(), True),
    "StringLike": (_string_like, False),
    "StringNotLike": (_string_like, True),
    # "The ArnEquals and ArnLike condition operators behave identically", as do their negations.
    "ArnEquals": (_arn_like, False),
    "ArnLike": (_arn_like, False),
    "ArnNotEquals": (_arn_like, True),
    "ArnNotLike": (_arn_like, True),
    "Bool": (lambda value, pattern: value.lower() == pattern, False),
    "NumericEquals": (_numeric(operator.eq), False),
    "NumericNotEquals": (_numeric(operator.eq), True),
    "NumericLessThan": (_numeric(operator.lt), False),
    "NumericLessThanEquals": (_numeric(operator.le), False),
    "NumericGreaterThan": (_numeric(operator.gt), False),
    "NumericGreaterThanEquals": (_numeric(operator.ge), False),
}
_LITERALS: dict[str, Callable[[str], bool]] = {
    **{name: lambda value: len(value.split(":", 5)) == 6 for name in OPERATORS if name.startswith("Arn")},
    "Bool": lambda value: value in ("true", "false"),
    "Null": lambda value: value in ("true", "false"),
    **{name: _is_number for name in OPERATORS if name.startswith("Numeric")},
}


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


def _conditions_hold(condition: Mapping, context: Mapping) -> bool:
    """Operators AND'd, keys AND'd, values OR'd, negated operators' values NOR'd (IAM
    reference_policies_condition-logic-multiple-context-keys-or-values.html)."""
    if not isinstance(condition, Mapping):
        raise UnsupportedPolicy(f"Condition must be an object, got {condition!r}")
    return all(_operator_holds(name, block, context) for name, block in condition.items())


def _operator_holds(name: str, block, context: Mapping) -> bool:
    qualifier, _, base = name.rpartition(":")
    if_exists = base.endswith("IfExists")
    base = base.removesuffix("IfExists")
    known = base in OPERATORS or (base == "Null" and not if_exists and not qualifier)
    if qualifier not in ("", "ForAnyValue", "ForAllValues") or not known:
        raise UnsupportedPolicy(f"condition operator {name!r}")
    if not isinstance(block, Mapping) or not block:
        raise UnsupportedPolicy(f"{name} needs an object of condition keys, got {block!r}")
    return all(
        _key_holds(qualifier, base, if_exists, _policy_values(base, raw), context.get(key.casefold()))
        for key, raw in block.items()
    )


def _policy_values(base: str, raw) -> list[str]:
    listed = raw if isinstance(raw, list) else [raw]
    values = [str(value).lower() if isinstance(value, bool) else value for value in listed]
    values = [str(value) if isinstance(value, int | float) else value for value in values]
    if not values or not all(isinstance(value, str) and "${" not in value for value in values):
        raise UnsupportedPolicy(f"{base} values must be literal strings, booleans or numbers, got {raw!r}")
    if base in _LITERALS and not all(map(_LITERALS[base], values)):
        raise UnsupportedPolicy(f"{base} does not take {raw!r}")
    return values


def _key_holds(qualifier: str, base: str, if_exists: bool, values: list[str], present) -> bool:
    present = [present] if isinstance(present, str) else present or None
    if base == "Null":
        # "true (the key doesn't exist — it is null) or false (the key exists and its value is not null)".
        return any((value == "true") == (present is None) for value in values)
    matches, negated = OPERATORS[base]
    if present is None:
        # CONDITION_OPERATORS: a missing key makes a condition false, but true for negated operators and
        # ...IfExists; SET_OPERATORS: ForAllValues is true without the key, ForAnyValue false.
        return if_exists or qualifier == "ForAllValues" or (negated and not qualifier)
    if not qualifier and len(present) > 1:
        raise UnsupportedPolicy(f"{base} on a multivalued key needs ForAnyValue or ForAllValues ({SET_OPERATORS})")

    def one(value: str) -> bool:
        return any(matches(value, pattern) for pattern in values) != negated

    return all(map(one, present)) if qualifier == "ForAllValues" else any(map(one, present))


def _names(refs: Iterable[StatementRef]) -> str:
    return ", ".join(str(ref) for ref in refs)
