"""What an Allow statement grants, whether a request uses a grant, and two properties of every decision: a matching
Deny always denies, and nothing is allowed without an Allow."""

from __future__ import annotations

import pytest
from hypothesis import assume, given
from hypothesis import strategies as st
from iam_examples import (
    ACCOUNT,
    ALICE,
    ALLOW_USE_OF_THE_KEY,
    ENCRYPTION_APP,
    KEY,
    LOGS,
    QUEUE,
    ROOT,
    deny,
    document,
)

from access.evaluate import evaluate, grant_matches, grants
from access.policy_types import LabelledPolicy, PolicySet, Request, StatementRef, UnsupportedPolicy

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
