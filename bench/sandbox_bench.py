"""The sandbox's end-to-end rate against the emulator's own, in the same run and the same emulator.

1. A `make demo` session through the session API (sandbox/session/runner.py): every example tenant deployed into
   the emulator, the demo's traffic and faults (the Makefile's DEMO_ARGS: 1,000 events per tenant, 5% duplicates,
   2% poison pills, 5% out of order, 5% throttled DynamoDB calls, 1% crashed invocations), then drained. Its rate
   is the events produced over the time from the first put to the last record processed and archived; the
   deployment before it is not counted.
2. The emulator's raw PutRecords rate: the same records, generated again from the same seed, put with boto3 into
   a new stream per tenant (same shard count) in the same emulator, with no consumer, one producer per tenant.
"""

from __future__ import annotations

import shutil
import tempfile
import threading
import time
from dataclasses import dataclass
from pathlib import Path

from bench.workload import ROOT

EVENTS_PER_TENANT = 1000
DEMO_FAULTS = "throttle=5,crash=1"
DEMO_SEED = 7
DRAIN_TIMEOUT_SECONDS = 600
PROJECT_FILES = ("Pulumi.yaml", "Pulumi.dev.yaml")


@dataclass(frozen=True)
class SandboxResults:
    tenants: int
    events: int
    session_seconds: float
    raw_seconds: float
    unaccounted: tuple[str, ...]  # the session report's lines for records not accounted for; none in a good run

    @property
    def events_per_second(self) -> float:
        return self.events / self.session_seconds

    @property
    def raw_per_second(self) -> float:
        return self.events / self.raw_seconds

    @property
    def share_of_raw(self) -> float:
        return self.events_per_second / self.raw_per_second


def _project(directory: Path) -> Path:
    """A copy of the project's tenants and stack files, with the handler's code linked, so the session's
    work directory (.sandbox) stays out of the checkout."""
    shutil.copytree(ROOT / "tenants", directory / "tenants")
    for name in PROJECT_FILES:
        if (ROOT / name).exists():
            shutil.copy(ROOT / name, directory / name)
    (directory / "runtime").symlink_to(ROOT / "runtime")
    return directory


def _demo_options(work_dir: Path):
    from sandbox.engines.faults import parse_faults
    from sandbox.session.runner import SandboxOptions

    return SandboxOptions(
        events=EVENTS_PER_TENANT,
        duplicates_pct=5,
        invalid_pct=2,
        out_of_order_pct=5,
        faults=parse_faults(DEMO_FAULTS, DEMO_SEED),
        seed=DEMO_SEED,
        work_dir=work_dir,
    )


def raw_put_seconds(sandbox, options) -> float:
    """Put every tenant's records again into a stream of its own, no consumer; seconds until all are in."""
    from sandbox.engines.emulator import client
    from sandbox.session import traffic
    from sandbox.session.runner import traffic_hints

    region = sandbox.deployment.region
    kinesis = client("kinesis", sandbox.endpoint_url, region)
    plans = []
    for name, run in sandbox.runs.items():
        summary = kinesis.describe_stream_summary(StreamName=run.outputs["stream_name"])["StreamDescriptionSummary"]
        stream = f"bench-raw-{name}"
        kinesis.create_stream(StreamName=stream, ShardCount=max(1, summary["OpenShardCount"]))
        kinesis.get_waiter("stream_exists").wait(StreamName=stream)
        traffic_options = traffic.TrafficOptions(
            events=options.events,
            duplicates_pct=options.duplicates_pct,
            invalid_pct=options.invalid_pct,
            out_of_order_pct=options.out_of_order_pct,
            seed=options.seed,
        )
        records = traffic.generate(run.tenant.records.schema_, traffic_options, traffic_hints(run.tenant))
        plans.append((client("kinesis", sandbox.endpoint_url, region), stream, records))
    threads = [threading.Thread(target=traffic.put_records, args=plan, daemon=True) for plan in plans]
    started = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return time.perf_counter() - started


def run(progress=print) -> SandboxResults:
    from sandbox.session.report import build_report
    from sandbox.session.runner import Sandbox

    with tempfile.TemporaryDirectory() as scratch:
        project = _project(Path(scratch))
        options = _demo_options(project / ".sandbox")
        progress("  sandbox: deploying every example tenant")
        with Sandbox(project, "dev", options) as sandbox:
            progress("  sandbox: the demo's traffic, until drained")
            started = time.monotonic()
            sandbox.produce()
            drained = sandbox.drain(timeout=DRAIN_TIMEOUT_SECONDS)
            # Until every record was processed and archived; the alarms the drain then evaluates are not traffic.
            session_seconds = (sandbox.drained_at or time.monotonic()) - started
            events = sum(len(run.manifest.records) for run in sandbox.runs.values() if run.manifest)
            problems = [] if drained else [f"not drained within {DRAIN_TIMEOUT_SECONDS} s"]
            problems += [f"{t.tenant}: {line}" for t in build_report(sandbox).tenants for line in t.unaccounted]
            progress("  sandbox: the emulator's raw put rate")
            raw_seconds = raw_put_seconds(sandbox, options)
            tenants = len(sandbox.runs)
    return SandboxResults(tenants, events, session_seconds, raw_seconds, tuple(problems))
