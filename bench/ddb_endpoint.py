"""A stand-in for DynamoDB and SQS with a fixed round trip and no server cost, to measure the caller's side.

    with FakeAwsEndpoint(rtt_seconds=0.005) as endpoint:
        os.environ["AWS_ENDPOINT_URL"] = endpoint.url
        ...  # boto3 clients now reach it
        endpoint.stats.calls["DynamoDB_20120810.BatchWriteItem"]

Both services speak JSON 1.0 in the botocore this project pins (`X-Amz-Target: <prefix>.<Operation>`, SQS's
prefix `AmazonSQS`; `botocore.session.get_session().get_service_model("sqs").protocol == "json"`). Every call
succeeds with the smallest valid answer, unless the endpoint is told to refuse some conditional writes (as a
table with existing items would) or to leave some BatchWriteItem requests unprocessed (as a throttled table
does). Each answer leaves `rtt_seconds` after its request arrived, whatever the handling took, so the round trip
is fixed; the server runs on its own threads in the calling process, never in the process being measured.
"""

from __future__ import annotations

import hashlib
import json
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

DYNAMODB = "DynamoDB_20120810"
SQS = "AmazonSQS"
ERROR_PREFIX = "com.amazonaws.dynamodb.v20120810#"


@dataclass
class EndpointStats:
    """What the endpoint received: calls per `X-Amz-Target`, items per operation, the most calls at once."""

    calls: Counter = field(default_factory=Counter)
    items: Counter = field(default_factory=Counter)
    refused: Counter = field(default_factory=Counter)
    in_flight: int = 0
    peak_in_flight: int = 0

    def snapshot(self) -> EndpointStats:
        return EndpointStats(Counter(self.calls), Counter(self.items), Counter(self.refused), 0, self.peak_in_flight)


@dataclass
class Behaviour:
    """How the endpoint answers. Percentages pick calls evenly in arrival order (every 1/pct-th call)."""

    rtt_seconds: float = 0.0
    conditional_failure_pct: float = 0.0  # conditional PutItem, UpdateItem and TransactWriteItems refused
    unprocessed_per_batch: int = 0  # the last N requests of every BatchWriteItem come back unprocessed


class _Selector:
    """Picks exactly `pct` percent of calls, spread evenly: call i is picked when floor(i*pct/100) steps up."""

    def __init__(self, pct: float):
        self.pct = pct
        self.count = 0

    def pick(self) -> bool:
        before = int(self.count * self.pct // 100)
        self.count += 1
        return int(self.count * self.pct // 100) > before


def _error(type_: str, message: str, **extra: Any) -> tuple[int, dict[str, Any]]:
    return 400, {"__type": ERROR_PREFIX + type_, "message": message, **extra}


class _Answers:
    """The answer to each operation; unknown operations get an empty success."""

    def __init__(self, behaviour: Behaviour, stats: EndpointStats):
        self.behaviour = behaviour
        self.stats = stats
        self.conditional = _Selector(behaviour.conditional_failure_pct)

    def answer(self, target: str, body: bytes) -> tuple[int, dict[str, Any]]:
        service, _, operation = target.partition(".")
        request = json.loads(body or b"{}")
        if service == SQS:
            return self._sqs(operation, request)
        handler = getattr(self, f"_{operation}", None)
        return handler(request) if handler else (200, {})

    def _BatchWriteItem(self, request: dict[str, Any]) -> tuple[int, dict[str, Any]]:
        unprocessed: dict[str, list] = {}
        for table, requests in request.get("RequestItems", {}).items():
            self.stats.items["BatchWriteItem"] += len(requests)
            keep = self.behaviour.unprocessed_per_batch
            if keep:
                unprocessed[table] = requests[-keep:]
        return 200, {"UnprocessedItems": unprocessed}

    def _conditional(self, request: dict[str, Any], operation: str) -> tuple[int, dict[str, Any]] | None:
        if "ConditionExpression" not in request or not self.conditional.pick():
            return None
        self.stats.refused[operation] += 1
        return _error("ConditionalCheckFailedException", "The conditional request failed")

    def _PutItem(self, request: dict[str, Any]) -> tuple[int, dict[str, Any]]:
        self.stats.items["PutItem"] += 1
        return self._conditional(request, "PutItem") or (200, {})

    def _UpdateItem(self, request: dict[str, Any]) -> tuple[int, dict[str, Any]]:
        self.stats.items["UpdateItem"] += 1
        return self._conditional(request, "UpdateItem") or (200, {})

    def _TransactWriteItems(self, request: dict[str, Any]) -> tuple[int, dict[str, Any]]:
        actions = request.get("TransactItems", [])
        self.stats.items["TransactWriteItems"] += len(actions)
        conditional = [any("ConditionExpression" in a for a in action.values()) for action in actions]
        if not any(conditional) or not self.conditional.pick():
            return 200, {}
        self.stats.refused["TransactWriteItems"] += 1
        # The first conditional action fails, as a counters marker already present would.
        first = conditional.index(True)
        reasons = [{"Code": "None"} for _ in actions]
        reasons[first] = {"Code": "ConditionalCheckFailed", "Message": "The conditional request failed"}
        codes = ", ".join(r["Code"] for r in reasons)
        return _error(
            "TransactionCanceledException",
            f"Transaction cancelled, please refer cancellation reasons for specific reasons [{codes}]",
            CancellationReasons=reasons,
        )

    def _sqs(self, operation: str, request: dict[str, Any]) -> tuple[int, dict[str, Any]]:
        if operation != "SendMessageBatch":
            return 200, {}
        entries = request.get("Entries", [])
        self.stats.items["SendMessageBatch"] += len(entries)
        successful = [
            {
                "Id": entry["Id"],
                "MessageId": f"00000000-0000-0000-0000-{index:012d}",
                "MD5OfMessageBody": hashlib.md5(entry["MessageBody"].encode()).hexdigest(),  # noqa: S324 (SQS's checksum)
            }
            for index, entry in enumerate(entries)
        ]
        return 200, {"Successful": successful, "Failed": []}


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive: botocore reuses its pooled connections
    # Headers and body leave in two writes: with Nagle's algorithm the body would wait for the client's delayed
    # ACK of the headers (tens of ms), a round trip no real endpoint adds.
    disable_nagle_algorithm = True
    server: _Server

    def do_POST(self) -> None:  # noqa: N802 (http.server's naming)
        arrived = time.perf_counter()
        stats = self.server.stats
        body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        target = self.headers.get("X-Amz-Target", "")
        with self.server.lock:
            stats.calls[target] += 1
            stats.in_flight += 1
            stats.peak_in_flight = max(stats.peak_in_flight, stats.in_flight)
            status, answer = self.server.answers.answer(target, body)
        payload = json.dumps(answer).encode()
        left = self.server.behaviour.rtt_seconds - (time.perf_counter() - arrived)
        if left > 0:
            time.sleep(left)
        with self.server.lock:
            stats.in_flight -= 1
        self.send_response(status)
        self.send_header("Content-Type", "application/x-amz-json-1.0")
        self.send_header("Content-Length", str(len(payload)))
        self.send_header("x-amzn-RequestId", "bench")
        self.end_headers()
        self.wfile.write(payload)

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 (http.server's signature)
        """Silent: one line per request would cost more than the answer."""


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    stats: EndpointStats
    behaviour: Behaviour
    answers: _Answers
    lock: threading.Lock


class FakeAwsEndpoint:
    """The endpoint on 127.0.0.1 (a free port), serving on a background thread while open."""

    def __init__(self, rtt_seconds: float = 0.0, **behaviour: Any):
        self.behaviour = Behaviour(rtt_seconds=rtt_seconds, **behaviour)
        self._server: _Server | None = None
        self._thread: threading.Thread | None = None

    @property
    def stats(self) -> EndpointStats:
        assert self._server is not None, "the endpoint is not started"
        return self._server.stats

    @property
    def url(self) -> str:
        assert self._server is not None, "the endpoint is not started"
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}"

    def start(self) -> FakeAwsEndpoint:
        server = _Server(("127.0.0.1", 0), _Handler)
        server.stats = EndpointStats()
        server.behaviour = self.behaviour
        server.answers = _Answers(self.behaviour, server.stats)
        server.lock = threading.Lock()
        self._server = server
        self._thread = threading.Thread(target=server.serve_forever, daemon=True, name="fake-aws-endpoint")
        self._thread.start()
        return self

    def reset_stats(self) -> None:
        with self._server.lock:
            in_flight = self._server.stats.in_flight
            self._server.stats = EndpointStats(in_flight=in_flight)
            self._server.answers.stats = self._server.stats

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    def __enter__(self) -> FakeAwsEndpoint:
        return self.start()

    def __exit__(self, *_exc: object) -> None:
        self.stop()
