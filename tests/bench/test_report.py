"""The results page judges each figure against its target and renders every part that ran (no timing here:
the results are built by hand)."""

from __future__ import annotations

import pytest

from bench import report
from bench.figures import BATCH_WRITE, CONDITIONAL_PUT, EVENTS, RunResults, figure_rows
from bench.function_worker import Invocation
from bench.handler_bench import Case, CaseResult, HandlerResults, cases
from bench.imports_bench import BASELINE_MODULE, HANDLER_MODULE, ImportResults
from bench.plan_bench import PlanResults, PlanRun
from bench.sandbox_bench import SandboxResults

RECORDS = 500


def handler_results(seconds: dict[str, float]) -> HandlerResults:
    """Every case at both round trips, each invocation taking `seconds[label]` (1 s if not given)."""
    results = []
    for case in cases():
        wall = seconds.get(case.label, 1.0)
        result = CaseResult(case, RECORDS, [Invocation(wall, wall / 2, 0) for _ in range(5)])
        results.append(result)
    return HandlerResults(results, repetitions=5)


def full_results(handler_seconds: dict[str, float], unaccounted: tuple[str, ...] = ()) -> RunResults:
    imports = ImportResults(
        {
            ("in Lambda", BASELINE_MODULE): 0.2,
            ("in Lambda", HANDLER_MODULE): 0.22,
            ("outside Lambda", BASELINE_MODULE): 0.2,
            ("outside Lambda", HANDLER_MODULE): 0.3,
        },
        repetitions=5,
    )
    plan = PlanResults([PlanRun(25, 1000, 3.0, 2.5, 200.0, 25.0), PlanRun(100, 4000, 12.0, 12.0, 600.0, 400.0)])
    sandbox = SandboxResults(3, 3000, 10.0, 2.0, unaccounted)
    return RunResults(handler_results(handler_seconds), imports, plan, sandbox)


def verdicts(results: RunResults) -> dict[str, str]:
    return {name: verdict for name, _today, _measured, _target, verdict in figure_rows(results)}


def test_figures_meet_their_targets_when_the_handler_is_fast_enough():
    # events 5x (a) and 60x (b) at 5 ms; hot keys at 2,000 rec/s; uniform latest and counters at 0.6x events.
    fast = {
        EVENTS: 0.1,
        BATCH_WRITE: 0.5,
        CONDITIONAL_PUT: 6.0,
        "latest / hot": 0.25,
        "counters / hot": 0.25,
        "latest / uniform": 0.1 / 0.6,
        "counters / uniform": 0.1 / 0.6,
    }
    found = verdicts(full_results(fast))

    assert found["`events` throughput vs (a) batch-write-25"] == "met"
    assert found["`events` throughput vs (b) conditional-put"] == "met"
    assert found["`latest`, one hot key (500 records, one entity)"] == "met"
    assert found["`counters`, uniform keys, vs `events`"] == "met"
    assert found["handler import vs `import boto3`, with Lambda's env vars"] == "met"  # 1.1x
    assert found["handler CPU per record, `events`"] == "met"  # 0.05 s / 500 = 100 us
    assert found["plan CPU per tenant (largest size)"] == "missed"  # 120 ms
    assert found["plan memory per tenant (largest size)"] == "missed"  # 4 MB
    assert found["plan linearity: CPU per tenant, largest size vs 25"] == "met"  # 1.2x
    assert found["sandbox, `make demo`"] == "met"  # 300 events/s
    assert found["sandbox vs the emulator's raw put rate, same run"] == "missed"  # 20%


def test_figures_miss_their_targets_when_the_handler_is_as_slow_as_its_baseline():
    found = verdicts(full_results({}))  # every case 1 s: no faster than the baselines

    assert found["`events` throughput vs (a) batch-write-25"] == "missed"
    assert found["`latest`, one hot key (500 records, one entity)"] == "missed"


def test_figures_of_parts_that_did_not_run_are_left_out():
    results = full_results({})
    results.handler = results.plan = None

    names = set(verdicts(results))

    assert not any("throughput" in name or "plan" in name for name in names)
    assert "sandbox, `make demo`" in names


def test_results_page_renders_every_part_and_names_unaccounted_records():
    results = full_results({}, unaccounted=tuple(f"sensors: record {i} missing" for i in range(7)))

    page = report.render(results, report.now(), 90.0, "python -m bench")

    for heading in ("## Figures", "## Handler and baselines", "## Handler import", "## Plan", "## Sandbox"):
        assert heading in page
    assert "RECORDS UNACCOUNTED" in page
    assert "- unaccounted: sensors: record 4 missing" in page
    assert "- ... and 2 more" in page
    assert page.count("| events / uniform | ") == 2  # one row per round trip


def test_plot_draws_every_case(tmp_path):
    pytest.importorskip("matplotlib")
    path = tmp_path / "throughput.png"

    report.plot(handler_results({}), path)

    assert path.read_bytes().startswith(b"\x89PNG")


def test_a_case_that_reported_failures_is_marked_invalid_on_the_page():
    results = full_results({})
    broken = results.handler.results[0]
    results.handler.results[0] = CaseResult(
        Case(broken.case.label, broken.case.handler, broken.case.mode, broken.case.keys, broken.case.rtt_ms),
        RECORDS,
        [Invocation(1.0, 0.5, 3)],
    )

    assert "(INVALID: 3 reported for retry)" in report.render(results, report.now(), 1.0, "python -m bench")
