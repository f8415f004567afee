"""The closing account when the event source mapping gives batches up: no false loss reports.

A batch is given up after its retries. Before that, its invocations may have written some of its records
(an invocation short of time writes what it can and returns the rest of its batch for retry) and sent its
poison pills to the failure queue (once per delivery). The account must take both as allowed effects of a
given-up batch, not as records that went astray. A slow machine (both cores busy) gives batches up this way
on the example tenants; short timeouts and throttling do it here on any machine.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import yaml

from sandbox.engines.faults import parse_faults
from sandbox.session.report import build_report, read_queue
from sandbox.session.runner import Sandbox, SandboxOptions

PROJECT = Path(__file__).resolve().parents[2]


def _project(root: Path, tenants: dict[str, dict]) -> Path:
    """A project with the example tenants `tenants` names, each with its `processing` overrides."""
    (root / "tenants").mkdir(parents=True)
    shutil.copy(PROJECT / "Pulumi.yaml", root / "Pulumi.yaml")
    (root / "Pulumi.dev.yaml").write_text('config:\n  aws:region: us-east-1\n  tributary:tenants: ["*"]\n')
    (root / "runtime").symlink_to(PROJECT / "runtime")
    for name, processing in tenants.items():
        document = yaml.safe_load((PROJECT / "tenants" / f"{name}.yaml").read_text())
        document["processing"] = {**document.get("processing", {}), **processing}
        (root / "tenants" / f"{name}.yaml").write_text(yaml.safe_dump(document, sort_keys=False))
    return root


def _session(project: Path, events: int, faults: str, **traffic) -> tuple:
    options = SandboxOptions(
        events=events, faults=parse_faults(faults, seed=3), seed=5, work_dir=project / ".sandbox", **traffic
    )
    with Sandbox(project, "dev", options) as sandbox:
        sandbox.produce()
        assert sandbox.drain(timeout=300), "the pipelines did not drain"
        report = build_report(sandbox)
        queues = {
            name: read_queue(sandbox.clients.sqs, run.outputs["failure_queue_url"])
            for name, run in sandbox.runs.items()
        }
    return report, queues


def test_report_accepts_records_a_given_up_batch_wrote_before_it_was_given_up(tmp_path):
    # Given: a latest and a counters tenant whose invocations run short of time under throttling, so their
    # batches come back partly written and run out of their one retry.
    short = {"batch_size": 60, "timeout_seconds": 4, "max_retries": 1}
    project = _project(tmp_path / "project", {"orders": short, "clicks": short})
    # When
    report, _ = _session(project, events=400, faults="throttle=90", invalid_pct=0, duplicates_pct=5)
    # Then: batches were given up (what this test is about), and every record is still accounted for.
    for tenant in report.tenants:
        assert tenant.batches_given_up > 0, f"{tenant.tenant}: no batch was given up; the scenario did not happen"
        assert tenant.unaccounted == [], f"{tenant.tenant}: {tenant.unaccounted[:3]}"


def test_report_explains_poison_pills_in_the_queue_when_their_batch_was_given_up(tmp_path):
    # Given: every invocation crashes, so every batch is given up; a batch of poison pills alone makes no
    # DynamoDB call and crashes just before it returns, after its pills reached the failure queue.
    project = _project(tmp_path / "project", {"sensors": {"batch_size": 10, "max_retries": 1}})
    # When
    report, queues = _session(project, events=6, faults="crash=100", invalid_pct=34, duplicates_pct=0)
    # Then
    (tenant,) = report.tenants
    pills = [message for message in queues["sensors"] if "KinesisBatchInfo" not in message]
    assert pills, "no poison pill reached the queue; the scenario did not happen"
    assert tenant.batches_given_up > 0
    assert tenant.unaccounted == [], tenant.unaccounted
