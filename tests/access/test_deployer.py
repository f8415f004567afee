"""The deployer's policy names only Tributary's resources on one stack, and every tenant key lets it work.

The policy is judged by the same evaluator as every other principal's access: a request for a name on the
stack is allowed, the same request for another stack's name is not.
"""

from __future__ import annotations

import dataclasses
import fnmatch
import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from access.aws_rules import DEPLOYER_ACTIONS, DEPLOYER_KEY_USE
from access.deployer import (
    DEPLOYER_EXCEPTIONS,
    KMS_WILDCARD_SOURCES,
    KMS_WILDCARDS,
    deployer_key_check,
    deployer_policy,
    needed_actions,
)
from access.deployer_scopes import ACTIONS_WITHOUT_RESOURCE_TYPES, KEY_TYPE
from access.evaluate import evaluate
from access.policy_types import LabelledPolicy, PolicySet, Request
from cli.main import app
from components.key_policy import deployer_key_use
from components.offline import Evaluation
from components.offline import evaluate as evaluate_program
from components.stack import read_stack_file

PROJECT = Path(__file__).resolve().parents[2]
STACK = "qa7"  # a name that appears in no AWS ARN syntax, so a match on it is a match on the stack
ACCOUNT = "111122223333"
REGION = "eu-west-1"
DEPLOYER = f"arn:aws:iam::{ACCOUNT}:role/tributary-deployer"
# Resources that cannot carry the stack's name, each for the reason given where the scope is defined in
# access/deployer.py: keys have UUIDs (scoped by tag instead), mappings have UUIDs, the Glue catalog is one
# per account and Region.
UNNAMED_RESOURCES = {
    f"arn:aws:kms:{REGION}:{ACCOUNT}:key/*",
    f"arn:aws:lambda:{REGION}:{ACCOUNT}:event-source-mapping:*",
    f"arn:aws:glue:{REGION}:{ACCOUNT}:catalog",
}


@pytest.fixture(scope="module")
def policy() -> dict:
    return deployer_policy(STACK, REGION, ACCOUNT)


@pytest.fixture(scope="module")
def dev_plan() -> Evaluation:
    return evaluate_program(PROJECT, "dev", read_stack_file(PROJECT, "dev"))


def _resources(statement: dict) -> list[str]:
    return statement["Resource"] if isinstance(statement["Resource"], list) else [statement["Resource"]]


def _allowed(policy: dict, action: str, resource: str, **context: str) -> bool:
    identity = PolicySet(identity=[LabelledPolicy("deployer-policy", policy)])
    return evaluate(Request(DEPLOYER, action, resource, context), identity).allowed


def _tagged(stack: str) -> dict[str, str]:
    return {"aws:ResourceTag/managed-by": "tributary", "aws:ResourceTag/stack": stack}


# -- The policy ---------------------------------------------------------------------------------------------------


def test_deployer_policy_is_a_json_policy_document_with_one_statement_per_scope(policy):
    assert json.loads(json.dumps(policy)) == policy
    assert policy["Version"] == "2012-10-17"
    sids = [statement["Sid"] for statement in policy["Statement"]]
    assert len(sids) == len(set(sids)), sids
    assert all(statement["Effect"] == "Allow" and statement["Action"] for statement in policy["Statement"])


def test_deployer_policy_has_no_action_wildcards(policy):
    wildcards = [(s["Sid"], a) for s in policy["Statement"] for a in s["Action"] if "*" in a or "?" in a]
    assert not wildcards


def test_deployer_policy_uses_star_resource_only_for_actions_without_resource_types(policy):
    unscoped = [s for s in policy["Statement"] if "*" in _resources(s)]
    assert unscoped
    for statement in unscoped:
        assert _resources(statement) == ["*"], statement["Sid"]
        assert set(statement["Action"]) <= set(ACTIONS_WITHOUT_RESOURCE_TYPES), statement["Sid"]


def test_deployer_policy_names_the_stack_in_every_other_resource(policy):
    for statement in policy["Statement"]:
        for resource in _resources(statement):
            if resource == "*" or resource in UNNAMED_RESOURCES:
                continue
            assert STACK in resource, (statement["Sid"], resource)
            assert ACCOUNT in resource, (statement["Sid"], resource)


def test_deployer_policy_scopes_unnamed_keys_and_mappings_by_tag_or_function(policy):
    for statement in policy["Statement"]:
        resources = _resources(statement)
        condition = json.dumps(statement.get("Condition", {}))
        if resources == [f"arn:aws:kms:{REGION}:{ACCOUNT}:key/*"]:
            assert (
                f'"aws:ResourceTag/stack": "{STACK}"' in condition or f'"aws:RequestTag/stack": "{STACK}"' in condition
            )
        if "*" in resources and statement["Action"] in (["kms:CreateKey"], ["lambda:CreateEventSourceMapping"]):
            assert STACK in condition, statement["Sid"]


def test_deployer_policy_grants_every_needed_action_and_nothing_else(policy):
    granted = {action for statement in policy["Statement"] for action in statement["Action"]}
    needed = {action for _, action, _ in needed_actions()} - set(DEPLOYER_EXCEPTIONS)
    assert granted == needed


def test_deployer_policy_refuses_the_documented_exceptions_everywhere(policy):
    granted = {action for statement in policy["Statement"] for action in statement["Action"]}
    assert not granted & set(DEPLOYER_EXCEPTIONS)
    listed = {a for actions in DEPLOYER_ACTIONS.values() for a in actions}
    listed |= {a for uses in DEPLOYER_KEY_USE.values() for use in uses for a in use.actions}
    assert set(DEPLOYER_EXCEPTIONS) <= listed, "an exception for an action nobody asks for"


def test_deployer_policy_allows_the_stacks_names_and_refuses_another_stacks(policy):
    for name in ("orders--qa7--events", "iot-fleet-7--qa7--events"):
        assert _allowed(policy, "kinesis:CreateStream", f"arn:aws:kinesis:{REGION}:{ACCOUNT}:stream/{name}")
    assert not _allowed(
        policy, "kinesis:CreateStream", f"arn:aws:kinesis:{REGION}:{ACCOUNT}:stream/orders--prod--events"
    )
    assert not _allowed(
        policy, "dynamodb:DeleteTable", f"arn:aws:dynamodb:{REGION}:{ACCOUNT}:table/orders--prod--serving"
    )
    assert _allowed(policy, "s3:CreateBucket", f"arn:aws:s3:::orders--qa7--archive-{ACCOUNT}")
    assert not _allowed(policy, "s3:CreateBucket", "arn:aws:s3:::orders--qa7--archive-444455556666")
    assert _allowed(policy, "kms:CreateAlias", f"arn:aws:kms:{REGION}:{ACCOUNT}:alias/tributary/orders--qa7")
    assert not _allowed(policy, "kms:CreateAlias", f"arn:aws:kms:{REGION}:{ACCOUNT}:alias/payments")
    assert _allowed(policy, "glue:CreateTable", f"arn:aws:glue:{REGION}:{ACCOUNT}:table/tributary_orders__qa7/events")
    assert not _allowed(policy, "glue:CreateTable", f"arn:aws:glue:{REGION}:{ACCOUNT}:table/analytics/events")


def test_deployer_policy_passes_each_role_only_to_the_service_that_assumes_it(policy):
    processor = f"arn:aws:iam::{ACCOUNT}:role/orders--qa7--processor"
    firehose = f"arn:aws:iam::{ACCOUNT}:role/orders--qa7--firehose"
    assert _allowed(policy, "iam:PassRole", processor, **{"iam:PassedToService": "lambda.amazonaws.com"})
    assert _allowed(policy, "iam:PassRole", firehose, **{"iam:PassedToService": "firehose.amazonaws.com"})
    assert not _allowed(policy, "iam:PassRole", processor, **{"iam:PassedToService": "firehose.amazonaws.com"})
    assert not _allowed(policy, "iam:PassRole", firehose, **{"iam:PassedToService": "ec2.amazonaws.com"})


def test_deployer_policy_administers_only_keys_tagged_for_the_stack(policy):
    key = f"arn:aws:kms:{REGION}:{ACCOUNT}:key/1234abcd-12ab-34cd-56ef-1234567890ab"
    assert _allowed(policy, "kms:PutKeyPolicy", key, **_tagged(STACK))
    assert not _allowed(policy, "kms:PutKeyPolicy", key, **_tagged("prod"))
    assert not _allowed(policy, "kms:PutKeyPolicy", key)
    assert _allowed(
        policy, "kms:CreateKey", "*", **{"aws:RequestTag/managed-by": "tributary", "aws:RequestTag/stack": STACK}
    )
    assert not _allowed(policy, "kms:CreateKey", "*")


def test_deployer_policy_uses_keys_only_through_the_services_deployer_key_use_names(policy):
    key = f"arn:aws:kms:{REGION}:{ACCOUNT}:key/1234abcd-12ab-34cd-56ef-1234567890ab"
    for use in deployer_key_use():
        via = {"kms:ViaService": f"{use.service}.{REGION}.amazonaws.com", **_tagged(STACK)}
        assert _allowed(policy, "kms:Encrypt", key, **via), use.sid
        assert _allowed(policy, "kms:CreateGrant", key, **via, **{"kms:GrantIsForAWSResource": "true"}), use.sid
        assert not _allowed(policy, "kms:CreateGrant", key, **via), use.sid
    assert not _allowed(policy, "kms:Decrypt", key, **_tagged(STACK))
    assert not _allowed(
        policy, "kms:Decrypt", key, **{"kms:ViaService": f"s3.{REGION}.amazonaws.com"}, **_tagged(STACK)
    )


def test_deployer_policy_for_any_region_matches_the_service_in_every_region():
    policy = deployer_policy(STACK)
    key = f"arn:aws:kms:ap-southeast-4:{ACCOUNT}:key/1234abcd-12ab-34cd-56ef-1234567890ab"
    via = {"kms:ViaService": "lambda.ap-southeast-4.amazonaws.com", **_tagged(STACK)}
    assert _allowed(policy, "kms:Encrypt", key, **via)


@pytest.mark.parametrize("pattern", sorted(KMS_WILDCARDS))
def test_deployer_kms_wildcards_expand_to_actions_the_pattern_matches(pattern):
    expanded = KMS_WILDCARDS[pattern]
    assert expanded and all(fnmatch.fnmatchcase(action, pattern) for action in expanded)
    assert KMS_WILDCARD_SOURCES[pattern].startswith("https://docs.aws.amazon.com/")


def test_deployer_kms_wildcards_cover_every_wildcard_the_rules_use():
    used = {a for uses in DEPLOYER_KEY_USE.values() for use in uses for a in use.actions if "*" in a}
    used |= {a for actions in DEPLOYER_ACTIONS.values() for a in actions if "*" in a}
    assert used <= set(KMS_WILDCARDS)


# -- The key check -----------------------------------------------------------------------------------------------


def _without_deployer_lambda_statement(plan: Evaluation) -> Evaluation:
    """The plan with each key policy missing the statement that lets the account's deployer use Lambda."""

    def is_deployer_lambda(statement: dict) -> bool:
        via = json.dumps(statement.get("Condition", {}))
        return "kms:CreateGrant" in statement.get("Action", []) and '"lambda.' in via

    def edited(resource):
        if resource.type != KEY_TYPE:
            return resource
        policy = json.loads(resource.inputs["policy"])
        kept = [statement for statement in policy["Statement"] if not is_deployer_lambda(statement)]
        assert len(kept) == len(policy["Statement"]) - 1, "expected one deployer statement through Lambda"
        return dataclasses.replace(
            resource, inputs={**resource.inputs, "policy": json.dumps({**policy, "Statement": kept})}
        )

    return dataclasses.replace(plan, resources=[edited(resource) for resource in plan.resources])


def test_deployer_key_check_finds_nothing_on_the_dev_plan(dev_plan):
    findings = deployer_key_check(dev_plan)
    assert not findings, "\n".join(map(str, findings))


def test_deployer_key_check_reports_create_grant_without_the_lambda_statement(dev_plan):
    findings = deployer_key_check(_without_deployer_lambda_statement(dev_plan))
    function = "aws:lambda/function:Function"
    tenants = {r.tenant for r in dev_plan.resources if r.type == function}
    reported = {f.tenant for f in findings if (f.type, f.action) == (function, "kms:CreateGrant")}
    assert tenants and reported == tenants, "\n".join(map(str, findings))


def test_deployer_key_check_reports_keys_of_another_stack_as_out_of_reach(dev_plan):
    def retagged(resource):
        if resource.type != KEY_TYPE:
            return resource
        return dataclasses.replace(
            resource, inputs={**resource.inputs, "tags": {**resource.inputs["tags"], "stack": "prod"}}
        )

    plan = dataclasses.replace(dev_plan, resources=[retagged(resource) for resource in dev_plan.resources])
    actions = {(f.type, f.action) for f in deployer_key_check(plan)}
    assert (KEY_TYPE, "kms:CreateKey") in actions
    assert (KEY_TYPE, "kms:PutKeyPolicy") in actions


def test_deployer_key_check_finding_is_one_line_naming_tenant_type_action_and_the_evaluators_reason(dev_plan):
    findings = deployer_key_check(_without_deployer_lambda_statement(dev_plan))
    assert findings
    for finding in findings:
        line = str(finding)
        assert "\n" not in line, line
        assert line.startswith(f"{finding.tenant}: {finding.type}: {finding.action}: implicitly denied: "), line


def test_deployer_key_check_never_asks_for_a_refused_action(dev_plan):
    findings = deployer_key_check(_without_deployer_lambda_statement(dev_plan))
    assert not {f.action for f in findings} & set(DEPLOYER_EXCEPTIONS)


# -- The command ---------------------------------------------------------------------------------------------------


def test_cli_deployer_policy_prints_the_policy_as_json():
    result = CliRunner().invoke(app, ["deployer-policy", "--stack", STACK, "--region", REGION, "--account", ACCOUNT])
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout) == deployer_policy(STACK, REGION, ACCOUNT)


def test_cli_deployer_policy_check_exits_0_on_the_dev_stack():
    result = CliRunner().invoke(app, ["deployer-policy", "--check", "--project", str(PROJECT), "--stack", "dev"])
    assert result.exit_code == 0, result.output
