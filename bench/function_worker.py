"""One Lambda execution environment per process, so each function measured has its own environment and CPU clock.

    with Function("runtime.handler.handler", environment) as function:
        function.load("batch", event)          # sent once: the pipe's cost is not the handler's
        invocation = function.invoke("batch")  # wall and process CPU of one handler(event, context) call

The process starts (spawn) with nothing of ours imported, replaces its environment with `environment`, then
imports the handler, as Lambda's runtime does. Its CPU time is the whole process's, every thread included: the
handler writes from threads. Logs and metrics go to /dev/null, after being formatted as they would be on Lambda.
With `profile_path`, every thread's CPU (`time.thread_time`) is profiled during invocations after the first and
written there as pstats data when the function closes.
"""

from __future__ import annotations

import importlib
import multiprocessing
import os
import sys
import time
import uuid
from dataclasses import dataclass
from typing import Any

TIMEOUT_SECONDS = 60  # the context's remaining time: no case comes near it


class BenchError(RuntimeError):
    """Raised in the parent when the function failed to start or an invocation raised."""


@dataclass(frozen=True)
class Invocation:
    wall_seconds: float
    cpu_seconds: float
    reported_failures: int  # batchItemFailures in the response: a valid case reports none


class LambdaContext:
    """The context attributes Lambda's Python runtime passes and Powertools reads."""

    def __init__(self, timeout_seconds: float = TIMEOUT_SECONDS):
        self.function_name = os.environ.get("AWS_LAMBDA_FUNCTION_NAME", "bench")
        self.function_version = "$LATEST"
        self.memory_limit_in_mb = os.environ.get("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "1024")
        self.invoked_function_arn = f"arn:aws:lambda:us-east-1:123456789012:function:{self.function_name}"
        self.aws_request_id = str(uuid.uuid4())
        self.log_group_name = os.environ.get("AWS_LAMBDA_LOG_GROUP_NAME", "")
        self.log_stream_name = os.environ.get("AWS_LAMBDA_LOG_STREAM_NAME", "")
        self.identity = None
        self.client_context = None
        self._deadline = time.time() + timeout_seconds

    def get_remaining_time_in_millis(self) -> int:
        return max(0, int((self._deadline - time.time()) * 1000))


def resolve(path: str) -> Any:
    module, _, name = path.rpartition(".")
    return getattr(importlib.import_module(module), name)


class _ThreadProfiles:
    """A cProfile profiler for the calling thread and one for every thread started while enabled."""

    def __init__(self) -> None:
        import cProfile
        import threading

        self._new = lambda: cProfile.Profile(time.thread_time)
        self._threading = threading
        self.profiles = [self._new()]

    def _start_in_thread(self, *_args: Any) -> None:
        sys.setprofile(None)
        profile = self._new()
        self.profiles.append(profile)
        profile.enable()

    def enable(self) -> None:
        self._threading.setprofile(self._start_in_thread)
        self.profiles[0].enable()

    def disable(self) -> None:
        self.profiles[0].disable()
        self._threading.setprofile(None)

    def dump(self, path: str) -> None:
        import pstats

        for profile in self.profiles:
            profile.create_stats()
        pstats.Stats(*self.profiles).dump_stats(path)


def _invoke(fn: Any, event: dict[str, Any], profiles: _ThreadProfiles | None) -> Invocation:
    context = LambdaContext()
    if profiles:
        profiles.enable()
    cpu, wall = time.process_time(), time.perf_counter()
    response = fn(event, context)
    wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    if profiles:
        profiles.disable()
    failures = len(response.get("batchItemFailures", [])) if isinstance(response, dict) else 0
    return Invocation(wall, cpu, failures)


def serve(connection: Any, handler: str, environment: dict[str, str], profile_path: str | None) -> None:
    """The worker process's loop: load events, invoke, close."""
    os.environ.clear()
    os.environ.update(environment)
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, 1)
    try:
        fn = resolve(handler)
    except Exception as exc:  # reported to the parent, which names the handler
        connection.send(("error", f"{type(exc).__name__}: {exc}"))
        return
    connection.send(("ok", None))
    profiles = _ThreadProfiles() if profile_path else None
    events: dict[str, dict[str, Any]] = {}
    invoked = 0
    while True:
        try:
            message = connection.recv()
        except EOFError:  # the parent is gone: nothing left to serve
            return
        if message[0] == "load":
            events[message[1]] = message[2]
            connection.send(("ok", None))
        elif message[0] == "invoke":
            try:
                # The first invocation creates clients and connections: a cold start, not profiled.
                connection.send(("ok", _invoke(fn, events[message[1]], profiles if invoked else None)))
                invoked += 1
            except Exception as exc:  # the invocation failed: the case is not measured
                connection.send(("error", f"{type(exc).__name__}: {exc}"))
        else:
            if profiles and profile_path:
                profiles.dump(profile_path)
            connection.send(("ok", None))
            return


class Function:
    """The parent's handle on one worker process."""

    def __init__(self, handler: str, environment: dict[str, str], profile_path: str | None = None):
        self.handler = handler
        context = multiprocessing.get_context("spawn")
        self._connection, child = context.Pipe()
        self._process = context.Process(
            target=serve, args=(child, handler, environment, profile_path), daemon=True, name=f"bench-{handler}"
        )
        self._process.start()
        self._receive()

    def _receive(self) -> Any:
        status, value = self._connection.recv()
        if status != "ok":
            raise BenchError(f"{self.handler}: {value}")
        return value

    def load(self, name: str, event: dict[str, Any]) -> None:
        self._connection.send(("load", name, event))
        self._receive()

    def invoke(self, name: str) -> Invocation:
        self._connection.send(("invoke", name))
        return self._receive()

    def close(self) -> None:
        if self._process.is_alive():
            self._connection.send(("close",))
            self._receive()
        self._process.join(timeout=10)
        if self._process.is_alive():
            self._process.kill()

    def __enter__(self) -> Function:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()
