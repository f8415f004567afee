"""Failed batches are retried a bounded number of times, then handed to the on-failure destination."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

from .mappings import reads_a_stream
from .rule import number, resource_rule
from .types import EVENT_SOURCE_MAPPING

# -1 (the default) retries until the records expire; 0 to 10,000 are finite ("Lambda parameters for Amazon
# Kinesis Data Streams event source mappings").
MAX_RETRY_ATTEMPTS = 10_000


def check(props: Mapping[str, Any]) -> Iterator[str]:
    retries = props.get("maximumRetryAttempts")
    if retries is None or not 0 <= retries <= MAX_RETRY_ATTEMPTS:
        shown = "unset (-1)" if retries is None else number(retries)
        yield f"maximumRetryAttempts is {shown}: a failing batch is retried until its records expire"


RULE = resource_rule(
    name="mapping-finite-retries",
    description="A stream's event source mapping retries a failing batch a finite number of times.",
    types=(EVENT_SOURCE_MAPPING,),
    applies=reads_a_stream,
    check=check,
    fix=f"set maximum_retry_attempts between 0 and {MAX_RETRY_ATTEMPTS} (tenant file: processing.max_retries)",
    url="https://docs.aws.amazon.com/lambda/latest/dg/services-kinesis-parameters.html",
)
