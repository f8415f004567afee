"""A stack deploys exactly the tenants its `tributary:tenants` selects: names, globs or `label=value`."""

from __future__ import annotations

import fnmatch

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pipeline_spec import PROJECT_ROOT, Evaluated
from strategies import LABEL_KEYS, LABEL_VALUES, tenant_document_sets

from components.config import TenantFileError
from components.stack import read_stack_file

EVALUATIONS = settings(
    max_examples=min(25, settings().max_examples), suppress_health_check=[HealthCheck.large_base_example]
)


def selected(document: dict, selectors: list[str]) -> bool:
    """The documented rule, stated independently: any selector matching the name or a label selects."""
    for selector in selectors:
        if "=" in selector:
            label, value = selector.split("=", 1)
            if document.get("labels", {}).get(label) == value:
                return True
        elif fnmatch.fnmatchcase(document["tenant"], selector):
            return True
    return False


@st.composite
def selectors_for(draw, documents: list[dict]) -> list[str]:
    names = [d["tenant"] for d in documents]
    one = st.one_of(
        st.sampled_from(names),
        st.sampled_from(names).map(lambda name: name[: max(1, len(name) // 2)] + "*"),
        st.sampled_from(("*", "zz-none", "?" * 3 + "*")),
        st.builds("{}={}".format, LABEL_KEYS, LABEL_VALUES),
    )
    return draw(st.lists(one, min_size=1, max_size=3))


def test_stack_cell_1_deploys_only_the_tenants_labelled_cell_1():
    settings_ = read_stack_file(PROJECT_ROOT, "cell-1")
    evaluated = Evaluated(PROJECT_ROOT, "cell-1", settings_)
    assert settings_.tenants == ["cell=1"]
    assert set(evaluated.pipelines) == {"orders", "sensors"}
    assert evaluated.recorded.evaluation.outputs["tenants"] == ["orders", "sensors"]


def test_stack_without_a_stack_file_deploys_every_tenant():
    evaluated = Evaluated(PROJECT_ROOT, "dev", read_stack_file(PROJECT_ROOT, "no-such-stack"))
    assert set(evaluated.pipelines) == {"clicks", "orders", "sensors"}


@EVALUATIONS
@given(data=st.data(), documents=tenant_document_sets(min_size=2, max_size=4))
def test_stack_selection_builds_resources_only_for_selected_tenants(write_project, data, documents):
    selectors = data.draw(selectors_for(documents))
    stack_file = f"config:\n  aws:region: eu-west-1\n  tributary:tenants: {selectors!r}\n"
    project = write_project(documents, stack_file=stack_file, stack="cell")
    expected = {d["tenant"] for d in documents if selected(d, selectors)}
    if not expected:
        # `pulumi up` would delete every pipeline: the program refuses, naming the selector.
        with pytest.raises(TenantFileError, match="tributary:tenants: .* selects none"):
            Evaluated(project, "cell", read_stack_file(project, "cell"))
        return
    evaluated = Evaluated(project, "cell", read_stack_file(project, "cell"))
    assert set(evaluated.pipelines) == expected, f"selectors {selectors}"
    assert evaluated.recorded.evaluation.outputs["tenants"] == sorted(expected)
    for pipeline in evaluated.pipelines.values():
        assert pipeline.region == "eu-west-1" or pipeline.tenant.account is not None
