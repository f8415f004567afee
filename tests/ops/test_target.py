"""Where a tenant lives: the sandbox's record and, on AWS, the program's own names with the caller's account.

The AWS path runs against the emulator through boto3's own endpoint setting (AWS_ENDPOINT_URL), so STS, SQS and
Kinesis answer with AWS's semantics; the names it derives must be the ones the deploy created."""

from __future__ import annotations

import json
from dataclasses import replace

import pytest
from day_two_helpers import STACK, project_copy, sandbox_deployment

from components.naming import tenant_names
from ops.target import TargetError, resolve
from sandbox.engines.emulator import DUMMY_ACCOUNT
from sandbox.session.paths import SandboxPaths

OTHER_ACCOUNT = "210987654321"


@pytest.fixture(scope="module")
def sandbox(tmp_path_factory):
    with sandbox_deployment(tmp_path_factory.mktemp("target"), ["sensors", "clicks"]) as deployed:
        yield deployed


@pytest.fixture
def aws_at(monkeypatch):
    """Point boto3's default chain and endpoint at the emulator, as a caller's environment would."""

    def point(endpoint_url: str) -> None:
        monkeypatch.setenv("AWS_ENDPOINT_URL", endpoint_url)
        monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
        monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
        monkeypatch.delenv("AWS_PROFILE", raising=False)

    return point


def _recorded_outputs(project, tenant: str) -> dict:
    return json.loads(SandboxPaths.for_project(project).deployment_record.read_text())["outputs"][tenant]


# --------------------------------------------------------------------------------- the sandbox


def test_target_sandbox_names_are_the_deployment_records(sandbox):
    project, endpoint_url = sandbox
    target = resolve(project, "sensors", None, sandbox=True)
    outputs = _recorded_outputs(project, "sensors")
    names = target.names
    assert (names.stream, names.table, names.function, names.failure_queue_url) == (
        outputs["stream_name"],
        outputs["table_name"],
        outputs["function_name"],
        outputs["failure_queue_url"],
    )
    assert names.archive is not None and names.archive.bucket == outputs["archive_bucket"]
    assert names.archive.location == f"s3://{outputs['archive_bucket']}/data/"
    assert names.archive.athena_table == "tributary_sensors__dev.events"
    assert names.archive.partition_keys == ("year", "month", "day", "hour")
    assert names.failure_bucket is None  # sensors records given-up batches in its queue
    assert target.endpoint_url == endpoint_url
    summary = target.client("kinesis").describe_stream_summary(StreamName=names.stream)
    assert summary["StreamDescriptionSummary"]["StreamStatus"] == "ACTIVE"


def test_target_sandbox_failure_bucket_is_the_mappings_s3_destination(sandbox):
    project, _ = sandbox
    names = resolve(project, "clicks", None, sandbox=True).names  # clicks: processing.on_failure: s3
    assert names.failure_bucket == tenant_names("clicks", STACK, DUMMY_ACCOUNT).failure_bucket
    s3 = resolve(project, "clicks", None, sandbox=True).client("s3")
    buckets = {bucket["Name"] for bucket in s3.list_buckets()["Buckets"]}
    assert names.failure_bucket in buckets


def test_target_sandbox_refuses_a_tenant_it_did_not_deploy(sandbox):
    project, _ = sandbox
    with pytest.raises(TargetError) as refusal:
        resolve(project, "orders", None, sandbox=True)
    assert str(refusal.value) == "orders: not deployed in the sandbox (stack 'dev' deployed: clicks, sensors)"


def test_target_sandbox_refuses_another_stack_than_the_one_it_holds(sandbox):
    project, _ = sandbox
    with pytest.raises(TargetError, match=r"^--stack prod: the sandbox holds stack 'dev'"):
        resolve(project, "sensors", "prod", sandbox=True)


def test_target_sandbox_without_a_deployment_says_how_to_make_one(tmp_path):
    project = project_copy(tmp_path / "project", ["sensors"])
    with pytest.raises(TargetError, match="nothing deployed yet; run `tributary sandbox deploy` first"):
        resolve(project, "sensors", None, sandbox=True)


# --------------------------------------------------------------------------------- AWS


def test_target_aws_names_are_the_ones_the_program_deployed(sandbox, aws_at):
    # Given: the caller's environment reaches the account the sandbox deployed into.
    project, endpoint_url = sandbox
    aws_at(endpoint_url)
    # When
    on_aws = resolve(project, "sensors", STACK, sandbox=False)
    in_sandbox = resolve(project, "sensors", None, sandbox=True)
    # Then: the program, evaluated offline with the caller's account, names what the deploy created; the queue URL
    # is AWS's documented form, which the emulator (like SQS) takes as well as its own.
    aws_url = f"https://sqs.us-east-1.amazonaws.com/{DUMMY_ACCOUNT}/sensors--dev--failures"
    assert on_aws.names == replace(in_sandbox.names, failure_queue_url=aws_url)
    assert on_aws.endpoint_url is None and on_aws.where == f"AWS account {DUMMY_ACCOUNT} in us-east-1"
    sqs = on_aws.client("sqs")
    attributes = sqs.get_queue_attributes(QueueUrl=on_aws.names.failure_queue_url, AttributeNames=["QueueArn"])
    assert attributes["Attributes"]["QueueArn"].endswith(":sensors--dev--failures")


def test_target_aws_refuses_a_tenant_the_stack_does_not_select(sandbox, aws_at):
    project, endpoint_url = sandbox
    aws_at(endpoint_url)
    with pytest.raises(TargetError) as refusal:
        resolve(project, "orders", STACK, sandbox=False)
    assert str(refusal.value) == (
        f"orders: stack 'dev' does not deploy this tenant (tributary:tenants: ['sensors', 'clicks'] in "
        f"{project / 'Pulumi.dev.yaml'})"
    )


def test_target_aws_refuses_an_unknown_tenant_naming_the_known_ones(sandbox, aws_at):
    project, endpoint_url = sandbox
    aws_at(endpoint_url)
    with pytest.raises(TargetError) as refusal:
        resolve(project, "nobody", STACK, sandbox=False)
    message = str(refusal.value)
    assert message.startswith("nobody: no such tenant (") and "tenants: clicks, orders, sensors" in message
    assert "\n" not in message


def test_target_aws_without_credentials_says_so_in_one_line(tmp_path, monkeypatch):
    project = project_copy(tmp_path / "project", ["sensors"])
    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_PROFILE"):
        monkeypatch.delenv(name, raising=False)
    for name in ("AWS_CONTAINER_CREDENTIALS_FULL_URI", "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "none"))
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "none"))
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")
    with pytest.raises(TargetError, match=r"^no AWS credentials found .*pass --sandbox"):
        resolve(project, "sensors", STACK, sandbox=False)


def test_target_aws_tenant_with_its_own_account_is_reached_through_its_role(tmp_path, sandbox, aws_at):
    # Given: a tenant whose file deploys it into another account and region, through a role.
    _, endpoint_url = sandbox
    aws_at(endpoint_url)
    project = project_copy(tmp_path / "project", ["sensors"])
    path = project / "tenants" / "sensors.yaml"
    role_arn = f"arn:aws:iam::{OTHER_ACCOUNT}:role/tributary-deploy"
    path.write_text(path.read_text() + f"account:\n  role_arn: {role_arn}\n  region: eu-west-1\n")
    # When
    target = resolve(project, "sensors", STACK, sandbox=False)
    # Then: names in that account and region, and a session with the role's temporary credentials.
    expected = tenant_names("sensors", STACK, OTHER_ACCOUNT)
    assert (target.names.account, target.names.region) == (OTHER_ACCOUNT, "eu-west-1")
    assert target.names.archive is not None and target.names.archive.bucket == expected.archive_bucket
    assert target.names.failure_queue_url.endswith(f"/{OTHER_ACCOUNT}/{expected.failure_queue}")
    assert target.session.get_credentials().get_frozen_credentials().token
