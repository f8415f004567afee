"""AWS's access rules as data: every fact cites an AWS page, every action is IAM-shaped, and the deployer tables
cover every AWS resource type the program registers."""

from __future__ import annotations

import inspect
import re
from pathlib import Path

import pulumi_aws
import pytest

from access.aws_rules import (
    DATA_PLANE_KEY_USE,
    DATA_PLANE_NOTES,
    DATA_PLANE_SOURCES,
    DEPLOYER_ACTION_NOTES,
    DEPLOYER_ACTION_SOURCES,
    DEPLOYER_ACTIONS,
    DEPLOYER_KEY_NOTES,
    DEPLOYER_KEY_SOURCES,
    DEPLOYER_KEY_USE,
    ESM_METRICS,
    OPENX_TIMESTAMP_FORMATS,
    S3_MULTIPART_KEY_USE,
    SERVICE_PRINCIPAL_KEY_USE,
    KeyUse,
)
from components import defaults, naming
from components.alarm_specs import MAPPING_UUID, alarm_specs
from components.config import load_tenant
from components.glue_schema import glue_type

AWS_DOCS = "https://docs.aws.amazon.com/"
# `service:Action`, with a trailing wildcard where AWS's own page writes one (kms:GenerateDataKey*).
ACTION_SHAPE = re.compile(r"[a-z0-9-]+:[A-Z][A-Za-z0-9]*\*?")
COMPONENTS = Path(__file__).resolve().parents[2] / "components"
EXAMPLE_TENANT = load_tenant(COMPONENTS.parent / "tenants" / "sensors.yaml")

ALL_KEY_USES: list[tuple[str, KeyUse]] = [
    (f"{table}[{key}]", use)
    for table, entries in (
        ("DATA_PLANE_KEY_USE", DATA_PLANE_KEY_USE),
        ("SERVICE_PRINCIPAL_KEY_USE", SERVICE_PRINCIPAL_KEY_USE),
        ("DEPLOYER_KEY_USE", DEPLOYER_KEY_USE),
    )
    for key, uses in entries.items()
    for use in uses
] + [("S3_MULTIPART_KEY_USE", S3_MULTIPART_KEY_USE)]


def _registered_type_tokens() -> set[str]:
    """The Pulumi type token of every `aws.<module>.<Class>(` the components instantiate."""
    calls = set()
    for module in COMPONENTS.glob("*.py"):
        calls.update(re.findall(r"\baws\.(\w+)\.([A-Z]\w*)\(", module.read_text()))
    tokens = set()
    for module_name, class_name in calls:
        source = inspect.getsource(getattr(getattr(pulumi_aws, module_name), class_name))
        tokens.update(re.findall(r"__init__\(\s*'(aws:[^']+)'", source))
    return tokens


@pytest.mark.parametrize(("where", "use"), ALL_KEY_USES, ids=[where for where, _ in ALL_KEY_USES])
def test_rules_key_use_cites_an_aws_page_for_every_entry(where: str, use: KeyUse) -> None:
    assert use.source.startswith(AWS_DOCS), f"{where}: {use.source!r} is not an AWS documentation page"


@pytest.mark.parametrize(("where", "use"), ALL_KEY_USES, ids=[where for where, _ in ALL_KEY_USES])
def test_rules_key_use_names_iam_shaped_kms_actions_for_every_entry(where: str, use: KeyUse) -> None:
    assert use.actions, f"{where}: a key use with no actions should be an empty tuple instead"
    for action in use.actions:
        assert ACTION_SHAPE.fullmatch(action) and action.startswith("kms:"), f"{where}: {action!r}"


def test_rules_empty_key_use_cites_a_page_when_nothing_is_needed() -> None:
    for table, entries, sources in (
        ("DATA_PLANE_KEY_USE", DATA_PLANE_KEY_USE, DATA_PLANE_SOURCES),
        ("DEPLOYER_KEY_USE", DEPLOYER_KEY_USE, DEPLOYER_KEY_SOURCES),
    ):
        for key, uses in entries.items():
            if not uses:
                assert sources.get(key, "").startswith(AWS_DOCS), f"{table}[{key}] is empty and cites no AWS page"


def test_rules_notes_and_sources_name_only_keys_of_their_table() -> None:
    assert set(DATA_PLANE_SOURCES) | set(DATA_PLANE_NOTES) <= set(DATA_PLANE_KEY_USE)
    assert set(DEPLOYER_KEY_SOURCES) | set(DEPLOYER_KEY_NOTES) <= set(DEPLOYER_KEY_USE)
    assert set(DEPLOYER_ACTION_NOTES) <= set(DEPLOYER_ACTIONS)


def test_rules_data_plane_keys_are_iam_actions_on_the_encrypted_resource() -> None:
    for action in DATA_PLANE_KEY_USE:
        assert ACTION_SHAPE.fullmatch(action) and not action.endswith("*"), action


def test_rules_data_plane_covers_every_call_the_proof_makes_on_an_encrypted_resource() -> None:
    required = {
        "kinesis:PutRecord",
        "kinesis:PutRecords",
        "kinesis:GetRecords",
        "kinesis:SubscribeToShard",
        "sqs:SendMessage",
        "sqs:ReceiveMessage",
        "s3:PutObject",
        "s3:GetObject",
        "dynamodb:GetItem",
        "dynamodb:PutItem",
        "dynamodb:BatchWriteItem",
        "dynamodb:Query",
        "sns:Publish",
    }
    assert required <= set(DATA_PLANE_KEY_USE), sorted(required - set(DATA_PLANE_KEY_USE))


def test_rules_dynamodb_transactions_are_authorized_by_item_actions_not_their_own() -> None:
    # The Service Authorization Reference has no dynamodb:TransactWriteItems: a key for it would never match.
    assert not {"dynamodb:TransactWriteItems", "dynamodb:TransactGetItems"} & set(DATA_PLANE_KEY_USE)
    assert {"dynamodb:ConditionCheckItem", "dynamodb:DeleteItem", "dynamodb:UpdateItem"} <= set(DATA_PLANE_KEY_USE)


def test_rules_service_principals_are_templates_of_amazonaws_hosts() -> None:
    for principal in SERVICE_PRINCIPAL_KEY_USE:
        host = principal.format(region="eu-west-1")
        assert re.fullmatch(r"[a-z0-9-]+(\.[a-z0-9-]+)?\.amazonaws\.com", host), principal
    assert "logs.{region}.amazonaws.com" in SERVICE_PRINCIPAL_KEY_USE
    assert "cloudwatch.amazonaws.com" in SERVICE_PRINCIPAL_KEY_USE


def test_rules_service_principals_call_kms_as_themselves() -> None:
    for principal, uses in SERVICE_PRINCIPAL_KEY_USE.items():
        assert all(use.via_service is None for use in uses), principal


def test_rules_deployer_key_types_are_also_in_deployer_actions() -> None:
    assert set(DEPLOYER_KEY_USE) <= set(DEPLOYER_ACTIONS), sorted(set(DEPLOYER_KEY_USE) - set(DEPLOYER_ACTIONS))


def test_rules_deployer_actions_cite_one_service_authorization_page_per_type() -> None:
    assert set(DEPLOYER_ACTION_SOURCES) == set(DEPLOYER_ACTIONS)
    for token, source in DEPLOYER_ACTION_SOURCES.items():
        assert source.startswith(f"{AWS_DOCS}service-authorization/latest/reference/list_"), token


def test_rules_deployer_actions_are_iam_shaped_and_listed_once_per_type() -> None:
    for token, actions in DEPLOYER_ACTIONS.items():
        assert actions, token
        assert len(set(actions)) == len(actions), f"{token}: an action is listed twice"
        for action in actions:
            assert ACTION_SHAPE.fullmatch(action) and not action.endswith("*"), f"{token}: {action!r}"


def test_rules_deployer_actions_cover_every_aws_type_the_program_registers() -> None:
    registered = _registered_type_tokens()
    assert registered, "found no aws.<module>.<Class>( call in components/"
    missing = registered - set(DEPLOYER_ACTIONS)
    assert not missing, f"resource types with no deployer actions: {sorted(missing)}"


def test_rules_deployer_kms_key_actions_include_what_the_provider_calls() -> None:
    provider_calls = {
        "kms:CreateKey",
        "kms:DescribeKey",
        "kms:GetKeyPolicy",
        "kms:GetKeyRotationStatus",
        "kms:ListResourceTags",
        "kms:PutKeyPolicy",
        "kms:EnableKeyRotation",
        "kms:TagResource",
        "kms:ScheduleKeyDeletion",
    }
    (key_use,) = DEPLOYER_KEY_USE["aws:kms/key:Key"]
    assert provider_calls <= set(key_use.actions)
    assert set(key_use.actions) <= set(DEPLOYER_ACTIONS["aws:kms/key:Key"])


def test_rules_deployer_passes_the_roles_it_hands_to_services() -> None:
    for token in ("aws:lambda/function:Function", "aws:kinesis/firehoseDeliveryStream:FirehoseDeliveryStream"):
        assert "iam:PassRole" in DEPLOYER_ACTIONS[token], token


def test_rules_esm_metrics_are_the_ones_the_mapping_turns_on_and_its_alarms_read() -> None:
    assert ESM_METRICS.source.startswith(AWS_DOCS)
    assert all(metric.meaning for metric in ESM_METRICS.metrics)
    assert [ESM_METRICS.metrics_config] == defaults.ESM_METRICS, "the mapping must turn the page's group on"
    mapping_alarms = [
        spec
        for spec in alarm_specs(EXAMPLE_TENANT, naming.tenant_names(EXAMPLE_TENANT.tenant, naming.DEFAULT_STACK))
        if spec.namespace == ESM_METRICS.namespace and spec.metric_name in ESM_METRICS.names()
    ]
    assert mapping_alarms, "no alarm reads the event source mapping's metrics"
    for spec in mapping_alarms:
        assert spec.dimensions == {ESM_METRICS.dimension: MAPPING_UUID}, spec.suffix
        assert spec.statistic == ESM_METRICS.statistic, spec.suffix


def test_rules_openx_timestamps_take_no_rfc3339_offset_so_date_time_fields_archive_as_text() -> None:
    # Every format the page lists, by its own example: none carries an offset such as +02:00, which a valid
    # RFC 3339 `date-time` may; so the archive keeps those fields as text, and `date` as a date column.
    assert OPENX_TIMESTAMP_FORMATS
    for timestamp_format in OPENX_TIMESTAMP_FORMATS:
        assert timestamp_format.source.startswith(AWS_DOCS), timestamp_format
        assert not re.search(r"[+-]\d\d:?\d\d$", timestamp_format.example), timestamp_format
    assert glue_type({"type": "string", "format": "date-time"}) == "string"
    assert glue_type({"type": "string", "format": "date"}) == "date"
