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
