"""Batches the mapping gives up on are recorded somewhere a person and `tributary redrive` can find them."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

from .mappings import reads_a_stream
from .rule import resource_rule
from .types import EVENT_SOURCE_MAPPING


def check(props: Mapping[str, Any]) -> Iterator[str]:
    destination = (props.get("destinationConfig") or {}).get("onFailure") or {}
    if not destination.get("destinationArn"):
        yield "no on-failure destination: batches given up after retries or age are dropped without a trace"


RULE = resource_rule(
    name="mapping-on-failure-destination",
    description="A stream's event source mapping sends the batches it gives up on to an on-failure destination.",
    types=(EVENT_SOURCE_MAPPING,),
    applies=reads_a_stream,
    check=check,
    fix="set destination_config.on_failure.destination_arn to the tenant's queue or bucket (processing.on_failure)",
    url="https://docs.aws.amazon.com/lambda/latest/dg/kinesis-on-failure-destination.html",
)
