"""The emulator's TransactWriteItems keeps DynamoDB's all-or-nothing outcome while copying only the items a
transaction touches (sandbox/engines/moto_transactions.py)."""

from __future__ import annotations

from contextlib import contextmanager

import boto3
import pytest
from botocore.exceptions import ClientError
from hypothesis import given, settings
from hypothesis import strategies as st
from moto import mock_aws

from sandbox.engines import moto_transactions

TABLE = "acme-table"


@contextmanager
def _table_in_moto():
    """A table keyed like the handler's (pk, sk) in moto, with the touched-items backup installed."""
    moto_transactions.install()
    with mock_aws():
        client = boto3.client("dynamodb", region_name="us-east-1")
        client.create_table(
            TableName=TABLE,
            KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}, {"AttributeName": "sk", "KeyType": "RANGE"}],
            AttributeDefinitions=[
                {"AttributeName": "pk", "AttributeType": "S"},
                {"AttributeName": "sk", "AttributeType": "S"},
            ],
            BillingMode="PAY_PER_REQUEST",
        )
        yield client


@pytest.fixture
def dynamodb():
    with _table_in_moto() as client:
        yield client


def _key(name: str) -> dict:
    return {"pk": {"S": name}, "sk": {"S": "#"}}


def _table(client) -> dict[str, dict]:
    return {item["pk"]["S"]: item for item in client.scan(TableName=TABLE)["Items"]}


def _put(name: str, value: int) -> dict:
    return {"Put": {"TableName": TABLE, "Item": {**_key(name), "n": {"N": str(value)}}}}


def _add(name: str, delta: int) -> dict:
    return {
        "Update": {
            "TableName": TABLE,
            "Key": _key(name),
            "UpdateExpression": "ADD n :d",
            "ExpressionAttributeValues": {":d": {"N": str(delta)}},
        }
    }


def _marker(name: str) -> dict:
    return {
        "Put": {
            "TableName": TABLE,
            "Item": _key(name),
            "ConditionExpression": "attribute_not_exists(pk)",
        }
    }


def test_a_cancelled_transaction_leaves_every_touched_item_as_it_was(dynamodb):
    dynamodb.put_item(TableName=TABLE, Item={**_key("kept"), "n": {"N": "1"}})
    dynamodb.put_item(TableName=TABLE, Item=_key("gone"))
    dynamodb.put_item(TableName=TABLE, Item=_key("seen"))
    before = _table(dynamodb)
    delete = {"Delete": {"TableName": TABLE, "Key": _key("gone")}}
    with pytest.raises(ClientError, match="TransactionCanceledException"):
        dynamodb.transact_write_items(TransactItems=[_add("kept", 5), _put("new", 3), delete, _marker("seen")])
    assert _table(dynamodb) == before


def test_a_committed_transaction_writes_every_item_and_the_table_object_stays_the_same(dynamodb):
    from moto.dynamodb.models import dynamodb_backends

    table = dynamodb_backends["123456789012"]["us-east-1"].tables[TABLE]
    dynamodb.transact_write_items(TransactItems=[_add("a", 2), _put("b", 7), _marker("m")])
    assert {name: item.get("n", {}).get("N") for name, item in _table(dynamodb).items()} == {
        "a": "2",
        "b": "7",
        "m": None,
    }
    assert dynamodb_backends["123456789012"]["us-east-1"].tables[TABLE] is table


@settings(max_examples=25, deadline=None)
@given(
    existing=st.sets(st.sampled_from("abcdef"), max_size=6),
    markers=st.lists(st.sampled_from("abcdef"), min_size=1, max_size=4, unique=True),
    deltas=st.dictionaries(st.sampled_from("uvwxyz"), st.integers(-5, 5), max_size=4),
)
def test_outcome_is_all_or_nothing(existing, markers, deltas):
    """Each marker is a conditional put: the transaction commits when no marker exists yet, and otherwise changes
    nothing at all."""
    with _table_in_moto() as client:
        for name in existing:
            client.put_item(TableName=TABLE, Item=_key(name))
        client.put_item(TableName=TABLE, Item={**_key("u"), "n": {"N": "10"}})
        before = _table(client)
        items = [_marker(name) for name in markers] + [_add(name, delta) for name, delta in deltas.items()]
        try:
            client.transact_write_items(TransactItems=items)
            committed = True
        except ClientError as error:
            assert error.response["Error"]["Code"] == "TransactionCanceledException"
            committed = False
        after = _table(client)
    assert committed == (not existing & set(markers))
    if not committed:
        assert after == before
    else:
        expected_names = set(before) | set(markers) | set(deltas)
        assert set(after) == expected_names
        for name, delta in deltas.items():
            start = int(before.get(name, {}).get("n", {}).get("N", 0))
            assert int(after[name]["n"]["N"]) == start + delta
