"""A failing batch is split in two and retried, so one poison pill cannot hold up its shard."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

from .mappings import reads_a_stream
from .rule import resource_rule
from .types import EVENT_SOURCE_MAPPING


def check(props: Mapping[str, Any]) -> Iterator[str]:
    if props.get("bisectBatchOnFunctionError") is not True:
        yield "bisectBatchOnFunctionError is off: one bad record fails its whole batch until the batch expires"


RULE = resource_rule(
    name="mapping-bisect-on-error",
    description="A stream's event source mapping bisects a failing batch to isolate the record that fails.",
    types=(EVENT_SOURCE_MAPPING,),
    applies=reads_a_stream,
    check=check,
    fix="set bisect_batch_on_function_error=True on the event source mapping",
    url="https://docs.aws.amazon.com/lambda/latest/dg/services-kinesis-errors.html",
)
