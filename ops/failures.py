"""Poison pills out of a tenant's failure queue, into a file a person can repair, and back as records to put.

The pill file is JSON lines, one object per distinct failed record, in stream order (shard, then sequence
number). Each object is the failure queue's message (runtime/failures.py) with its base64 `payload` decoded
into exactly one of:

- `payload`: the payload's JSON value, when the bytes are a JSON document (repair it with jq or an editor;
  it is sent back as compact JSON);
- `payloadText`: the payload as text, when it is UTF-8 but not JSON (sent back as its UTF-8 bytes);
- `payloadBase64`: the bytes, when they are not UTF-8 (sent back decoded).

The other fields are kept as metadata: `partitionKey` (required by `send --file`: the record goes back under
the same key, so per-entity order holds), `reason`, `detail`, `shardId`, `sequenceNumber`, `subSequenceNumber`,
`approximateArrivalTimestamp`, `eventSourceARN`, `tenant`, `payloadSize`, `payloadSha256` and
`payloadTruncated`. A truncated payload (the queue kept its first bytes only) is refused by `send --file` until
the line is restored whole and `payloadTruncated` removed or set to false.

The event source mapping's records of given-up batches (Lambda's `KinesisBatchInfo`, no payload) share the
queue; they are counted, never written: `tributary redrive` replays them from the stream.
"""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

from ops.put import Record, limit_problem

# ReceiveMessage returns at most 10 messages; a wait above 0 is long polling, which asks every SQS server and so
# never answers "empty" while messages are visible (the short poll samples a subset):
# https://docs.aws.amazon.com/AWSSimpleQueueService/latest/APIReference/API_ReceiveMessage.html,
# https://docs.aws.amazon.com/AWSSimpleQueueService/latest/SQSDeveloperGuide/sqs-short-and-long-polling.html
RECEIVE_MAX_MESSAGES = 10
RECEIVE_WAIT_SECONDS = 1
# DeleteMessageBatch takes at most 10 entries, each with the most recent receipt handle of its message:
# https://docs.aws.amazon.com/AWSSimpleQueueService/latest/APIReference/API_DeleteMessageBatch.html
DELETE_BATCH = 10
PAYLOAD_FIELDS = ("payload", "payloadText", "payloadBase64")
BATCH_RECORD = "KinesisBatchInfo"  # the key of Lambda's on-failure record for a Kinesis batch


class PillFileError(Exception):
    """Raised when a pill file cannot be sent: it cannot be read, or lines are not pills (each problem one line,
    `file:line: field: what is wrong`). Nothing is sent."""

    def __init__(self, problems: list[str]) -> None:
        super().__init__("\n".join(problems))
        self.problems = problems


# --------------------------------------------------------------------------------- out of the queue


@dataclass
class QueueExport:
    """What one pass over the failure queue found."""

    pills: list[dict[str, Any]] = field(default_factory=list)  # pill-file lines, one per distinct record
    receipts: dict[str, str] = field(default_factory=dict)  # message id -> newest receipt handle, pills only
    repeats: int = 0  # deliveries of a record already exported (a batch delivered again reports it again)
    batch_records: int = 0  # the mapping's records of given-up batches
    unrecognised: int = 0  # messages that are neither


def read_queue(sqs: Any, queue_url: str) -> QueueExport:
    """Receive every visible message once (they stay in the queue, hidden for its visibility timeout)."""
    export = QueueExport()
    seen: set[tuple] = set()
    received: set[str] = set()
    while True:
        messages = sqs.receive_message(
            QueueUrl=queue_url, MaxNumberOfMessages=RECEIVE_MAX_MESSAGES, WaitTimeSeconds=RECEIVE_WAIT_SECONDS
        ).get("Messages", [])
        fresh = [message for message in messages if message["MessageId"] not in received]
        for message in messages:  # a message seen again (its visibility ran out) has a new receipt handle
            if message["MessageId"] in export.receipts:
                export.receipts[message["MessageId"]] = message["ReceiptHandle"]
        if not fresh:  # empty, or every message has come round again
            break
        for message in fresh:
            received.add(message["MessageId"])
            _take(export, seen, message)
    export.pills.sort(key=_stream_order)
    return export


def _take(export: QueueExport, seen: set[tuple], message: dict[str, Any]) -> None:
    try:
        body = json.loads(message["Body"])
    except ValueError:
        body = None
    if isinstance(body, dict) and BATCH_RECORD in body:
        export.batch_records += 1
        return
    if not _is_pill(body):
        export.unrecognised += 1
        return
    export.receipts[message["MessageId"]] = message["ReceiptHandle"]
    identity = (
        body.get("eventSourceARN"),
        body.get("shardId"),
        body.get("sequenceNumber"),
        body.get("subSequenceNumber"),
    )
    if identity in seen:
        export.repeats += 1
        return
    seen.add(identity)
    export.pills.append(pill_line(body))


def _is_pill(body: Any) -> bool:
    return isinstance(body, dict) and isinstance(body.get("payload"), str) and "reason" in body


def _stream_order(line: dict[str, Any]) -> tuple:
    sequence = str(line.get("sequenceNumber") or "")
    return (
        str(line.get("eventSourceARN") or ""),
        str(line.get("shardId") or ""),
        int(sequence) if sequence.isdigit() else -1,
        line.get("subSequenceNumber") or 0,
    )


def pill_line(body: dict[str, Any]) -> dict[str, Any]:
    """A failure message as a pill-file line: its payload decoded for repair, every other field kept."""
    line = {key: value for key, value in body.items() if key != "payload"}
    raw = base64.b64decode(body["payload"])
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        return line | {"payloadBase64": body["payload"]}
    try:
        return line | {"payload": json.loads(text, parse_constant=_refuse_constant)}
    except ValueError:
        return line | {"payloadText": text}


def _refuse_constant(name: str) -> Any:
    raise ValueError(f"{name} is not JSON")  # json.loads would take NaN and Infinity; JSON does not


def write_lines(lines: Iterable[dict[str, Any]], out: IO[str]) -> int:
    """Write one JSON line per pill; return how many."""
    count = 0
    for line in lines:
        # ASCII (other characters as \u escapes): whatever the terminal's or the file's encoding, the line is whole.
        out.write(json.dumps(line, sort_keys=True) + "\n")
        count += 1
    out.flush()
    return count


def delete_messages(sqs: Any, queue_url: str, receipts: list[str]) -> int:
    """Delete the messages behind `receipts`; return how many SQS did not delete."""
    failed = 0
    for start in range(0, len(receipts), DELETE_BATCH):
        chunk = receipts[start : start + DELETE_BATCH]
        entries = [{"Id": str(n), "ReceiptHandle": handle} for n, handle in enumerate(chunk)]
        failed += len(sqs.delete_message_batch(QueueUrl=queue_url, Entries=entries).get("Failed", []))
    return failed


# --------------------------------------------------------------------------------- back from a file


def read_pill_file(path: Path) -> list[Record]:
    """The records a pill file puts back, in file order. Raises PillFileError naming every bad line."""
    try:
        raw_lines = path.read_bytes().splitlines()
    except OSError as error:
        raise PillFileError([f"{path}: cannot be read ({error.strerror or error})"]) from None
    records: list[Record] = []
    problems: list[str] = []
    for number, raw in enumerate(raw_lines, 1):  # numbered as an editor shows them, blank lines included
        if not raw.strip():
            continue
        try:
            record = record_from_line(raw, number)
        except ValueError as error:
            problems.append(f"{path}:{number}: {error}")
            continue
        problem = limit_problem(record)
        if problem:
            problems.append(f"{path}:{number}: {problem}")
        records.append(record)
    if problems:
        raise PillFileError([*problems, f"{path}: nothing sent"])
    return records


def record_from_line(raw: bytes, number: int) -> Record:
    """One pill-file line as the record to put; ValueError (`field: what is wrong`) when it is not a pill."""
    try:
        line = json.loads(raw)
    except (UnicodeDecodeError, ValueError) as error:
        raise ValueError(f"not a JSON line ({error})") from None
    if not isinstance(line, dict):
        raise ValueError(f"a JSON {type(line).__name__}, not an object with a payload and a partitionKey")
    given = [name for name in PAYLOAD_FIELDS if name in line]
    if len(given) != 1:
        raise ValueError(f"{'/'.join(PAYLOAD_FIELDS)}: needs exactly one of them (got {', '.join(given) or 'none'})")
    key = line.get("partitionKey")
    if not isinstance(key, str):
        raise ValueError("partitionKey: missing or not a string; it is the key the record goes back under")
    if line.get("payloadTruncated") is True:
        raise ValueError(
            "payloadTruncated: the failure queue kept only this payload's first bytes; "
            "restore it whole, then set payloadTruncated to false"
        )
    return Record(line=number, data=_payload_bytes(given[0], line[given[0]]), partition_key=key)


def _payload_bytes(name: str, value: Any) -> bytes:
    if name == "payload":
        return _compact_json(value)
    if not isinstance(value, str):
        raise ValueError(f"{name}: must be a string")
    if name == "payloadText":
        try:
            return value.encode("utf-8")
        except UnicodeEncodeError:
            raise ValueError("payloadText: holds a lone surrogate (\\ud800), which UTF-8 cannot encode") from None
    try:
        return base64.b64decode(value, validate=True)
    except binascii.Error as error:
        raise ValueError(f"payloadBase64: not base64 ({error})") from None


def _compact_json(value: Any) -> bytes:
    try:
        return json.dumps(value, separators=(",", ":"), ensure_ascii=False).encode("utf-8")
    except UnicodeEncodeError:  # a lone surrogate (\ud800) has no UTF-8: keep it escaped, as JSON allows
        return json.dumps(value, separators=(",", ":")).encode("ascii")
