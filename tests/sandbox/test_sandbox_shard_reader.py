"""The shard reader follows Kinesis's rules for a consumer: parents before children, iterators renewed before
and after they expire, GetRecords' 10,000 limit, and positions a later reader resumes from."""

from __future__ import annotations

from botocore.exceptions import ClientError
from sandbox_helpers import put

from sandbox.engines.shard_reader import GET_RECORDS_LIMIT, ITERATOR_LIFETIME_SECONDS, ShardReader


class RecordingKinesis:
    """The emulator's Kinesis client, with each call's name and arguments kept. `expire_next` makes the next
    GetRecords fail as an expired iterator does on AWS; a shard in `closed` ends as a closed shard does on AWS
    (an empty page without NextShardIterator), which the emulator never does."""

    def __init__(self, kinesis, closed: frozenset[str] = frozenset()):
        self._kinesis = kinesis
        self._closed = closed
        self._shard_of: dict[str, str] = {}
        self.calls: list[tuple[str, dict]] = []
        self.expire_next = False

    def get_shard_iterator(self, **kwargs):
        self.calls.append(("get_shard_iterator", kwargs))
        response = self._kinesis.get_shard_iterator(**kwargs)
        self._shard_of[response["ShardIterator"]] = kwargs["ShardId"]
        return response

    def get_records(self, **kwargs):
        self.calls.append(("get_records", kwargs))
        if self.expire_next:
            self.expire_next = False
            error = {"Error": {"Code": "ExpiredIteratorException", "Message": "Iterator expired"}}
            raise ClientError(error, "GetRecords")
        page = self._kinesis.get_records(**kwargs)
        shard = self._shard_of[kwargs["ShardIterator"]]
        if shard in self._closed and not page["Records"]:
            return {**page, "NextShardIterator": None}
        self._shard_of[page["NextShardIterator"]] = shard
        return page

    def __getattr__(self, name):
        method = getattr(self._kinesis, name)

        def call(**kwargs):
            self.calls.append((name, kwargs))
            return method(**kwargs)

        return call

    def named(self, name: str) -> list[dict]:
        return [kwargs for called, kwargs in self.calls if called == name]


class Clock:
    def __init__(self):
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def _data(reader: ShardReader, shard_id: str) -> list[bytes]:
    return [record.data for record in reader.read(shard_id)]


def _split(kinesis, stream: str) -> tuple[str, list[str]]:
    """SplitShard on the stream's one shard: (parent, children), as ListShards describes the lineage."""
    [parent] = kinesis.list_shards(StreamName=stream)["Shards"]
    hash_range = parent["HashKeyRange"]
    middle = (int(hash_range["StartingHashKey"]) + int(hash_range["EndingHashKey"])) // 2
    kinesis.split_shard(StreamName=stream, ShardToSplit=parent["ShardId"], NewStartingHashKey=str(middle))
    listed = kinesis.list_shards(StreamName=stream)["Shards"]
    return parent["ShardId"], [shard["ShardId"] for shard in listed if shard["ShardId"] != parent["ShardId"]]


def test_shard_reader_reads_children_only_after_their_parent_is_finished_and_drained(aws, make_stream):
    # Given: a stream split in two, whose parent holds records and then ends as a closed shard ends on AWS.
    name, _ = make_stream()
    sent = [f"r{i}".encode() for i in range(5)]
    put(aws("kinesis"), name, sent, keys=[f"key-{i}" for i in range(5)])
    parent, children = _split(aws("kinesis"), name)
    kinesis = RecordingKinesis(aws("kinesis"), closed=frozenset({parent}))
    reader = ShardReader(kinesis, name)
    reader.refresh()
    # Then: the children wait while the parent has records to give...
    assert reader.readable() == [parent]
    assert sorted(_data(reader, parent)) == sorted(sent)
    assert reader.readable() == [parent]
    assert not reader.caught_up()
    # ...and once it ends, while the consumer is still settling what it read from it.
    assert _data(reader, parent) == []
    assert reader.readable(drained=lambda shard_id: False) == [parent]
    assert not reader.caught_up(), "the children are still to be read"
    listings = len(kinesis.named("list_shards"))
    reader.refresh_if_due()
    assert len(kinesis.named("list_shards")) == listings + 1, "a finished shard has the stream listed again"
    assert sorted(reader.readable()) == sorted([parent, *children])
    assert all(_data(reader, child) == [] for child in children)
    assert reader.caught_up()


def test_shard_reader_renews_an_iterator_before_it_expires(aws, make_stream):
    name, _ = make_stream()
    kinesis = RecordingKinesis(aws("kinesis"))
    put(aws("kinesis"), name, [b"first"])
    clock = Clock()
    reader = ShardReader(kinesis, name, monotonic=clock)
    reader.refresh()
    [shard] = reader.shard_ids()
    assert _data(reader, shard) == [b"first"]
    # When: the consumer comes back just before the 5 minutes an iterator lives.
    put(aws("kinesis"), name, [b"second"])
    clock.now += ITERATOR_LIFETIME_SECONDS - 1
    # Then: it reads with a fresh iterator, after the last record read.
    assert _data(reader, shard) == [b"second"]
    renewed = kinesis.named("get_shard_iterator")[-1]
    assert renewed["ShardIteratorType"] == "AFTER_SEQUENCE_NUMBER"
    assert all(call["Limit"] == GET_RECORDS_LIMIT == 10_000 for call in kinesis.named("get_records"))


def test_shard_reader_renews_an_expired_iterator_after_the_last_record_read(aws, make_stream):
    name, _ = make_stream()
    kinesis = RecordingKinesis(aws("kinesis"))
    put(aws("kinesis"), name, [b"a", b"b"])
    reader = ShardReader(kinesis, name)
    reader.refresh()
    [shard] = reader.shard_ids()
    assert _data(reader, shard) == [b"a", b"b"]
    put(aws("kinesis"), name, [b"c"])
    # When: GetRecords refuses the iterator as expired.
    kinesis.expire_next = True
    assert _data(reader, shard) == []
    # Then: the next read continues after "b": nothing skipped, nothing twice.
    assert _data(reader, shard) == [b"c"]
    assert kinesis.named("get_shard_iterator")[-1]["ShardIteratorType"] == "AFTER_SEQUENCE_NUMBER"


def test_shard_reader_resumes_after_the_positions_of_an_earlier_reader(aws, make_stream):
    name, _ = make_stream(shards=2)
    kinesis = aws("kinesis")
    put(kinesis, name, [f"old{i}".encode() for i in range(10)], keys=[f"k{i}" for i in range(10)])
    first = ShardReader(kinesis, name)
    first.refresh()
    assert sorted(data for shard in first.shard_ids() for data in _data(first, shard)) == sorted(
        f"old{i}".encode() for i in range(10)
    )
    put(kinesis, name, [f"new{i}".encode() for i in range(6)], keys=[f"k{i}" for i in range(6)])

    later = ShardReader(kinesis, name, resume_after=first.positions())
    later.refresh()

    assert sorted(data for shard in later.shard_ids() for data in _data(later, shard)) == sorted(
        f"new{i}".encode() for i in range(6)
    )
    again = ShardReader(kinesis, name, resume_after=later.positions())
    again.refresh()
    assert [data for shard in again.shard_ids() for data in _data(again, shard)] == []


def test_shard_reader_starting_at_latest_reads_only_what_comes_after_it_started(aws, make_stream):
    name, _ = make_stream()
    kinesis = aws("kinesis")
    put(kinesis, name, [b"before"])
    reader = ShardReader(kinesis, name, starting_position="LATEST")
    reader.refresh()
    [shard] = reader.shard_ids()
    reader.start(shard)
    put(kinesis, name, [b"after"])
    assert _data(reader, shard) == [b"after"]
