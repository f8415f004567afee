"""The principals, resources, key policy statements and small policy builders the evaluator's tests share, from
AWS's worked examples (account 111122223333, the EncryptionApp role, the user Alice)."""

from __future__ import annotations

from access.evaluate import evaluate
from access.policy_types import LabelledPolicy, PolicySet, Request

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


def queue_send(condition: dict) -> LabelledPolicy:
    return identity(allow("sqs:SendMessage", QUEUE, Condition=condition))


def sends(condition: dict, context: dict) -> bool:
    return decide(ENCRYPTION_APP, "sqs:SendMessage", QUEUE, context, ids=[queue_send(condition)]).allowed


# KMS: "Examining the key policy" (determining-access-key-policy.html)
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
