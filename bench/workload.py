"""The records every handler case and baseline writes: one Kinesis event of 500 JSON records of about 1 KB.

Each write mode runs as its example tenant (tenants/<name>.yaml), so the handler gets the environment the
processor component gives that tenant, and the records follow that tenant's schema (checked here, so a changed
example tenant fails the benchmark with a clear message instead of measuring the failure queue). Keys are either
`uniform` (every record its own entity) or `hot` (all records one entity, the worst case for modes that write
one entity's records in order).
"""

from __future__ import annotations

import base64
import json
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
BATCH_SIZE = 500
RECORD_BYTES = 1024
# The example tenant that runs each write mode.
TENANT_OF_MODE = {"events": "sensors", "latest": "orders", "counters": "clicks"}
KEY_SPREADS = ("uniform", "hot")
SHARD_ID = "shardId-000000000000"
STREAM_ARN = "arn:aws:kinesis:us-east-1:123456789012:stream/bench"
FIRST_SEQUENCE = 49656918513435165830617014596434447891577815287418880000


class WorkloadError(RuntimeError):
    """Raised when an example tenant no longer accepts the benchmark's records (names the file and record)."""


def tenant_path(mode: str) -> Path:
    return ROOT / "tenants" / f"{TENANT_OF_MODE[mode]}.yaml"


def _sensor(index: int, hot: bool, at: str) -> dict[str, Any]:
    return {
        "device_id": "dev-hot" if hot else f"dev-{index:05d}",
        "reading_id": f"reading-{index:08d}",
        "recorded_at": at,
        "temperature": round(18.0 + (index % 70) / 10, 1),
        "humidity": round(40.0 + (index % 300) / 10, 1),
        "firmware": "4.2.1",
    }


def _order(index: int, hot: bool, at: str) -> dict[str, Any]:
    return {
        "order_id": "order-hot" if hot else f"order-{index:06d}",
        "version": index + 1 if hot else 1,  # one entity's versions rise in batch order, as its producer sent them
        "status": ("created", "paid", "shipped", "delivered")[index % 4],
        "total_cents": 1000 + index,
        "currency": "EUR",
        "updated_at": at,
    }


def _click(index: int, hot: bool, at: str) -> dict[str, Any]:
    return {
        "event_id": f"click-{index:08d}",
        "page": "/home" if hot else f"/products/{index:05d}",
        "kind": "click" if index % 3 else "view",
        "clicks": 1 if index % 3 else 0,
        "views": 0 if index % 3 else 1,
        "dwell_ms": 250 + index % 4000,
        "at": at,
    }


PAYLOADS: dict[str, Callable[[int, bool, str], dict[str, Any]]] = {
    "events": _sensor,
    "latest": _order,
    "counters": _click,
}


def _padded(payload: dict[str, Any], index: int) -> dict[str, Any]:
    """The payload with the context a producer typically adds, grown to RECORD_BYTES of compact JSON."""
    padded = {
        **payload,
        "context": {
            "source": f"collector-{index % 16:02d}",
            "region": "eu-west-1",
            "trace_id": f"{index:032x}",
            "client": {"name": "bench-producer", "version": "1.8.0", "platform": "linux-arm64"},
            "labels": [f"label-{(index + k) % 10}" for k in range(4)],
            "attempt": 1,
            "sampled": index % 2 == 0,
        },
        "note": "",
    }
    size = len(json.dumps(padded, separators=(",", ":")))
    padded["note"] = "n" * max(0, RECORD_BYTES - size)
    return padded


def payloads(mode: str, keys: str, count: int = BATCH_SIZE, now: datetime | None = None) -> list[dict[str, Any]]:
    """`count` records for `mode`, keyed `uniform` or `hot`, stamped within the current hour."""
    at = (now or datetime.now(UTC)).replace(microsecond=0).isoformat().replace("+00:00", "Z")
    build = PAYLOADS[mode]
    return [_padded(build(index, keys == "hot", at), index) for index in range(count)]


def check_schema(mode: str, records: list[dict[str, Any]]) -> None:
    """Every record valid for the mode's example tenant, or WorkloadError naming the file and the problem."""
    import fastjsonschema

    from components.config import load_tenant

    path = tenant_path(mode)
    validate = fastjsonschema.compile(load_tenant(path).records.schema_)
    for index, record in enumerate(records):
        try:
            validate(record)
        except fastjsonschema.JsonSchemaException as exc:
            raise WorkloadError(
                f"{path.relative_to(ROOT)}: records.schema refuses bench record {index}: {exc}"
            ) from None


def kinesis_event(records: list[dict[str, Any]], arrival: float | None = None) -> dict[str, Any]:
    """The event Lambda's Kinesis event source mapping sends: base64 data, sequence numbers in order."""
    arrival = arrival if arrival is not None else datetime.now(UTC).timestamp()
    entries = []
    for index, record in enumerate(records):
        sequence = str(FIRST_SEQUENCE + index)
        data = json.dumps(record, separators=(",", ":")).encode()
        entries.append(
            {
                "kinesis": {
                    "kinesisSchemaVersion": "1.0",
                    "partitionKey": str(index),
                    "sequenceNumber": sequence,
                    "data": base64.b64encode(data).decode("ascii"),
                    "approximateArrivalTimestamp": arrival,
                },
                "eventSource": "aws:kinesis",
                "eventVersion": "1.0",
                "eventID": f"{SHARD_ID}:{sequence}",
                "eventName": "aws:kinesis:record",
                "invokeIdentityArn": "arn:aws:iam::123456789012:role/bench-processor",
                "awsRegion": "us-east-1",
                "eventSourceARN": STREAM_ARN,
            }
        )
    return {"Records": entries}


def event_for(mode: str, keys: str, count: int = BATCH_SIZE) -> dict[str, Any]:
    records = payloads(mode, keys, count)
    check_schema(mode, records)
    return kinesis_event(records)
