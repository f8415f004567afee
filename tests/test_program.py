"""The program as a whole: the shipped example tenants build complete pipelines offline, and `__main__.py` reads
the stack's config and refuses what `pulumi up` must not do."""

from pathlib import Path

import pulumi
import pytest

from components import packaging
from components.config import TenantFileError
from components.offline import evaluate, evaluate_main
from components.stack import StackSettings, read_stack_file

PROJECT = Path(__file__).resolve().parent.parent


def test_program_builds_every_example_tenant_on_the_dev_stack():
    evaluation = evaluate(PROJECT, "dev", read_stack_file(PROJECT, "dev"))
    tenants = {path.stem for path in (PROJECT / "tenants").glob("*.yaml")}
    assert set(evaluation.by_tenant()) == tenants
    assert set(evaluation.outputs["tenants"]) == tenants
    for tenant in tenants:
        types = {resource.type for resource in evaluation.by_tenant()[tenant]}
        for expected in (
            "aws:kms/key:Key",
            "aws:kinesis/stream:Stream",
            "aws:lambda/function:Function",
            "aws:lambda/eventSourceMapping:EventSourceMapping",
            "aws:dynamodb/table:Table",
            "aws:kinesis/firehoseDeliveryStream:FirehoseDeliveryStream",
            "aws:cloudwatch/dashboard:Dashboard",
        ):
            assert expected in types, f"{tenant} lacks {expected}"


def test_program_selects_tenants_by_label_on_a_cell_stack():
    evaluation = evaluate(PROJECT, "cell-1", read_stack_file(PROJECT, "cell-1"))
    assert set(evaluation.by_tenant()) == {"sensors", "orders"}


def test_program_reports_a_bad_stack_name_once_not_once_per_tenant():
    with pytest.raises(TenantFileError) as raised:
        evaluate(PROJECT, "Bad--Stack", StackSettings())
    assert len([line for line in raised.value.problems if "stack name" in line]) == 1, raised.value.problems


# `pulumi up` runs __main__.py with the stack's config; `evaluate_main` runs the same file under the mock engine.


@pytest.fixture
def packaged(monkeypatch, tmp_path) -> None:
    """The handler's dependencies as `make package` leaves them."""
    monkeypatch.setattr(packaging, "DEPENDENCIES_DIR", tmp_path)


def run_main(config: dict[str, str]):
    return evaluate_main(PROJECT, "dev", config)


def test_main_reads_the_stack_config_and_builds_the_selected_tenants(packaged):
    config = {"tributary:tenants": '["orders"]', "tributary:tenantsDir": "tenants", "aws:region": "eu-west-1"}
    evaluation = run_main(config)
    tenants = {r.tenant for r in evaluation.resources if r.tenant}
    assert tenants == {"orders"}
    stream = next(r for r in evaluation.resources if r.type == "aws:kinesis/stream:Stream")
    assert stream.state["arn"].startswith("arn:aws:kinesis:eu-west-1:")


def test_main_refuses_to_deploy_without_the_packaged_handler_dependencies(monkeypatch, tmp_path):
    monkeypatch.setattr(packaging, "DEPENDENCIES_DIR", tmp_path / "missing")
    with pytest.raises(pulumi.RunError, match="make package"):
        run_main({"tributary:tenants": '["orders"]'})


def test_main_refuses_a_selection_of_no_tenants_because_up_would_delete_every_pipeline(packaged):
    for config in (
        {"tributary:tenants": "[]"},
        {"tributary:tenants": '["cell=nine"]'},  # a selector typo
        {"tributary:tenantsDir": "no-such-folder"},
    ):
        with pytest.raises(pulumi.RunError, match="selects .* would delete every pipeline"):
            run_main(config)


def test_main_removes_every_pipeline_only_when_the_stack_says_so(packaged):
    evaluation = run_main({"tributary:tenants": "[]", "tributary:allowEmptySelection": "true"})
    assert not [r for r in evaluation.resources if r.tenant]


def test_main_refuses_an_unknown_stack_key_naming_it(packaged):
    # `tenant` for `tenants`: read key by key, the typo would deploy the default selection instead.
    with pytest.raises(pulumi.RunError, match="tributary:tenant\\b"):
        run_main({"tributary:tenant": '["orders"]'})
