"""One consumer's reading of a Kinesis stream, shared by the event source mapping and Firehose delivery.

`ShardReader(kinesis, stream_name, starting_position=..., resume_after=...)` keeps, per shard, an iterator
and the last sequence number read, and follows the rules Kinesis sets for a consumer:

- shards are listed with ListShards (all pages), again every `refresh_seconds` and as soon as a shard is
  finished, so the children of a split or merge are found;
- a child shard is read only after its parents are finished and the consumer says it has settled what it
  read from them (`drained`), and from TRIM_HORIZON, so records of one partition key keep their order
  across a reshard ("Complete the resharding action",
  https://docs.aws.amazon.com/streams/latest/dev/kinesis-using-sdk-java-after-resharding.html);
- a shard is finished when GetRecords returns no NextShardIterator, which Kinesis does once a closed shard
  has nothing more to give (GetRecords, https://docs.aws.amazon.com/kinesis/latest/APIReference/API_GetRecords.html).
  That is the only sign trusted: the emulator keeps routing records to a closed parent, so the
  EndingSequenceNumber a listing shows for it is not its end there;
- GetRecords asks for at most 10,000 records, its limit (same page);
- an iterator expires 5 minutes after it is issued (GetShardIterator,
  https://docs.aws.amazon.com/kinesis/latest/APIReference/API_GetShardIterator.html): one close to that
  age is renewed before use, and one refused with ExpiredIteratorException is renewed after the last
  sequence number read (AFTER_SEQUENCE_NUMBER), so nothing is read twice or skipped.

The reader knows nothing of what its consumer does with the records; `positions()` is where a later
reader built with `resume_after=` continues.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from botocore.exceptions import ClientError

GET_RECORDS_LIMIT = 10_000  # GetRecords' maximum Limit
ITERATOR_LIFETIME_SECONDS = 300.0  # a shard iterator expires 5 minutes after it is issued
# Renewed a little before it expires, so a GetRecords in flight never carries a dead iterator.
ITERATOR_RENEW_AFTER_SECONDS = ITERATOR_LIFETIME_SECONDS - 30.0
SHARD_REFRESH_SECONDS = 10.0
EXPIRED_ITERATOR = "ExpiredIteratorException"


@dataclass(frozen=True)
class StreamRecord:
    """One Kinesis record as GetRecords returns it, with the shard it was read from."""

    shard_id: str
    sequence_number: str
    partition_key: str
    data: bytes
    arrival: float  # epoch seconds (ApproximateArrivalTimestamp)


@dataclass
class _Shard:
    shard_id: str
    parents: tuple[str, ...]
    iterator: str | None = None
    issued_at: float = 0.0  # monotonic time the iterator was issued
    last_sequence: str | None = None
    started: bool = False
    caught_up: bool = False
    finished: bool = False


def _parents(shard: dict[str, Any]) -> tuple[str, ...]:
    return tuple(shard[key] for key in ("ParentShardId", "AdjacentParentShardId") if shard.get(key))


class ShardReader:
    """Every shard of one stream, read in order for one consumer. Safe to use from one polling thread,
    with `positions()` and `caught_up()` callable from others."""

    def __init__(
        self,
        kinesis: Any,
        stream_name: str,
        *,
        starting_position: str = "TRIM_HORIZON",
        resume_after: dict[str, str] | None = None,
        refresh_seconds: float = SHARD_REFRESH_SECONDS,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self._kinesis = kinesis
        self._stream = stream_name
        self._starting_position = starting_position
        self._resume_after = dict(resume_after or {})
        self._refresh_seconds = refresh_seconds
        self._monotonic = monotonic
        self._shards: dict[str, _Shard] = {}
        self._lock = threading.Lock()
        self._last_refresh: float | None = None
        self._refresh_now = False

    # -- the shard list

    def refresh(self) -> bool:
        """List the stream's shards; True if any was new."""
        self._last_refresh = self._monotonic()
        self._refresh_now = False
        found = False
        kwargs: dict[str, Any] = {"StreamName": self._stream}
        while True:
            page = self._kinesis.list_shards(**kwargs)
            for listed in page["Shards"]:
                found |= self._learn(listed)
            if not page.get("NextToken"):
                return found
            kwargs = {"NextToken": page["NextToken"]}

    def refresh_if_due(self) -> bool:
        """Refresh when never listed, when a shard finished since (its children), or every `refresh_seconds`."""
        due = self._last_refresh is None or self._monotonic() - self._last_refresh >= self._refresh_seconds
        return self.refresh() if due or self._refresh_now else False

    def _learn(self, listed: dict[str, Any]) -> bool:
        if listed["ShardId"] in self._shards:
            return False
        with self._lock:
            self._shards[listed["ShardId"]] = _Shard(listed["ShardId"], _parents(listed))
        return True

    def shard_ids(self) -> list[str]:
        with self._lock:
            return list(self._shards)

    def may_read(self, shard_id: str, drained: Callable[[str], bool] = lambda shard_id: True) -> bool:
        """True once every parent the reader knows is finished and `drained` by the consumer (a parent past
        the stream's retention is no longer listed, and waits for nothing)."""
        return self._parents_done(self._shards[shard_id], drained)

    def readable(self, drained: Callable[[str], bool] = lambda shard_id: True) -> list[str]:
        """The shards `may_read` allows now, in the order the stream lists them."""
        return [shard_id for shard_id in self.shard_ids() if self.may_read(shard_id, drained)]

    def _parents_done(self, shard: _Shard, drained: Callable[[str], bool]) -> bool:
        return all(
            parent not in self._shards or (self._shards[parent].finished and drained(parent))
            for parent in shard.parents
        )

    # -- iterators

    def start(self, shard_id: str) -> None:
        """Get the shard's first iterator: after the position it resumes from, else the starting position;
        a child of a shard this reader knows starts at TRIM_HORIZON, where its parent's records end."""
        shard = self._shards[shard_id]
        if shard.shard_id in self._resume_after:
            self._get_iterator(shard, "AFTER_SEQUENCE_NUMBER", self._resume_after[shard.shard_id])
        elif any(parent in self._shards for parent in shard.parents):
            self._get_iterator(shard, "TRIM_HORIZON")
        else:
            self._get_iterator(shard, self._starting_position)
        shard.started = True

    def _renew(self, shard: _Shard) -> None:
        """A fresh iterator at the same place: after the last record read (or the one resumed from)."""
        position = shard.last_sequence or self._resume_after.get(shard.shard_id)
        if position is None:
            shard.started = False
            self.start(shard.shard_id)
        else:
            self._get_iterator(shard, "AFTER_SEQUENCE_NUMBER", position)

    def _get_iterator(self, shard: _Shard, kind: str, sequence: str | None = None) -> None:
        kwargs: dict[str, Any] = {"StreamName": self._stream, "ShardId": shard.shard_id, "ShardIteratorType": kind}
        if sequence is not None:
            kwargs["StartingSequenceNumber"] = sequence
        shard.iterator = self._kinesis.get_shard_iterator(**kwargs)["ShardIterator"]
        shard.issued_at = self._monotonic()

    # -- reading

    def read(self, shard_id: str) -> list[StreamRecord]:
        """One GetRecords on the shard (starting it first if needed); [] once it is finished."""
        shard = self._shards[shard_id]
        if not shard.started:
            self.start(shard_id)
        if shard.finished or shard.iterator is None:
            return []
        if self._monotonic() - shard.issued_at >= ITERATOR_RENEW_AFTER_SECONDS:
            self._renew(shard)
        try:
            page = self._kinesis.get_records(ShardIterator=shard.iterator, Limit=GET_RECORDS_LIMIT)
        except ClientError as error:
            if error.response.get("Error", {}).get("Code") != EXPIRED_ITERATOR:
                raise
            self._renew(shard)
            return []
        shard.iterator, shard.issued_at = page.get("NextShardIterator"), self._monotonic()
        records = [
            StreamRecord(
                shard_id,
                raw["SequenceNumber"],
                raw["PartitionKey"],
                raw["Data"],
                raw["ApproximateArrivalTimestamp"].timestamp(),
            )
            for raw in page["Records"]
        ]
        shard.caught_up = not records
        if records:
            shard.last_sequence = records[-1].sequence_number
        if shard.iterator is None:
            shard.finished = True
            self._refresh_now = True  # its children are there to be found
        return records

    # -- state

    def caught_up(self) -> bool:
        """Every shard read to its end for now: finished, caught up, or waiting for a parent to finish."""
        with self._lock:
            shards = list(self._shards.values())
        return all(
            shard.finished
            or (shard.started and shard.caught_up)
            or (not shard.started and not self._parents_done(shard, lambda shard_id: True))
            for shard in shards
        )

    def positions(self) -> dict[str, str]:
        """Per shard, the last sequence number read (or the one this reader resumed after)."""
        with self._lock:
            shards = list(self._shards.values())
        read = {shard.shard_id: shard.last_sequence for shard in shards if shard.last_sequence is not None}
        return {**self._resume_after, **read}
