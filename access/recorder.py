"""Record every AWS call a principal makes, as `Call`s in a JSON Lines file shared across processes.

    log = CallLog("build/calls.jsonl")
    record_client(kinesis, "service:lambda.amazonaws.com", log, account=account)   # one client
    record_process(role_arn, "build/calls.jsonl", account=account)                  # every later client here

A recorder hooks botocore's documented event system
(https://boto3.amazonaws.com/v1/documentation/api/latest/guide/events.html):

- `before-parameter-build` receives the API parameters before serialization: the call's authorization requests
  are resolved there (`access.calls.calls_for`) and kept in the request's context;
- `before-call` fires once the parameters passed validation and the request is about to be sent (once per API
  call, whatever its retries): only then are they written, so a call botocore rejects locally is not recorded;
- `after-call` of GetShardIterator, GetRecords and ListShards remembers which stream a shard iterator or page
  token belongs to, since the next GetRecords or ListShards names only the token.

Recording never changes a call or its result: a handler returns nothing, and a call the table cannot read is
recorded as the action "unknown:<service>:<Operation>" on "*" (so the proof fails visibly) instead of raising.
"""

from __future__ import annotations

import json
import logging
import os
import sys
import threading
from collections import OrderedDict
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import asdict
from typing import Any

from botocore import handlers

from access.call_types import EVERYTHING, SECURE_TRANSPORT, Call, UnrecordableCall
from access.calls import calls_for

logger = logging.getLogger(__name__)

STREAM = "tributary.access.stream"  # request-context key: the stream a Kinesis token request reads
TOKEN_FIELDS = ("ShardIterator", "NextShardIterator", "NextToken")
MAX_REMEMBERED_TOKENS = 100_000


class CallLog:
    """An append-only JSON Lines file of `Call`s that threads and processes write to at once.

    The file is opened once, with O_APPEND, and each `append` is a single `os.write` of whole lines: POSIX
    moves the offset to the end of the file and writes without an intervening modification, so lines from
    different writers never interleave. Nothing is buffered, so a process killed mid-invocation (a Lambda
    timeout) loses no call it made.
    """

    def __init__(self, path: str | os.PathLike[str]) -> None:
        self.path = os.fspath(path)
        self._fd: int | None = os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT | os.O_CLOEXEC, 0o644)

    def append(self, calls: Iterable[Call]) -> None:
        """Write `calls`, one JSON object per line, in one write."""
        data = "".join(json.dumps(asdict(call), separators=(",", ":")) + "\n" for call in calls).encode()
        if not data:
            return
        if self._fd is None:
            raise ValueError(f"{self.path}: the call log is closed")
        view = memoryview(data)
        while view:  # a regular file takes the whole write unless the disk is full
            view = view[os.write(self._fd, view) :]

    def close(self) -> None:
        if self._fd is not None:
            os.close(self._fd)
            self._fd = None

    def __enter__(self) -> CallLog:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    @staticmethod
    def read(path: str | os.PathLike[str]) -> list[Call]:
        """Every call in the file at `path`, in the order written. A last line without its newline is a write
        still under way in another process, and is left for the next read."""
        with open(path, encoding="utf-8") as file:
            text = file.read()
        complete = text[: text.rfind("\n") + 1]
        return [Call(**json.loads(line)) for line in complete.splitlines() if line.strip()]


class IteratorStreams(Mapping[str, str]):
    """Shard iterators and ListShards page tokens -> the stream ARN each was obtained for, thread-safe.

    Kinesis iterators expire five minutes after they are returned, and each GetRecords returns the next one,
    so only the newest `limit` tokens are kept.
    """

    def __init__(self, limit: int = MAX_REMEMBERED_TOKENS) -> None:
        self._streams: OrderedDict[str, str] = OrderedDict()
        self._limit = limit
        self._lock = threading.Lock()

    def remember(self, token: str, stream_arn: str) -> None:
        with self._lock:
            self._streams[token] = stream_arn
            self._streams.move_to_end(token)
            while len(self._streams) > self._limit:
                self._streams.popitem(last=False)

    def __getitem__(self, token: str) -> str:
        with self._lock:
            return self._streams[token]

    def __iter__(self) -> Iterator[str]:
        with self._lock:
            return iter(list(self._streams))

    def __len__(self) -> int:
        return len(self._streams)


class Recorder:
    """Turns one principal's botocore requests into `Call`s in a `CallLog`. Its methods are botocore event
    handlers; `handlers()` says which event each one listens to."""

    def __init__(
        self,
        principal: str,
        log: CallLog,
        *,
        account: str,
        partition: str = "aws",
        context: Mapping[str, str] | None = None,
    ) -> None:
        self.principal = principal
        self.log = log
        self.account = account
        self.partition = partition
        self.context = dict(context or {})
        self.iterator_streams = IteratorStreams()
        self.stopped = False
        # Request-context key for the calls this recorder resolved: its own, so that two recorders on one
        # client (a process recorder and a client recorder) each write their own principal's calls.
        self._pending = f"tributary.access.calls.{id(self)}"

    def handlers(self) -> list[tuple[str, Any]]:
        """(event name, handler) pairs; a bare prefix such as "before-call" matches every service and operation."""
        return [
            ("before-parameter-build", self.resolve),
            ("before-call", self.record),
            ("after-call.kinesis.GetShardIterator", self.remember_stream),
            ("after-call.kinesis.GetRecords", self.remember_stream),
            ("after-call.kinesis.ListShards", self.remember_stream),
        ]

    def calls(self, service: str, operation: str, params: Mapping, region: str) -> list[Call]:
        """The calls one request makes, or a single "unknown:..." call when the table cannot read it."""
        try:
            return calls_for(
                service,
                operation,
                params,
                principal=self.principal,
                region=region,
                account=self.account,
                partition=self.partition,
                iterator_streams=self.iterator_streams,
                context=self.context,
            )
        except UnrecordableCall as problem:
            logger.debug("recording %s as unknown: %s", operation, problem)
        except Exception:  # a resolver bug must not break the caller's call
            logger.exception("could not resolve %s:%s", service, operation)
        context = {SECURE_TRANSPORT: "true", **self.context}
        return [Call(self.principal, f"unknown:{service}:{operation}", EVERYTHING, context, operation)]

    def resolve(self, params: Mapping, model: Any, context: dict, **_: Any) -> None:
        """before-parameter-build: resolve the request's calls from its API parameters."""
        if self.stopped:
            return
        calls = self.calls(model.service_model.service_name, model.name, params, context.get("client_region") or "")
        context[self._pending] = calls
        if calls and calls[0].action.startswith("kinesis:"):
            context[STREAM] = calls[0].resource

    def record(self, context: dict, **_: Any) -> None:
        """before-call: the request passed validation and is about to be sent, so its calls happened."""
        calls = context.pop(self._pending, None)
        if not calls or self.stopped:
            return
        try:
            self.log.append(calls)
        except (OSError, ValueError):  # recording must not fail the call it records
            logger.exception("could not record %d call(s) in %s", len(calls), self.log.path)

    def remember_stream(self, parsed: Mapping, context: dict, **_: Any) -> None:
        """after-call (Kinesis): the tokens in the response read the same stream as the request."""
        stream = context.get(STREAM)
        if stream is None or not isinstance(parsed, Mapping):
            return
        for name in TOKEN_FIELDS:
            token = parsed.get(name)
            if token:
                self.iterator_streams.remember(token, stream)


def record_client(
    client: Any,
    principal: str,
    log: CallLog,
    *,
    account: str,
    partition: str = "aws",
    context: Mapping[str, str] | None = None,
) -> Recorder:
    """Record every call `client` makes from now on as `principal`'s. Each boto3 client has its own copy of
    its session's events, so other clients are unaffected. The region is the client's."""
    recorder = Recorder(principal, log, account=account, partition=partition, context=context)
    for event, handler in recorder.handlers():
        client.meta.events.register_last(event, handler)
    return recorder


class ProcessRecording:
    """A whole process recording as one principal, from `record_process` until `stop`."""

    def __init__(self, recorder: Recorder, specs: list[tuple[str, Any, object]]) -> None:
        self.recorder = recorder
        self._specs = specs

    def stop(self) -> None:
        """Stop recording: clients created from now on get no handlers, and those already created record
        nothing more. The log is closed."""
        global _recording
        self.recorder.stopped = True
        for spec in self._specs:
            if spec in handlers.BUILTIN_HANDLERS:
                handlers.BUILTIN_HANDLERS.remove(spec)
        default = _default_boto3_session()
        if default is not None:
            for event, handler, _ in self._specs:
                default.events.unregister(event, handler)
        self.recorder.log.close()
        if _recording is self:
            _recording = None


_recording: ProcessRecording | None = None


def _default_boto3_session() -> Any:
    boto3 = sys.modules.get("boto3")
    return getattr(boto3, "DEFAULT_SESSION", None) if boto3 is not None else None


def record_process(
    principal: str,
    log_path: str | os.PathLike[str],
    *,
    account: str,
    partition: str = "aws",
    context: Mapping[str, str] | None = None,
) -> ProcessRecording:
    """Record, as `principal`, every call of every boto3/botocore client created in this process from now on,
    for code that must not change (the Lambda handler in its worker process): call it before that code creates
    its clients.

    The handlers join `botocore.handlers.BUILTIN_HANDLERS`, which every botocore session registers when it is
    created (as moto's `mock_aws` does for its own hook), so `boto3.session.Session().client(...)` and
    `boto3.client(...)` record; boto3's default session, if it already exists, gets them too. A session created
    earlier does not. One process records as one principal: a second call raises RuntimeError.
    """
    global _recording
    if _recording is not None:
        raise RuntimeError(f"this process already records as {_recording.recorder.principal}")
    recorder = Recorder(principal, CallLog(log_path), account=account, partition=partition, context=context)
    specs = [(event, handler, handlers.REGISTER_LAST) for event, handler in recorder.handlers()]
    handlers.BUILTIN_HANDLERS.extend(specs)
    default = _default_boto3_session()
    if default is not None:
        for event, handler, _ in specs:
            default.events.register_last(event, handler)
    _recording = ProcessRecording(recorder, specs)
    return _recording
