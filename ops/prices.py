"""The dated price table (`ops/prices.toml`) as typed data.

Prices are data, not code: one file says the region, the date they were read and, for each price, its
amount, its unit and the AWS pricing page it comes from. The models refuse a missing or unknown price, so a
typo in the file fails the load (and the test that loads it) instead of pricing something at zero.
"""

from __future__ import annotations

import tomllib
from datetime import date
from functools import cache
from importlib import resources

from pydantic import BaseModel, ConfigDict, Field

PRICE_FILE = "prices.toml"


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Price(_Strict):
    """`usd` per `per` units of `unit`, from the pricing page `source`."""

    usd: float = Field(ge=0)
    per: float = Field(1, gt=0)
    unit: str
    source: str = Field(pattern=r"^https://aws\.amazon\.com/")

    def cost(self, quantity: float) -> float:
        return quantity / self.per * self.usd


class KinesisPrices(_Strict):
    on_demand_stream_hour: Price
    on_demand_ingest_gb: Price
    on_demand_retrieval_gb: Price
    on_demand_efo_retrieval_gb: Price
    on_demand_extended_retention_gb_month: Price
    long_term_retention_gb_month: Price
    provisioned_shard_hour: Price
    provisioned_put_payload_units: Price
    provisioned_extended_retention_shard_hour: Price
    provisioned_efo_consumer_shard_hour: Price
    provisioned_efo_retrieval_gb: Price


class LambdaPrices(_Strict):
    requests: Price
    arm64_gb_second: Price
    x86_64_gb_second: Price

    def gb_second(self, architecture: str) -> Price:
        """The duration price of an instruction set architecture, as Lambda names it (`arm64`, `x86_64`)."""
        return {"arm64": self.arm64_gb_second, "x86_64": self.x86_64_gb_second}[architecture]


class DynamoDBPrices(_Strict):
    write_request_units: Price
    storage_gb_month: Price
    pitr_gb_month: Price


class FirehosePrices(_Strict):
    ingest_gb: Price
    format_conversion_gb: Price


class S3Prices(_Strict):
    standard_gb_month: Price
    put_requests: Price


class KMSPrices(_Strict):
    key_month: Price
    requests: Price


class CloudWatchPrices(_Strict):
    logs_ingest_gb: Price
    logs_storage_gb_month: Price
    custom_metric_month: Price
    alarm_metric_month: Price
    dashboard_month: Price


class XRayPrices(_Strict):
    traces_recorded: Price


class PriceTable(_Strict):
    """Every price the cost model uses, for one region, as read on `as_of`."""

    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)

    as_of: date
    region: str
    currency: str
    hours_per_month: float = Field(gt=0)
    kinesis: KinesisPrices
    lambda_: LambdaPrices = Field(alias="lambda")
    dynamodb: DynamoDBPrices
    firehose: FirehosePrices
    s3: S3Prices
    kms: KMSPrices
    cloudwatch: CloudWatchPrices
    xray: XRayPrices

    def sources(self) -> list[str]:
        """Every pricing page the table cites, each once, in the table's order."""
        sections = (self.kinesis, self.lambda_, self.dynamodb, self.firehose, self.s3, self.kms, self.cloudwatch)
        pages = [price.source for section in (*sections, self.xray) for price in dict(section).values()]
        return list(dict.fromkeys(pages))


def parse_prices(text: str) -> PriceTable:
    return PriceTable.model_validate(tomllib.loads(text))


@cache
def load_prices() -> PriceTable:
    """The packaged price table (read through importlib.resources, so it works installed too)."""
    return parse_prices(resources.files("ops").joinpath(PRICE_FILE).read_text(encoding="utf-8"))
