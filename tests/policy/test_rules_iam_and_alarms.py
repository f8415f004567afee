"""IAM, isolation and alarm rules: each passes every example tenant and fails a broken copy."""

from __future__ import annotations

import json

import pytest
from plan_cases import DELETE, all_of, broken, find, findings, replaced, where, with_policy

from policy.rules import (
    alarm_has_action,
    alarm_has_dimensions,
    iam_no_aws_managed_policies,
    iam_no_wildcards,
    tenant_isolation,
)
from policy.rules.types import KEY, METRIC_ALARM, ROLE, ROLE_POLICY, STREAM, TABLE


def _statement(sid: str):
    def edit(change):
        def apply(document: dict) -> dict:
            [statement] = [s for s in document["Statement"] if s["Sid"] == sid]
            change(statement)
            return document

        return apply

    return edit


WILDCARDS = [
    ("a wildcard action", _statement("WriteTenantTable")(lambda s: s.update(Action=["dynamodb:*"]))),
    ("every resource", _statement("ReadTenantStream")(lambda s: s.update(Resource=["*"]))),
    ("an inverse grant", _statement("SendToFailureQueue")(lambda s: s.update(NotAction=["iam:*"]))),
    ("X-Ray's * reused", _statement("WriteTraces")(lambda s: s["Action"].append("s3:GetObject"))),
]


@pytest.mark.parametrize(("case", "edit"), WILDCARDS, ids=[case for case, _ in WILDCARDS])
def test_no_wildcards_allows_only_xray_on_every_resource(plan, case, edit):
    policy = find(plan, "orders", ROLE_POLICY, role="orders--dev--processor")
    assert findings(iam_no_wildcards.RULE, plan.resources) == []
    assert findings(iam_no_wildcards.RULE, [with_policy(policy, edit)]) == [where(policy)]


def test_no_wildcards_reads_a_roles_inline_policies(plan):
    role = find(plan, "sensors", ROLE, name="sensors--dev--processor")
    grant = {"Statement": [{"Effect": "Allow", "Action": "s3:*", "Resource": "*"}]}
    inline = broken(role, "inlinePolicies", [{"name": "extra", "policy": json.dumps(grant)}])
    assert findings(iam_no_wildcards.RULE, [inline]) == [where(role), where(role)]


@pytest.mark.parametrize("path", ["managedPolicyArns", "policyArn"])
def test_no_aws_managed_policies_flags_a_role_or_attachment_using_one(plan, path):
    role = find(plan, "clicks", ROLE, name="clicks--dev--processor")
    managed = "arn:aws:iam::aws:policy/service-role/AWSLambdaKinesisExecutionRole"
    value = [managed] if path == "managedPolicyArns" else managed
    attached = broken(role, path, value)
    if path == "policyArn":
        attached.type = "aws:iam/rolePolicyAttachment:RolePolicyAttachment"
    assert findings(iam_no_aws_managed_policies.RULE, plan.resources) == []
    assert findings(iam_no_aws_managed_policies.RULE, [attached]) == [where(attached)]
    customer = broken(role, "managedPolicyArns", ["arn:aws:iam::123456789012:policy/tributary-readers"])
    assert findings(iam_no_aws_managed_policies.RULE, [customer]) == []


def _grant_on(arn: str):
    def edit(document: dict) -> dict:
        document["Statement"][0]["Resource"] = [*document["Statement"][0]["Resource"], arn]
        return document

    return edit


def test_isolation_flags_a_policy_naming_another_tenants_table(plan):
    policy = find(plan, "orders", ROLE_POLICY, role="orders--dev--processor")
    theirs = find(plan, "sensors", TABLE).state["arn"]
    assert findings(tenant_isolation.RULE, plan.resources) == []
    twin = with_policy(policy, _grant_on(theirs))
    assert findings(tenant_isolation.RULE, replaced(plan.resources, policy, twin)) == [where(policy)]


def test_isolation_flags_another_tenants_resource_named_in_an_arn_it_does_not_own(plan):
    """The same stream name in another region is not clicks's ARN, but it names clicks's stream: a key policy
    of sensors has no business with it."""
    key = find(plan, "sensors", KEY)
    elsewhere = find(plan, "clicks", STREAM).state["arn"].replace("us-east-1", "eu-west-1")
    twin = with_policy(key, _grant_on(elsewhere))
    assert findings(tenant_isolation.RULE, replaced(plan.resources, key, twin)) == [where(key)]


ALARM_CASES = [
    (alarm_has_action, "alarmActions", []),
    (alarm_has_action, "alarmActions", DELETE),
    (alarm_has_dimensions, "dimensions", {}),
    (alarm_has_dimensions, "dimensions", DELETE),
]


@pytest.mark.parametrize(("module", "path", "value"), ALARM_CASES)
def test_alarm_rule_passes_the_examples_and_flags_a_silent_or_unscoped_alarm(plan, module, path, value):
    alarm = next(a for a in all_of(plan, "sensors", METRIC_ALARM) if a.inputs.get("dimensions"))
    assert findings(module.RULE, plan.resources) == []
    assert findings(module.RULE, [broken(alarm, path, value)]) == [where(alarm)]


def test_alarm_dimensions_are_read_from_each_metric_of_a_metric_math_alarm(plan):
    alarm = next(a for a in all_of(plan, "orders", METRIC_ALARM) if a.inputs.get("metricQueries"))
    index = next(i for i, query in enumerate(alarm.inputs["metricQueries"]) if query.get("metric"))
    unscoped = broken(alarm, f"metricQueries.{index}.metric.dimensions", {})
    assert findings(alarm_has_dimensions.RULE, [unscoped]) == [where(alarm)]
