"""BatchWriteItem's body written by ``json.dumps``, not by botocore's serializer.

botocore serializes a request by walking its parameters against the service model, one shape at a time: for the
attribute values of 25 items that walk cost more CPU than everything else a write does (about two thirds of each
BatchWriteItem call, ahead of signing, sending and reading the answer). The writers already build every item in
DynamoDB's JSON wire format (runtime/attribute_values.py: S, N, BOOL, NULL, L and M, no binary), so the body is
those parameters as JSON, which ``json.dumps`` writes in C. A test holds the body equal to botocore's own.

Done through botocore's event system (https://docs.aws.amazon.com/botocore/latest/topics/events.html), so every
other step of the call is botocore's: ``before-parameter-build`` sets the items aside and leaves each table with
an empty list (the endpoint rules still read the table names from the request's keys), botocore serializes that
small request, and ``before-call``, which receives the serialized request before it is signed, puts the items'
JSON in its body. A request with any parameter besides ``RequestItems`` is left to botocore whole.
"""

from __future__ import annotations

import json
from typing import Any

OPERATION = "BatchWriteItem"
_SET_ASIDE = "tributary.request_items"  # the key, in botocore's per-call context, of the items set aside
# Compact, and without the check for reference cycles (a quarter of the encoding's time): the items are built
# from parsed JSON, which holds none.
_ENCODER = json.JSONEncoder(separators=(",", ":"), check_circular=False)


def write_batch_bodies_directly(client: Any) -> None:
    """Register the two handlers on one DynamoDB client (its own event system: no other client is touched)."""
    events = client.meta.events
    service = client.meta.service_model.service_id.hyphenize()
    events.register(f"before-parameter-build.{service}.{OPERATION}", _set_items_aside, unique_id=_SET_ASIDE)
    events.register(f"before-call.{service}.{OPERATION}", _write_body, unique_id=f"{_SET_ASIDE}.body")


def _set_items_aside(params: dict[str, Any], context: dict[str, Any], **_: Any) -> None:
    items = params.get("RequestItems")
    if params.keys() != {"RequestItems"} or not isinstance(items, dict):
        return
    context[_SET_ASIDE] = items
    params["RequestItems"] = {table: [] for table in items}


def _write_body(params: dict[str, Any], context: dict[str, Any], **_: Any) -> None:
    items = context.pop(_SET_ASIDE, None)
    if items is not None:
        params["body"] = _ENCODER.encode({"RequestItems": items}).encode("utf-8")
