"""Every example tenant in tenants/ gets the complete pipeline the design describes, part by part."""

from __future__ import annotations

import json

import pipeline_spec as spec
import pytest

from components import policies

pytestmark = pytest.mark.parametrize("tenant", spec.EXAMPLE_TENANTS)


def test_pipeline_names_and_tags_every_resource_for_the_tenant(example_project, tenant):
    spec.check_component_names_and_tags(example_project[tenant])


def test_key_rotates_and_trusts_only_the_tenants_roles_and_logs(example_project, tenant):
    spec.check_key(example_project[tenant])


def test_stream_follows_the_file_and_is_encrypted_with_the_tenant_key(example_project, tenant):
    spec.check_stream(example_project[tenant])


def test_function_runs_the_shared_handler_with_the_tenants_environment(example_project, tenant):
    spec.check_function(example_project[tenant])


def test_mapping_bisects_retries_finitely_and_records_failures(example_project, tenant):
    spec.check_mapping(example_project[tenant])


def test_failure_queue_is_encrypted_kept_two_weeks_and_tls_only(example_project, tenant):
    spec.check_failure_destinations(example_project[tenant])


def test_table_is_on_demand_encrypted_and_recoverable(example_project, tenant):
    spec.check_table(example_project[tenant])


def test_archive_writes_parquet_partitions_through_the_glue_table_when_enabled(example_project, tenant):
    spec.check_archive(example_project[tenant])


def test_alarms_watch_every_stage_with_the_right_dimensions_and_notify_the_topic(example_project, tenant):
    spec.check_alarms(example_project[tenant])


def test_dashboard_shows_the_tenants_function_table_queue_and_stream(example_project, tenant):
    spec.check_dashboard(example_project[tenant])


def test_iam_roles_have_inline_policies_naming_only_tenant_arns(example_project, tenant):
    spec.check_iam(example_project[tenant])


def test_retention_keeps_key_table_and_buckets_when_the_file_asks(example_project, tenant):
    spec.check_retention(example_project[tenant])


def test_isolation_no_example_policy_names_another_tenants_resources(example_project, tenant):
    spec.check_isolation(example_project.pipelines)
    others = set(spec.EXAMPLE_TENANTS) - {tenant}
    pipeline = example_project[tenant]
    for resource in pipeline.all(spec.ROLE_POLICY) + pipeline.all(spec.KEY):
        text = json.dumps(spec.statements(resource.inputs["policy"]))
        assert not [o for o in others if f"{o}-dev" in text], f"{pipeline.where(resource)} names another tenant"


def test_stack_outputs_export_the_tenants_parts(example_project, tenant):
    pipeline = example_project[tenant]
    outputs = example_project.recorded.evaluation.outputs[tenant]
    assert outputs["stream_name"] == pipeline.names.stream
    assert outputs["table_name"] == pipeline.names.table
    assert outputs["function_name"] == pipeline.names.function
    assert outputs["key_arn"] == pipeline.key_arn
    assert outputs["archive_bucket"] == (pipeline.names.archive_bucket if pipeline.tenant.archive.enabled else "")
    assert pipeline.names.dashboard in outputs["dashboard_url"]


def test_policies_xray_is_the_only_wildcard_resource(tenant):
    wildcard = [s for s in policies.processor_policy(_fabricated_arns(tenant))["Statement"] if "*" in s["Resource"]]
    assert [s["Action"] for s in wildcard] == [policies.XRAY_ACTIONS]


def _fabricated_arns(tenant: str) -> policies.ProcessorArns:
    return policies.ProcessorArns(
        stream=f"arn:aws:kinesis:us-east-1:123456789012:stream/{tenant}-dev-events",
        table=f"arn:aws:dynamodb:us-east-1:123456789012:table/{tenant}-dev-serving",
        failure_queue=f"arn:aws:sqs:us-east-1:123456789012:{tenant}-dev-failures",
        function_log_group=f"arn:aws:logs:us-east-1:123456789012:log-group:/aws/lambda/{tenant}-dev-processor",
        table_actions=("dynamodb:PutItem",),
    )
