"""Benchmarks, measured as ratios within one run (timings on a shared 2-core machine are noisy).

    .venv/bin/python bench/benchmarks.py            # all, results appended to bench/RESULTS.md
    .venv/bin/python bench/benchmarks.py plan       # one of: plan, imports, sandbox

- plan: the offline engine on 1, 25 and 100 tenants; seconds per tenant should stay flat (linear).
- imports: the handler's cold-start import cost against `import boto3` alone.
- sandbox: events/second the sandbox sustains per write mode, end to end, with the real handler.
"""

from __future__ import annotations

import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
RESULTS = ROOT / "bench" / "RESULTS.md"


def _project_with(count: int, directory: Path) -> Path:
    """A project whose tenants/ holds `count` copies of the sensors example."""
    (directory / "tenants").mkdir(parents=True)
    template = (ROOT / "tenants" / "sensors.yaml").read_text()
    for index in range(count):
        name = f"t{index:03d}"
        (directory / "tenants" / f"{name}.yaml").write_text(template.replace("tenant: sensors", f"tenant: {name}"))
    return directory


def bench_plan() -> list[str]:
    from components.offline import evaluate
    from components.stack import StackSettings

    lines, per_tenant = [], {}
    for count in (1, 25, 100):
        with tempfile.TemporaryDirectory() as scratch:
            project = _project_with(count, Path(scratch))
            started = time.perf_counter()
            evaluation = evaluate(project, "dev", StackSettings())
            seconds = time.perf_counter() - started
        per_tenant[count] = seconds / count
        lines.append(
            f"| plan | {count} tenants, {len(evaluation.resources)} resources | {seconds:.2f} s | "
            f"{per_tenant[count] * 1000:.0f} ms per tenant |"
        )
    lines.append(
        f"| plan | per-tenant cost, 100 vs 25 tenants | ratio {per_tenant[100] / per_tenant[25]:.2f} | 1.0 = linear |"
    )
    return lines


def _import_seconds(statement: str, runs: int = 7) -> float:
    timings = []
    for _ in range(runs):
        started = time.perf_counter()
        subprocess.run([sys.executable, "-c", statement], check=True, cwd=ROOT)
        timings.append(time.perf_counter() - started)
    return statistics.median(timings)


def bench_imports() -> list[str]:
    baseline = _import_seconds("pass")
    boto3 = _import_seconds("import boto3") - baseline
    handler = _import_seconds("import runtime.handler") - baseline
    return [
        f"| imports | `import boto3` | {boto3 * 1000:.0f} ms | median of 7, interpreter start subtracted |",
        f"| imports | `import runtime.handler` | {handler * 1000:.0f} ms | "
        f"ratio to boto3 alone: {handler / boto3:.2f} |",
    ]


def bench_sandbox(events: int = 600) -> list[str]:
    from sandbox.session.report import build_report
    from sandbox.session.runner import Sandbox, SandboxOptions

    lines = []
    for tenant in ("sensors", "orders", "clicks"):
        with tempfile.TemporaryDirectory() as scratch:
            project = Path(scratch)
            shutil.copytree(ROOT / "tenants", project / "tenants")
            (project / "runtime").symlink_to(ROOT / "runtime")
            options = SandboxOptions(events=events, work_dir=project / ".sandbox")
            with Sandbox(project, "dev", options, tenants=[tenant]) as sandbox:
                started = time.perf_counter()
                sandbox.produce()
                drained = sandbox.drain(timeout=600)
                seconds = time.perf_counter() - started
                report = build_report(sandbox)
        mode = report.tenants[0].write_mode
        ok = "all accounted" if drained and not report.unaccounted else "UNACCOUNTED"
        lines.append(
            f"| sandbox | {tenant} ({mode}), {events} events | {seconds:.1f} s | "
            f"{events / seconds:.0f} events/s, {ok} |"
        )
    return lines


BENCHMARKS = {"plan": bench_plan, "imports": bench_imports, "sandbox": bench_sandbox}


def main(names: list[str]) -> None:
    rows = []
    for name in names or list(BENCHMARKS):
        rows += BENCHMARKS[name]()
    stamp = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
    block = "\n".join(
        [
            f"\n## {stamp} ({sys.platform}, {sys.version.split()[0]})",
            "",
            "| benchmark | case | measured | note |",
            "|---|---|---|---|",
            *rows,
            "",
        ]
    )
    with RESULTS.open("a", encoding="utf-8") as handle:
        handle.write(block)
    print(block)


if __name__ == "__main__":
    main(sys.argv[1:])
