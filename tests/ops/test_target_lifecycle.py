"""Where a tenant lives holds in every lifecycle state: an offboarded tenant keeps its key, table, failure queue
and bucket and archive, so query and failure export still find them though its stream and mapping are gone."""

import shutil
from pathlib import Path

import pytest

from components.offline import evaluate
from components.stack import read_named_stack
from ops.target import deployed_tenant

PROJECT_ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def names_by_state(tmp_path_factory):
    """clicks (on_failure: s3) as deployed, active and offboarded."""
    found = {}
    for state in ("active", "offboarded"):
        project = tmp_path_factory.mktemp(state)
        for stack_file in PROJECT_ROOT.glob("Pulumi*.yaml"):
            shutil.copy(stack_file, project)
        shutil.copytree(PROJECT_ROOT / "tenants", project / "tenants")
        clicks = project / "tenants" / "clicks.yaml"
        clicks.write_text(clicks.read_text() + f"\nlifecycle: {state}\n")
        evaluation = evaluate(project, "dev", read_named_stack(project, "dev"))
        found[state] = deployed_tenant(evaluation, "clicks")
    return found


def test_an_offboarded_tenant_is_found_where_it_was_deployed(names_by_state):
    active, offboarded = names_by_state["active"], names_by_state["offboarded"]
    assert (offboarded.region, offboarded.account) == (active.region, active.account)
    assert offboarded.table == active.table and offboarded.failure_queue_url == active.failure_queue_url
    assert offboarded.stream == "" and offboarded.function == ""


def test_an_offboarded_tenant_keeps_its_failure_bucket_and_archive(names_by_state):
    active, offboarded = names_by_state["active"], names_by_state["offboarded"]
    assert active.failure_bucket and offboarded.failure_bucket == active.failure_bucket
    assert offboarded.archive == active.archive and offboarded.archive is not None
