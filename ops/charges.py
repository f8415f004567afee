"""One function per AWS component: a month's usage, as quantities, priced from the dated price table.

The functions take explicit quantities (hours, records, bytes, settings), so the tenant estimate
(ops/cost.py) and the seed article's example (ops/article.py) price usage through the same code. Each rule of
how a service bills cites the page it comes from.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from components.tenant_schema import Archive, Processing, Stream
from ops.prices import CloudWatchPrices, KinesisPrices, Price, PriceTable

KIB = 1024
MIB = 1024 * KIB
GIB = 1024 * MIB
SECONDS_PER_HOUR = 3600
HOURS_PER_DAY = 24

# Kinesis (https://aws.amazon.com/kinesis/data-streams/pricing/): on-demand bills each record rounded up to 1 KB;
# provisioned counts PUT payload units of 25 KB; the first 24 hours of retention are included, "extended"
# retention runs to 7 days and "long-term" beyond.
ON_DEMAND_RECORD_UNIT = KIB
PUT_PAYLOAD_UNIT = 25 * KIB
INCLUDED_RETENTION_HOURS = 24
EXTENDED_RETENTION_HOURS = 7 * 24
# A new on-demand stream writes 4 MB/s, the capacity of 4 shards, and adds shards as traffic grows
# (https://docs.aws.amazon.com/streams/latest/dev/how-do-i-size-a-stream.html).
ON_DEMAND_INITIAL_SHARDS = 4
# Firehose bills ingestion and format conversion per record in 5 KB increments
# (https://aws.amazon.com/firehose/pricing/): a 1 KB record is billed as 5 KB.
FIREHOSE_RECORD_UNIT = 5 * KIB
# Lambda polls each shard about once a second and hands the function at most 6 MB a batch
# (https://docs.aws.amazon.com/lambda/latest/dg/with-kinesis.html): at low traffic a batch holds what one poll
# (or one batching window) gathers, not `batch_size` records, and that sets the number of invocations.
POLL_INTERVAL_SECONDS = 1
LAMBDA_BATCH_PAYLOAD_LIMIT = 6 * MIB
# DynamoDB (https://aws.amazon.com/dynamodb/pricing/on-demand/): a write request unit writes up to 1 KB of item,
# and a transactional write takes 2 units per item.
WRITE_UNIT_BYTES = KIB
TRANSACTION_UNITS_PER_ITEM = 2
# An item is the record's fields plus the keys and delivery metadata the handler adds (pk, sk, event id, shard,
# sequence numbers, arrival time, expiry): about this much, estimated from the attribute names and typical values.
ITEM_METADATA_BYTES = 256
# Write request units per event and write mode, for an item of `units` started KB: `events` puts one item per
# event and `latest` one conditional put per event (a refused, stale put still consumes its units); a
# `counters` event is one transaction of two small items, the dedupe marker and the counter update.
WRITE_UNITS_PER_EVENT = {
    "events": lambda units: units,
    "latest": lambda units: units,
    "counters": lambda units: 2 * TRANSACTION_UNITS_PER_ITEM,
}
# Only the append-only mode grows its table with every event; `latest` and `counters` hold one item per
# entity or counter, a number the traffic does not say.
GROWING_MODES = {"events"}
# Lambda's active tracing samples "1 request per second and 5 percent of additional requests"
# (https://docs.aws.amazon.com/lambda/latest/dg/services-xray.html).
XRAY_RESERVOIR_PER_SECOND = 1
XRAY_FIXED_RATE = 0.05
# Kinesis calls KMS about every five minutes for each credential that writes or reads the stream
# (https://docs.aws.amazon.com/streams/latest/dev/costs-performance.html); DynamoDB and S3 (with its bucket key)
# cache their keys likewise. Estimated as 12 calls an hour per caller.
KMS_CALLS_PER_CALLER_HOUR = 12
# Archived bytes per byte of JSON in, estimated: Parquet with Snappy keeps column values only, compressed;
# JSON is GZIP'd.
ARCHIVE_SIZE_RATIO = {"parquet": 0.25, "json": 0.2}


@dataclass(frozen=True)
class Load:
    """One month of records: its length in hours, how many records, and the bytes of each."""

    hours: float
    records: float
    record_bytes: int

    @property
    def seconds(self) -> float:
        return self.hours * SECONDS_PER_HOUR

    @property
    def records_per_second(self) -> float:
        return self.records / self.seconds

    @property
    def bytes(self) -> float:
        return self.records * self.record_bytes

    def billed_bytes(self, unit: int) -> float:
        """The month's bytes with each record rounded up to a whole `unit`."""
        return self.records * math.ceil(self.record_bytes / unit) * unit

    def daily_bytes(self, unit: int = 1) -> float:
        return self.billed_bytes(unit) / (self.hours / HOURS_PER_DAY)


@dataclass(frozen=True)
class Charge:
    """One billed quantity: `quantity` `unit` of `item`, costing `monthly_usd`."""

    item: str
    quantity: float
    unit: str
    monthly_usd: float

    @classmethod
    def of(cls, item: str, quantity: float, unit: str, price: Price) -> Charge:
        return cls(item, quantity, unit, price.cost(quantity))

    def as_json(self) -> dict:
        return {"item": self.item, "quantity": round(self.quantity, 6), "unit": self.unit, "monthly_usd": _usd(self)}


@dataclass(frozen=True)
class Component:
    """One AWS service's part of the bill, as its charges."""

    name: str
    charges: tuple[Charge, ...]

    @property
    def monthly_usd(self) -> float:
        return sum(charge.monthly_usd for charge in self.charges)

    @property
    def usage(self) -> str:
        shown = [charge for charge in self.charges if charge.quantity > 0]
        return "; ".join(f"{_quantity(charge.quantity)} {charge.unit}" for charge in shown) or "none"

    def as_json(self) -> dict:
        return {
            "component": self.name,
            "monthly_usd": _usd(self),
            "usage": self.usage,
            "charges": [charge.as_json() for charge in self.charges],
        }


def _usd(priced: Charge | Component) -> float:
    return round(priced.monthly_usd, 4)


def _quantity(value: float) -> str:
    return f"{value:,.0f}" if value >= 100 else f"{value:,.3g}"


# ------------------------------------------------------------------------------------------------ components


def kinesis(stream: Stream, load: Load, shards: int, shared_readers: int, prices: KinesisPrices) -> Component:
    """The stream: capacity (stream-hours or shard-hours), data in and out, retention beyond 24 hours."""
    stored_gb = _retained_gb(stream.retention_hours, load)
    if stream.mode == "on_demand":
        charges = [
            Charge.of("stream", load.hours, "stream-hours", prices.on_demand_stream_hour),
            Charge.of("data in", load.billed_bytes(ON_DEMAND_RECORD_UNIT) / GIB, "GB in", prices.on_demand_ingest_gb),
            Charge.of("data out", load.bytes * shared_readers / GIB, "GB out", prices.on_demand_retrieval_gb),
            Charge.of(
                "extended retention",
                stored_gb["extended"],
                "GB-month kept 1-7 days",
                prices.on_demand_extended_retention_gb_month,
            ),
        ]
        if stream.enhanced_fan_out:
            charges.append(
                Charge.of("fan-out", load.bytes / GIB, "GB out by fan-out", prices.on_demand_efo_retrieval_gb)
            )
    else:
        shard_hours = shards * load.hours
        retained_hours = shard_hours if stream.retention_hours > INCLUDED_RETENTION_HOURS else 0
        charges = [
            Charge.of("shards", shard_hours, "shard-hours", prices.provisioned_shard_hour),
            Charge.of(
                "PUT payload units",
                load.billed_bytes(PUT_PAYLOAD_UNIT) / PUT_PAYLOAD_UNIT,
                "PUT payload units",
                prices.provisioned_put_payload_units,
            ),
            Charge.of(
                "extended retention",
                retained_hours,
                "retention shard-hours",
                prices.provisioned_extended_retention_shard_hour,
            ),
        ]
        if stream.enhanced_fan_out:
            charges += [
                Charge.of("fan-out", shard_hours, "consumer-shard-hours", prices.provisioned_efo_consumer_shard_hour),
                Charge.of("fan-out data", load.bytes / GIB, "GB out by fan-out", prices.provisioned_efo_retrieval_gb),
            ]
    charges.append(
        Charge.of(
            "long-term retention",
            stored_gb["long_term"],
            "GB-month kept past 7 days",
            prices.long_term_retention_gb_month,
        )
    )
    return Component("Kinesis", tuple(charges))


def _retained_gb(retention_hours: int, load: Load) -> dict[str, float]:
    """GB held beyond the included 24 hours at any time: up to 7 days (extended), and beyond (long-term)."""
    daily_gb = load.daily_bytes(ON_DEMAND_RECORD_UNIT) / GIB
    extended_hours = max(0, min(retention_hours, EXTENDED_RETENTION_HOURS) - INCLUDED_RETENTION_HOURS)
    long_term_hours = max(0, retention_hours - EXTENDED_RETENTION_HOURS)
    return {
        "extended": daily_gb * extended_hours / HOURS_PER_DAY,
        "long_term": daily_gb * long_term_hours / HOURS_PER_DAY,
    }


def invocations(load: Load, environments: int, processing: Processing) -> float:
    """Invocations for the month: records over the batch one poll (or batching window) fills per environment,
    at least one record and at most `batch_size` records or 6 MB."""
    if load.records == 0:
        return 0.0
    window = max(processing.batch_window_seconds, POLL_INTERVAL_SECONDS)
    gathered = load.records_per_second / environments * window
    largest = min(processing.batch_size, max(1, LAMBDA_BATCH_PAYLOAD_LIMIT // load.record_bytes))
    return load.records / min(max(gathered, 1.0), largest)


def lambda_function(
    calls: float, duration_ms: float, memory_mb: int, architecture: str, prices: PriceTable
) -> Component:
    gb_seconds = calls * duration_ms / 1000 * memory_mb / 1024
    return Component(
        "Lambda",
        (
            Charge.of("requests", calls, "invocations", prices.lambda_.requests),
            Charge.of("duration", gb_seconds, f"GB-s ({architecture})", prices.lambda_.gb_second(architecture)),
        ),
    )


def dynamodb(write_units: float, stored_gb: float, point_in_time_recovery: bool, prices: PriceTable) -> Component:
    table = prices.dynamodb
    charges = [
        Charge.of("writes", write_units, "write request units", table.write_request_units),
        Charge.of("storage", stored_gb, "GB-month added", table.storage_gb_month),
    ]
    if point_in_time_recovery:
        charges.append(Charge.of("backups", stored_gb, "GB-month of backups added", table.pitr_gb_month))
    return Component("DynamoDB", tuple(charges))


def write_units_per_event(write_mode: str, record_bytes: int) -> int:
    item_units = math.ceil((record_bytes + ITEM_METADATA_BYTES) / WRITE_UNIT_BYTES)
    return WRITE_UNITS_PER_EVENT[write_mode](item_units)


def firehose(archive: Archive, load: Load, prices: PriceTable) -> Component:
    billed_gb = load.billed_bytes(FIREHOSE_RECORD_UNIT) / GIB
    charges = [Charge.of("ingestion", billed_gb, "GB ingested", prices.firehose.ingest_gb)]
    if archive.format == "parquet":
        charges.append(Charge.of("conversion", billed_gb, "GB to Parquet", prices.firehose.format_conversion_gb))
    return Component("Firehose", tuple(charges))


def archive_bucket(archive: Archive, load: Load, prices: PriceTable) -> Component:
    """The month's archived data (kept at most `expire_days`) and the objects Firehose writes: one per buffer
    flush, when the buffer fills or its interval ends, and never more than one per record."""
    kept = 1.0 if archive.expire_days is None else min(1.0, archive.expire_days * HOURS_PER_DAY / load.hours)
    stored_gb = load.bytes * ARCHIVE_SIZE_RATIO[archive.format] * kept / GIB
    flushes = max(load.bytes / (archive.buffer_mb * MIB), load.seconds / archive.buffer_seconds)
    objects = min(load.records, flushes) if load.records else 0.0
    return Component(
        "S3",
        (
            Charge.of("storage", stored_gb, "GB-month added", prices.s3.standard_gb_month),
            Charge.of("objects", objects, "PUT requests", prices.s3.put_requests),
        ),
    )


def kms(callers: int, load: Load, prices: PriceTable) -> Component:
    requests = callers * KMS_CALLS_PER_CALLER_HOUR * load.hours if load.records else 0.0
    return Component(
        "KMS",
        (
            Charge.of("key", 1, "key", prices.kms.key_month),
            Charge.of("requests", requests, "requests", prices.kms.requests),
        ),
    )


def cloudwatch_logs(ingested_gb: float, stored_gb: float, prices: CloudWatchPrices) -> Component:
    return Component(
        "CloudWatch Logs",
        (
            Charge.of("ingestion", ingested_gb, "GB ingested", prices.logs_ingest_gb),
            Charge.of("storage", stored_gb, "GB-month stored", prices.logs_storage_gb_month),
        ),
    )


def cloudwatch_monitoring(custom_metrics: int, alarm_metrics: int, prices: CloudWatchPrices) -> list[Component]:
    return [
        Component("Metrics", (Charge.of("metrics", custom_metrics, "custom metrics", prices.custom_metric_month),)),
        Component("Alarms", (Charge.of("alarms", alarm_metrics, "alarm metrics", prices.alarm_metric_month),)),
        Component("Dashboard", (Charge.of("dashboard", 1, "dashboard", prices.dashboard_month),)),
    ]


def xray(calls: float, load: Load, prices: PriceTable) -> Component:
    per_second = calls / load.seconds
    sampled = min(per_second, XRAY_RESERVOIR_PER_SECOND) + XRAY_FIXED_RATE * max(0.0, per_second - 1)
    return Component("X-Ray", (Charge.of("traces", sampled * load.seconds, "traces", prices.xray.traces_recorded),))
