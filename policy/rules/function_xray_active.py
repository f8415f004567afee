"""Every invocation is traced end to end: Kinesis to Lambda to DynamoDB in one X-Ray service map."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

from .rule import resource_rule
from .types import FUNCTION


def check(props: Mapping[str, Any]) -> Iterator[str]:
    mode = (props.get("tracingConfig") or {}).get("mode")
    if mode != "Active":
        yield f"tracingConfig.mode is {mode or 'unset (PassThrough)'}: invocations are traced only when a caller asks"


RULE = resource_rule(
    name="function-xray-active",
    description="A function traces every invocation with X-Ray (active tracing).",
    types=(FUNCTION,),
    check=check,
    fix='set tracing_config={"mode": "Active"} on the function',
    url="https://docs.aws.amazon.com/lambda/latest/dg/services-xray.html",
)
