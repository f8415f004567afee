"""The handler's cold-start import cost against `import boto3` alone, each in a fresh interpreter.

Inside Lambda the handler's module is imported with Lambda's variables set (bench/lambda_env.py) and the tenant's
(the `events` example), tracing on as deployed: Powertools' Tracer then loads the X-Ray SDK and patches botocore,
which it skips outside Lambda. Both environments are measured, interleaved, each import timed inside its own
interpreter (its start-up excluded); medians.
"""

from __future__ import annotations

import statistics
import subprocess
import sys
from dataclasses import dataclass

from bench.lambda_env import ACCOUNT, basic_environment, lambda_runtime_environment, tenant_environment
from bench.workload import ROOT

HANDLER_MODULE = "runtime.handler"
BASELINE_MODULE = "boto3"
# An import takes 150-250 ms here, and one run of five moved the ratio by 0.2: fifteen rounds cost ten seconds more.
DEFAULT_REPETITIONS = 15
SCRIPT = "import time\nstarted = time.perf_counter()\nimport {module}\nprint(time.perf_counter() - started)\n"


@dataclass
class ImportResults:
    seconds: dict[tuple[str, str], float]  # (environment, module) -> median seconds
    repetitions: int

    def ratio(self, environment: str) -> float:
        return self.seconds[(environment, HANDLER_MODULE)] / self.seconds[(environment, BASELINE_MODULE)]


def environments() -> dict[str, dict[str, str]]:
    queue_url = f"https://sqs.us-east-1.amazonaws.com/{ACCOUNT}/sensors-bench-failures"
    return {
        "in Lambda": {
            **lambda_runtime_environment("sensors-bench-processor"),
            **tenant_environment("events", queue_url),
        },
        "outside Lambda": basic_environment(),
    }


def import_seconds(module: str, environment: dict[str, str]) -> float:
    done = subprocess.run(
        [sys.executable, "-c", SCRIPT.format(module=module)],
        env=environment,
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    if done.returncode != 0:
        raise RuntimeError(f"import {module} failed: {done.stderr.strip().splitlines()[-1:]}")
    return float(done.stdout.strip().splitlines()[-1])


def run(repetitions: int = DEFAULT_REPETITIONS, progress=print) -> ImportResults:
    samples: dict[tuple[str, str], list[float]] = {}
    envs = environments()
    progress(f"  imports: {repetitions} rounds after a warm-up")
    for round_ in range(repetitions + 1):  # round 0 warms the file cache
        for name, environment in envs.items():
            for module in (BASELINE_MODULE, HANDLER_MODULE):
                seconds = import_seconds(module, environment)
                if round_ > 0:
                    samples.setdefault((name, module), []).append(seconds)
    return ImportResults({key: statistics.median(values) for key, values in samples.items()}, repetitions)
