"""The records the policy evaluator reads and returns: a request, the policies that apply to it, a decision, a grant.

A principal is an IAM ARN, or `service:<name>` (`SERVICE_PREFIX`) for a service principal such as
`service:logs.us-east-1.amazonaws.com`.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

SERVICE_PREFIX = "service:"
IAM_GUIDE = "https://docs.aws.amazon.com/IAM/latest/UserGuide"  # the pages the evaluator's rules come from


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
