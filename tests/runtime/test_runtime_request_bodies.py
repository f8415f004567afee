"""runtime/request_bodies.py: the BatchWriteItem request the handler's client sends is the request botocore's own
serializer would have sent, for any items the handler builds; only how its body was written differs.

Requests are caught as they would leave (botocore's ``before-send`` event) and answered there, so nothing is sent.
"""

from __future__ import annotations

import copy
import json
from decimal import Decimal
from typing import Any

import boto3
import pytest
from botocore.awsrequest import AWSResponse
from botocore.config import Config
from hypothesis import given
from hypothesis import strategies as st

from runtime.attribute_values import payload_attribute_values
from runtime.request_bodies import write_batch_bodies_directly

TABLES = st.sampled_from(["acme-table", "sensors-prod-events"])
json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.text()
    | st.integers(-(10**30), 10**30)
    | st.decimals(allow_nan=False, allow_infinity=False, places=6),
    lambda children: st.lists(children, max_size=3) | st.dictionaries(st.text(max_size=4), children, max_size=3),
    max_leaves=8,
)
items = st.dictionaries(st.text(min_size=1, max_size=6), json_values, min_size=1, max_size=5).map(
    lambda payload: {"pk": {"S": "p"}, "sk": {"S": "s"}, **payload_attribute_values(payload)}
)


class Sent:
    """Catches every request a client would send and answers it with an empty success."""

    def __init__(self) -> None:
        self.requests: list[Any] = []

    def __call__(self, request: Any, **_: Any) -> AWSResponse:
        self.requests.append(request)
        return AWSResponse(request.url, 200, {}, _Raw(b'{"UnprocessedItems":{}}'))


class _Raw:
    def __init__(self, content: bytes) -> None:
        self.content = content

    def stream(self, **_: Any) -> Any:
        yield self.content


def client(direct: bool) -> tuple[Any, Sent]:
    made = boto3.session.Session(region_name="us-east-1", aws_access_key_id="a", aws_secret_access_key="b").client(
        "dynamodb", config=Config(parameter_validation=False)
    )
    if direct:
        write_batch_bodies_directly(made)
    sent = Sent()
    made.meta.events.register("before-send.dynamodb", sent)
    return made, sent


@pytest.fixture(scope="module")
def clients() -> dict[bool, tuple[Any, Sent]]:
    """Built once: a client takes a while to build, and each example only adds to what it caught."""
    return {True: client(direct=True), False: client(direct=False)}


def body(request: Any) -> Any:
    return json.loads(request.body, parse_float=Decimal)


@given(TABLES, st.lists(items, min_size=1, max_size=25))
def test_request_bodies_batch_write_is_botocores_request(clients, table, batch):
    request_items = {table: [{"PutRequest": {"Item": item}} for item in batch]}
    kept = copy.deepcopy(request_items)
    (ours, our_sent), (botocores, their_sent) = clients[True], clients[False]
    ours.batch_write_item(RequestItems=request_items)
    botocores.batch_write_item(RequestItems=request_items)
    mine, theirs = our_sent.requests[-1], their_sent.requests[-1]
    assert body(mine) == body(theirs) == {"RequestItems": kept}
    # written by json.dumps, compact (botocore's own serializer leaves a space after every separator)
    assert mine.body == json.dumps({"RequestItems": kept}, separators=(",", ":")).encode()
    assert (mine.url, mine.method) == (theirs.url, theirs.method)
    assert [mine.headers[h] for h in ("X-Amz-Target", "Content-Type")] == [
        theirs.headers[h] for h in ("X-Amz-Target", "Content-Type")
    ]
    assert int(mine.headers["Content-Length"]) == len(mine.body)
    assert request_items == kept  # the caller's items are sent, never changed


def test_request_bodies_request_with_other_parameters_is_left_to_botocore(clients):
    ours, sent = clients[True]
    item = {"pk": {"S": "p"}, "sk": {"S": "s"}}
    ours.batch_write_item(RequestItems={"acme-table": [{"PutRequest": {"Item": item}}]}, ReturnConsumedCapacity="TOTAL")
    assert body(sent.requests[-1]) == {
        "RequestItems": {"acme-table": [{"PutRequest": {"Item": item}}]},
        "ReturnConsumedCapacity": "TOTAL",
    }


def test_request_bodies_other_operations_are_left_to_botocore(clients):
    ours, sent = clients[True]
    item = {"pk": {"S": "p"}, "sk": {"S": "s"}, "n": {"N": "1.50"}}
    ours.put_item(TableName="acme-table", Item=item)
    assert body(sent.requests[-1]) == {"TableName": "acme-table", "Item": item}
