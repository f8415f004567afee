"""Every example tenant in tenants/ gets the complete pipeline the design describes.

The dev stack is evaluated once per session (`example_project`); each test makes one pass over every tenant
of that evaluation, and every failure names the tenant and the resource.
"""

from __future__ import annotations

import pipeline_spec as spec
import pytest

from policy import run as policy_run


def test_every_example_tenant_gets_a_pipeline(example_project):
    assert sorted(example_project.pipelines) == spec.EXAMPLE_TENANTS


@pytest.mark.parametrize("check", spec.ALL_CHECKS, ids=lambda check: check.__name__.removeprefix("check_"))
def test_example_pipelines_are_built_and_wired_as_their_files_say(example_project, check):
    for pipeline in example_project.pipelines.values():
        check(pipeline)


def test_policy_pack_finds_no_violation_in_any_example_tenant(example_project):
    evaluation = example_project.recorded.evaluation
    assert [str(v) for v in policy_run.check(evaluation.stack, evaluation.resources).violations] == []


def test_stack_outputs_export_each_tenants_parts(example_project):
    outputs = example_project.recorded.evaluation.outputs
    for name, pipeline in example_project.pipelines.items():
        exported, names = outputs[name], pipeline.names
        archive = names.archive_bucket if pipeline.tenant.archive.enabled else ""
        expected = {
            "stream_name": names.stream,
            "table_name": names.table,
            "function_name": names.function,
            "key_arn": pipeline.key_arn,
            "archive_bucket": archive,
        }
        assert {key: exported[key] for key in expected} == expected, f"tenant {name}: outputs {exported}"
        assert names.dashboard in exported["dashboard_url"], f"tenant {name}: {exported['dashboard_url']}"
