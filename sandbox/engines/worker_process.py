"""Inside one Lambda execution environment: the worker process `FunctionWorkers` spawns.

`worker_main` sets the process up like Lambda's Python runtime (the function's environment and Lambda's own
variables, output to the function's log, the fault plan, an optional setup the caller injects), imports the
handler once (the init phase) and then serves invocations sent over its pipe, one at a time, each with a
`LambdaContext` and the START/END/REPORT lines Lambda logs.
"""

from __future__ import annotations

import json
import os
import sys
import time
import traceback
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from sandbox.engines.faults import FaultPlan
from sandbox.engines.specs import FunctionSpec

PASSED_THROUGH = ("PATH", "HOME", "TMPDIR", "SYSTEMROOT", "LD_LIBRARY_PATH")


@dataclass(frozen=True)
class WorkerConfig:
    """Everything a worker process needs; pickled to the child."""

    handler: str
    environment: dict[str, str]
    log_path: str
    code_root: str
    faults: FaultPlan
    stream_id: str
    # Called in the worker before the handler is imported; pickled, so a module-level function or a
    # functools.partial of one (the access proof records the handler's calls as the function's role).
    setup: Callable[[], object] | None = None


def lambda_environment(function: FunctionSpec, endpoint_url: str, region: str) -> dict[str, str]:
    """The worker's whole environment: a few OS basics, the function's variables, Lambda's own."""
    env = {key: os.environ[key] for key in PASSED_THROUGH if key in os.environ}
    env.update(function.environment)
    env.update(
        {
            "LANG": "en_US.UTF-8",
            "TZ": ":UTC",
            "PYTHONUNBUFFERED": "1",
            "AWS_REGION": region,
            "AWS_DEFAULT_REGION": region,
            "AWS_ACCESS_KEY_ID": "testing",
            "AWS_SECRET_ACCESS_KEY": "testing",
            "AWS_SESSION_TOKEN": "testing",
            "AWS_ENDPOINT_URL": endpoint_url,
            "AWS_LAMBDA_FUNCTION_NAME": function.name,
            "AWS_LAMBDA_FUNCTION_VERSION": "$LATEST",
            "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": str(function.memory_mb),
            "AWS_LAMBDA_LOG_GROUP_NAME": f"/aws/lambda/{function.name}",
            "_HANDLER": function.handler,
            "POWERTOOLS_TRACE_DISABLED": "1",
            "AWS_XRAY_CONTEXT_MISSING": "IGNORE_ERROR",
        }
    )
    env.pop("_X_AMZN_TRACE_ID", None)
    return env


# --------------------------------------------------------------------------- the worker process


class LambdaContext:
    """The `context` argument, with the attributes and method Lambda's Python runtime provides."""

    function_version = "$LATEST"

    def __init__(self, request_id: str, deadline: float) -> None:
        self.function_name = os.environ["AWS_LAMBDA_FUNCTION_NAME"]
        self.memory_limit_in_mb = os.environ["AWS_LAMBDA_FUNCTION_MEMORY_SIZE"]
        self.invoked_function_arn = os.environ["SANDBOX_FUNCTION_ARN"]
        self.aws_request_id = request_id
        self.log_group_name = os.environ["AWS_LAMBDA_LOG_GROUP_NAME"]
        self.log_stream_name = os.environ["AWS_LAMBDA_LOG_STREAM_NAME"]
        self.identity = None
        self.client_context = None
        self._deadline = deadline

    def get_remaining_time_in_millis(self) -> int:
        return max(0, int((self._deadline - time.time()) * 1000))


def resolve_handler(handler: str) -> Any:
    """`pkg.module.function`, `pkg/module.function` or `pkg/module.py:function` -> the callable."""
    import importlib

    if ":" in handler:
        module_path, func_name = handler.split(":", 1)
    else:
        module_path, _, func_name = handler.rpartition(".")
    module_name = module_path.removesuffix(".py").replace("/", ".")
    if not module_name or not func_name:
        raise ValueError(f"Bad handler {handler!r}: expected module.function")
    return getattr(importlib.import_module(module_name), func_name)


def _redirect_output(log_path: str) -> None:
    fd = os.open(log_path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
    os.dup2(fd, 1)
    os.dup2(fd, 2)
    os.close(fd)
    for stream in (sys.stdout, sys.stderr):
        stream.reconfigure(line_buffering=True)


def _error_reply(exc: BaseException) -> tuple[str, str, str, list[str]]:
    trace = traceback.format_exception(exc)
    print(f"[ERROR] {type(exc).__name__}: {exc}\n{''.join(trace)}", file=sys.stderr, flush=True)
    return ("error", type(exc).__name__, str(exc), trace)


def _invoke_once(fn: Any, injector: Any, request_id: str, event_json: str, deadline: float) -> tuple:
    event = json.loads(event_json)
    print(f"START RequestId: {request_id} Version: $LATEST", flush=True)
    started = time.monotonic()
    if injector is not None:
        injector.start_invocation()
    try:
        result = fn(event, LambdaContext(request_id, deadline))
        body = json.dumps(result)
        reply: tuple = ("ok", body)
    except Exception as exc:  # the runtime reports any exception as the function's error
        reply = _error_reply(exc)
    if injector is not None:
        injector.end_invocation()
    duration = (time.monotonic() - started) * 1000
    print(f"END RequestId: {request_id}", flush=True)
    print(f"REPORT RequestId: {request_id}\tDuration: {duration:.2f} ms", flush=True)
    return reply


def worker_main(conn: Any, config: WorkerConfig) -> None:
    """The worker process: set up like a Lambda execution environment, then serve invocations."""
    os.environ.clear()
    os.environ.update(config.environment)
    if hasattr(time, "tzset"):
        time.tzset()
    _redirect_output(config.log_path)
    if config.code_root not in sys.path:
        sys.path.insert(0, config.code_root)

    from sandbox.engines import faults

    if config.setup is not None:
        # Before the handler exists, so whatever the setup installs (the access proof's call recording)
        # sees every client the handler creates.
        config.setup()
    try:
        injector = faults.install(config.faults, config.stream_id)
        fn = resolve_handler(config.handler)
    except Exception as exc:
        _, _, message, trace = _error_reply(exc)
        conn.send(("init_error", "Runtime.ImportModuleError", f"Unable to import module: {message}", trace))
        return
    conn.send(("ready",))
    while True:
        try:
            message = conn.recv()
        except EOFError:
            return
        if message is None:
            return
        request_id, event_json, deadline = message
        conn.send(_invoke_once(fn, injector, request_id, event_json, deadline))
