"""Lambda execution environments: one worker process per concurrent invocation of a function.

`FunctionWorkers(function, endpoint_url, region, log_path=..., code_root=...)` keeps up to
`max_workers` processes (multiprocessing "spawn": a fresh interpreter, nothing inherited but the
import path). Each worker (`worker_process.py`)

- replaces its environment with the function's variables plus what Lambda sets
  (`AWS_LAMBDA_FUNCTION_NAME`, `AWS_REGION`, ...), `AWS_ENDPOINT_URL` pointing at the emulator,
  dummy credentials and `POWERTOOLS_TRACE_DISABLED=1` (there is no X-Ray daemon here);
- sends its stdout and stderr (the handler's JSON logs) to the function's log file;
- runs the caller's `process_setup`, if any, installs the fault plan, imports the handler once (the init
  phase, a cold start) and then calls `handler(event, context)` for each invocation, unmodified.

The parent enforces the timeout for real: a worker still running at the deadline is killed and the
invocation fails with `Task timed out after N.NN seconds`; a worker that dies (os._exit, a signal)
fails its invocation with `Runtime.ExitError`. Either way the next invocation starts a new worker.
"""

from __future__ import annotations

import contextlib
import json
import multiprocessing
import os
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from sandbox.engines.faults import FaultPlan
from sandbox.engines.specs import FunctionSpec
from sandbox.engines.worker_process import WorkerConfig, lambda_environment, worker_main

MAX_RESPONSE_BYTES = 6 * 1024 * 1024  # Lambda's synchronous response payload limit
DEFAULT_INIT_TIMEOUT_SECONDS = 30.0  # Lambda allows 10 s; a spawned interpreter on a busy laptop needs more
MAX_WORKERS_CAP = 32
FUNCTION_ERROR = "Unhandled"


@dataclass
class InvocationResult:
    """What a synchronous Invoke returns: the response payload, or the function error."""

    request_id: str
    payload: Any = None
    function_error: str | None = None  # "Unhandled" when the invocation failed
    error_type: str | None = None  # "ValueError", "Sandbox.Timedout", "Runtime.ExitError", ...
    error_message: str | None = None
    duration_ms: float = 0.0
    cold_start: bool = False
    throttled: bool = False  # it waited for a free execution environment
    status_code: int = 200  # Invoke's status: function errors are still 200, as in Lambda

    @property
    def ok(self) -> bool:
        return self.function_error is None


@dataclass
class WorkerStats:
    invocations: int = 0
    cold_starts: int = 0
    errors: int = 0
    timeouts: int = 0
    crashes: int = 0
    throttles: int = 0


def worker_concurrency(parallelization_factor: int, shard_count: int, cap: int = MAX_WORKERS_CAP) -> int:
    """How many execution environments an event source mapping can keep busy at once."""
    return max(1, min(parallelization_factor * max(1, shard_count), cap))


# --------------------------------------------------------------------------- the parent side


class _Worker:
    """The parent's handle on one worker process."""

    def __init__(self, ctx: Any, config: WorkerConfig) -> None:
        self.conn, child_conn = ctx.Pipe()
        self.process = ctx.Process(target=worker_main, args=(child_conn, config), daemon=True)
        self.process.start()
        child_conn.close()
        self.ready = False

    def kill(self) -> None:
        if self.process.is_alive():
            self.process.kill()
        self.process.join(timeout=5)
        self.conn.close()

    def stop(self) -> None:
        with contextlib.suppress(OSError, ValueError):
            self.conn.send(None)
        self.process.join(timeout=2)
        self.kill()

    def exit_description(self) -> str:
        self.process.join(timeout=5)
        code = self.process.exitcode
        if code is not None and code < 0:
            import signal

            try:
                return f"signal: {signal.Signals(-code).name}"
            except ValueError:
                return f"signal: {-code}"
        return f"exit status {code}"


class FunctionWorkers:
    """A pool of up to `max_workers` execution environments for one function; `invoke` is thread-safe.

    `process_setup` runs in each new worker before the handler is imported (see `WorkerConfig.setup`).
    """

    def __init__(
        self,
        function: FunctionSpec,
        endpoint_url: str,
        region: str,
        *,
        log_path: str,
        code_root: str,
        max_workers: int = 1,
        faults: FaultPlan | None = None,
        init_timeout: float = DEFAULT_INIT_TIMEOUT_SECONDS,
        waits_are_throttles: bool = True,
        process_setup: Callable[[], object] | None = None,
    ) -> None:
        self.function = function
        self._process_setup = process_setup
        self.max_workers = max(1, min(max_workers, MAX_WORKERS_CAP))
        # A wait for a free environment is a Lambda throttle only when the pool size is the function's
        # own concurrency limit (reserved concurrency); a pool capped to spare this machine just queues.
        self._waits_are_throttles = waits_are_throttles
        self.stats = WorkerStats()
        self._endpoint_url = endpoint_url
        self._region = region
        self._log_path = log_path
        self._code_root = os.path.abspath(code_root)
        self._faults = faults or FaultPlan()
        self._init_timeout = init_timeout
        self._ctx = multiprocessing.get_context("spawn")
        self._idle: list[_Worker] = []
        self._live = 0
        self._spawned = 0
        self._closed = False
        self._cond = threading.Condition()
        self._warming: list[threading.Thread] = []
        os.makedirs(os.path.dirname(os.path.abspath(log_path)), exist_ok=True)

    # -- pool

    def _config(self) -> WorkerConfig:
        self._spawned += 1
        env = lambda_environment(self.function, self._endpoint_url, self._region)
        stream = time.strftime("%Y/%m/%d", time.gmtime()) + f"/[$LATEST]{uuid.uuid4().hex}"
        env["AWS_LAMBDA_LOG_STREAM_NAME"] = stream
        env["SANDBOX_FUNCTION_ARN"] = self.function.function_arn
        return WorkerConfig(
            handler=self.function.handler,
            environment=env,
            log_path=self._log_path,
            code_root=self._code_root,
            faults=self._faults,
            stream_id=f"{self.function.name}:{self._spawned}",
            setup=self._process_setup,
        )

    def _acquire(self) -> tuple[_Worker | None, bool]:
        """An idle worker, or None with a reserved slot for a new one; and whether we had to wait."""
        waited = False
        with self._cond:
            while True:
                if self._closed:
                    raise RuntimeError(f"workers for {self.function.name} are closed")
                if self._idle:
                    return self._idle.pop(), waited
                if self._live < self.max_workers:
                    self._live += 1
                    return None, waited
                waited = True
                self._cond.wait()

    def _release(self, worker: _Worker | None, healthy: bool) -> None:
        with self._cond:
            if healthy and worker is not None and not self._closed:
                self._idle.append(worker)
            else:
                self._live -= 1
                if worker is not None:
                    threading.Thread(target=worker.kill, daemon=True).start()
            self._cond.notify()

    def _start_worker(self, request_id: str) -> tuple[_Worker | None, InvocationResult | None]:
        with self._cond:
            config = self._config()
        worker = _Worker(self._ctx, config)
        self.stats.cold_starts += 1
        if not worker.conn.poll(self._init_timeout):
            worker.kill()
            return None, self._failure(request_id, "Runtime.InitTimeout", "Init phase timed out")
        try:
            reply = worker.conn.recv()
        except EOFError:
            message = f"Runtime exited with error: {worker.exit_description()}"
            return None, self._failure(request_id, "Runtime.ExitError", message)
        if reply[0] != "ready":
            worker.kill()
            return None, self._failure(request_id, reply[1], reply[2])
        worker.ready = True
        return worker, None

    def prewarm(self, count: int | None = None) -> None:
        """Start up to `count` execution environments (the whole pool by default) in the background, each through
        its init phase, as Lambda's provisioned concurrency does: invocations then find them ready. An
        environment whose init fails is dropped; the invocation that needs one starts it again and reports why."""
        wanted = self.max_workers if count is None else min(count, self.max_workers)
        for _ in range(wanted):
            with self._cond:
                if self._closed or self._live >= self.max_workers:
                    return
                self._live += 1
            thread = threading.Thread(target=self._warm_one, daemon=True, name=f"prewarm-{self.function.name}")
            self._warming.append(thread)
            thread.start()

    def wait_warm(self, timeout: float | None = None) -> None:
        """Wait for the environments `prewarm` started to finish their init phase."""
        deadline = None if timeout is None else time.monotonic() + timeout
        for thread in self._warming:
            thread.join(None if deadline is None else max(0.0, deadline - time.monotonic()))

    def _warm_one(self) -> None:
        worker, failure = self._start_worker(str(uuid.uuid4()))
        self._release(worker, healthy=failure is None)

    # -- invoke

    def invoke(self, event: dict[str, Any]) -> InvocationResult:
        """Invoke the function synchronously (RequestResponse) with `event`."""
        request_id = str(uuid.uuid4())
        worker, waited = self._acquire()
        waited = waited and self._waits_are_throttles
        cold = worker is None
        if waited:
            self.stats.throttles += 1
        if worker is None:
            worker, failure = self._start_worker(request_id)
            if failure is not None:
                self._release(None, healthy=False)
                failure.cold_start, failure.throttled = True, waited
                return self._count(failure)
        result, healthy = self._run(worker, request_id, event)
        self._release(worker, healthy)
        result.cold_start, result.throttled = cold, waited
        return self._count(result)

    def _run(self, worker: _Worker, request_id: str, event: dict[str, Any]) -> tuple[InvocationResult, bool]:
        timeout = float(self.function.timeout_seconds)
        started = time.monotonic()
        deadline = time.time() + timeout
        try:
            worker.conn.send((request_id, json.dumps(event), deadline))
            answered = worker.conn.poll(timeout)
            reply = worker.conn.recv() if answered else None
        except (EOFError, OSError):
            detail = worker.exit_description()
            self.stats.crashes += 1
            message = f"RequestId: {request_id} Error: Runtime exited with error: {detail}"
            return self._failure(request_id, "Runtime.ExitError", message, started), False
        if reply is None:
            worker.kill()
            self.stats.timeouts += 1
            message = f"RequestId: {request_id} Error: Task timed out after {timeout:.2f} seconds"
            self._log(f"{time.strftime('%Y-%m-%dT%H:%M:%SZ', time.gmtime())} {request_id} {message}")
            return self._failure(request_id, "Sandbox.Timedout", message, started), False
        if reply[0] == "error":
            return self._failure(request_id, reply[1], reply[2], started), True
        body = reply[1]
        if len(body.encode()) > MAX_RESPONSE_BYTES:
            message = f"Response payload size ({len(body)} bytes) exceeded maximum allowed payload size"
            return self._failure(request_id, "Function.ResponseSizeTooLarge", message, started), True
        duration = (time.monotonic() - started) * 1000
        return InvocationResult(request_id, payload=json.loads(body), duration_ms=duration), True

    def _failure(
        self, request_id: str, error_type: str, message: str, started: float | None = None
    ) -> InvocationResult:
        duration = (time.monotonic() - started) * 1000 if started is not None else 0.0
        return InvocationResult(
            request_id,
            function_error=FUNCTION_ERROR,
            error_type=error_type,
            error_message=message,
            duration_ms=duration,
        )

    def _count(self, result: InvocationResult) -> InvocationResult:
        with self._cond:
            self.stats.invocations += 1
            if not result.ok:
                self.stats.errors += 1
        return result

    def _log(self, line: str) -> None:
        with open(self._log_path, "a", encoding="utf-8") as log:
            log.write(line + "\n")

    def close(self) -> None:
        """Stop every worker; invocations in flight are not waited for."""
        with self._cond:
            self._closed = True
            idle, self._idle = self._idle, []
            self._cond.notify_all()
        for worker in idle:
            worker.stop()

    def __enter__(self) -> FunctionWorkers:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()
