"""`python -m bench`: every benchmark, then bench/RESULTS.md and bench/throughput.png (what `make bench` runs).

python -m bench                      # handler, imports, plan (25, 100, 500 tenants), sandbox
python -m bench --quick              # the plan stops at 100 tenants
python -m bench --only handler,imports --repetitions 7
python -m bench profile              # cProfile of the events handler: bench/PROFILE.md
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:  # the worker processes import bench.* and runtime.* from the checkout
    sys.path.insert(0, str(ROOT))

from bench import handler_bench, imports_bench, plan_bench, profile_handler, report, sandbox_bench  # noqa: E402
from bench.figures import RunResults  # noqa: E402
from bench.function_worker import BenchError  # noqa: E402
from bench.workload import WorkloadError  # noqa: E402

PARTS = ("handler", "imports", "plan", "sandbox")


def _parts(text: str) -> list[str]:
    parts = [part.strip() for part in text.split(",") if part.strip()]
    unknown = [part for part in parts if part not in PARTS]
    if unknown or not parts:
        raise argparse.ArgumentTypeError(f"{text!r}: name one or more of {', '.join(PARTS)}")
    return parts


def parse(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__.split("\n")[0])
    parser.add_argument("what", nargs="?", choices=("all", "profile"), default="all")
    parser.add_argument("--quick", action="store_true", help="plan at 25 and 100 tenants only (not 500)")
    parser.add_argument("--only", type=_parts, default=list(PARTS), help=f"comma-separated: {', '.join(PARTS)}")
    parser.add_argument(
        "--repetitions",
        type=int,
        default=handler_bench.DEFAULT_REPETITIONS,
        help="interleaved rounds of the handler cases (at least 5)",
    )
    arguments = parser.parse_args(argv)
    if arguments.repetitions < 5:
        parser.error(f"--repetitions: at least 5 (got {arguments.repetitions})")
    return arguments


def run_all(arguments: argparse.Namespace, argv: list[str]) -> bool:
    """Every part asked for, then the results page; False if a part failed (the page names it)."""
    started, clock = report.now(), time.perf_counter()
    results = RunResults()
    print(f"bench: {', '.join(arguments.only)}{' (quick)' if arguments.quick else ''}", flush=True)
    parts = {
        "handler": lambda: handler_bench.run(arguments.repetitions, progress=_progress),
        "imports": lambda: imports_bench.run(progress=_progress),
        "plan": lambda: plan_bench.run(arguments.quick, progress=_progress),
        "sandbox": lambda: sandbox_bench.run(progress=_progress),
    }
    durations, failed = [], []
    for name, measure in parts.items():
        if name in arguments.only:
            part_started = time.perf_counter()
            try:
                setattr(results, name, measure())
            except Exception as error:  # one broken part must not discard the others' minutes of measurement
                last_line = (str(error).strip().splitlines() or [""])[-1]
                failed.append(f"{name} failed: {type(error).__name__}: {last_line}")
                print(f"bench: {failed[-1]}", file=sys.stderr, flush=True)
            durations.append(f"{name} {(time.perf_counter() - part_started) / 60:.1f}")
    results.notes.append(f"minutes per part: {', '.join(durations)}")
    results.notes += failed
    if arguments.quick:
        results.notes.append(f"quick run: the plan at {', '.join(map(str, plan_bench.QUICK_SIZES))} tenants only")
    command = " ".join(["python -m bench", *argv])
    report.write(results, started, time.perf_counter() - clock, command)
    print(report.RESULTS.read_text(encoding="utf-8"))
    return not failed


def _progress(message: str) -> None:
    print(message, flush=True)


def main(argv: list[str]) -> int:
    arguments = parse(argv)
    try:
        if arguments.what == "profile":
            print(profile_handler.run())
        elif not run_all(arguments, argv):
            return 1
    except (BenchError, WorkloadError) as error:
        print(f"bench: {error}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
