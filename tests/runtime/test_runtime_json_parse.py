"""A payload is parsed once (runtime/records.py's ``parse_json``): the schema validator gets a float copy of the
Decimal parse, which must be exactly what parsing the text with floats gives, as it was given before."""

from __future__ import annotations

import dataclasses
import json
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st
from runtime_helpers import config

from runtime import records
from runtime.exceptions import SchemaInvalidError, UndecodableRecordError
from runtime.records import float_copy, parse_json

# JSON number text as producers write it, including more digits or larger exponents than a float holds.
number_texts = st.one_of(
    st.integers(min_value=-(10**45), max_value=10**45).map(str),
    st.floats(allow_nan=False, allow_infinity=False).map(repr),
    st.decimals(allow_nan=False, allow_infinity=False).map(str).filter(lambda t: t[:1] in "-0123456789"),
    st.builds(lambda digits, exponent: f"{digits}e{exponent}", st.integers(-(10**40), 10**40), st.integers(-400, 400)),
)
scalar_texts = st.one_of(number_texts, st.text(max_size=5).map(json.dumps), st.sampled_from(["true", "false", "null"]))
json_texts = st.recursive(
    scalar_texts,
    lambda children: st.one_of(
        st.lists(children, max_size=4).map(lambda items: "[" + ",".join(items) + "]"),
        st.lists(st.tuples(st.text(max_size=4).map(json.dumps), children), max_size=4).map(
            lambda pairs: "{" + ",".join(f"{key}:{value}" for key, value in pairs) + "}"
        ),
    ),
    max_leaves=10,
)


@given(json_texts)
def test_parse_float_copy_of_the_decimal_parse_is_the_float_parse(text):
    parsed = json.loads(text, parse_float=Decimal)
    floats = float_copy(parsed)
    expected = json.loads(text)
    assert repr(floats) == repr(expected)  # repr tells 1 from 1.0 and 0.0 from -0.0, which == does not
    assert json.dumps(parsed, default=str) == json.dumps(json.loads(text, parse_float=Decimal), default=str)


@given(json_texts.map(lambda value: '{"v":' + value + "}"))
def test_parse_schema_sees_the_float_parse(text):
    """A validator that records what it is given receives the float parse; the stored value keeps its digits."""
    seen = []
    cfg = dataclasses.replace(config(schema={"type": "object"}), validator=seen.append)
    parsed = parse_json(text.encode(), cfg)
    assert repr(seen) == repr([json.loads(text)])
    assert repr(parsed) == repr(json.loads(text, parse_float=Decimal))


def test_parse_integral_float_is_an_integer_for_the_schema_and_stays_exact():
    cfg = config(schema={"type": "object", "properties": {"n": {"type": "integer"}, "x": {"maximum": 1}}})
    parsed = parse_json(b'{"n": 1.0, "x": 1.00000000000000000001}', cfg)  # the float parse rounds x to 1
    assert parsed == {"n": Decimal("1.0"), "x": Decimal("1.00000000000000000001")}
    with pytest.raises(SchemaInvalidError):
        parse_json(b'{"n": 1.5}', cfg)


def test_parse_byte_order_mark_is_refused_as_json_loads_refuses_it():
    with pytest.raises(ValueError) as expected:
        json.loads("\ufeff{}")
    with pytest.raises(UndecodableRecordError) as refused:
        parse_json("\ufeff{}".encode(), config())
    assert refused.value.detail == f"not UTF-8 JSON ({expected.value})"


def test_parse_value_too_deep_to_walk_is_parsed_again_for_the_validator(monkeypatch):
    """Python 3.12+ lets the C parser nest deeper than a Python walk may recurse: the validator then gets a second
    parse, as it always did, rather than the record failing."""

    def too_deep(value):
        raise RecursionError("maximum recursion depth exceeded")

    monkeypatch.setattr(records, "float_copy", too_deep)
    seen = []
    cfg = dataclasses.replace(config(schema={"type": "object"}), validator=seen.append)
    parsed = parse_json(b'{"v": [[1.5]]}', cfg)
    assert repr(seen) == repr([{"v": [[1.5]]}]) and parsed == {"v": [[Decimal("1.5")]]}
