"""The seed article's cost example, row by row, priced with today's list prices through ops/charges.py.

The article ("Real-Time Data Pipelines on AWS: Kinesis Data Streams + Lambda + DynamoDB", its "Cost Model")
prices 1 million events a day of 1 KB at $31-41 a month from four components: Kinesis, Lambda, DynamoDB
(on-demand) and CloudWatch Logs, with ~200 ms and 256 MB invocations, in us-east-1. Tributary adds
Firehose, S3, KMS, metrics, alarms, a dashboard and X-Ray; `tributary cost` prices those per tenant.

Two of the article's rows cannot come from its own usage column at today's prices, so each row here says how
it is read:

- Kinesis: the article's on-demand figure ($6-10 for ~30 GB in and out) is below today's on-demand
  (Standard) price, which adds $0.04 per stream-hour to the data charges; one provisioned shard, which the
  shard formula gives at ~12 records/s, is the reading nearest the article's figure.
- Lambda: "30M invocations" at ~200 ms and 256 MB would cost about $31; the article's $2-4 is what ~3M
  invocations cost, i.e. its 30M records arriving in batches of 10.

DynamoDB (30M write request units) and CloudWatch Logs (10 GB) are priced as the article states them.
"""

from __future__ import annotations

from dataclasses import dataclass

from components.tenant_schema import Stream
from ops import charges
from ops.charges import Component, Load
from ops.prices import PriceTable

# The article's month: 30 days of 1 million events of 1 KB.
MONTH_HOURS = 30 * 24
EVENTS = 30_000_000
RECORD_BYTES = 1_000
DURATION_MS = 200
MEMORY_MB = 256
# The article names no architecture; Lambda's default is x86_64.
ARCHITECTURE = "x86_64"
RECORDS_PER_INVOCATION = 10
LOG_GB = 10
TOTAL_RANGE = (31.0, 41.0)
# The article's figures are "~" estimates: a row lands near its figure within this share of its range's ends.
NEAR = 0.2


@dataclass(frozen=True)
class ArticleRow:
    """One row of the article's table beside today's price of its reading."""

    component: str
    article_usage: str
    article_low: float
    article_high: float
    reading: str  # how the row is priced here
    priced: Component
    note: str

    @property
    def monthly_usd(self) -> float:
        return self.priced.monthly_usd

    @property
    def lands_near(self) -> bool:
        return self.article_low * (1 - NEAR) <= self.monthly_usd <= self.article_high * (1 + NEAR)

    def as_json(self) -> dict:
        return {
            "component": self.component,
            "article_usage": self.article_usage,
            "article_low_usd": self.article_low,
            "article_high_usd": self.article_high,
            "reading": self.reading,
            "monthly_usd": round(self.monthly_usd, 4),
            "lands_near": self.lands_near,
            "note": self.note,
        }


@dataclass(frozen=True)
class ArticleComparison:
    rows: tuple[ArticleRow, ...]

    @property
    def subtotal(self) -> float:
        return sum(row.monthly_usd for row in self.rows)

    @property
    def in_range(self) -> bool:
        return TOTAL_RANGE[0] <= self.subtotal <= TOTAL_RANGE[1]

    def as_json(self) -> dict:
        return {
            "rows": [row.as_json() for row in self.rows],
            "subtotal_usd": round(self.subtotal, 4),
            "article_low_usd": TOTAL_RANGE[0],
            "article_high_usd": TOTAL_RANGE[1],
            "in_range": self.in_range,
        }


def article_comparison(prices: PriceTable) -> ArticleComparison:
    load = Load(hours=MONTH_HOURS, records=EVENTS, record_bytes=RECORD_BYTES)
    on_demand = charges.kinesis(Stream(mode="on_demand"), load, 1, 1, prices.kinesis)
    one_shard = charges.kinesis(Stream(mode="provisioned", shards=1), load, 1, 1, prices.kinesis)
    literal = charges.lambda_function(EVENTS, DURATION_MS, MEMORY_MB, ARCHITECTURE, prices)
    batched = charges.lambda_function(EVENTS / RECORDS_PER_INVOCATION, DURATION_MS, MEMORY_MB, ARCHITECTURE, prices)
    stream_hours = on_demand.charges[0]
    return ArticleComparison(
        (
            ArticleRow(
                "Kinesis",
                "on-demand, ~30 GB/month in, ~30 GB/month out",
                6.0,
                10.0,
                "1 provisioned shard (the shard formula's answer)",
                one_shard,
                f"on-demand today: ${on_demand.monthly_usd - stream_hours.monthly_usd:.2f} of data plus "
                f"${stream_hours.monthly_usd:.2f} of stream-hours, ${on_demand.monthly_usd:.2f} in all",
            ),
            ArticleRow(
                "Lambda",
                "30M invocations, ~200 ms avg, 256 MB",
                2.0,
                4.0,
                f"30M records in batches of {RECORDS_PER_INVOCATION} ({ARCHITECTURE})",
                batched,
                f"30M invocations would cost ${literal.monthly_usd:.2f}",
            ),
            ArticleRow(
                "DynamoDB",
                "on-demand, 30M write request units",
                18.0,
                22.0,
                "30M write request units",
                charges.dynamodb(EVENTS, 0.0, False, prices),
                "one unit per 1 KB event, as the article counts; Tributary's items with keys and metadata take 2",
            ),
            ArticleRow(
                "CloudWatch Logs",
                "10 GB/month",
                5.0,
                5.0,
                f"{LOG_GB} GB ingested",
                charges.cloudwatch_logs(LOG_GB, 0.0, prices.cloudwatch),
                f"storing them adds ${prices.cloudwatch.logs_storage_gb_month.cost(LOG_GB):.2f}",
            ),
        )
    )
