"""The handler against the network floor and the seed article's two baselines, in one run.

Every case is one Lambda function in a process of its own (bench/function_worker.py) invoked with the same
Kinesis event of 500 records of about 1 KB (bench/workload.py), its AWS calls answered by the fake endpoint
(bench/ddb_endpoint.py) after a fixed round trip of 0 or 5 ms. The handler is driven only through its entry
point and its environment, as Lambda drives it; the baselines get the events mode's records.

Repetitions are interleaved (every case once, then every case again, ...) after a warm-up invocation of each
with a short event of the same records (it creates the clients and connections, as a cold start does), and each
figure is the median: a slow moment of this shared machine lands on every case alike.
"""

from __future__ import annotations

import math
import statistics
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field

from bench.baselines import BASELINES
from bench.ddb_endpoint import FakeAwsEndpoint
from bench.function_worker import Function, Invocation
from bench.lambda_env import function_environment
from bench.workload import BATCH_SIZE, KEY_SPREADS, TENANT_OF_MODE, event_for
from runtime.modes.base import MAX_CONCURRENT_CALLS

HANDLER = "runtime.handler.handler"
RTTS_MS = (0.0, 5.0)
BATCH_WRITE_LIMIT = 25  # BatchWriteItem's limit: the fewest calls n records can take
# The most DynamoDB calls the handler keeps in flight at once: the floor's divisor. The endpoint's peak of calls
# in flight, reported next to it, shows what the handler really did with it.
HANDLER_WRITE_CONCURRENCY = MAX_CONCURRENT_CALLS
DEFAULT_REPETITIONS = 5
WARM_UP_RECORDS = 50


@dataclass(frozen=True)
class Case:
    label: str  # e.g. "events / uniform", "(a) batch-write-25"
    handler: str
    mode: str  # whose environment and records: the example tenant of this write mode
    keys: str
    rtt_ms: float

    @property
    def is_baseline(self) -> bool:
        return self.handler != HANDLER


@dataclass
class CaseResult:
    case: Case
    records: int
    invocations: list[Invocation] = field(default_factory=list)
    calls: Counter = field(default_factory=Counter)  # per invocation, from the last one
    peak_in_flight: int = 0

    @property
    def wall_seconds(self) -> float:
        return statistics.median(i.wall_seconds for i in self.invocations)

    @property
    def records_per_second(self) -> float:
        return self.records / self.wall_seconds

    @property
    def cpu_us_per_record(self) -> float:
        return statistics.median(i.cpu_seconds for i in self.invocations) / self.records * 1e6

    @property
    def reported_failures(self) -> int:
        return max(i.reported_failures for i in self.invocations)

    @property
    def floor_seconds(self) -> float:
        """The network floor: ceil(n/25) calls, `HANDLER_WRITE_CONCURRENCY` at a time, one round trip each."""
        return math.ceil(self.records / BATCH_WRITE_LIMIT) / HANDLER_WRITE_CONCURRENCY * self.case.rtt_ms / 1000

    @property
    def times_floor(self) -> float | None:
        return self.wall_seconds / self.floor_seconds if self.floor_seconds else None


@dataclass
class HandlerResults:
    results: list[CaseResult]
    repetitions: int

    def find(self, label: str, rtt_ms: float) -> CaseResult:
        return next(r for r in self.results if r.case.label == label and r.case.rtt_ms == rtt_ms)

    def rate(self, label: str, rtt_ms: float = 5.0) -> float:
        return self.find(label, rtt_ms).records_per_second


def handler_label(mode: str, keys: str) -> str:
    return f"{mode} / {keys}"


BASELINE_LABELS = {"batch-write-25": "(a) batch-write-25", "conditional-put": "(b) conditional-put"}


def cases() -> list[Case]:
    """Per round trip, in run order: each handler case, with the baselines right after `events / uniform`."""
    found = []
    for rtt in RTTS_MS:
        for mode in TENANT_OF_MODE:
            for keys in KEY_SPREADS:
                found.append(Case(handler_label(mode, keys), HANDLER, mode, keys, rtt))
                if (mode, keys) == ("events", "uniform"):
                    found += [Case(BASELINE_LABELS[n], path, mode, keys, rtt) for n, path in BASELINES.items()]
    return found


WARM_UP = "warm-up"


def _event_name(case: Case) -> str:
    return f"{case.mode}/{case.keys}"


def _start(case: Case, endpoint: FakeAwsEndpoint, profile_path: str | None = None) -> Function:
    return Function(case.handler, function_environment(case.mode, endpoint.url), profile_path)


def _invoke(function: Function, case: Case, endpoint: FakeAwsEndpoint, result: CaseResult) -> Invocation:
    endpoint.reset_stats()
    invocation = function.invoke(_event_name(case))
    stats = endpoint.stats
    result.calls = Counter({target.rpartition(".")[2]: n for target, n in stats.calls.items()})
    result.peak_in_flight = max(result.peak_in_flight, stats.peak_in_flight)
    return invocation


def _start_all(all_cases: list[Case], endpoints: dict[float, FakeAwsEndpoint]) -> list[Function]:
    """A function per case, started a few at a time (spawning is mostly imports); if one fails to start, the
    others are closed before its error is raised."""
    with ThreadPoolExecutor(max_workers=4) as pool:
        futures = [pool.submit(_start, case, endpoints[case.rtt_ms]) for case in all_cases]
    started = [future.result() for future in futures if future.exception() is None]
    failed = [future.exception() for future in futures if future.exception() is not None]
    if failed:
        for function in started:
            function.close()
        raise failed[0]
    return started


def run(repetitions: int = DEFAULT_REPETITIONS, progress=print) -> HandlerResults:
    """Every case, warmed up once, then `repetitions` interleaved rounds."""
    all_cases = cases()
    events = {_event_name(c): event_for(c.mode, c.keys) for c in all_cases}
    warm_ups = {_event_name(c): event_for(c.mode, c.keys, WARM_UP_RECORDS) for c in all_cases}
    endpoints = {rtt: FakeAwsEndpoint(rtt_seconds=rtt / 1000).start() for rtt in RTTS_MS}
    try:
        functions = _start_all(all_cases, endpoints)
        try:
            for function, case in zip(functions, all_cases, strict=True):
                function.load(_event_name(case), events[_event_name(case)])
                function.load(WARM_UP, warm_ups[_event_name(case)])
                function.invoke(WARM_UP)
            results = [CaseResult(case, len(events[_event_name(case)]["Records"])) for case in all_cases]
            for round_ in range(1, repetitions + 1):
                progress(f"  handler: round {round_}/{repetitions}")
                for function, case, result in zip(functions, all_cases, results, strict=True):
                    result.invocations.append(_invoke(function, case, endpoints[case.rtt_ms], result))
        finally:
            for function in functions:
                function.close()
    finally:
        for endpoint in endpoints.values():
            endpoint.stop()
    return HandlerResults(results, repetitions)


def profile_events(path: str, invocations: int = 20, rtt_ms: float = 5.0) -> None:
    """The `events / uniform` case under cProfile (every thread's CPU), written to `path` as pstats data."""
    case = Case(handler_label("events", "uniform"), HANDLER, "events", "uniform", rtt_ms)
    with FakeAwsEndpoint(rtt_seconds=rtt_ms / 1000) as endpoint:
        function = _start(case, endpoint, profile_path=path)
        try:
            function.load(_event_name(case), event_for(case.mode, case.keys, BATCH_SIZE))
            function.invoke(_event_name(case))  # warm-up (not profiled): clients and connections
            for _ in range(invocations):
                function.invoke(_event_name(case))
        finally:
            function.close()
