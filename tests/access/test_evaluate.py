"""The evaluator decides as AWS's own worked examples say it does, and refuses what it cannot judge exactly.

The policies here are AWS's examples, copied from the pages each test cites, so a failure means the evaluator
and AWS's documentation disagree, not that two of our own helpers do.
"""

from __future__ import annotations

import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

from access.evaluate import evaluate, grant_matches, grants
from access.policy_types import LabelledPolicy, PolicySet, Request, StatementRef, UnsupportedPolicy

ACCOUNT = "111122223333"
KEY = f"arn:aws:kms:us-west-2:{ACCOUNT}:key/1234abcd-12ab-34cd-56ef-1234567890ab"
ENCRYPTION_APP = f"arn:aws:iam::{ACCOUNT}:role/EncryptionApp"
ALICE = f"arn:aws:iam::{ACCOUNT}:user/Alice"
ROOT = f"arn:aws:iam::{ACCOUNT}:root"
QUEUE = f"arn:aws:sqs:us-west-2:{ACCOUNT}:failures"
LOGS = "service:logs.us-west-2.amazonaws.com"


def document(*statements: dict) -> dict:
    return {"Version": "2012-10-17", "Statement": list(statements)}


def identity(*statements: dict, label: str = "identity") -> LabelledPolicy:
    return LabelledPolicy(label, document(*statements))


def allow(action, resource, **extra) -> dict:
    return {"Effect": "Allow", "Action": action, "Resource": resource, **extra}


def deny(action, resource, **extra) -> dict:
    return {"Effect": "Deny", "Action": action, "Resource": resource, **extra}


def decide(principal, action, resource, context=None, *, ids=(), resource_policy=None, key_policy=None):
    request = Request(principal, action, resource, context or {})
    return evaluate(request, PolicySet(list(ids), resource_policy, key_policy))


# --- "Policy evaluation logic": identity-based and resource-based policies, explicit and implicit deny ------

CARLOS = "arn:aws:iam::123456789012:user/carlossalazar"
CARLOS_POLICY = LabelledPolicy(
    "carlossalazar",
    document(
        {
            "Sid": "AllowS3ListRead",
            "Effect": "Allow",
            "Action": [
                "s3:GetBucketLocation",
                "s3:GetAccountPublicAccessBlock",
                "s3:ListAccessPoints",
                "s3:ListAllMyBuckets",
            ],
            "Resource": "arn:aws:s3:::*",
        },
        {
            "Sid": "AllowS3Self",
            "Effect": "Allow",
            "Action": "s3:*",
            "Resource": ["arn:aws:s3:::carlossalazar/*", "arn:aws:s3:::carlossalazar"],
        },
        {"Sid": "DenyS3Logs", "Effect": "Deny", "Action": "s3:*", "Resource": "arn:aws:s3:::*log*"},
    ),
)
CARLOS_BUCKET_POLICY = LabelledPolicy(
    "carlossalazar-bucket",
    document(
        {
            "Effect": "Allow",
            "Principal": {"AWS": CARLOS},
            "Action": "s3:*",
            "Resource": ["arn:aws:s3:::carlossalazar/*", "arn:aws:s3:::carlossalazar"],
        }
    ),
)


def test_evaluate_denies_explicitly_when_an_identity_deny_matches_the_logs_bucket():
    """https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_evaluation-logic.html, "Example
    identity-based and resource-based policy evaluation": Carlos saving to the logs bucket is denied by
    DenyS3Logs."""
    decision = decide(CARLOS, "s3:PutObject", "arn:aws:s3:::carlossalazar-logs/report.txt", ids=[CARLOS_POLICY])
    assert not decision.allowed
    assert decision.denied_by == (StatementRef("carlossalazar", "DenyS3Logs", 2),)
    assert "explicitly denied by carlossalazar:DenyS3Logs" in decision.reason


def test_evaluate_allows_when_both_identity_and_bucket_policy_allow():
    """https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_evaluation-logic.html: saving to his own
    bucket, "Both the identity-based policy and the resource-based policy allow the request. Therefore, AWS allows
    the request"."""
    decision = decide(
        CARLOS,
        "s3:PutObject",
        "arn:aws:s3:::carlossalazar/report.txt",
        ids=[CARLOS_POLICY],
        resource_policy=CARLOS_BUCKET_POLICY,
    )
    assert decision.allowed
    assert decision.allowed_by == (
        StatementRef("carlossalazar", "AllowS3Self", 1),
        StatementRef("carlossalazar-bucket", None, 0),
    )


@pytest.mark.parametrize("which", ["identity only", "bucket policy only"])
def test_evaluate_allows_when_either_identity_or_resource_policy_allows_alone(which):
    """https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_evaluation-logic.html: "If one of the policy
    types allows the request and the other doesn't, the request is still allowed"."""
    only_list = identity(CARLOS_POLICY.document["Statement"][0], label="carlossalazar")
    ids = [CARLOS_POLICY] if which == "identity only" else [only_list]
    bucket = None if which == "identity only" else CARLOS_BUCKET_POLICY
    decision = decide(CARLOS, "s3:PutObject", "arn:aws:s3:::carlossalazar/a", ids=ids, resource_policy=bucket)
    assert decision.allowed, decision.reason


def test_evaluate_denies_explicitly_when_the_bucket_policy_denies_what_identity_allows():
    """https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_evaluation-logic.html: "If either of them
    explicitly denied the statement, the request would have been denied"."""
    bucket = LabelledPolicy("bucket", document(deny("s3:*", "arn:aws:s3:::carlossalazar/*", Principal="*")))
    decision = decide(
        CARLOS, "s3:PutObject", "arn:aws:s3:::carlossalazar/a", ids=[CARLOS_POLICY], resource_policy=bucket
    )
    assert not decision.allowed
    assert decision.denied_by == (StatementRef("bucket", None, 0),)


IAM_READ_ONLY = identity(
    {"Sid": "AllowGetList", "Effect": "Allow", "Action": ["iam:Get*", "iam:List*"], "Resource": "*"},
    {"Sid": "DenyReports", "Effect": "Deny", "Action": "iam:*Report", "Resource": "*"},
)


@pytest.mark.parametrize(
    ("action", "allowed", "explicit"),
    [
        ("iam:GetUser", True, False),
        ("iam:CreatePolicy", False, False),
        ("iam:GetOrganizationsAccessReport", False, True),
        ("iam:GenerateCredentialReport", False, True),
    ],
)
def test_evaluate_tells_explicit_from_implicit_deny_for_get_list_and_report_actions(action, allowed, explicit):
    """https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_evaluation-logic.html, "The difference
    between explicit and implicit denies": AllowGetList allows Get/List, iam:CreatePolicy is implicitly denied,
    DenyReports explicitly denies the *Report actions."""
    decision = decide(ALICE, action, "*", ids=[IAM_READ_ONLY])
    assert decision.allowed is allowed
    assert bool(decision.denied_by) is explicit
    if not allowed and not explicit:
        assert decision.reason.startswith("implicitly denied")


def test_evaluate_denies_implicitly_when_a_resource_policy_names_only_the_account():
    """https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_principal.html, "AWS
    account principals": naming the account "delegates authority to the account", so an identity policy
    must still allow."""
    queue_policy = LabelledPolicy("queue", document(allow("sqs:SendMessage", QUEUE, Principal={"AWS": ACCOUNT})))
    assert not decide(ENCRYPTION_APP, "sqs:SendMessage", QUEUE, resource_policy=queue_policy).allowed
    granted = decide(
        ENCRYPTION_APP,
        "sqs:SendMessage",
        QUEUE,
        ids=[identity(allow("sqs:SendMessage", QUEUE))],
        resource_policy=queue_policy,
    )
    assert granted.allowed
    assert StatementRef("queue", None, 0) in granted.allowed_by


def test_evaluate_allows_when_a_resource_policy_names_the_role_without_identity_policy():
    """https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_evaluation-logic.html: "For most
    resources, you only need an explicit allow for the principal in either an identity-based policy or a
    resource-based policy"."""
    queue_policy = LabelledPolicy(
        "queue", document(allow("sqs:SendMessage", QUEUE, Principal={"AWS": [ALICE, ENCRYPTION_APP]}))
    )
    assert decide(ENCRYPTION_APP, "sqs:SendMessage", QUEUE, resource_policy=queue_policy).allowed


def test_evaluate_allows_a_service_principal_named_in_a_topic_policy_with_its_source_account():
    topic = f"arn:aws:sns:us-west-2:{ACCOUNT}:alarms"
    statement = allow(
        "sns:Publish",
        topic,
        Principal={"Service": "cloudwatch.amazonaws.com"},
        Condition={"StringEquals": {"aws:SourceAccount": ACCOUNT}},
    )
    topic_policy = LabelledPolicy("topic", document(statement))
    alarms = "service:cloudwatch.amazonaws.com"
    assert decide(alarms, "sns:Publish", topic, {"aws:SourceAccount": ACCOUNT}, resource_policy=topic_policy).allowed
    assert not decide(
        alarms, "sns:Publish", topic, {"aws:SourceAccount": "444455556666"}, resource_policy=topic_policy
    ).allowed
    assert not decide(LOGS, "sns:Publish", topic, {"aws:SourceAccount": ACCOUNT}, resource_policy=topic_policy).allowed


# --- KMS: "Key policies in AWS KMS", "Examining the key policy", "Troubleshooting key access" ---------------

ENABLE_IAM_POLICIES = {
    "Sid": "Enable IAM policies",
    "Effect": "Allow",
    "Principal": {"AWS": ROOT},
    "Action": "kms:*",
    "Resource": "*",
}
ALLOW_USE_OF_THE_KEY = {
    "Sid": "Allow use of the key",
    "Effect": "Allow",
    "Principal": {"AWS": ENCRYPTION_APP},
    "Action": ["kms:DescribeKey", "kms:GenerateDataKey*", "kms:Encrypt", "kms:ReEncrypt*", "kms:Decrypt"],
    "Resource": "*",
}
ALLOW_ATTACHMENT = {
    "Sid": "Allow attachment of persistent resources",
    "Effect": "Allow",
    "Principal": {"AWS": ENCRYPTION_APP},
    "Action": ["kms:ListGrants", "kms:CreateGrant", "kms:RevokeGrant"],
    "Resource": "*",
    "Condition": {"Bool": {"kms:GrantIsForAWSResource": True}},
}


def key_policy(*statements: dict) -> LabelledPolicy:
    return LabelledPolicy("key", document(*statements))


def test_evaluate_allows_key_use_when_the_key_policy_names_the_role():
    """https://docs.aws.amazon.com/kms/latest/developerguide/determining-access-key-policy.html, policy
    statement 3: the EncryptionApp role may decrypt; no IAM policy is needed (the key policy's "*" resource
    is the key itself, https://docs.aws.amazon.com/kms/latest/developerguide/key-policy-overview.html)."""
    decision = decide(ENCRYPTION_APP, "kms:Decrypt", KEY, key_policy=key_policy(ALLOW_USE_OF_THE_KEY))
    assert decision.allowed
    assert decision.allowed_by == (StatementRef("key", "Allow use of the key", 0),)
    assert not decide(
        ENCRYPTION_APP, "kms:ScheduleKeyDeletion", KEY, key_policy=key_policy(ALLOW_USE_OF_THE_KEY)
    ).allowed


@pytest.mark.parametrize(("context", "allowed"), [({"kms:GrantIsForAWSResource": "true"}, True), ({}, False)])
def test_evaluate_allows_create_grant_only_for_aws_resources(context, allowed):
    """https://docs.aws.amazon.com/kms/latest/developerguide/determining-access-key-policy.html, policy
    statement 4: a Bool condition written as a JSON true."""
    policy = key_policy(ALLOW_ATTACHMENT)
    assert decide(ENCRYPTION_APP, "kms:CreateGrant", KEY, context, key_policy=policy).allowed is allowed


def test_evaluate_denies_alice_when_the_key_policy_delegates_but_no_iam_policy_allows():
    """https://docs.aws.amazon.com/kms/latest/developerguide/determining-access.html, "Troubleshooting key
    access" (policy-evaluation.html), "Example 1: User is denied access to a KMS key in their AWS account":
    the default key policy, no IAM policy for Alice."""
    decision = decide(ALICE, "kms:Decrypt", KEY, key_policy=key_policy(ENABLE_IAM_POLICIES))
    assert not decision.allowed
    assert "delegates to the account" in decision.reason


def test_evaluate_allows_alice_when_the_key_policy_delegates_and_an_iam_policy_allows():
    """https://docs.aws.amazon.com/kms/latest/developerguide/key-policy-default.html ("Allows access to the
    AWS account and enables IAM policies") with an IAM policy naming the key ARN."""
    alice = identity(allow(["kms:Decrypt", "kms:Encrypt"], KEY), label="alice")
    decision = decide(ALICE, "kms:Decrypt", KEY, ids=[alice], key_policy=key_policy(ENABLE_IAM_POLICIES))
    assert decision.allowed
    assert set(decision.allowed_by) == {StatementRef("key", "Enable IAM policies", 0), StatementRef("alice", None, 0)}


def test_evaluate_denies_key_use_when_only_an_iam_policy_allows_it():
    """https://docs.aws.amazon.com/kms/latest/developerguide/key-policies.html: "Without permission from the
    key policy, IAM policies that allow permissions have no effect"."""
    alice = identity(allow("kms:*", "*"))
    decision = decide(ALICE, "kms:Decrypt", KEY, ids=[alice], key_policy=key_policy(ALLOW_USE_OF_THE_KEY))
    assert not decision.allowed
    assert "neither names the caller nor delegates" in decision.reason


def test_evaluate_denies_key_use_when_an_iam_policy_denies_without_key_policy_permission():
    """https://docs.aws.amazon.com/kms/latest/developerguide/key-policies.html: "You can use an IAM policy to deny a
    permission to a KMS key without permission from a key policy"."""
    no_decrypt = identity(deny("kms:Decrypt", KEY), label="no-decrypt")
    decision = decide(ENCRYPTION_APP, "kms:Decrypt", KEY, ids=[no_decrypt], key_policy=key_policy(ALLOW_USE_OF_THE_KEY))
    assert not decision.allowed
    assert decision.denied_by == (StatementRef("no-decrypt", None, 0),)


def test_evaluate_allows_key_use_only_through_the_listed_services():
    """kms:ViaService with a list of services: any one of them (values OR'd)."""
    through_services = dict(
        ALLOW_USE_OF_THE_KEY,
        Condition={
            "StringEquals": {"kms:ViaService": ["kinesis.us-west-2.amazonaws.com", "sqs.us-west-2.amazonaws.com"]}
        },
    )
    policy = key_policy(through_services)
    for service, allowed in [("sqs", True), ("kinesis", True), ("s3", False)]:
        context = {"kms:ViaService": f"{service}.us-west-2.amazonaws.com"}
        assert decide(ENCRYPTION_APP, "kms:Decrypt", KEY, context, key_policy=policy).allowed is allowed, service
    assert not decide(ENCRYPTION_APP, "kms:Decrypt", KEY, key_policy=policy).allowed


def test_evaluate_allows_the_logs_service_for_its_own_log_groups_by_encryption_context():
    log_group = f"arn:aws:logs:us-west-2:{ACCOUNT}:log-group:/aws/lambda/acme"
    statement = {
        "Effect": "Allow",
        "Principal": {"Service": "logs.us-west-2.amazonaws.com"},
        "Action": ["kms:Encrypt*", "kms:Decrypt*", "kms:GenerateDataKey*"],
        "Resource": "*",
        "Condition": {"ArnEquals": {"kms:EncryptionContext:aws:logs:arn": log_group}},
    }
    policy = key_policy(statement)
    own = {"kms:EncryptionContext:aws:logs:arn": log_group}
    other = {"kms:EncryptionContext:aws:logs:arn": f"{log_group}-other"}
    assert decide(LOGS, "kms:GenerateDataKey", KEY, own, key_policy=policy).allowed
    assert not decide(LOGS, "kms:GenerateDataKey", KEY, other, key_policy=policy).allowed


# --- matching: Action, Resource, Principal -----------------------------------------------------------------


def test_evaluate_matches_actions_case_insensitively_and_resources_case_sensitively():
    """https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_action.html: "iam:
    ListAccessKeys is the same as IAM:listaccesskeys"; reference_policies_elements_resource.html: "In the
    Resource element, the IAM user name is case sensitive"."""
    bob = f"arn:aws:iam::{ACCOUNT}:user/Bob"
    policy = identity(allow("IAM:listaccesskeys", bob))
    assert decide(ALICE, "iam:ListAccessKeys", bob, ids=[policy]).allowed
    assert not decide(ALICE, "iam:ListAccessKeys", bob.replace("Bob", "bob"), ids=[policy]).allowed


@pytest.mark.parametrize(
    ("key", "allowed"),
    [
        ("1/test/object.jpg", True),
        ("1/2/test/object.jpg", True),
        ("1/2/3/test/4/object.jpg", True),
        ("1///test///object.jpg", True),
        ("//test/object.jpg", True),
        ("1/test/", True),
        ("1-test/object.jpg", False),
        ("test/object.jpg", False),
        ("1/2/test.jpg", False),
    ],
)
def test_evaluate_expands_resource_wildcards_across_slashes_as_documented(key, allowed):
    """https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_resource.html, "Using
    wildcards in resource ARNs": the objects DOC-EXAMPLE-BUCKET/*/test/* does and does not match."""
    policy = identity(allow("s3:GetObject", "arn:aws:s3:::DOC-EXAMPLE-BUCKET/*/test/*"))
    assert decide(ALICE, "s3:GetObject", f"arn:aws:s3:::DOC-EXAMPLE-BUCKET/{key}", ids=[policy]).allowed is allowed


def test_evaluate_lets_a_trailing_resource_wildcard_cross_colons_but_not_a_middle_one():
    """https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_resource.html: a `*` that is the
    last character of a segment "can expand to match beyond the colon boundaries"; elsewhere it stays within its
    segment."""
    group = f"arn:aws:logs:us-west-2:{ACCOUNT}:log-group:acme"
    trailing = identity(allow("logs:PutLogEvents", f"{group}:*"))
    middle = identity(allow("logs:PutLogEvents", f"arn:aws:logs:us-west-2:{ACCOUNT}:log-group:a*e"))
    assert decide(ALICE, "logs:PutLogEvents", f"{group}:log-stream:2024/01/01", ids=[trailing]).allowed
    assert decide(ALICE, "logs:PutLogEvents", group, ids=[middle]).allowed
    assert not decide(ALICE, "logs:PutLogEvents", f"{group}:log-stream:e", ids=[middle]).allowed


def test_evaluate_denies_every_principal_but_the_one_named_in_not_principal():
    """https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_notprincipal.html:
    NotPrincipal with Deny, naming the user and the user's account."""
    bucket = LabelledPolicy(
        "bucket",
        document(
            deny("s3:*", "arn:aws:s3:::BUCKETNAME/*", NotPrincipal={"AWS": [ALICE, f"arn:aws:iam::{ACCOUNT}:root"]}),
            allow("s3:GetObject", "arn:aws:s3:::BUCKETNAME/*", Principal="*"),
        ),
    )
    assert decide(ALICE, "s3:GetObject", "arn:aws:s3:::BUCKETNAME/a", resource_policy=bucket).allowed
    assert not decide(ENCRYPTION_APP, "s3:GetObject", "arn:aws:s3:::BUCKETNAME/a", resource_policy=bucket).allowed


def test_evaluate_allows_the_root_user_everything_but_explicit_denies_and_keys_it_is_not_named_for():
    """https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_evaluation-logic.html: "all requests
    are implicitly denied with the exception of the AWS account root user, which has full access";
    https://docs.aws.amazon.com/kms/latest/developerguide/key-policies.html: "No AWS principal, including the
    account root user ... has any permissions to a KMS key unless they are explicitly allowed"."""
    queue_policy = LabelledPolicy("queue", document(deny("sqs:DeleteQueue", QUEUE, Principal="*")))
    assert decide(ROOT, "sqs:SendMessage", QUEUE, resource_policy=queue_policy).allowed
    assert not decide(ROOT, "sqs:DeleteQueue", QUEUE, resource_policy=queue_policy).allowed
    assert not decide(ROOT, "kms:Decrypt", KEY, key_policy=key_policy(ALLOW_USE_OF_THE_KEY)).allowed
    assert decide(ROOT, "kms:Decrypt", KEY, key_policy=key_policy(ENABLE_IAM_POLICIES)).allowed


def test_evaluate_adds_principal_arn_and_account_to_the_context():
    """aws:PrincipalArn and aws:PrincipalAccount are in every signed request's context
    (https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_condition-keys.html)."""
    policy = identity(
        allow(
            "sqs:SendMessage",
            QUEUE,
            Condition={
                "ArnLike": {"aws:PrincipalArn": f"arn:aws:iam::{ACCOUNT}:role/Encryption*"},
                "StringEquals": {"aws:PrincipalAccount": ACCOUNT},
            },
        )
    )
    assert decide(ENCRYPTION_APP, "sqs:SendMessage", QUEUE, ids=[policy]).allowed
    assert not decide(ALICE, "sqs:SendMessage", QUEUE, ids=[policy]).allowed


# --- conditions: "Condition operators", "Conditions with multiple context keys or values" ------------------


def queue_send(condition: dict) -> LabelledPolicy:
    return identity(allow("sqs:SendMessage", QUEUE, Condition=condition))


def sends(condition: dict, context: dict) -> bool:
    return decide(ENCRYPTION_APP, "sqs:SendMessage", QUEUE, context, ids=[queue_send(condition)]).allowed


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


# --- what the evaluator refuses to judge ------------------------------------------------------------------


@pytest.mark.parametrize(
    "statement",
    [
        allow("sqs:SendMessage", QUEUE, Condition={"DateLessThan": {"aws:CurrentTime": "2030-01-01T00:00:00Z"}}),
        allow("sqs:SendMessage", QUEUE, Condition={"IpAddress": {"aws:SourceIp": "203.0.113.0/24"}}),
        allow("sqs:SendMessage", QUEUE, Condition={"NullIfExists": {"aws:SourceArn": "true"}}),
        allow("sqs:SendMessage", QUEUE, Condition={"ForSomeValues:StringEquals": {"aws:SourceArn": "x"}}),
        allow("sqs:SendMessage", QUEUE, Condition={"Bool": {"aws:SecureTransport": "yes"}}),
        allow("sqs:SendMessage", "arn:aws:sqs:us-west-2:${aws:PrincipalAccount}:failures"),
        {"Effect": "Allow", "Action": "sqs:SendMessage", "Resource": QUEUE, "Principal": {"AWS": ALICE}},
        {"Effect": "Allow", "Action": "sqs:SendMessage"},
        {"Effect": "Allow", "Action": "sqs:SendMessage", "Resource": QUEUE, "NotAction": "sqs:Delete*"},
        dict(allow("sqs:SendMessage", QUEUE), Unknown=True),
    ],
)
def test_evaluate_raises_unsupported_policy_for_anything_outside_the_grammar(statement):
    with pytest.raises(UnsupportedPolicy):
        decide(ENCRYPTION_APP, "sqs:SendMessage", QUEUE, ids=[identity(statement)])


@pytest.mark.parametrize(
    "principal",
    [
        {"Federated": "cognito-identity.amazonaws.com"},
        {"AWS": f"arn:aws:iam::{ACCOUNT}:role/*"},
    ],
)
def test_evaluate_raises_unsupported_policy_for_principals_outside_the_grammar(principal):
    queue_policy = LabelledPolicy("queue", document(allow("sqs:SendMessage", QUEUE, Principal=principal)))
    with pytest.raises(UnsupportedPolicy):
        decide(ENCRYPTION_APP, "sqs:SendMessage", QUEUE, resource_policy=queue_policy)


def test_evaluate_raises_unsupported_policy_for_not_principal_naming_a_role_without_its_account():
    """https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_notprincipal.html: without the
    account, AWS "might deny access to the entire account containing the principal"."""
    queue_policy = LabelledPolicy("queue", document(deny("sqs:*", QUEUE, NotPrincipal={"AWS": ENCRYPTION_APP})))
    with pytest.raises(UnsupportedPolicy):
        decide(ENCRYPTION_APP, "sqs:SendMessage", QUEUE, resource_policy=queue_policy)


def test_evaluate_raises_unsupported_policy_for_a_multivalued_key_without_a_set_operator():
    with pytest.raises(UnsupportedPolicy):
        sends({"StringEquals": {"aws:TagKeys": "team"}}, {"aws:TagKeys": ["team", "cost"]})


# --- grants -----------------------------------------------------------------------------------------------


def test_grants_lists_every_action_resource_pair_of_allow_statements_only():
    policy = document(
        {"Sid": "Send", "Effect": "Allow", "Action": ["sqs:SendMessage", "sqs:GetQueueAttributes"], "Resource": QUEUE},
        deny("sqs:*", QUEUE),
        {
            "Sid": "Trust",
            "Effect": "Allow",
            "Principal": {"Service": "lambda.amazonaws.com"},
            "Action": "sts:AssumeRole",
        },
    )
    listed = [(grant.ref, grant.action, grant.resource) for grant in grants(policy, "processor")]
    assert listed == [
        (StatementRef("processor", "Send", 0), "sqs:SendMessage", QUEUE),
        (StatementRef("processor", "Send", 0), "sqs:GetQueueAttributes", QUEUE),
        (StatementRef("processor", "Trust", 2), "sts:AssumeRole", "*"),
    ]


def test_grant_matches_only_requests_of_its_action_resource_principal_and_conditions():
    statement = dict(
        ALLOW_USE_OF_THE_KEY, Condition={"StringEquals": {"kms:ViaService": "sqs.us-west-2.amazonaws.com"}}
    )
    decrypt = next(grant for grant in grants(document(statement), "key") if grant.action == "kms:Decrypt")
    via_sqs = {"kms:ViaService": "sqs.us-west-2.amazonaws.com"}
    assert grant_matches(decrypt, Request(ENCRYPTION_APP, "kms:Decrypt", KEY, via_sqs))
    assert not grant_matches(decrypt, Request(ENCRYPTION_APP, "kms:Encrypt", KEY, via_sqs))
    assert not grant_matches(decrypt, Request(ALICE, "kms:Decrypt", KEY, via_sqs))
    assert not grant_matches(decrypt, Request(ENCRYPTION_APP, "kms:Decrypt", KEY, {}))


def test_grants_raises_unsupported_policy_for_not_action():
    with pytest.raises(UnsupportedPolicy):
        grants(document({"Effect": "Allow", "NotAction": "iam:*", "Resource": "*"}))


# --- properties -------------------------------------------------------------------------------------------

PRINCIPALS = [ENCRYPTION_APP, ALICE, ROOT, LOGS]
ACTIONS = ["kms:Decrypt", "kms:GenerateDataKey", "sqs:SendMessage", "sqs:GetQueueAttributes"]
RESOURCES = [KEY, QUEUE]
CONDITIONS = [
    {},
    {"Bool": {"aws:SecureTransport": "false"}},
    {"StringEquals": {"aws:SourceAccount": ACCOUNT}},
    {"StringNotEquals": {"kms:ViaService": "sqs.us-west-2.amazonaws.com"}},
    {"ArnLike": {"aws:PrincipalArn": f"arn:aws:iam::{ACCOUNT}:role/*"}},
    {"ForAnyValue:StringLike": {"aws:TagKeys": "team*"}},
    {"Null": {"aws:SourceAccount": "true"}},
]
contexts = st.fixed_dictionaries(
    {},
    optional={
        "aws:SecureTransport": st.sampled_from(["true", "false"]),
        "aws:SourceAccount": st.sampled_from([ACCOUNT, "444455556666"]),
        "kms:ViaService": st.sampled_from(["sqs.us-west-2.amazonaws.com", "kinesis.us-west-2.amazonaws.com"]),
        "aws:TagKeys": st.lists(st.sampled_from(["team", "cost"]), max_size=2),
    },
)
requests = st.builds(
    Request, st.sampled_from(PRINCIPALS), st.sampled_from(ACTIONS), st.sampled_from(RESOURCES), contexts
)
statement_bodies = st.fixed_dictionaries(
    {
        "Effect": st.sampled_from(["Allow", "Deny"]),
        "Action": st.lists(st.sampled_from([*ACTIONS, "*", "kms:*", "sqs:Send*", "KMS:generate?ataKey"]), min_size=1),
        "Resource": st.sampled_from(["*", KEY, QUEUE, f"arn:aws:sqs:*:{ACCOUNT}:*", f"{KEY[:-4]}*"]),
        "Condition": st.sampled_from(CONDITIONS),
    }
)
principal_elements = st.sampled_from(
    ["*", {"AWS": ENCRYPTION_APP}, {"AWS": ACCOUNT}, {"AWS": ROOT}, {"Service": LOGS.removeprefix("service:")}]
)
resource_statements = st.builds(
    lambda body, principal: {**body, "Principal": principal}, statement_bodies, principal_elements
)


@st.composite
def policy_sets(draw) -> PolicySet:
    ids = [
        LabelledPolicy(f"identity-{n}", document(*draw(st.lists(statement_bodies, max_size=3))))
        for n in range(draw(st.integers(0, 2)))
    ]
    key = draw(st.none() | st.lists(resource_statements, max_size=3).map(lambda s: LabelledPolicy("key", document(*s))))
    queue = draw(
        st.none() | st.lists(resource_statements, max_size=3).map(lambda s: LabelledPolicy("queue", document(*s)))
    )
    return PolicySet(ids, queue, key)


def with_statement(policy: LabelledPolicy | None, label: str, statement: dict) -> tuple[LabelledPolicy, StatementRef]:
    statements = list(policy.document["Statement"]) if policy else []
    return LabelledPolicy(label, document(*statements, statement)), StatementRef(label, None, len(statements))


@given(request=requests, policies=policy_sets(), in_identity=st.booleans())
def test_evaluate_denies_any_request_once_a_matching_deny_is_added(request, policies, in_identity):
    """Whatever else the policies say, an explicit Deny that matches the request denies it."""
    matching = deny(request.action, request.resource)
    if in_identity and not request.principal.startswith("service:"):
        added, ref = with_statement(None, "added", matching)
        policies = PolicySet([*policies.identity, added], policies.resource, policies.key_policy)
    elif request.action.startswith("kms:") and policies.key_policy:
        added, ref = with_statement(policies.key_policy, "key", {**matching, "Principal": "*"})
        policies = PolicySet(policies.identity, policies.resource, added)
    else:
        added, ref = with_statement(policies.resource, "queue", {**matching, "Principal": "*"})
        policies = PolicySet(policies.identity, added, policies.key_policy)
    decision = evaluate(request, policies)
    assert not decision.allowed
    assert ref in decision.denied_by


@given(request=requests, policies=policy_sets())
def test_evaluate_denies_any_request_once_every_allow_is_removed(request, policies):
    """Nothing is allowed without an Allow statement, save what the root user may do outside KMS keys."""
    assume(request.principal != ROOT or (request.action.startswith("kms:") and policies.key_policy))

    def denies_only(policy: LabelledPolicy | None) -> LabelledPolicy | None:
        if policy is None:
            return None
        kept = [statement for statement in policy.document["Statement"] if statement["Effect"] == "Deny"]
        return LabelledPolicy(policy.label, document(*kept))

    stripped = PolicySet(
        [denies_only(p) for p in policies.identity], denies_only(policies.resource), denies_only(policies.key_policy)
    )
    assert not evaluate(request, stripped).allowed
