"""The tenant's failure queue: one SQS message per record that can never succeed.

Message body (JSON, ASCII): tenant, reason, detail, shardId, sequenceNumber, subSequenceNumber,
partitionKey, approximateArrivalTimestamp, eventSourceARN, payload (base64 of the raw bytes),
payloadSize, payloadSha256, payloadTruncated. A payload that would push the message past SQS's
256 KiB limit is cut to fit, with payloadTruncated true; payloadSize and payloadSha256 always
describe the whole original payload.
"""

from __future__ import annotations

import base64
import hashlib
import json
from collections.abc import Sequence
from functools import partial
from typing import Any

from runtime.retry import Backoff, Deadline, is_retryable
from runtime.types import RecordFailure

MAX_MESSAGE_BYTES = 256 * 1024  # SQS: per message and per SendMessageBatch call
MAX_BATCH_ENTRIES = 10
MAX_DETAIL_CHARS = 2_000
ENVELOPE_MARGIN = 1_024


def failure_message(tenant: str, failure: RecordFailure, limit: int = MAX_MESSAGE_BYTES) -> str:
    """The JSON body for one failure, never longer than ``limit`` bytes."""
    source = failure.source
    body: dict[str, Any] = {
        "tenant": tenant,
        "reason": failure.reason,
        "detail": failure.detail[:MAX_DETAIL_CHARS],
        "shardId": source.shard_id,
        "sequenceNumber": source.sequence_number,
        "subSequenceNumber": source.sub_sequence_number if source.aggregated else None,
        "partitionKey": source.partition_key,
        "approximateArrivalTimestamp": source.arrival_timestamp,
        "eventSourceARN": source.event_source_arn,
        "payloadSize": len(failure.payload),
        "payloadSha256": hashlib.sha256(failure.payload).hexdigest(),
        "payloadTruncated": False,
        "payload": "",
    }
    envelope = len(json.dumps(body))
    room = limit - envelope - ENVELOPE_MARGIN
    payload = failure.payload
    if 4 * -(-len(payload) // 3) > room:  # base64 length of the whole payload does not fit
        payload = payload[: max(0, room // 4 * 3)]
        body["payloadTruncated"] = True
    body["payload"] = base64.b64encode(payload).decode("ascii")
    return json.dumps(body)


class FailureQueue:
    """Sends permanent failures with SendMessageBatch (10 entries, 256 KiB per call)."""

    def __init__(self, clients: Any, queue_url: str, tenant: str, backoff: Backoff | None = None):
        self.clients = clients
        self.queue_url = queue_url
        self.tenant = tenant
        self.backoff = backoff or Backoff()

    def send(self, failures: Sequence[RecordFailure], deadline: Deadline) -> set[int]:
        """Send every failure once; return the positions (in ``failures``) that could not be sent."""
        bodies = [failure_message(self.tenant, f) for f in failures]
        chunks = _chunks(bodies)
        for n, chunk in enumerate(chunks):
            unsent = self._send_chunk({str(i): bodies[i] for i in chunk}, deadline)
            if unsent:
                # Everything from the first unsent failure on is redelivered, so later chunks are
                # not sent now (they would reach the queue twice). Entries of this chunk after an
                # unsent one may already be in the queue: the one case a consumer sees a repeat.
                return unsent | {i for later in chunks[n + 1 :] for i in later}
        return set()

    def _send_chunk(self, entries: dict[str, str], deadline: Deadline) -> set[int]:
        pending = dict(entries)
        attempt = 0
        while pending:
            try:
                entries = [{"Id": entry_id, "MessageBody": body} for entry_id, body in pending.items()]
                response = deadline.run(partial(self._send_message_batch, entries))
            except Exception as exc:  # any failure leaves the entries unsent, never silently dropped
                if not is_retryable(exc):
                    break
            else:
                failed = {f["Id"] for f in response.get("Failed", [])}
                pending = {i: b for i, b in pending.items() if i in failed}
            if not pending or not self.backoff.wait(attempt, deadline):
                break
            attempt += 1
        return {int(i) for i in pending}

    def _send_message_batch(self, entries: list[dict[str, str]]) -> dict[str, Any]:
        return self.clients.sqs.send_message_batch(QueueUrl=self.queue_url, Entries=entries)


def _chunks(bodies: list[str]) -> list[list[int]]:
    """Positions grouped into SendMessageBatch calls: at most 10 entries and 256 KiB each."""
    chunks: list[list[int]] = []
    size = 0
    for position, body in enumerate(bodies):
        length = len(body.encode("utf-8"))
        if not chunks or len(chunks[-1]) == MAX_BATCH_ENTRIES or size + length > MAX_MESSAGE_BYTES:
            chunks.append([])
            size = 0
        chunks[-1].append(position)
        size += length
    return chunks
