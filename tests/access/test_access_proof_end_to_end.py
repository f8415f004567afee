"""The access proof on the example tenants: every call every principal makes in a sandbox session is allowed by
the generated policies, every grant is used or explained, and the deployer's key use is allowed."""

from __future__ import annotations

from pathlib import Path

from access.proof import EXCEPTIONS
from access.session import run_access_proof

PROJECT = Path(__file__).resolve().parents[2]


def test_access_proof_denies_no_call_and_leaves_no_unexplained_grant(tmp_path):
    proof = run_access_proof(PROJECT, "dev", tmp_path / "access", events=120)
    report = proof.runtime
    assert proof.drained, "the sandbox session did not drain"
    assert not report.denied, proof.render()
    assert not report.unused, proof.render()
    assert not proof.deployer, proof.render()
    kinds = {kind for kind, counts in report.counts().items() if counts["calls"] or counts["requests"]}
    # Every runtime principal acted: the function's role (handler, mapping, log delivery), Firehose's role,
    # CloudWatch Logs encrypting, CloudWatch alarms publishing.
    assert kinds >= {"processor", "firehose", "logs", "cloudwatch"}, report.counts()
    # Each exception explains a grant this session really left unused, or is still needed by some tenant.
    used_exceptions = {item.exception for item in report.excepted}
    assert used_exceptions == set(EXCEPTIONS), set(EXCEPTIONS) - used_exceptions
