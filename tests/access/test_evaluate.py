"""The evaluator decides as AWS's own worked examples say it does, and refuses what it cannot judge exactly.

The policies here are AWS's examples, copied from the pages each test cites, so a failure means the evaluator
and AWS's documentation disagree, not that two of our own helpers do.
"""

from __future__ import annotations

import pytest
from iam_examples import ACCOUNT, ALICE, ENCRYPTION_APP, LOGS, QUEUE, allow, decide, deny, document, identity, sends

from access.policy_types import LabelledPolicy, StatementRef, UnsupportedPolicy

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
