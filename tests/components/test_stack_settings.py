"""Stack settings: each bad key refused in one line that names the file and the key, in words.

A stack's config reaches the program two ways, read from `Pulumi.<stack>.yaml` by the command line and handed
over as text by `pulumi up`; both go through `StackSettings.from_config`, so both are tested through it.
"""

from __future__ import annotations

import re
from pathlib import Path

import botocore.session
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from components import naming
from components.config import TenantFileError, load_tenants, tenant_files
from components.stack import StackSettings, read_named_stack, read_stack_file, select_tenants

SOURCE = "Pulumi.prod.yaml"
PROJECT_ROOT = Path(__file__).resolve().parents[2]
POWERTOOLS_ARN = "arn:aws:lambda:eu-west-1:017000801446:layer:AWSLambdaPowertoolsPythonV3-python313-arm64:27"
# Phrases of pydantic's own messages: a person reads our words instead.
PYDANTIC_TEXT = re.compile(r"Input should|String should|Value error|value is not a valid|validation error|type=")
SETTINGS = settings(max_examples=max(100, settings().max_examples))


def refused(config: dict, source: str = SOURCE) -> list[str]:
    with pytest.raises(TenantFileError) as error:
        StackSettings.from_config(config, source)
    return error.value.problems


def assert_one_line_naming(lines: list[str], key: str) -> None:
    assert len(lines) == 1, lines
    assert lines[0].startswith(f"{SOURCE}: {key}: "), lines
    assert "\n" not in lines[0] and not PYDANTIC_TEXT.search(lines[0]), lines


def test_stack_settings_refuse_a_region_that_is_not_a_region_code():
    lines = refused({"aws:region": "not-a-region"})
    assert_one_line_naming(lines, "aws:region")
    assert "'not-a-region'" in lines[0]


def test_stack_settings_name_aws_region_when_the_region_is_a_number():
    assert_one_line_naming(refused({"aws:region": 5}), "aws:region")


def test_stack_settings_refuse_a_layer_arn_that_is_not_a_layer_version_arn():
    lines = refused({"tributary:powertoolsLayerArn": "not-an-arn"})
    assert_one_line_naming(lines, "tributary:powertoolsLayerArn")
    assert "layer version ARN" in lines[0]


@pytest.mark.parametrize(
    "arn",
    [
        "arn:aws:lambda:eu-west-1:017000801446:layer:AWSLambdaPowertoolsPythonV3-python313-arm64",  # no version
        "arn:aws:lambda:eu-west-1:017000801446:function:powertools:27",
        "arn:aws:lambda:eu-west-1:0170008014:layer:powertools:27",
        "arn:aws:lambda:eu-west-1:017000801446:layer:" + "p" * 120 + ":27",  # above 140 characters
    ],
)
def test_stack_settings_refuse_layer_arns_lambda_would_refuse(arn):
    assert_one_line_naming(refused({"tributary:powertoolsLayerArn": arn}), "tributary:powertoolsLayerArn")


def test_stack_settings_accept_the_public_powertools_layer_arn_and_a_region():
    settings_ = StackSettings.from_config(
        {"aws:region": "eu-west-1", "tributary:powertoolsLayerArn": POWERTOOLS_ARN}, "x"
    )
    assert (settings_.region, settings_.powertools_layer_arn) == ("eu-west-1", POWERTOOLS_ARN)


def test_stack_settings_region_pattern_accepts_every_region_the_aws_sdk_knows():
    session = botocore.session.get_session()
    regions = {
        region
        for partition in ("aws", "aws-cn", "aws-us-gov")
        for region in session.get_available_regions("s3", partition_name=partition)
    }
    assert len(regions) > 20
    assert not [region for region in regions if not re.match(naming.REGION_PATTERN, region)]


@pytest.mark.parametrize(
    ("key", "value", "words"),
    [
        ("tributary:powertoolsLayerVersion", 0, "must be at least 1 (got 0)"),
        ("tributary:powertoolsLayerVersion", "x", "must be a whole number"),
        ("tributary:allowEmptySelection", "maybe", "must be true or false"),
        ("tributary:notify", ["bob"], "must be an email address (got 'bob')"),
        ("tributary:tenants", "abc", "must be a list"),
    ],
)
def test_stack_settings_say_each_problem_in_words(key, value, words):
    lines = refused({key: value})
    assert len(lines) == 1 and lines[0].startswith(f"{SOURCE}: {key}") and words in lines[0], lines
    assert not PYDANTIC_TEXT.search(lines[0]), lines


@pytest.mark.parametrize(
    ("key", "meant"), [("tributary:tenant", "tributary:tenants"), ("tributary:region", "aws:region")]
)
def test_stack_settings_refuse_an_unknown_key_and_suggest_the_meant_one(key, meant):
    lines = refused({key: "x"})
    assert_one_line_naming(lines, key)
    assert f"did you mean {meant!r}" in lines[0]


def test_stack_settings_report_every_bad_key_not_the_first():
    lines = refused({"aws:region": "mars-1", "tributary:powertoolsLayerArn": "x", "tributary:tenant": []})
    assert {line.split(": ")[1] for line in lines} == {
        "aws:region",
        "tributary:powertoolsLayerArn",
        "tributary:tenant",
    }, lines


def test_stack_settings_take_text_from_pulumi_as_the_file_takes_values():
    as_text = {"tributary:powertoolsLayerVersion": "31", "tributary:allowEmptySelection": "true"}
    settings_ = StackSettings.from_config(as_text, "stack config")
    assert (settings_.powertools_layer_version, settings_.allow_empty_selection) == (31, True)


VALUES = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-5, 5),
    st.floats(allow_nan=True),
    st.text(max_size=20),
    st.lists(st.one_of(st.integers(), st.text(max_size=5)), max_size=3),
    st.dictionaries(st.text(max_size=3), st.integers(), max_size=2),
)


@SETTINGS
@given(key=st.sampled_from(StackSettings.config_keys()), value=VALUES)
def test_stack_settings_never_show_pydantic_text_for_any_value(key, value):
    try:
        StackSettings.from_config({key: value}, SOURCE)
    except TenantFileError as error:
        for line in error.problems:
            assert line.startswith(f"{SOURCE}: {key}"), line
            assert "\n" not in line and not PYDANTIC_TEXT.search(line), line


def test_stack_file_of_a_named_stack_must_exist(tmp_path):
    (tmp_path / "Pulumi.dev.yaml").write_text("config: {}\n", encoding="utf-8")
    with pytest.raises(TenantFileError) as error:
        read_named_stack(tmp_path, "nosuch")
    assert len(error.value.problems) == 1, error.value.problems
    line = error.value.problems[0]
    assert line.startswith(f"{tmp_path / 'Pulumi.nosuch.yaml'}: ") and "dev" in line, line


def test_stack_file_of_the_default_stack_may_be_missing_in_a_fresh_project(tmp_path):
    assert read_named_stack(tmp_path, naming.DEFAULT_STACK) == StackSettings()


def test_stack_file_missing_still_reads_as_the_defaults_for_the_program():
    # `pulumi up` on a stack without a file sees no config: the program's defaults, as before.
    assert read_stack_file(PROJECT_ROOT, "no-such-stack") == StackSettings()


@pytest.mark.parametrize("stack", ["Prod", "bar--dev", "-dev", "dev_1", "s" * 40])
def test_stack_named_with_a_bad_name_is_refused_once(tmp_path, stack):
    with pytest.raises(TenantFileError) as error:
        read_named_stack(tmp_path, stack)
    assert len(error.value.problems) == 1 and error.value.problems[0].startswith("--stack: "), error.value.problems


def test_stack_file_that_is_not_yaml_is_one_line(tmp_path):
    (tmp_path / "Pulumi.dev.yaml").write_text("config:\n  aws:region: [\n", encoding="utf-8")
    with pytest.raises(TenantFileError) as error:
        read_stack_file(tmp_path, "dev")
    assert len(error.value.problems) == 1 and "\n" not in error.value.problems[0], error.value.problems
    assert "not valid YAML at line" in error.value.problems[0]


def test_stack_settings_of_the_repository_stacks_load_and_each_selects_a_tenant():
    stacks = sorted(path.name[len("Pulumi.") : -len(".yaml")] for path in PROJECT_ROOT.glob("Pulumi.*.yaml"))
    assert {"dev", "cell-1"} <= set(stacks), stacks
    for stack in stacks:
        settings_ = read_named_stack(PROJECT_ROOT, stack)
        tenants = load_tenants(tenant_files(PROJECT_ROOT / settings_.tenants_dir), stack)
        assert select_tenants(tenants, settings_.tenants), f"Pulumi.{stack}.yaml selects no tenant: up would refuse"


def test_stack_file_with_yaml_aliases_is_refused_before_it_expands(tmp_path):
    """The tenant files' reader reads stack files too: an alias bomb is refused at its first anchor."""
    levels = ["a: &a [x, x, x, x, x, x, x, x, x]"]
    levels += [f"{chr(98 + i)}: &{chr(98 + i)} [*{chr(97 + i)}, *{chr(97 + i)}, *{chr(97 + i)}]" for i in range(9)]
    (tmp_path / "Pulumi.dev.yaml").write_text("config:\n" + "\n".join(f"  {line}" for line in levels) + "\n")
    with pytest.raises(TenantFileError, match=r"Pulumi\.dev\.yaml: .*(alias|anchor)"):
        read_stack_file(tmp_path, "dev")
