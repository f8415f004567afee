"""The function reports which records failed, so only those (and the ones after them) are retried."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

from .documents import as_list
from .mappings import reads_a_stream
from .rule import resource_rule
from .types import EVENT_SOURCE_MAPPING

REPORT_BATCH_ITEM_FAILURES = "ReportBatchItemFailures"


def check(props: Mapping[str, Any]) -> Iterator[str]:
    if REPORT_BATCH_ITEM_FAILURES not in as_list(props.get("functionResponseTypes")):
        yield (
            "functionResponseTypes lacks ReportBatchItemFailures: the handler's partial batch response is ignored "
            "and every record of a failing batch is retried"
        )


RULE = resource_rule(
    name="mapping-reports-batch-item-failures",
    description="A stream's event source mapping honours the function's partial batch response.",
    types=(EVENT_SOURCE_MAPPING,),
    applies=reads_a_stream,
    check=check,
    fix='set function_response_types=["ReportBatchItemFailures"] on the event source mapping',
    url="https://docs.aws.amazon.com/lambda/latest/dg/services-kinesis-batchfailurereporting.html",
)
