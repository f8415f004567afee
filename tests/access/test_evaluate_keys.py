"""KMS keys: a key policy must allow its caller, itself or by delegating to IAM, as AWS's examples say.

The policies here are AWS's examples, copied from the pages each test cites, so a failure means the evaluator
and AWS's documentation disagree, not that two of our own helpers do.
"""

from __future__ import annotations

import pytest
from iam_examples import (
    ACCOUNT,
    ALICE,
    ALLOW_ATTACHMENT,
    ALLOW_USE_OF_THE_KEY,
    ENABLE_IAM_POLICIES,
    ENCRYPTION_APP,
    KEY,
    LOGS,
    QUEUE,
    ROOT,
    allow,
    decide,
    deny,
    document,
    identity,
    key_policy,
)

from access.policy_types import LabelledPolicy, StatementRef

# --- KMS: "Key policies in AWS KMS", "Examining the key policy", "Troubleshooting key access" ---------------


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
