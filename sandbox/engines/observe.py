"""Metrics and alarms in the sandbox, the way CloudWatch produces them on AWS.

- The handler's own metrics are Embedded Metric Format lines in its log; `EmfReader` picks them out of
  the worker's log file, as CloudWatch Logs does.
- Lambda's, SQS's and Firehose's service metrics come from the sandbox's engines (and a queue poll).
- `MetricSink` puts all of them into the emulator's CloudWatch; `AlarmEvaluator` then evaluates every
  alarm the program created against that data and sets its state in the emulator (which stores alarms
  but does not evaluate them).

A sandbox session is minutes long, so each alarm is evaluated over the whole session as one window:
its statistic over every datapoint so far, against its threshold.
"""

from __future__ import annotations

import contextlib
import json
import threading
from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

MAX_DATA_PER_CALL = 1000  # PutMetricData's limit on values per request
COMPARISONS = {
    "GreaterThanThreshold": lambda value, threshold: value > threshold,
    "GreaterThanOrEqualToThreshold": lambda value, threshold: value >= threshold,
    "LessThanThreshold": lambda value, threshold: value < threshold,
    "LessThanOrEqualToThreshold": lambda value, threshold: value <= threshold,
}


@dataclass(frozen=True)
class Datum:
    namespace: str
    name: str
    value: float
    dimensions: tuple[tuple[str, str], ...]
    unit: str = "None"


def emf_data(line: str) -> Iterator[Datum]:
    """The metrics in one EMF log line (none if the line is not EMF)."""
    try:
        document = json.loads(line)
    except ValueError:
        return
    meta = document.get("_aws") if isinstance(document, dict) else None
    if not isinstance(meta, dict):
        return
    for directive in meta.get("CloudWatchMetrics", []):
        namespace = directive.get("Namespace", "")
        for dimension_set in directive.get("Dimensions", []):
            dimensions = tuple((name, str(document.get(name, ""))) for name in dimension_set)
            for metric in directive.get("Metrics", []):
                values = document.get(metric.get("Name"))
                for value in values if isinstance(values, list) else [values]:
                    if isinstance(value, int | float):
                        yield Datum(namespace, metric["Name"], float(value), dimensions, metric.get("Unit", "None"))


class EmfReader:
    """Follows one log file and returns the EMF metrics appended since the last read."""

    def __init__(self, path: Path, from_end: bool = False):
        self.path = path
        self._offset = path.stat().st_size if from_end and path.exists() else 0

    def read(self) -> list[Datum]:
        if not self.path.exists():
            return []
        with self.path.open("rb") as handle:
            handle.seek(self._offset)
            chunk = handle.read()
        complete = chunk.rfind(b"\n") + 1  # leave a half-written last line for next time
        self._offset += complete
        data: list[Datum] = []
        for line in chunk[:complete].decode("utf-8", "replace").splitlines():
            data.extend(emf_data(line))
        return data


class LogDelivery:
    """Follows one function's log file and puts each new line into its log group, as Lambda delivers them."""

    MAX_EVENTS = 10_000  # PutLogEvents' limit per request
    MAX_BYTES = 1_000_000  # and its batch size limit (events plus 26 bytes each)

    def __init__(
        self, logs: Any, path: Path, log_group: str, log_stream: str = "sandbox/[$LATEST]0", from_end: bool = False
    ):
        self._logs = logs
        self._path = path
        self._group = log_group
        self._stream = log_stream
        self._offset = path.stat().st_size if from_end and path.exists() else 0
        self._stream_created = False

    def deliver(self) -> int:
        if not self._path.exists():
            return 0
        with self._path.open("rb") as handle:
            handle.seek(self._offset)
            chunk = handle.read()
        complete = chunk.rfind(b"\n") + 1
        self._offset += complete
        lines = [line for line in chunk[:complete].decode("utf-8", "replace").splitlines() if line]
        if not lines:
            return 0
        if not self._stream_created:
            # An earlier command of the same deployment may have created it.
            with contextlib.suppress(self._logs.exceptions.ResourceAlreadyExistsException):
                self._logs.create_log_stream(logGroupName=self._group, logStreamName=self._stream)
            self._stream_created = True
        now = int(datetime.now(UTC).timestamp() * 1000)
        batch: list[dict] = []
        size = 0
        for line in lines:
            event = {"timestamp": now, "message": line[:200_000]}
            if len(batch) == self.MAX_EVENTS or size + len(event["message"]) + 26 > self.MAX_BYTES:
                self._put(batch)
                batch, size = [], 0
            batch.append(event)
            size += len(event["message"]) + 26
        self._put(batch)
        return len(lines)

    def _put(self, events: list[dict]) -> None:
        if events:
            self._logs.put_log_events(logGroupName=self._group, logStreamName=self._stream, logEvents=events)


class MetricSink:
    """Buffers data points and puts them into the emulator's CloudWatch; keeps session totals too."""

    def __init__(self, cloudwatch: Any):
        self._cloudwatch = cloudwatch
        self._pending: list[Datum] = []
        self._lock = threading.Lock()
        self.totals: dict[tuple[str, str, tuple[tuple[str, str], ...]], float] = defaultdict(float)

    def add(self, datum: Datum) -> None:
        with self._lock:
            self._pending.append(datum)
            self.totals[(datum.namespace, datum.name, datum.dimensions)] += datum.value

    def metric_hook(self, namespace: str):
        """A callback for the engines' `on_metric(name, value, dimensions)`."""

        def hook(name: str, value: float, dimensions: dict[str, str]) -> None:
            self.add(Datum(namespace, name, float(value), tuple(sorted(dimensions.items()))))

        return hook

    def flush(self) -> None:
        with self._lock:
            pending, self._pending = self._pending, []
        by_namespace: dict[str, list[Datum]] = defaultdict(list)
        for datum in pending:
            by_namespace[datum.namespace].append(datum)
        now = datetime.now(UTC)
        for namespace, data in by_namespace.items():
            for start in range(0, len(data), MAX_DATA_PER_CALL):
                self._cloudwatch.put_metric_data(
                    Namespace=namespace,
                    MetricData=[
                        {
                            "MetricName": d.name,
                            "Dimensions": [{"Name": k, "Value": v} for k, v in d.dimensions],
                            "Value": d.value,
                            "Timestamp": now,
                        }
                        for d in data[start : start + MAX_DATA_PER_CALL]
                    ],
                )


@dataclass
class AlarmState:
    name: str
    state: str
    value: float | None
    threshold: float
    reason: str
    arn: str = ""
    actions: tuple[str, ...] = ()


class AlarmEvaluator:
    """Evaluates the emulator's alarms against the emulator's metric data and records their state."""

    def __init__(self, cloudwatch: Any, session_start: datetime):
        self._cloudwatch = cloudwatch
        self._start = session_start - timedelta(minutes=1)

    def _statistic(self, metric: dict, statistic: str) -> float | None:
        end = datetime.now(UTC) + timedelta(minutes=1)
        seconds = max(60, int((end - self._start).total_seconds()) // 60 * 60 + 60)
        points = self._cloudwatch.get_metric_statistics(
            Namespace=metric["Namespace"],
            MetricName=metric["MetricName"],
            Dimensions=metric.get("Dimensions", []),
            StartTime=self._start,
            EndTime=end,
            Period=seconds,
            Statistics=[statistic],
        )["Datapoints"]
        values = [point[statistic] for point in points if statistic in point]
        if not values:
            return None
        combine = {"Sum": sum, "Maximum": max, "Minimum": min, "SampleCount": sum}.get(statistic)
        return combine(values) if combine else sum(values) / len(values)

    def _value(self, alarm: dict) -> float | None:
        if not alarm.get("Metrics"):
            return self._statistic(alarm, alarm["Statistic"])
        # Metric math: the error-rate shape IF(invocations > 0, 100 * errors / invocations, 0).
        sums = {
            query["Id"]: self._statistic(query["MetricStat"]["Metric"], query["MetricStat"]["Stat"]) or 0.0
            for query in alarm["Metrics"]
            if "MetricStat" in query
        }
        invocations, errors = sums.get("invocations", 0.0), sums.get("errors", 0.0)
        if not sums:
            return None
        return 100.0 * errors / invocations if invocations > 0 else 0.0

    def evaluate(self, prefix: str = "") -> list[AlarmState]:
        states = []
        paginator = self._cloudwatch.get_paginator("describe_alarms")
        for page in paginator.paginate(AlarmNamePrefix=prefix) if prefix else paginator.paginate():
            for alarm in page["MetricAlarms"]:
                states.append(self._evaluate_one(alarm))
        return states

    def _evaluate_one(self, alarm: dict) -> AlarmState:
        value = self._value(alarm)
        threshold = alarm["Threshold"]
        if value is None:
            # treat_missing_data decides, as CloudWatch does.
            missing = alarm.get("TreatMissingData", "missing")
            state = {"breaching": "ALARM", "notBreaching": "OK"}.get(missing, "INSUFFICIENT_DATA")
            reason = f"no data in the session; treat missing data as {missing}"
        else:
            breaching = COMPARISONS[alarm["ComparisonOperator"]](value, threshold)
            state = "ALARM" if breaching else "OK"
            reason = f"session value {value:g} {'breaches' if breaching else 'is within'} threshold {threshold:g}"
        if state != alarm.get("StateValue"):
            self._cloudwatch.set_alarm_state(AlarmName=alarm["AlarmName"], StateValue=state, StateReason=reason)
        actions = tuple(alarm.get("AlarmActions", []))
        return AlarmState(alarm["AlarmName"], state, value, threshold, reason, alarm.get("AlarmArn", ""), actions)
