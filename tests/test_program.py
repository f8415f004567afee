"""The program as a whole: the shipped example tenants build complete pipelines offline."""

from pathlib import Path

from components.offline import evaluate
from components.stack import read_stack_file

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


# `pulumi up` runs __main__.py with the stack's config; here the same file runs under the mock engine.


def _run_main(config: dict[str, str]):
    import asyncio
    import runpy

    import pulumi
    from pulumi.runtime import settings as runtime_settings
    from pulumi.runtime.stack import run_pulumi_func

    from components.offline import FabricatingMocks, TenantTrackingMonitor

    mocks = FabricatingMocks(region=config.get("aws:region", "us-east-1"))
    loop = asyncio.new_event_loop()
    asyncio.set_event_loop(loop)
    try:
        runtime_settings.ROOT.set(None)
        pulumi.runtime.set_all_config(config)
        monitor = TenantTrackingMonitor(mocks)
        pulumi.runtime.set_mocks(mocks, project="tributary", stack="dev", preview=False, monitor=monitor)
        loop.run_until_complete(run_pulumi_func(lambda: runpy.run_path(str(PROJECT / "__main__.py"))))
    finally:
        pulumi.runtime.set_all_config({})
        runtime_settings.ROOT.set(None)
        asyncio.set_event_loop(None)
        loop.close()
    return mocks


def test_main_reads_the_stack_config_and_builds_the_selected_tenants(monkeypatch, tmp_path):
    from components import packaging

    monkeypatch.setattr(packaging, "DEPENDENCIES_DIR", tmp_path)  # as after `make package`
    mocks = _run_main({"tributary:tenants": '["orders"]', "tributary:tenantsDir": "tenants", "aws:region": "eu-west-1"})
    tenants = {r.tenant for r in mocks.resources if r.tenant}
    assert tenants == {"orders"}
    stream = next(r for r in mocks.resources if r.type == "aws:kinesis/stream:Stream")
    assert stream.state["arn"].startswith("arn:aws:kinesis:eu-west-1:")


def test_main_refuses_to_deploy_without_the_packaged_handler_dependencies(monkeypatch, tmp_path):
    import pulumi
    import pytest

    from components import packaging

    monkeypatch.setattr(packaging, "DEPENDENCIES_DIR", tmp_path / "missing")
    with pytest.raises(pulumi.RunError, match="make package"):
        _run_main({"tributary:tenants": '["orders"]'})


def test_main_refuses_a_selection_of_no_tenants_because_up_would_delete_every_pipeline(monkeypatch, tmp_path):
    import pulumi
    import pytest

    from components import packaging

    monkeypatch.setattr(packaging, "DEPENDENCIES_DIR", tmp_path)
    for config in (
        {"tributary:tenants": "[]"},
        {"tributary:tenants": '["cell=nine"]'},  # a selector typo
        {"tributary:tenantsDir": "no-such-folder"},
    ):
        with pytest.raises(pulumi.RunError, match="selects .* would delete every pipeline"):
            _run_main(config)


def test_main_removes_every_pipeline_only_when_the_stack_says_so(monkeypatch, tmp_path):
    from components import packaging

    monkeypatch.setattr(packaging, "DEPENDENCIES_DIR", tmp_path)
    mocks = _run_main({"tributary:tenants": "[]", "tributary:allowEmptySelection": "true"})
    assert not [r for r in mocks.resources if r.tenant]


def test_main_refuses_an_unknown_stack_key_naming_it(monkeypatch, tmp_path):
    import pulumi
    import pytest

    from components import packaging

    monkeypatch.setattr(packaging, "DEPENDENCIES_DIR", tmp_path)
    # `tenant` for `tenants`: read key by key, the typo would deploy the default selection instead.
    with pytest.raises(pulumi.RunError, match="tributary:tenant\\b"):
        _run_main({"tributary:tenant": '["orders"]'})


def test_program_reports_a_bad_stack_name_once_not_once_per_tenant():
    import pytest

    from components.config import TenantFileError
    from components.stack import StackSettings

    with pytest.raises(TenantFileError) as raised:
        evaluate(PROJECT, "Bad--Stack", StackSettings())
    assert len([line for line in raised.value.problems if "stack name" in line]) == 1, raised.value.problems
