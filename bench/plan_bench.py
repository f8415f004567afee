"""The offline plan's cost per tenant, and whether it stays flat as tenants are added (linear).

Each size runs in a fresh interpreter (`python -m bench.plan_bench N PROJECT`), so its peak memory (ru_maxrss) is
its own: the program under Pulumi's mock engine (components/offline.py, what `tributary plan` runs) on a project
of N copies of the `sensors` example. CPU is the process's (`time.process_time`, every thread), memory the peak
resident size above what the interpreter held before the plan started.
"""

from __future__ import annotations

import json
import resource
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from bench.workload import ROOT

SIZES = (25, 100, 500)
QUICK_SIZES = (25, 100)
TEMPLATE_TENANT = "sensors"
STACK = "dev"


@dataclass(frozen=True)
class PlanRun:
    tenants: int
    resources: int
    wall_seconds: float
    cpu_seconds: float
    peak_mb: float  # the process's peak resident size
    added_mb: float  # the peak above the interpreter's size before the plan

    @property
    def cpu_ms_per_tenant(self) -> float:
        return self.cpu_seconds / self.tenants * 1000

    @property
    def mb_per_tenant(self) -> float:
        return self.added_mb / self.tenants


@dataclass
class PlanResults:
    runs: list[PlanRun]

    @property
    def largest(self) -> PlanRun:
        return self.runs[-1]

    @property
    def linearity(self) -> float:
        """CPU per tenant at the largest size over the smallest: 1.0 is linear."""
        return self.runs[-1].cpu_ms_per_tenant / self.runs[0].cpu_ms_per_tenant


def write_project(count: int, directory: Path) -> Path:
    """A project whose tenants/ holds `count` copies of the template tenant."""
    (directory / "tenants").mkdir(parents=True)
    template = (ROOT / "tenants" / f"{TEMPLATE_TENANT}.yaml").read_text()
    for index in range(count):
        name = f"t{index:03d}"
        text = template.replace(f"tenant: {TEMPLATE_TENANT}", f"tenant: {name}")
        (directory / "tenants" / f"{name}.yaml").write_text(text)
    return directory


def _max_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux


def measure(count: int, project: Path) -> dict[str, float]:
    """In the child: import, then plan once, and report what the plan itself cost."""
    from components.offline import evaluate
    from components.stack import StackSettings

    before = _max_rss_mb()
    cpu, wall = time.process_time(), time.perf_counter()
    evaluation = evaluate(project, STACK, StackSettings())
    wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    peak = _max_rss_mb()
    return {
        "tenants": count,
        "resources": len(evaluation.resources),
        "wall_seconds": wall,
        "cpu_seconds": cpu,
        "peak_mb": peak,
        "added_mb": peak - before,
    }


def run_size(count: int) -> PlanRun:
    with tempfile.TemporaryDirectory() as scratch:
        project = write_project(count, Path(scratch))
        done = subprocess.run(
            [sys.executable, "-m", "bench.plan_bench", str(count), str(project)],
            cwd=ROOT,
            capture_output=True,
            text=True,
            timeout=900,
        )
    if done.returncode != 0:
        raise RuntimeError(f"plan of {count} tenants failed: {done.stderr.strip()[-2000:]}")
    return PlanRun(**json.loads(done.stdout.strip().splitlines()[-1]))


def run(quick: bool = False, progress=print) -> PlanResults:
    runs = []
    for count in QUICK_SIZES if quick else SIZES:
        progress(f"  plan: {count} tenants")
        runs.append(run_size(count))
    return PlanResults(runs)


if __name__ == "__main__":
    print(json.dumps(measure(int(sys.argv[1]), Path(sys.argv[2]))))
