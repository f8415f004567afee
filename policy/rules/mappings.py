"""What the event source mapping rules share: which mappings read a stream."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from pulumi_policy.proxy import UnknownValueError

# Bisect, retries, maximum record age, ReportBatchItemFailures and on-failure destinations are settings of
# stream sources: Kinesis and DynamoDB Streams ("Lambda parameters for Amazon Kinesis Data Streams event source
# mappings", https://docs.aws.amazon.com/lambda/latest/dg/services-kinesis-parameters.html).
STREAM_SERVICES = (":kinesis:", ":dynamodb:")


def reads_a_stream(props: Mapping[str, Any]) -> bool:
    try:
        source = props.get("eventSourceArn")
    except UnknownValueError:
        return True  # a stream the same preview creates: its ARN is not known yet
    return isinstance(source, str) and any(service in source for service in STREAM_SERVICES)
