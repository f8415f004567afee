"""The handler's metrics are counted once: the observer thread and `drain()` both collect them, and a log
line read by both would count its records twice (the progress showed more records processed than produced)."""

from __future__ import annotations

import json
import threading
from pathlib import Path
from types import SimpleNamespace

from sandbox.engines.observe import EmfReader, MetricSink
from sandbox.session.runner import Sandbox, SandboxOptions

LINES = 2000
CALLERS = 8


class _CloudWatch:
    def put_metric_data(self, **_request) -> None:
        return None


def _emf_log(path: Path, lines: int) -> Path:
    document = {
        "_aws": {
            "CloudWatchMetrics": [
                {"Namespace": "Tributary", "Dimensions": [["tenant"]], "Metrics": [{"Name": "RecordsWritten"}]}
            ]
        },
        "tenant": "sensors",
        "RecordsWritten": 1,
    }
    path.write_text((json.dumps(document) + "\n") * lines)
    return path


def test_sandbox_observe_counts_each_log_line_once_when_called_concurrently(tmp_path):
    # Given: a session whose function logged LINES metric lines, one record written each.
    sandbox = Sandbox(tmp_path, "dev", SandboxOptions(work_dir=tmp_path / ".sandbox"))
    sandbox.sink = MetricSink(_CloudWatch())
    sandbox.clients = SimpleNamespace()
    log = EmfReader(_emf_log(tmp_path / "sensors.log", LINES))
    sandbox.runs = {"sensors": SimpleNamespace(emf=log, log_delivery=None, outputs={})}
    start = threading.Barrier(CALLERS)

    def observe() -> None:
        start.wait()
        sandbox.observe()

    # When: several callers collect at the same moment.
    callers = [threading.Thread(target=observe) for _ in range(CALLERS)]
    for caller in callers:
        caller.start()
    for caller in callers:
        caller.join()
    # Then
    assert sandbox.totals("sensors", "RecordsWritten") == LINES
