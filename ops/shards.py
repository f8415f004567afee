"""How many shards a provisioned stream needs for a traffic: the seed article's formula, plus a buffer.

A shard takes 1 MiB/s or 1,000 records/s of writes and serves 2 MiB/s of shared reads
(https://docs.aws.amazon.com/streams/latest/dev/service-sizes-and-limits.html). The article sizes a stream as
`max(MB/s in / 1, records/s / 1000)` and adds 20% for spikes ("5 MB/s of incoming data with 3,000 records/second
-> need 5 shards (throughput-limited). Add a 20% buffer for spikes: 6 shards"); the read limit is its third term
here, since every shared reader (the processor, Firehose) takes its share of the 2 MiB/s.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

WRITE_MIB_PER_SHARD = 1.0
WRITE_RECORDS_PER_SHARD = 1000
READ_MIB_PER_SHARD = 2.0
SPIKE_BUFFER = 0.2
# Products like 5 x 1.2 land a hair above the integer in floating point; this keeps them on it.
_ROUNDING_SLACK = 1e-9


@dataclass(frozen=True)
class ShardEstimate:
    """The shards a traffic needs (`needed`), the count with the spike buffer, and the limit that decides it."""

    needed: int
    with_buffer: int
    limit: str  # "write throughput", "records per second" or "read throughput"
    write_mib_per_second: float
    records_per_second: float
    read_mib_per_second: float

    def formula(self) -> str:
        return (
            f"max({self.write_mib_per_second:,.3g} MiB/s in / {WRITE_MIB_PER_SHARD:g}, "
            f"{self.records_per_second:,.4g} records/s / {WRITE_RECORDS_PER_SHARD:,}, "
            f"{self.read_mib_per_second:,.3g} MiB/s out / {READ_MIB_PER_SHARD:g}) x {1 + SPIKE_BUFFER:g}"
        )


def _round_up(value: float) -> int:
    return max(1, math.ceil(value - _ROUNDING_SLACK))


def estimate_shards(
    write_mib_per_second: float, records_per_second: float, read_mib_per_second: float
) -> ShardEstimate:
    """Shards for a steady traffic; every argument is a rate, at least 0."""
    terms = {
        "write throughput": write_mib_per_second / WRITE_MIB_PER_SHARD,
        "records per second": records_per_second / WRITE_RECORDS_PER_SHARD,
        "read throughput": read_mib_per_second / READ_MIB_PER_SHARD,
    }
    limit = max(terms, key=lambda name: terms[name])
    return ShardEstimate(
        needed=_round_up(terms[limit]),
        with_buffer=_round_up(terms[limit] * (1 + SPIKE_BUFFER)),
        limit=limit,
        write_mib_per_second=write_mib_per_second,
        records_per_second=records_per_second,
        read_mib_per_second=read_mib_per_second,
    )
