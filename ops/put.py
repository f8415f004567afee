"""Records onto a tenant's stream, on AWS as in the sandbox: PutRecords within Kinesis's limits, failed entries
retried. The limits (sandbox/session/kinesis_limits.py) and the put loop (sandbox/session/traffic.py) are the
sandbox producers', which import nothing of the sandbox's extra; this module gives them records read from a file."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from ops.target import one_line
from sandbox.session import traffic
from sandbox.session.synthetic import ProducedRecord


@dataclass(frozen=True)
class Record:
    """One record to put, with the file line it came from (for messages)."""

    line: int
    data: bytes
    partition_key: str


class PutFailed(Exception):
    """Raised when the stream refuses records after every retry, or AWS refuses the call: `sent` records (the
    first ones, in order) went in before it."""

    def __init__(self, sent: int, message: str) -> None:
        super().__init__(message)
        self.sent = sent


def _produced(record: Record) -> ProducedRecord:
    return ProducedRecord(index=record.line, data=record.data, partition_key=record.partition_key, kind="given")


def limit_problem(record: Record) -> str | None:
    """Why Kinesis would refuse `record` whatever the retries (its size or partition key), or None."""
    return traffic.record_limit_problem(_produced(record))


def put(kinesis: Any, stream: str, records: list[Record]) -> int:
    """Put `records` in order (500 per call, failed entries retried); return how many went in."""
    produced = [_produced(record) for record in records]
    try:
        traffic.put_records(kinesis, stream, produced)
    except (traffic.PutError, ClientError, BotoCoreError) as error:
        raise PutFailed(sum(p.sequence_number is not None for p in produced), one_line(error)) from None
    return len(produced)
