"""The access proof end to end: run the sandbox with every principal's calls recorded, then judge them.

    tributary access-proof            # a short sandbox session, then the proof and the deployer check

Runtime principals are recorded where they act: the handler in its worker processes and the event source
mapping under the function's role, Firehose under its role, Lambda's log delivery under the function's role,
and CloudWatch publishing alarms to the topic as `cloudwatch.amazonaws.com`. `proof.prove` evaluates each call
(and the KMS calls the service makes on the caller's behalf) against the policies the program generated, as
deployed in the emulator. The deployer cannot be recorded here (the emulator is not AWS's control plane), so
`deployer.deployer_key_check` evaluates what AWS documents each resource type needs on the tenant key.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from access.deployer import Finding, deployer_key_check
from access.program_policies import Policies
from access.proof import prove
from access.proof_report import ProofReport
from access.recorder import CallLog
from components.offline import evaluate
from components.stack import read_stack_file
from sandbox.engines.emulator import Emulator
from sandbox.engines.faults import parse_faults
from sandbox.session.runner import Sandbox, SandboxOptions

# Traffic for every path a healthy pipeline takes: writes per mode, poison pills to the failure queue and to
# Firehose's error output (and so its error log), DynamoDB throttling retried inside the handler, alarms that fire.
PROOF_FAULTS = "throttle=5"
PROOF_INVALID_PCT = 10.0
# Then a few events whose every invocation crashes: each batch runs out of retries and the mapping records it
# in its on-failure destination (the failure queue, or the failure bucket with `on_failure: s3`).
GIVE_UP_FAULTS = "crash=100"
GIVE_UP_EVENTS = 2


@dataclass
class AccessProof:
    """The runtime proof and the deployer's check, for one stack."""

    runtime: ProofReport
    deployer: list[Finding] = field(default_factory=list)
    drained: bool = True

    @property
    def ok(self) -> bool:
        return self.drained and self.runtime.ok and not self.deployer

    def render(self) -> str:
        lines = [self.runtime.render()]
        verdict = "OK" if not self.deployer else "FAILED"
        lines.append(f"deployer key check {verdict}: {len(self.deployer)} key uses the key policy refuses")
        lines += [f"  {finding}" for finding in self.deployer]
        if not self.drained:
            lines.append("the sandbox did not drain: the calls recorded may be incomplete")
        return "\n".join(lines)

    def as_json(self) -> dict[str, Any]:
        return {
            "ok": self.ok,
            "drained": self.drained,
            "runtime": self.runtime.as_json(),
            "deployer": [str(finding) for finding in self.deployer],
        }


def run_access_proof(
    project_dir: Path,
    stack: str,
    work_dir: Path,
    *,
    events: int = 200,
    tenants: list[str] | None = None,
    timeout: float = 300.0,
) -> AccessProof:
    """Deploy every selected tenant into a fresh emulator, stream `events` per tenant with every principal's
    calls recorded, and judge the calls and the deployer's key use."""
    work_dir.mkdir(parents=True, exist_ok=True)
    call_log = work_dir / "access-calls.jsonl"
    call_log.unlink(missing_ok=True)
    healthy = SandboxOptions(
        events=events,
        invalid_pct=PROOF_INVALID_PCT,
        faults=parse_faults(PROOF_FAULTS, 7),
        work_dir=work_dir,
        call_log=call_log,
    )
    failing = replace(
        healthy, events=GIVE_UP_EVENTS, invalid_pct=0.0, duplicates_pct=0.0, faults=parse_faults(GIVE_UP_FAULTS, 7)
    )
    with Emulator() as endpoint_url:
        with Sandbox(project_dir, stack, healthy, endpoint_url=endpoint_url, tenants=tenants) as sandbox:
            sandbox.produce()
            drained = sandbox.drain(timeout)
            deployment = sandbox.deployment
        assert deployment is not None
        # The same deployment, resumed where the healthy session stopped, with every invocation crashing.
        with Sandbox(project_dir, stack, failing, endpoint_url, tenants, deployment) as sandbox:
            sandbox.produce()
            drained = sandbox.drain(timeout) and drained
    runtime = prove(CallLog.read(call_log), Policies.from_resources(deployment.evaluation.resources))
    plan = evaluate(project_dir, stack, read_stack_file(project_dir, stack))
    return AccessProof(runtime=runtime, deployer=deployer_key_check(plan), drained=drained)
