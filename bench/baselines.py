"""The two baselines the handler is measured against, written from the seed article's DynamoDB write examples
(/work/shared/seeds/000_435a87a49a3c3f18.txt, "Lambda Function Pattern" and "Idempotency with Conditional Writes").

- `batch_write_handler` (a): BatchWriteItem of 25 records at a time, one after the other, with one retry of the
  unprocessed items, through boto3's DynamoDB resource as the article writes it.
- `conditional_put_handler` (b): one conditional PutItem (`attribute_not_exists(pk)`) per record.

Two changes make the article's code run at all, and nothing else is added: numbers are parsed as Decimal
(boto3's serializer refuses floats), and the item gets a `pk`, the Kinesis sequence number, as the article
advises for deduplication (its first example writes no key attribute, which DynamoDB would refuse).
Both are Lambda handlers: `handler(event, context)`, configured by boto3's usual environment variables.
"""

from __future__ import annotations

import base64
import json
from decimal import Decimal
from functools import cache
from typing import Any

import boto3
from botocore.exceptions import ClientError

TABLE = "events"
BATCH_WRITE_LIMIT = 25


@cache
def _dynamodb() -> Any:
    """One resource per execution environment, as the article's module-level `boto3.resource('dynamodb')`."""
    return boto3.resource("dynamodb")


def _item(record: dict[str, Any]) -> dict[str, Any]:
    payload = base64.b64decode(record["kinesis"]["data"]).decode("utf-8")
    item = json.loads(payload, parse_float=Decimal)
    item["pk"] = record["kinesis"]["sequenceNumber"]
    item["sequenceNumber"] = record["kinesis"]["sequenceNumber"]
    item["approximateArrivalTimestamp"] = str(record["kinesis"]["approximateArrivalTimestamp"])
    return item


def batch_write_handler(event: dict[str, Any], context: Any) -> None:
    """Baseline (a): the article's handler."""
    batch = []
    for record in event["Records"]:
        batch.append({"PutRequest": {"Item": _item(record)}})
        if len(batch) == BATCH_WRITE_LIMIT:
            _write_batch(batch)
            batch = []
    if batch:
        _write_batch(batch)


def _write_batch(batch: list[dict[str, Any]]) -> None:
    dynamodb = _dynamodb()
    response = dynamodb.batch_write_item(RequestItems={TABLE: batch})
    # DynamoDB may return partial results under throttling; the article retries them once.
    unprocessed = response.get("UnprocessedItems", {})
    if unprocessed:
        dynamodb.batch_write_item(RequestItems=unprocessed)


def conditional_put_handler(event: dict[str, Any], context: Any) -> None:
    """Baseline (b): the article's idempotent put, once per record."""
    table = _dynamodb().Table(TABLE)
    for record in event["Records"]:
        try:
            table.put_item(Item=_item(record), ConditionExpression="attribute_not_exists(pk)")
        except ClientError as e:
            if e.response["Error"]["Code"] != "ConditionalCheckFailedException":
                raise  # a duplicate is skipped; anything else fails the invocation


# Each baseline by the name the results use.
BASELINES = {
    "batch-write-25": "bench.baselines.batch_write_handler",
    "conditional-put": "bench.baselines.conditional_put_handler",
}
