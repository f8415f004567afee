"""A payload's fields as DynamoDB attribute values, written directly from the parsed JSON.

boto3's ``TypeSerializer`` asks every value whether it is each of ten Python types in turn, through a method
call per question; a parsed JSON value can only be one of seven, known by its exact type (``json.loads`` builds no
subclasses), most often a string. So the type is compared in the order values are common, and strings inside a map
or list are written without a call. The output is TypeSerializer's, value for value (a property test holds the two
equal over JSON values), and nothing of boto3 is imported.

Numbers go through a decimal context equal to boto3's ``DYNAMODB_CONTEXT`` (a test holds them equal), built for
DynamoDB's numbers: "up to 38 digits of precision", from 1E-130 to 9.9999999999999999999999999999999999999E+125
(https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/HowItWorks.NamingRulesDataTypes.html, "Number").
A number the context would have to round, or cannot hold, raises its ``decimal`` signal (``Rounded``, ``Inexact``,
``Overflow``, ``Underflow``, ``Clamped``), whose name the record's failure reports.
"""

from __future__ import annotations

from decimal import Clamped, Context, Decimal, Inexact, Overflow, Rounded, Underflow
from typing import Any

from runtime.exceptions import ValueInvalidError

# "Nested attribute depth: DynamoDB supports nested attributes up to 32 levels deep"
# (https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/ServiceQuotas.html#limits-attributes).
# Counted the stricter way: a top-level attribute is level 1, each map or list around a value one more.
MAX_NESTING_LEVELS = 32
NUMBER_CONTEXT = Context(Emin=-128, Emax=126, prec=38, traps=[Clamped, Overflow, Inexact, Rounded, Underflow])
# Integers strictly inside this bound have at most 38 digits: the context keeps them as they are.
_EXACT_INTEGERS = 10**38


class _TooDeep(Exception):
    """Raised inside ``attribute_value`` when a value sits deeper than MAX_NESTING_LEVELS."""


def payload_attribute_values(payload: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """Every top-level field of a parsed JSON object as an attribute value.

    Raises ValueInvalidError naming the field: a field nesting deeper than DynamoDB's limit is reported first
    (the first such field), else the first field holding a value DynamoDB cannot store."""
    attributes: dict[str, dict[str, Any]] = {}
    for name, value in payload.items():
        try:
            attributes[name] = attribute_value(value)
        except _TooDeep:
            raise _nesting_error(name) from None
        except (ArithmeticError, TypeError) as exc:  # a decimal signal, or a value of no JSON type
            too_deep = next((field for field, v in payload.items() if nesting_levels(v) > MAX_NESTING_LEVELS), None)
            if too_deep is not None:
                raise _nesting_error(too_deep) from None
            raise ValueInvalidError(f"field {name!r} cannot be stored in DynamoDB ({type(exc).__name__})") from None
    return attributes


def attribute_value(value: Any, level: int = 1) -> dict[str, Any]:
    """One JSON value (str, int, Decimal, bool, None, list, dict) at nesting ``level`` as an attribute value."""
    kind = type(value)
    if kind is str:
        return {"S": value}
    if kind is dict:
        return {"M": _map(value, level)}
    if kind is list:
        return {"L": _list(value, level)}
    if kind is int or kind is Decimal:
        return {"N": number_text(value)}
    if kind is bool:
        return {"BOOL": value}
    if value is None:
        return {"NULL": True}
    raise TypeError(f"{kind.__name__} is not a JSON value")  # a float: numbers are parsed as Decimal


def nesting_levels(value: Any, limit: int = MAX_NESTING_LEVELS) -> int:
    """The levels ``value`` spans as a top-level attribute (a scalar is 1, a map or list one more than its
    deepest element), counted no further than ``limit + 1``, so the recursion stays shallow."""
    if limit <= 0 or not isinstance(value, dict | list):
        return 1
    elements = value.values() if isinstance(value, dict) else value
    return 1 + max((nesting_levels(element, limit - 1) for element in elements), default=0)


def number_text(value: int | Decimal) -> str:
    """A number as DynamoDB's N string, exactly as boto3 writes it."""
    if type(value) is int and -_EXACT_INTEGERS < value < _EXACT_INTEGERS:
        return str(value)
    text = str(NUMBER_CONTEXT.create_decimal(value))
    if text in ("Infinity", "NaN"):  # boto3's refusal: a Decimal that is no DynamoDB number
        raise TypeError("Infinity and NaN not supported")
    return text


def _nesting_error(name: str) -> ValueInvalidError:
    return ValueInvalidError(f"field {name!r} nests deeper than DynamoDB's {MAX_NESTING_LEVELS} levels")


def _map(value: dict[str, Any], level: int) -> dict[str, Any]:
    if value and level >= MAX_NESTING_LEVELS:
        raise _TooDeep
    inner = level + 1
    return {
        key: {"S": element} if type(element) is str else attribute_value(element, inner)
        for key, element in value.items()
    }


def _list(value: list[Any], level: int) -> list[Any]:
    if value and level >= MAX_NESTING_LEVELS:
        raise _TooDeep
    inner = level + 1
    return [{"S": element} if type(element) is str else attribute_value(element, inner) for element in value]
