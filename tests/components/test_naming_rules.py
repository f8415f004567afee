"""Derived names: every physical name follows its service's rules, and no two tenants or stacks share one.

The rules are data (`components.naming.RULES`); these tests hold the scheme to them and to the S3 page's
reserved prefixes and suffixes, through the same `name_problems` the tenant-file validator calls.
"""

from __future__ import annotations

import re

import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from components import naming
from components.config import TenantFileError, parse_tenant
from components.new_tenant import new_tenant_file

NAMES = settings(max_examples=max(300, settings().max_examples))
# Tenant and stack names as their own patterns allow them, `--` included: the naming rules decide.
ANY_TENANT = st.from_regex(r"[a-z][a-z0-9-]{1,23}", fullmatch=True)
ANY_STACK = st.from_regex(r"[a-z0-9](?:[a-z0-9-]{0,10}[a-z0-9])?", fullmatch=True)
S3_RESERVED_PREFIXES = ("xn--", "sthree-", "amzn-s3-demo-")
S3_RESERVED_SUFFIXES = ("-s3alias", "--ol-s3", ".mrap", "--x-s3", "--table-s3")
# Physical names that live in one namespace of one account and Region, so must differ across tenants
# and stacks: (field, field) pairs of the same service.
ANY_PAIR = st.tuples(ANY_TENANT, ANY_STACK)
WORDS = st.lists(st.from_regex(r"[a-z][a-z0-9]{0,4}", fullmatch=True), min_size=3, max_size=5)
SHARED_NAMESPACES = {
    "IAM role": ("processor_role", "firehose_role"),
    "S3 bucket": ("failure_bucket", "archive_bucket"),
    "CloudWatch log group": ("function_log_group", "firehose_log_group"),
}


@st.composite
def pairs_from_one_text(draw) -> tuple[tuple[str, str], tuple[str, str]]:
    """Two (tenant, stack) pairs cut from the same dashed words at different places: `foo-bar` + `dev` and
    `foo` + `bar-dev`, the pairs a `<tenant>-<stack>` scheme cannot tell apart."""
    words = draw(WORDS)
    first, second = draw(st.lists(st.integers(1, len(words) - 1), min_size=2, max_size=2, unique=True))
    return tuple(("-".join(words[:cut]), "-".join(words[cut:])) for cut in (first, second))


def _problems(tenant: str, stack: str = "dev") -> list[str]:
    return [message for _field, message in naming.name_problems(tenant, stack)]


def _accepted(tenant: str, stack: str) -> bool:
    return not list(naming.name_problems(tenant, stack))


@pytest.mark.parametrize("prefix", S3_RESERVED_PREFIXES)
def test_naming_refuses_tenants_whose_bucket_names_begin_with_a_prefix_s3_reserves(prefix):
    tenant = (prefix + "orders")[:24]
    problems = _problems(tenant)
    assert any(f"may not begin with {prefix!r}" in problem for problem in problems), problems


@pytest.mark.parametrize("suffix", S3_RESERVED_SUFFIXES)
@pytest.mark.parametrize("field", ["failure_bucket", "archive_bucket"])
def test_naming_rule_refuses_bucket_names_that_end_with_a_suffix_s3_reserves(field, suffix):
    rule = naming.RULES[field]
    assert rule.source.startswith("https://docs.aws.amazon.com/"), "an S3 naming rule without its page"
    if "." in suffix:
        # The program's bucket names never hold a dot (virtual-hosted TLS), so the characters refuse it first.
        assert rule.problem(f"orders{suffix}") == f"S3 bucket name 'orders{suffix}' has characters AWS does not allow"
        return
    assert rule.problem(f"orders{suffix}") == f"S3 bucket names may not end with {suffix!r}, which AWS reserves"
    assert rule.problem(f"orders{suffix}-1") is None, "the suffix refused where it does not end the name"


def test_naming_refuses_a_tenant_name_holding_the_separator():
    problems = _problems("foo--bar")
    assert any("'--'" in problem for problem in problems), problems


def test_naming_refuses_a_stack_name_holding_the_separator():
    assert naming.stack_name_problem("bar--dev") is not None
    assert naming.stack_name_problem("bar-dev") is None


def test_naming_reports_a_bad_stack_name_in_one_sentence_naming_the_stack():
    problem = naming.stack_name_problem("Prod_1")
    assert problem is not None and "'Prod_1'" in problem and "\n" not in problem


def test_naming_refuses_a_stack_too_long_for_any_tenant_once():
    stack = "s" * 40
    problem = naming.stack_name_problem(stack)
    assert problem is not None and "too long" in problem and "S3 bucket" in problem


def test_naming_tenant_foo_bar_on_dev_and_tenant_foo_on_bar_dev_share_no_name():
    first = dict(naming.tenant_names("foo-bar", "dev").items())
    second = dict(naming.tenant_names("foo", "bar-dev").items())
    shared = {field for field in first if field != "glue_table" and first[field] == second[field]}
    assert not shared, {field: first[field] for field in shared}


@NAMES
@given(pairs=st.one_of(pairs_from_one_text(), st.tuples(ANY_PAIR, ANY_PAIR)))
def test_naming_two_accepted_tenant_and_stack_pairs_share_no_physical_name(pairs):
    first, second = pairs
    assume(first != second and _accepted(*first) and _accepted(*second))
    names_1, names_2 = naming.tenant_names(*first), naming.tenant_names(*second)
    for field, name in names_1.items():
        if field == "glue_table":  # one per database: the databases differ
            continue
        assert name != getattr(names_2, field), f"{first} and {second} both name {field} {name!r}"
    for what, fields in SHARED_NAMESPACES.items():
        assert not {getattr(names_1, f) for f in fields} & {getattr(names_2, f) for f in fields}, what
    # Alarms are `<alarm_prefix><suffix>` for any suffix: no prefix may begin another's.
    assert not names_2.alarm_prefix.startswith(names_1.alarm_prefix), (first, second)


@NAMES
@given(tenant=ANY_TENANT, stack=ANY_STACK)
def test_naming_every_accepted_name_follows_every_rule(tenant, stack):
    assume(_accepted(tenant, stack))
    for field, name in naming.tenant_names(tenant, stack).items():
        rule = naming.RULES[field]
        assert len(name) <= rule.limit and re.match(rule.pattern, name), (field, name)
        assert not name.startswith(rule.reserved_prefixes) and not name.endswith(rule.reserved_suffixes), name


@pytest.mark.parametrize("tenant", ["xn--foo", "sthree-foo", "amzn-s3-demo-foo"])
def test_naming_the_starting_file_for_a_reserved_name_is_refused(tenant):
    with pytest.raises(TenantFileError) as refused:
        parse_tenant(new_tenant_file(tenant), f"tenants/{tenant}.yaml")
    lines = refused.value.problems
    assert lines and all(line.startswith(f"tenants/{tenant}.yaml: tenant: ") for line in lines), lines
    prefix = next(prefix for prefix in S3_RESERVED_PREFIXES if tenant.startswith(prefix))
    assert any(f"may not begin with {prefix!r}" in line for line in lines), lines
