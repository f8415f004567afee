"""Where the `events` handler spends its CPU: cProfile on every thread, our code and the libraries apart.

    python -m bench profile            # writes bench/PROFILE.md and prints it

The `events / uniform` case at a 5 ms round trip (bench/handler_bench.py), invoked 20 times after a warm-up, each
thread profiled by its own CPU clock (`time.thread_time`), so waiting on the network costs nothing and what is
left is what Lambda bills beyond the floor. Cumulative time is a function's own plus its callees'.
"""

from __future__ import annotations

import pstats
import tempfile
from pathlib import Path

from bench.handler_bench import profile_events
from bench.workload import BATCH_SIZE, ROOT

PROFILE = ROOT / "bench" / "PROFILE.md"
INVOCATIONS = 20
TOP = 10
# Where each group's code lives, by a part of its file name.
GROUPS = {
    "ours (runtime/)": f"{ROOT}/runtime/",
    "botocore": "/botocore/",
    "boto3": "/boto3/",
    "aws_lambda_powertools": "/aws_lambda_powertools/",
}


def top_entries(stats: pstats.Stats, marker: str, count: int = TOP) -> list[tuple[str, float, float, int]]:
    """(function, cumulative s, own s, calls) of the `count` entries under `marker` with the most cumulative time."""
    entries = []
    for (filename, line, name), (_primitive, calls, own, cumulative, _callers) in stats.stats.items():  # type: ignore[attr-defined]
        if marker in filename:
            where = filename.split(marker.rstrip("/").rsplit("/", 1)[-1] + "/", 1)[-1]
            entries.append((f"{where}:{line} {name}", cumulative, own, calls))
    return sorted(entries, key=lambda entry: -entry[1])[:count]


def render(stats: pstats.Stats, invocations: int) -> str:
    total = stats.total_tt  # type: ignore[attr-defined]
    per_record_us = total / invocations / BATCH_SIZE * 1e6
    lines = [
        "# Handler profile: `events`, uniform keys, 5 ms round trip",
        "",
        f"{invocations} invocations of {BATCH_SIZE} records after a warm-up, every thread's CPU: {total:.2f} s in all, "
        f"{per_record_us:.0f} µs per record (profiling itself adds to this). Cumulative and own times are per "
        "invocation. Regenerate with `python -m bench profile`.",
        "",
    ]
    for group, marker in GROUPS.items():
        lines += [f"## {group}", "", "| function | cumulative ms | own ms | calls |", "|---|---|---|---|"]
        for name, cumulative, own, calls in top_entries(stats, marker):
            lines.append(
                f"| `{name}` | {cumulative / invocations * 1000:.1f} | {own / invocations * 1000:.1f} | "
                f"{calls / invocations:.0f} |"
            )
        lines.append("")
    return "\n".join(lines)


def run(invocations: int = INVOCATIONS) -> str:
    with tempfile.TemporaryDirectory() as scratch:
        path = str(Path(scratch) / "events.pstats")
        profile_events(path, invocations)
        text = render(pstats.Stats(path), invocations)
    PROFILE.write_text(text + "\n", encoding="utf-8")
    return text
