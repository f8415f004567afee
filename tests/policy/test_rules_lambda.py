"""The event source mapping and function rules: each passes every example tenant and fails a broken copy."""

from __future__ import annotations

import pytest
from plan_cases import DELETE, broken, find, findings, replaced, where

from components.offline import RegisteredResource
from policy.rules import (
    function_xray_active,
    mapping_bisect_on_error,
    mapping_finite_retries,
    mapping_max_record_age,
    mapping_on_failure_destination,
    mapping_reports_batch_item_failures,
)
from policy.rules.types import EVENT_SOURCE_MAPPING, FUNCTION, STREAM, STREAM_CONSUMER

MAPPING_CASES = [
    (mapping_bisect_on_error, "sensors", "bisectBatchOnFunctionError", False),
    (mapping_bisect_on_error, "orders", "bisectBatchOnFunctionError", DELETE),
    (mapping_finite_retries, "orders", "maximumRetryAttempts", -1.0),
    (mapping_finite_retries, "clicks", "maximumRetryAttempts", DELETE),
    (mapping_finite_retries, "sensors", "maximumRetryAttempts", 10001.0),
    (mapping_on_failure_destination, "clicks", "destinationConfig", DELETE),
    (mapping_on_failure_destination, "sensors", "destinationConfig.onFailure.destinationArn", ""),
    (mapping_reports_batch_item_failures, "orders", "functionResponseTypes", []),
    (mapping_reports_batch_item_failures, "sensors", "functionResponseTypes", DELETE),
]


@pytest.mark.parametrize(("module", "tenant", "path", "value"), MAPPING_CASES)
def test_mapping_rule_passes_the_examples_and_flags_a_mapping_broken_by_one_setting(plan, module, tenant, path, value):
    mapping = find(plan, tenant, EVENT_SOURCE_MAPPING)
    assert findings(module.RULE, plan.resources) == []
    assert findings(module.RULE, [broken(mapping, path, value)]) == [where(mapping)]


def test_mapping_rules_leave_a_queue_mapping_alone(plan):
    """Bisect, retries and batch item failures are settings of stream sources only."""
    queue_mapping = broken(find(plan, "sensors", EVENT_SOURCE_MAPPING), "eventSourceArn", "arn:aws:sqs:us-east-1:1:q")
    for module in (mapping_bisect_on_error, mapping_finite_retries, mapping_reports_batch_item_failures):
        assert findings(module.RULE, [broken(queue_mapping, "bisectBatchOnFunctionError", False)]) == []


def test_max_record_age_passes_the_examples_and_flags_an_age_above_the_streams_retention(plan):
    mapping = find(plan, "orders", EVENT_SOURCE_MAPPING)
    retention_hours = find(plan, "orders", STREAM).inputs["retentionPeriod"]
    rule = mapping_max_record_age.RULE
    assert findings(rule, plan.resources) == []
    at_retention = broken(mapping, "maximumRecordAgeInSeconds", retention_hours * 3600)
    assert findings(rule, replaced(plan.resources, mapping, at_retention)) == []
    above = broken(mapping, "maximumRecordAgeInSeconds", retention_hours * 3600 + 1)
    assert findings(rule, replaced(plan.resources, mapping, above)) == [where(mapping)]


def test_max_record_age_follows_an_enhanced_fan_out_consumer_to_its_stream(plan):
    """A mapping that reads through a consumer (enhanced_fan_out) is held to the consumer's stream's retention."""
    mapping, stream = find(plan, "sensors", EVENT_SOURCE_MAPPING), find(plan, "sensors", STREAM)
    consumer_arn = f"{stream.state['arn']}/consumer/sensors--dev--processor:1700000000"
    consumer = RegisteredResource(
        tenant="sensors",
        type=STREAM_CONSUMER,
        name="sensors-consumer",
        inputs={"name": "sensors--dev--processor", "streamArn": stream.state["arn"]},
        state={"name": "sensors--dev--processor", "streamArn": stream.state["arn"], "arn": consumer_arn},
    )
    through = broken(mapping, "eventSourceArn", consumer_arn)
    above = broken(through, "maximumRecordAgeInSeconds", stream.inputs["retentionPeriod"] * 3600 + 60)
    rule = mapping_max_record_age.RULE
    assert findings(rule, replaced(plan.resources, mapping, through, consumer)) == []
    assert findings(rule, replaced(plan.resources, mapping, above, consumer)) == [where(mapping)]


@pytest.mark.parametrize("age", [-1.0, DELETE])
def test_max_record_age_flags_an_infinite_age(plan, age):
    mapping = find(plan, "clicks", EVENT_SOURCE_MAPPING)
    infinite = broken(mapping, "maximumRecordAgeInSeconds", age)
    assert findings(mapping_max_record_age.RULE, replaced(plan.resources, mapping, infinite)) == [where(mapping)]


@pytest.mark.parametrize("tracing", [{"mode": "PassThrough"}, DELETE])
def test_function_xray_passes_the_examples_and_flags_a_function_without_active_tracing(plan, tracing):
    function = find(plan, "clicks", FUNCTION)
    assert findings(function_xray_active.RULE, plan.resources) == []
    assert findings(function_xray_active.RULE, [broken(function, "tracingConfig", tracing)]) == [where(function)]
