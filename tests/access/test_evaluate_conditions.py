"""Condition operators and their logic across keys and values, as AWS's pages define them.

The policies here are AWS's examples, copied from the pages each test cites, so a failure means the evaluator
and AWS's documentation disagree, not that two of our own helpers do.
"""

from __future__ import annotations

import pytest
from iam_examples import ACCOUNT, ALICE, allow, decide, document, identity, sends

from access.policy_types import LabelledPolicy, StatementRef

# --- conditions: "Condition operators", "Conditions with multiple context keys or values" ------------------


def test_condition_ors_the_values_of_one_key():
    condition = {"StringEquals": {"aws:SourceAccount": [ACCOUNT, "444455556666"]}}
    assert sends(condition, {"aws:SourceAccount": "444455556666"})
    assert not sends(condition, {"aws:SourceAccount": "999999999999"})


def test_condition_ands_keys_and_operators():
    """https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_condition-logic-multiple-context-keys-or-values.html:
    the department/role tags and the principal account must all match."""
    condition = {
        "StringEqualsIgnoreCase": {
            "aws:PrincipalTag/department": ["finance", "hr", "legal"],
            "aws:PrincipalTag/role": ["audit", "security"],
        },
        "StringEquals": {"aws:PrincipalAccount": ACCOUNT},
    }
    tags = {"aws:PrincipalTag/department": "HR", "aws:PrincipalTag/role": "audit"}
    assert sends(condition, tags)
    assert not sends(condition, {**tags, "aws:PrincipalTag/role": "admin"})
    assert not sends(condition, {**tags, "aws:PrincipalAccount": "444455556666"})
    assert not sends(condition, {"aws:PrincipalTag/department": "hr"})


def test_condition_nors_the_values_of_a_negated_operator():
    """https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_condition-logic-multiple-context-keys-or-values.html:
    with StringNotEquals, "the string cannot match any of the ... values listed"."""
    condition = {"StringNotEquals": {"aws:SourceAccount": [ACCOUNT, "444455556666"]}}
    assert sends(condition, {"aws:SourceAccount": "999999999999"})
    assert not sends(condition, {"aws:SourceAccount": ACCOUNT})


@pytest.mark.parametrize(
    ("operator", "holds"),
    [
        ("StringEquals", False),
        ("StringLike", False),
        ("StringNotEquals", True),
        ("ArnNotLike", True),
        ("StringEqualsIfExists", True),
        ("ForAllValues:StringEquals", True),
        ("ForAnyValue:StringEquals", False),
        ("ForAnyValue:StringNotEquals", False),
    ],
)
def test_condition_on_a_missing_key_follows_the_documented_rule(operator, holds):
    """https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_condition_operators.html:
    a missing key makes a condition false, true for negated operators and ...IfExists;
    reference_policies_condition-single-vs-multi-valued-context-keys.html: ForAllValues true, ForAnyValue false."""
    value = f"arn:aws:sns:us-west-2:{ACCOUNT}:topic"
    assert sends({operator: {"aws:SourceArn": value}}, {}) is holds


@pytest.mark.parametrize(
    ("null", "context", "holds"),
    [("true", {}, True), ("true", {"aws:TokenIssueTime": "t"}, False), ("false", {"aws:TokenIssueTime": "t"}, True)],
)
def test_condition_null_checks_whether_the_key_is_present(null, context, holds):
    assert sends({"Null": {"aws:TokenIssueTime": null}}, context) is holds


@pytest.mark.parametrize(
    ("attributes", "all_allowed", "any_forbidden"),
    [
        (["Message", "Tags"], True, False),
        (["ID", "Message", "Tags"], True, True),
        (["Message", "UserName"], False, False),
        (["PostDateTime", "Message"], False, True),
    ],
)
def test_condition_set_operators_compare_every_request_value(attributes, all_allowed, any_forbidden):
    """https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_condition-single-vs-multi-valued-context-keys.html:
    the DynamoDB Thread table examples for ForAllValues and ForAnyValue."""
    context = {"dynamodb:Attributes": attributes}
    assert (
        sends({"ForAllValues:StringEquals": {"dynamodb:Attributes": ["ID", "Message", "Tags"]}}, context) is all_allowed
    )
    assert (
        sends({"ForAnyValue:StringEquals": {"dynamodb:Attributes": ["ID", "PostDateTime"]}}, context) is any_forbidden
    )


def test_condition_bool_on_secure_transport_denies_plain_http_only():
    """https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_condition_operators.html,
    "Boolean condition operators": deny S3 actions that are not over TLS."""
    bucket = LabelledPolicy(
        "bucket",
        document(
            {
                "Sid": "BooleanExample",
                "Action": "s3:*",
                "Effect": "Deny",
                "Principal": "*",
                "Resource": ["arn:aws:s3:::DOC-EXAMPLE-BUCKET", "arn:aws:s3:::DOC-EXAMPLE-BUCKET/*"],
                "Condition": {"Bool": {"aws:SecureTransport": "false"}},
            }
        ),
    )
    reader = identity(allow("s3:GetObject", "arn:aws:s3:::DOC-EXAMPLE-BUCKET/*"))
    obj = "arn:aws:s3:::DOC-EXAMPLE-BUCKET/a"
    over_tls = decide(ALICE, "s3:GetObject", obj, {"aws:SecureTransport": "true"}, ids=[reader], resource_policy=bucket)
    plain = decide(ALICE, "s3:GetObject", obj, {"aws:SecureTransport": "false"}, ids=[reader], resource_policy=bucket)
    assert over_tls.allowed
    assert not plain.allowed
    assert plain.denied_by == (StatementRef("bucket", "BooleanExample", 0),)


def test_condition_arn_like_matches_each_arn_component_where_string_like_spans_them():
    """https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_condition_operators.html,
    "Amazon Resource Name (ARN) condition operators": the same pattern and value, StringLike matches and
    ArnLike does not."""
    pattern = "arn:aws:someservice:*:111122223333:finance/*"
    value = "arn:aws:someservice:us-east-2:999999999999:store/abc:111122223333:finance/document.txt"
    assert sends({"StringLike": {"aws:SourceArn": pattern}}, {"aws:SourceArn": value})
    assert not sends({"ArnLike": {"aws:SourceArn": pattern}}, {"aws:SourceArn": value})
    own = "arn:aws:someservice:us-east-2:111122223333:finance/document.txt"
    assert sends({"ArnLike": {"aws:SourceArn": pattern}}, {"aws:SourceArn": own})


def test_condition_reads_key_names_case_insensitively():
    """https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_condition.html: "Condition
    key names are not case-sensitive"."""
    assert sends({"StringEquals": {"AWS:SourceAccount": ACCOUNT}}, {"aws:sourceaccount": ACCOUNT})


def test_condition_compares_numbers_as_numbers():
    condition = {"NumericLessThanEquals": {"s3:max-keys": "10"}}
    assert sends(condition, {"s3:max-keys": "9.5"})
    assert not sends(condition, {"s3:max-keys": "11"})
    assert not sends(condition, {"s3:max-keys": "ten"})
