"""runtime/attribute_values.py writes what boto3's TypeSerializer writes, for every value a JSON payload can hold.

Numbers are parsed from JSON number text as the handler parses them (``json.loads`` with ``parse_float=Decimal``,
runtime/records.py's ``parse_json``): integers as int, the rest as Decimal, digit for digit. boto3's serializer is
the reference, with the nesting limit checked first, as the handler has always checked it.
"""

from __future__ import annotations

import json
from decimal import Decimal
from typing import Any

import pytest
from boto3.dynamodb.types import DYNAMODB_CONTEXT, TypeSerializer
from hypothesis import given
from hypothesis import strategies as st

from runtime.attribute_values import (
    MAX_NESTING_LEVELS,
    NUMBER_CONTEXT,
    attribute_value,
    nesting_levels,
    payload_attribute_values,
)
from runtime.exceptions import ValueInvalidError

REFERENCE = TypeSerializer()


def parsed_number(text: str) -> int | Decimal:
    return json.loads(text, parse_float=Decimal)


# JSON numbers as producers write them: integers of any size, floats as Python prints them, and decimals with more
# digits or larger exponents than a float holds (some beyond what DynamoDB stores).
number_texts = st.one_of(
    st.integers(min_value=-(10**45), max_value=10**45).map(str),
    st.floats(allow_nan=False, allow_infinity=False).map(repr),
    st.decimals(allow_nan=False, allow_infinity=False).map(str),
    st.builds(lambda digits, exponent: f"{digits}e{exponent}", st.integers(-(10**40), 10**40), st.integers(-140, 140)),
)
scalars = st.one_of(st.none(), st.booleans(), st.text(), number_texts.map(parsed_number))


def _nested(depth: int, leaf: Any, through_lists: bool) -> Any:
    for _ in range(depth):
        leaf = [leaf] if through_lists else {"x": leaf}
    return leaf


json_values = st.recursive(
    scalars,
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=5), children, max_size=4),
    max_leaves=12,
)
# Values near DynamoDB's 32 levels: a scalar or an empty container wrapped 28 to 34 times.
deep_values = st.builds(
    _nested, st.integers(28, 34), st.sampled_from([1, "x", [], {}, parsed_number("1e999")]), st.booleans()
)
payloads = st.dictionaries(st.text(max_size=8), json_values | deep_values, max_size=5)


def reference_attribute_values(payload: dict[str, Any]) -> dict[str, Any] | str:
    """What the handler wrote before: every field's nesting checked first, then boto3's serializer; an error as
    its message."""
    for name, value in payload.items():
        if nesting_levels(value) > MAX_NESTING_LEVELS:
            return f"field {name!r} nests deeper than DynamoDB's {MAX_NESTING_LEVELS} levels"
    attributes = {}
    for name, value in payload.items():
        try:
            attributes[name] = REFERENCE.serialize(value)
        except Exception as exc:
            return f"field {name!r} cannot be stored in DynamoDB ({type(exc).__name__})"
    return attributes


def ours(payload: dict[str, Any]) -> dict[str, Any] | str:
    try:
        return payload_attribute_values(payload)
    except ValueInvalidError as exc:
        return exc.detail


@given(payloads)
def test_attribute_values_equal_boto3s_serializer_for_parsed_json(payload):
    assert ours(payload) == reference_attribute_values(payload)


@given(number_texts)
def test_attribute_values_number_is_boto3s_number_or_the_same_refusal(text):
    value = parsed_number(text)
    try:
        expected: Any = REFERENCE.serialize(value)
    except Exception as exc:
        with pytest.raises(type(exc)):
            attribute_value(value)
    else:
        assert attribute_value(value) == expected


def test_attribute_values_number_context_is_boto3s():
    assert (NUMBER_CONTEXT.prec, NUMBER_CONTEXT.Emin, NUMBER_CONTEXT.Emax) == (
        DYNAMODB_CONTEXT.prec,
        DYNAMODB_CONTEXT.Emin,
        DYNAMODB_CONTEXT.Emax,
    )
    assert {s for s, on in NUMBER_CONTEXT.traps.items() if on} == {s for s, on in DYNAMODB_CONTEXT.traps.items() if on}


@pytest.mark.parametrize(
    ("payload", "detail"),
    [
        ({"a": 10**38}, "field 'a' cannot be stored in DynamoDB (Rounded)"),
        ({"a": 10**38 + 1}, "field 'a' cannot be stored in DynamoDB (Inexact)"),
        ({"a": Decimal("1e-170")}, "field 'a' cannot be stored in DynamoDB (Underflow)"),
        ({"a": Decimal("1e127")}, "field 'a' cannot be stored in DynamoDB (Overflow)"),
        ({"a": 1.5}, "field 'a' cannot be stored in DynamoDB (TypeError)"),
        # the nesting limit is reported first, whichever field comes first
        ({"a": 10**38, "b": _nested(MAX_NESTING_LEVELS, 1, True)}, "field 'b' nests deeper than DynamoDB's 32 levels"),
        (
            {"a": _nested(MAX_NESTING_LEVELS - 1, {}, False), "b": 10**38},
            "field 'b' cannot be stored in DynamoDB (Rounded)",
        ),
    ],
)
def test_attribute_values_refusal_names_the_field_and_the_reason(payload, detail):
    assert ours(payload) == detail == reference_attribute_values(payload)
