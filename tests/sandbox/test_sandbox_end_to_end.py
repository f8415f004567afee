"""End to end: the example tenants deployed into the emulator, traffic through the real handler.

Each session runs every write mode at once (sensors: events, orders: latest, clicks: counters) with
duplicates, poison pills and reordering; the second adds DynamoDB throttling and worker crashes. The
assertions read the emulator's state directly: the table, the failure queue and the archive bucket.
"""

from __future__ import annotations

import base64
import json
import shutil
from collections import defaultdict
from decimal import Decimal
from pathlib import Path

import pytest

from sandbox.engines.faults import parse_faults
from sandbox.session.report import archive_counts, build_report, read_queue, scan_table
from sandbox.session.runner import Sandbox, SandboxOptions

PROJECT = Path(__file__).resolve().parents[2]
EVENTS = 240


@pytest.fixture(scope="module")
def project(tmp_path_factory) -> Path:
    """A copy of the project's tenants and stack files, so sessions write nothing into the checkout."""
    root = tmp_path_factory.mktemp("project")
    shutil.copytree(PROJECT / "tenants", root / "tenants")
    for stack_file in PROJECT.glob("Pulumi*.yaml"):
        shutil.copy(stack_file, root / stack_file.name)
    (root / "runtime").symlink_to(PROJECT / "runtime")
    return root


def run_session(project: Path, faults: str) -> dict:
    options = SandboxOptions(
        events=EVENTS,
        duplicates_pct=10,
        invalid_pct=5,
        out_of_order_pct=10,
        faults=parse_faults(faults, seed=3),
        seed=11,
        work_dir=project / ".sandbox",
    )
    with Sandbox(project, "dev", options) as sandbox:
        sandbox.produce()
        assert sandbox.drain(timeout=240), "the pipelines did not drain"
        report = build_report(sandbox)
        state = {name: _emulator_state(sandbox, run) for name, run in sandbox.runs.items()}
        manifests = {name: run.manifest for name, run in sandbox.runs.items()}
    return {"report": report, "state": state, "manifests": manifests, "crashes": "crash" in faults}


def _emulator_state(sandbox: Sandbox, run) -> dict:
    clients = sandbox.clients
    bucket = run.outputs["archive_bucket"]
    return {
        "items": scan_table(clients.dynamodb, run.outputs["table_name"]),
        "queue": read_queue(clients.sqs, run.outputs["failure_queue_url"]),
        "archive": archive_counts(clients.s3, bucket) if bucket else (0, 0),
        # A batch retried after a crash, or after an invocation timed out on a loaded machine, is delivered again.
        "redelivered": run.esm.stats.retries > 0,
    }


@pytest.fixture(scope="module", params=["", "throttle=10,crash=4"], ids=["clean", "faults"])
def session(request, project) -> dict:
    return run_session(project, request.param)


def _valid_payloads(manifest) -> list[dict]:
    return [json.loads(r.data) for r in manifest.records if r.kind in ("valid", "duplicate")]


def test_sandbox_accounts_for_every_record_in_every_tenant(session):
    report = session["report"]
    for tenant in report.tenants:
        assert tenant.produced == EVENTS, tenant.tenant
        assert tenant.unaccounted == [], f"{tenant.tenant}: {tenant.unaccounted[:5]}"


def test_sandbox_events_tenant_holds_each_unique_event_exactly_once(session):
    items = session["state"]["sensors"]["items"]
    payloads = _valid_payloads(session["manifests"]["sensors"])
    unique = {p["reading_id"] for p in payloads if "reading_id" in p and "device_id" in p}
    stored = [item["reading_id"]["S"] for item in items.values()]
    assert len(stored) == len(set(stored)), "an event was written twice"
    assert unique <= set(stored)


def test_sandbox_latest_tenant_holds_the_highest_version_per_order(session):
    items = session["state"]["orders"]["items"]
    newest: dict[str, int] = {}
    for manifest_record in session["manifests"]["orders"].records:
        if manifest_record.kind == "invalid":
            continue
        payload = json.loads(manifest_record.data)
        newest[payload["order_id"]] = max(newest.get(payload["order_id"], 0), payload["version"])
    stored = {item["order_id"]["S"]: int(item["version"]["N"]) for item in items.values()}
    assert stored == newest


def test_sandbox_counters_tenant_counts_each_event_once(session):
    items = session["state"]["clicks"]["items"]
    seen: set[str] = set()
    expected: dict[str, Decimal] = defaultdict(Decimal)
    for manifest_record in session["manifests"]["clicks"].records:
        if manifest_record.kind == "invalid":
            continue
        payload = json.loads(manifest_record.data)
        if payload["event_id"] in seen:
            continue
        seen.add(payload["event_id"])
        expected[f"page#{payload['page']}"] += Decimal(payload.get("views", 0))
    stored: dict[str, Decimal] = defaultdict(Decimal)
    for (pk, _sk), item in items.items():
        if not pk.startswith("dedupe#"):
            stored[pk] += Decimal(item.get("views", {"N": "0"})["N"])
    assert dict(stored) == {k: v for k, v in expected.items()}


def test_sandbox_failure_queue_holds_each_poison_pill_once_per_delivery_with_its_payload(session):
    for tenant, state in session["state"].items():
        pills = [m for m in state["queue"] if "KinesisBatchInfo" not in m]
        payloads = [base64.b64decode(m["payload"]) for m in pills]
        for record in session["manifests"][tenant].of_kind("invalid"):
            copies = [m for m in pills if base64.b64decode(m["payload"]) == record.data]
            if session["crashes"] or state["redelivered"]:
                # A batch redelivered after a crash reports its pills again, under the same sequence number.
                assert copies, f"{tenant}: poison pill #{record.index} is missing"
                assert len({m["sequenceNumber"] for m in copies}) == 1, f"{tenant}: poison pill #{record.index}"
            else:
                assert len(copies) == 1, f"{tenant}: poison pill #{record.index} appears {len(copies)} times"
        valid = {r.data for r in session["manifests"][tenant].records if r.kind != "invalid"}
        assert not valid & set(payloads), f"{tenant}: a valid record went to the failure queue"


def test_sandbox_archive_holds_every_produced_record(session):
    for tenant, state in session["state"].items():
        rows, errors = state["archive"]
        assert rows + errors == EVENTS, tenant
