"""Builders shared by the sandbox tests (a uniquely named module, so no other conftest shadows it)."""

from __future__ import annotations

import base64
import threading
import time
import uuid
from pathlib import Path

from sandbox.engines import emulator
from sandbox.engines.specs import FunctionSpec, MappingSpec
from sandbox.engines.workers import InvocationResult

PROJECT_ROOT = str(Path(__file__).resolve().parents[2])
REGION = "us-east-1"
ACCOUNT = emulator.DUMMY_ACCOUNT


def unique(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:8]}"


def function_spec(handler: str, environment: dict[str, str] | None = None, timeout: int = 10) -> FunctionSpec:
    name = unique("fn")
    return FunctionSpec(
        name=name,
        handler=f"tests.sandbox.handlers.{handler}",
        environment=environment or {},
        timeout_seconds=timeout,
        memory_mb=256,
        function_arn=f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:{name}",
    )


def mapping_spec(function: FunctionSpec, stream_arn: str, **overrides) -> MappingSpec:
    values = dict(
        uuid=str(uuid.uuid4()),
        stream_arn=stream_arn,
        function=function,
        batch_size=10,
        batching_window_seconds=0,
        parallelization_factor=1,
        starting_position="TRIM_HORIZON",
        bisect_on_error=False,
        max_retries=2,
        max_record_age_seconds=-1,
        report_batch_item_failures=True,
        on_failure_destination=None,
    )
    values.update(overrides)
    return MappingSpec(**values)


def put(kinesis, stream: str, payloads: list[bytes], keys: list[str] | None = None) -> list[dict]:
    """PutRecords in order; returns the result entries (ShardId, SequenceNumber)."""
    entries = [{"Data": data, "PartitionKey": (keys[i] if keys else "key")} for i, data in enumerate(payloads)]
    results = []
    for start in range(0, len(entries), 500):
        response = kinesis.put_records(StreamName=stream, Records=entries[start : start + 500])
        assert response["FailedRecordCount"] == 0
        results.extend(response["Records"])
    return results


class FakeInvoker:
    """Stands in for FunctionWorkers: records every event and answers with `respond(event)`."""

    def __init__(self, respond=lambda event: None, delay: float = 0.0):
        self.events: list[dict] = []
        self._respond = respond
        self._delay = delay
        self._lock = threading.Lock()
        self.running = 0
        self.max_running = 0

    def invoke(self, event):
        with self._lock:
            self.events.append(event)
            self.running += 1
            self.max_running = max(self.max_running, self.running)
        time.sleep(self._delay)
        try:
            answer = self._respond(event)
        finally:
            with self._lock:
                self.running -= 1
        if isinstance(answer, InvocationResult):
            return answer
        return InvocationResult("req-" + str(len(self.events)), payload=answer, duration_ms=1.0)

    def payloads(self, index: int) -> list[bytes]:
        return [base64.b64decode(r["kinesis"]["data"]) for r in self.events[index]["Records"]]
