"""How a policy's patterns and conditions match a request: wildcards in actions and resources, and the condition
operators the program's policies use (IAM's CONDITION_OPERATORS page), over the request's condition keys.
"""

from __future__ import annotations

import operator
import re
from collections.abc import Callable, Mapping
from functools import cache

from access.policy_types import IAM_GUIDE, UnsupportedPolicy

CONDITION_OPERATORS = f"{IAM_GUIDE}/reference_policies_elements_condition_operators.html"
SET_OPERATORS = f"{IAM_GUIDE}/reference_policies_condition-single-vs-multi-valued-context-keys.html"


@cache
def _wildcards(pattern: str, within_segments: bool) -> re.Pattern:
    """`*` and `?` as a regex. Within ARN segments (IAM reference_policies_elements_resource.html, "Using
    wildcards in resource ARNs") they stop at `:`, except a `*` that ends a segment, which may expand
    beyond the colon."""
    parts = []
    for position, char in enumerate(pattern):
        ends_segment = position + 1 == len(pattern) or pattern[position + 1] == ":"
        if char == "*":
            parts.append("[^:]*" if within_segments and not ends_segment else ".*")
        elif char == "?":
            parts.append("[^:]" if within_segments else ".")
        else:
            parts.append(re.escape(char))
    return re.compile("".join(parts), re.DOTALL)


def action_matches(pattern: str, action: str) -> bool:
    # reference_policies_elements_action.html: "The prefix and the action name are case insensitive".
    return re.fullmatch(_wildcards(pattern.lower(), False), action.lower()) is not None


def resource_matches(pattern: str, resource: str) -> bool:
    # Case-sensitive: reference_policies_elements_resource.html ("the IAM user name is case sensitive").
    # In a key policy "*" means the key itself (kms key-policy-overview.html), which "*" matches anyway.
    return _wildcards(pattern, True).fullmatch(resource) is not None


def _string_like(value: str, pattern: str) -> bool:
    return _wildcards(pattern, False).fullmatch(value) is not None


def _arn_like(value: str, pattern: str) -> bool:
    # CONDITION_OPERATORS: "Each of the six colon-delimited components of the ARN is checked separately".
    values, patterns = value.split(":", 5), pattern.split(":", 5)
    return len(values) == len(patterns) == 6 and all(map(_string_like, values, patterns))


def _is_number(text: str) -> bool:
    return re.fullmatch(r"-?\d+(\.\d+)?", text) is not None


def _numeric(compare: Callable[[float, float], bool]) -> Callable[[str, str], bool]:
    return lambda value, pattern: _is_number(value) and compare(float(value), float(pattern))


# Operator -> (does one request value match one policy value, is the operator negated). CONDITION_OPERATORS.
OPERATORS: dict[str, tuple[Callable[[str, str], bool], bool]] = {
    "StringEquals": (operator.eq, False),
    "StringNotEquals": (operator.eq, True),
    "StringEqualsIgnoreCase": (lambda value, pattern: value.casefold() == pattern.casefold(), False),
    "StringNotEqualsIgnoreCase": (lambda value, pattern: value.casefold() == pattern.casefold(), True),
    "StringLike": (_string_like, False),
    "StringNotLike": (_string_like, True),
    # "The ArnEquals and ArnLike condition operators behave identically", as do their negations.
    "ArnEquals": (_arn_like, False),
    "ArnLike": (_arn_like, False),
    "ArnNotEquals": (_arn_like, True),
    "ArnNotLike": (_arn_like, True),
    "Bool": (lambda value, pattern: value.lower() == pattern, False),
    "NumericEquals": (_numeric(operator.eq), False),
    "NumericNotEquals": (_numeric(operator.eq), True),
    "NumericLessThan": (_numeric(operator.lt), False),
    "NumericLessThanEquals": (_numeric(operator.le), False),
    "NumericGreaterThan": (_numeric(operator.gt), False),
    "NumericGreaterThanEquals": (_numeric(operator.ge), False),
}
_LITERALS: dict[str, Callable[[str], bool]] = {
    **{name: lambda value: len(value.split(":", 5)) == 6 for name in OPERATORS if name.startswith("Arn")},
    "Bool": lambda value: value in ("true", "false"),
    "Null": lambda value: value in ("true", "false"),
    **{name: _is_number for name in OPERATORS if name.startswith("Numeric")},
}


def conditions_hold(condition: Mapping, context: Mapping) -> bool:
    """Operators AND'd, keys AND'd, values OR'd, negated operators' values NOR'd (IAM
    reference_policies_condition-logic-multiple-context-keys-or-values.html)."""
    if not isinstance(condition, Mapping):
        raise UnsupportedPolicy(f"Condition must be an object, got {condition!r}")
    return all(_operator_holds(name, block, context) for name, block in condition.items())


def _operator_holds(name: str, block, context: Mapping) -> bool:
    qualifier, _, base = name.rpartition(":")
    if_exists = base.endswith("IfExists")
    base = base.removesuffix("IfExists")
    known = base in OPERATORS or (base == "Null" and not if_exists and not qualifier)
    if qualifier not in ("", "ForAnyValue", "ForAllValues") or not known:
        raise UnsupportedPolicy(f"condition operator {name!r}")
    if not isinstance(block, Mapping) or not block:
        raise UnsupportedPolicy(f"{name} needs an object of condition keys, got {block!r}")
    return all(
        _key_holds(qualifier, base, if_exists, _policy_values(base, raw), context.get(key.casefold()))
        for key, raw in block.items()
    )


def _policy_values(base: str, raw) -> list[str]:
    listed = raw if isinstance(raw, list) else [raw]
    values = [str(value).lower() if isinstance(value, bool) else value for value in listed]
    values = [str(value) if isinstance(value, int | float) else value for value in values]
    if not values or not all(isinstance(value, str) and "${" not in value for value in values):
        raise UnsupportedPolicy(f"{base} values must be literal strings, booleans or numbers, got {raw!r}")
    if base in _LITERALS and not all(map(_LITERALS[base], values)):
        raise UnsupportedPolicy(f"{base} does not take {raw!r}")
    return values


def _key_holds(qualifier: str, base: str, if_exists: bool, values: list[str], present) -> bool:
    present = [present] if isinstance(present, str) else present or None
    if base == "Null":
        # "true (the key doesn't exist — it is null) or false (the key exists and its value is not null)".
        return any((value == "true") == (present is None) for value in values)
    matches, negated = OPERATORS[base]
    if present is None:
        # CONDITION_OPERATORS: a missing key makes a condition false, but true for negated operators and
        # ...IfExists; SET_OPERATORS: ForAllValues is true without the key, ForAnyValue false.
        return if_exists or qualifier == "ForAllValues" or (negated and not qualifier)
    if not qualifier and len(present) > 1:
        raise UnsupportedPolicy(f"{base} on a multivalued key needs ForAnyValue or ForAllValues ({SET_OPERATORS})")

    def one(value: str) -> bool:
        return any(matches(value, pattern) for pattern in values) != negated

    return all(map(one, present)) if qualifier == "ForAllValues" else any(map(one, present))
