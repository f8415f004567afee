"""The time budget: every AWS call, with its retries and timeouts, ends within the invocation's remaining
time, so a slow or throttling endpoint gives a partial batch response, never a Lambda timeout."""

from __future__ import annotations

import json
import socket
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from botocore.exceptions import ClientError
from runtime_helpers import (
    FakeClock,
    FakeContext,
    client_error,
    config,
    event,
    json_bytes,
    kinesis_record,
)

from runtime.exceptions import DeadlineExceededError
from runtime.failures import FailureQueue
from runtime.handler import ConfiguredHandler
from runtime.modes import MODES
from runtime.modes.base import AwsClients
from runtime.records import decode_batch
from runtime.retry import Backoff, Deadline
from runtime.types import Outcome, RecordFailure


class SilentEndpoint:
    """A local endpoint that accepts connections but never answers a request: the slowest AWS endpoint
    there is."""

    def __init__(self):
        self.server = socket.create_server(("127.0.0.1", 0))
        self.url = f"http://127.0.0.1:{self.server.getsockname()[1]}"
        self.connections: list[socket.socket] = []
        self.accepted = 0
        self.closed = threading.Event()
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self):
        while not self.closed.is_set():
            try:
                connection, _ = self.server.accept()
            except OSError:
                return
            self.connections.append(connection)
            self.accepted += 1

    def close(self):
        self.closed.set()
        self.server.close()
        for connection in self.connections:
            connection.close()


class ThrottlingEndpoint:
    """A local HTTP endpoint that answers every request at once with DynamoDB's ThrottlingException."""

    def __init__(self):
        endpoint = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                self.rfile.read(int(self.headers.get("Content-Length", 0)))
                endpoint.requests += 1
                body = json.dumps({"__type": "com.amazon.coral.availability#ThrottlingException", "message": "slow"})
                self.send_response(400)
                self.send_header("Content-Type", "application/x-amz-json-1.0")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body.encode())

            def log_message(self, *args):
                pass

        self.requests = 0
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self):
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def silent_endpoint():
    endpoint = SilentEndpoint()
    yield endpoint
    endpoint.close()


@pytest.fixture
def throttling_endpoint():
    endpoint = ThrottlingEndpoint()
    yield endpoint
    endpoint.close()


MODE_SETTINGS = {
    "events": {},
    "latest": {"version_field": "v"},
    "counters": {"counter_fields": "n"},
}
# A margin wider than the default keeps the reserve left for the response well above the scheduling delays
# of a loaded test machine; the rule under test is the same for every margin.
MARGIN_MS = 4_000


@pytest.fixture
def processor_for(monkeypatch):
    """The Lambda entry point's processor with its default boto3 clients, whose calls go to ``url``."""

    def build(url, mode):
        monkeypatch.setenv("AWS_ENDPOINT_URL", url)
        cfg = config(write_mode=mode, failure_queue_url=f"{url}/123456789012/acme-failures", **MODE_SETTINGS[mode])
        processor = ConfiguredHandler(cfg, safety_margin_ms=MARGIN_MS)
        # Built now, as an earlier invocation of the container would have: on a loaded machine building a client
        # can take longer than the second these tests leave, and the calls, not the cold start, are under test.
        processor.clients.dynamodb, processor.clients.sqs  # noqa: B018
        return processor

    return build


def invoke(processor, records, remaining_ms):
    """Call the processor as Lambda would; the response and whether it came before Lambda's deadline."""
    started = time.monotonic()
    response = processor(event(records), FakeContext(remaining_ms=remaining_ms))
    elapsed = time.monotonic() - started
    assert elapsed < remaining_ms / 1000, f"answered after {elapsed:.1f} s of the {remaining_ms} ms Lambda had left"
    return response


def all_reported(records):
    return {"batchItemFailures": [{"itemIdentifier": r["kinesis"]["sequenceNumber"]} for r in records]}


@pytest.mark.parametrize("mode", sorted(MODE_SETTINGS))
def test_handler_unanswering_endpoint_returns_before_lambdas_deadline_reporting_unfinished_records(
    mode, silent_endpoint, processor_for
):
    pill = kinesis_record(999, b"not json")  # for the failure queue, which never answers either
    valid = [kinesis_record(1_000 + i, json_bytes({"device_id": f"d-{i % 3}", "v": i, "n": 1})) for i in range(6)]
    records = [pill, *valid]
    response = invoke(processor_for(silent_endpoint.url, mode), records, remaining_ms=MARGIN_MS + 1_000)
    assert response == all_reported(records)
    assert silent_endpoint.accepted >= 1  # the calls were made, and never answered


def test_writers_default_client_makes_one_attempt_per_call(throttling_endpoint, monkeypatch):
    monkeypatch.setenv("AWS_ENDPOINT_URL", throttling_endpoint.url)
    client = AwsClients().dynamodb
    with pytest.raises(ClientError, match="ThrottlingException"):
        client.put_item(TableName="acme-table", Item={"pk": {"S": "a"}, "sk": {"S": "b"}})
    assert throttling_endpoint.requests == 1  # retries are the handler's, bounded by its deadline


def test_handler_throttling_endpoint_returns_before_lambdas_deadline(throttling_endpoint, processor_for):
    records = [kinesis_record(1_000 + i, json_bytes({"device_id": f"d-{i}", "v": 1})) for i in range(3)]
    response = invoke(processor_for(throttling_endpoint.url, "latest"), records, remaining_ms=MARGIN_MS + 1_000)
    assert response == all_reported(records)
    assert throttling_endpoint.requests >= 1  # the calls reached the endpoint and were throttled


class SlowClient:
    """Every call takes ``seconds`` on the fake clock, then answers like an empty success."""

    def __init__(self, clock, seconds):
        self.clock, self.seconds, self.calls = clock, seconds, []

    def __getattr__(self, name):
        def call(**kwargs):
            self.calls.append(name)
            self.clock.now += self.seconds
            return {}

        return call


def records_for(cfg, count):
    payloads = [{"device_id": f"d-{i}", "v": 1, "n": 1} for i in range(count)]
    valid, failures = decode_batch([kinesis_record(1 + i, json_bytes(p)) for i, p in enumerate(payloads)], cfg)
    assert not failures
    return valid


@pytest.mark.parametrize(
    ("cfg", "count", "calls"),
    [
        (config(write_mode="latest", version_field="v"), 3, 2),  # one PutItem per key
        # Keys share a TransactWriteItems of at most 100 actions (a marker and an update each): 50 keys per call.
        (config(write_mode="counters", counter_fields="n"), 150, 2),
        (config(), 60, 2),  # BatchWriteItem, 25 keys per call
    ],
    ids=["latest", "counters", "events"],
)
def test_writers_no_call_starts_after_the_deadline(cfg, count, calls):
    clock = FakeClock()
    client = SlowClient(clock, seconds=1.0)
    backoff = Backoff(sleep=clock.sleep, rng=lambda: 0.5)
    writer = MODES[cfg.write_mode].writer(cfg, AwsClients(lambda service: client), backoff=backoff, max_workers=1)

    report = writer.write(records_for(cfg, count), Deadline.after(1.5, clock))

    assert len(client.calls) == calls  # started at 0 s and 1 s; at 2 s the budget (1.5 s) is spent
    assert Outcome.TRANSIENT in report.outcomes.values()
    assert clock.now == 1_000 + calls


def test_failures_no_send_starts_after_the_deadline():
    clock = FakeClock()
    client = SlowClient(clock, seconds=1.0)
    source = decode_batch([kinesis_record(1, b"not json")], config())[1][0].source
    failures = [RecordFailure(source, b"x", "undecodable", "not json")] * 25  # three SendMessageBatch calls
    sink = FailureQueue(AwsClients(lambda service: client), "queue-url", "acme", Backoff(sleep=clock.sleep))

    unsent = sink.send(failures, Deadline.after(1.5, clock))

    assert client.calls == ["send_message_batch"] * 2
    assert unsent == set(range(20, 25))


def test_deadline_gives_up_waiting_for_a_call_after_its_grace():
    never = threading.Event()
    with pytest.raises(DeadlineExceededError, match="no answer"):
        Deadline.after(0.05, grace=0.1).run(never.wait)  # never.wait alone would block forever
    never.set()


def test_deadline_does_not_start_a_call_once_spent():
    clock = FakeClock()
    calls = []
    with pytest.raises(DeadlineExceededError, match="not started"):
        Deadline.after(-0.001, clock).run(lambda: calls.append(1))
    assert calls == []


def test_deadline_passes_a_calls_error_through():
    def rejected():
        raise client_error("ValidationException", "PutItem")

    with pytest.raises(ClientError, match="ValidationException"):
        Deadline.after(5).run(rejected)
