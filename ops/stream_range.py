"""A given-up batch's records, read again from the stream while it still holds them.

GetShardIterator AT_SEQUENCE_NUMBER at the range's first sequence number, then GetRecords until a record past
its last one, the shard's end or the stream's tip. A stream keeps records for its retention period only
(https://docs.aws.amazon.com/streams/latest/dev/kinesis-extended-retention.html), so part or all of a range may be
gone:

- the shard or the stream no longer exists (a closed shard past retention, a deleted stream) or Kinesis refuses
  the sequence number: GetShardIterator fails with ResourceNotFoundException or InvalidArgumentException
  (https://docs.aws.amazon.com/kinesis/latest/APIReference/API_GetShardIterator.html); every record is gone;
- the first record Kinesis returns is after the range's first sequence number: the records before it were
  trimmed. As trimming takes the oldest records first, what is left of the range is its newest part.

Records past retention are counted from the range's `batchSize`: the ones the batch held, less those read again.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from botocore.exceptions import ClientError

from ops.failure_records import BatchRange
from ops.target import one_line
from sandbox.engines.shard_reader import GET_RECORDS_LIMIT, StreamRecord

GONE = ("ResourceNotFoundException", "InvalidArgumentException")


@dataclass
class RangeRead:
    """The records of a range still on the stream, in shard order, and how many are past retention."""

    records: list[StreamRecord] = field(default_factory=list)
    past_retention: int = 0
    why_gone: str | None = None  # Kinesis's answer when nothing of the range could be read


def read_range(kinesis: Any, stream: str, batch: BatchRange) -> RangeRead:
    """Every record of `stream` in `batch`'s range that the stream still holds."""
    try:
        iterator = kinesis.get_shard_iterator(
            StreamName=stream,
            ShardId=batch.shard_id,
            ShardIteratorType="AT_SEQUENCE_NUMBER",
            StartingSequenceNumber=str(batch.start),
        )["ShardIterator"]
    except ClientError as error:
        if error.response.get("Error", {}).get("Code") not in GONE:
            raise
        return RangeRead(past_retention=batch.batch_size, why_gone=one_line(error))
    read = RangeRead()
    first_read: int | None = None
    while iterator:
        page = kinesis.get_records(ShardIterator=iterator, Limit=GET_RECORDS_LIMIT)
        for raw in page["Records"]:
            sequence = int(raw["SequenceNumber"])
            first_read = sequence if first_read is None else first_read
            if sequence > batch.end:
                return _settled(read, batch, first_read)
            read.records.append(
                StreamRecord(
                    batch.shard_id,
                    raw["SequenceNumber"],
                    raw["PartitionKey"],
                    raw["Data"],
                    raw["ApproximateArrivalTimestamp"].timestamp(),
                )
            )
        # An empty page behind the tip is a gap in the shard, not its end: read on (GetRecords,
        # https://docs.aws.amazon.com/kinesis/latest/APIReference/API_GetRecords.html).
        if not page["Records"] and not page.get("MillisBehindLatest"):
            break
        iterator = page.get("NextShardIterator")
    return _settled(read, batch, first_read)


def _settled(read: RangeRead, batch: BatchRange, first_read: int | None) -> RangeRead:
    trimmed = first_read is None or first_read > batch.start
    if trimmed:
        read.past_retention = max(0, batch.batch_size - len(read.records))
    return read
