"""What the access proof found, as a report: denied requests, unused grants, the exceptions that explain some,
counted per kind of principal, as text or JSON.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from fnmatch import fnmatchcase
from typing import Any

from access.call_types import Call
from access.policy_types import SERVICE_PREFIX, Grant, Request

ROLE_KINDS = ("processor", "firehose")  # the program's role names end in -processor and -firehose


def principal_kind(principal: str) -> str:
    """What a principal is, for reports and exceptions: "processor" or "firehose" for the program's roles (by the
    role name's suffix), the service's first name for a service principal ("logs", "cloudwatch"), else "role"."""
    if principal.startswith(SERVICE_PREFIX):
        return principal.removeprefix(SERVICE_PREFIX).split(".", 1)[0]
    name = principal.rpartition("/")[2]
    return next((kind for kind in ROLE_KINDS if name.endswith(f"-{kind}")), "role")


@dataclass(frozen=True)
class UnusedGrantException:
    """A grant the proof may find unused, with the reason it is granted anyway. `action` is a pattern
    (fnmatch, case-insensitive) matched against the grant's action, for every principal of `principal_kind`."""

    principal_kind: str  # "processor" | "firehose" | "cloudwatch" | "logs"
    action: str
    why: str
    statement: str = "*"  # a pattern for the granting statement's Sid, to except one statement's grant only

    def covers(self, unused: UnusedGrant) -> bool:
        """Whether this exception explains `unused`."""
        return (
            unused.kind == self.principal_kind
            and fnmatchcase(unused.grant.action.lower(), self.action.lower())
            and fnmatchcase(unused.grant.ref.sid or "", self.statement)
        )


@dataclass(frozen=True)
class Denial:
    """A request AWS would refuse: who, from which API operation, and the evaluator's reason."""

    principal: str
    kind: str
    operation: str
    request: Request
    reason: str

    def line(self) -> str:
        r = self.request
        return f"DENIED {self.kind} {self.principal}: {r.action} on {r.resource} ({self.operation}): {self.reason}"

    def as_json(self) -> dict[str, Any]:
        r = self.request
        return {
            "principal": self.principal,
            "kind": self.kind,
            "operation": self.operation,
            "action": r.action,
            "resource": r.resource,
            "context": dict(r.context),
            "reason": self.reason,
        }


@dataclass(frozen=True)
class UnusedGrant:
    """An (action, resource) one of the principal's identity policies or key-policy statements grants and no
    request of the principal matched."""

    principal: str
    kind: str
    grant: Grant

    def line(self) -> str:
        return f"UNUSED {self.kind} {self.principal}: {self.grant.ref} {self.grant.action} on {self.grant.resource}"

    def as_json(self) -> dict[str, Any]:
        g = self.grant
        return {
            "principal": self.principal,
            "kind": self.kind,
            "statement": str(g.ref),
            "action": g.action,
            "resource": g.resource,
        }


@dataclass(frozen=True)
class ExceptedGrant:
    """An unused grant a documented exception covers."""

    unused: UnusedGrant
    exception: UnusedGrantException


@dataclass(frozen=True)
class ProofReport:
    """What the proof found: the calls, the requests they expand to, the denied requests (each distinct request
    once), the unused grants no exception covers, and those an exception does."""

    calls: tuple[Call, ...]
    requests: tuple[Request, ...]
    denied: tuple[Denial, ...]
    unused: tuple[UnusedGrant, ...]
    excepted: tuple[ExceptedGrant, ...] = field(default=())

    @property
    def ok(self) -> bool:
        """Nothing denied, and every unused grant excepted."""
        return not self.denied and not self.unused

    def counts(self) -> dict[str, dict[str, int]]:
        """Per principal kind: calls, requests, denied, unused and excepted."""
        tallies = {
            "calls": Counter(principal_kind(call.principal) for call in self.calls),
            "requests": Counter(principal_kind(request.principal) for request in self.requests),
            "denied": Counter(denial.kind for denial in self.denied),
            "unused": Counter(unused.kind for unused in self.unused),
            "excepted": Counter(excepted.unused.kind for excepted in self.excepted),
        }
        kinds = sorted(set().union(*tallies.values()))
        return {kind: {name: tally[kind] for name, tally in tallies.items()} for kind in kinds}

    def render(self) -> str:
        """A short text summary: totals, counts per principal kind, then one line per denial and unused grant."""
        verdict = "OK" if self.ok else "FAILED"
        lines = [
            f"access proof {verdict}: {len(self.calls)} calls, {len(self.requests)} requests, "
            f"{len(self.denied)} denied, {len(self.unused)} unused grants ({len(self.excepted)} excepted)"
        ]
        for kind, count in self.counts().items():
            lines.append(f"  {kind}: " + ", ".join(f"{value} {name}" for name, value in count.items()))
        lines += [denial.line() for denial in self.denied]
        lines += [unused.line() for unused in self.unused]
        return "\n".join(lines)

    def as_json(self) -> dict[str, Any]:
        """The report as JSON-ready data."""
        return {
            "ok": self.ok,
            "calls": len(self.calls),
            "requests": len(self.requests),
            "by_kind": self.counts(),
            "denied": [denial.as_json() for denial in self.denied],
            "unused": [unused.as_json() for unused in self.unused],
            "excepted": [{**item.unused.as_json(), "why": item.exception.why} for item in self.excepted],
        }
