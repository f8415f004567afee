"""Offboarding never loses data in one step: `lifecycle: offboarded` keeps exactly what holds data, as it was;
`delete-data`, confirmed by the tenant's name, lets it go; `tributary plan` says which is which.

Each evaluation runs the whole program under Pulumi's mocks (`pipeline_model.Evaluated`), with the engine's
record of each resource's `retain_on_delete`.
"""

from __future__ import annotations

from typing import Any, get_args

import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st
from pipeline_model import PROJECT_ROOT, Evaluated, Pipeline
from pipeline_spec import DASHBOARD, GLUE_TABLE
from strategies import tenant_documents
from typer.testing import CliRunner

from access.deployer import deployer_key_check
from cli.main import app
from components import defaults, lifecycle, packaging, program
from components.config import TenantFileError, parse_tenant
from components.offline import evaluate_main
from components.pipeline import PIPELINE_OUTPUTS
from policy import run as policy_run
from policy.rules import types as tokens
from policy.rules.documents import as_list, statements

EXAMPLES = sorted(path.stem for path in (PROJECT_ROOT / "tenants").glob("*.yaml"))
STATES = get_args(lifecycle.Lifecycle)
# What holds data, and is kept on every step before the second one.
DATA_HOLDING = (tokens.KEY, tokens.TABLE, tokens.QUEUE, tokens.BUCKET)
# Whole-program evaluations, three per example: few examples.
EVALUATIONS = settings(max_examples=min(15, settings().max_examples))


def _example(name: str) -> dict[str, Any]:
    return yaml.safe_load((PROJECT_ROOT / "tenants" / f"{name}.yaml").read_text(encoding="utf-8"))


def _in_state(document: dict[str, Any], state: str) -> dict[str, Any]:
    """The tenant file with `lifecycle: state` (and, for delete-data, its confirmation)."""
    confirmation = {"delete_data_confirm": document["tenant"]} if state == lifecycle.DELETE_DATA else {}
    return {**document, "lifecycle": state, **confirmation}


def _data(pipeline: Pipeline) -> dict[tuple[str, str], dict[str, Any]]:
    """(type, name) -> inputs of every resource that holds the tenant's data."""
    return {(r.type, r.name): r.inputs for r in pipeline.resources if r.type in DATA_HOLDING}


def _parts(pipeline: Pipeline) -> dict[str, bool]:
    """Whether the pipeline has each part `tributary plan` names."""
    names = pipeline.names

    def named(type_: str, key: str, value: str) -> bool:
        return any(r.inputs.get(key) == value for r in pipeline.all(type_))

    return {
        "key": bool(pipeline.all(tokens.KEY)),
        "table": named(tokens.TABLE, "name", names.table),
        "failure queue": named(tokens.QUEUE, "name", names.failure_queue),
        "failure bucket": named(tokens.BUCKET, "bucket", names.failure_bucket),
        "archive": named(tokens.BUCKET, "bucket", names.archive_bucket) and bool(pipeline.all(GLUE_TABLE)),
        "stream": bool(pipeline.all(tokens.STREAM)),
        "function": bool(pipeline.all(tokens.FUNCTION)),
        "mapping": bool(pipeline.all(tokens.EVENT_SOURCE_MAPPING)),
        "Firehose": bool(pipeline.all(tokens.FIREHOSE)),
        "alarms": bool(pipeline.all(tokens.METRIC_ALARM)),
        "dashboard": bool(pipeline.all(DASHBOARD)),
    }


def _principals(pipeline: Pipeline) -> set[str]:
    """Every principal the tenant key's policy names."""
    policy = statements(pipeline.one(tokens.KEY).inputs["policy"])
    return {principal for s in policy for value in s["Principal"].values() for principal in as_list(value)}


def _remaining(pipeline: Pipeline) -> set[str]:
    """The principals that outlive the pipeline: the account and the tenant file's readers."""
    return {f"arn:aws:iam::{pipeline.account_id}:root", *pipeline.tenant.access.readers}


@pytest.fixture(scope="module")
def states(evaluate_tenants) -> dict[str, Evaluated]:
    """The example tenants in each lifecycle state, one evaluation per state."""
    return {state: evaluate_tenants([_in_state(_example(name), state) for name in EXAMPLES]) for state in STATES}


@pytest.mark.parametrize("tenant", EXAMPLES)
def test_offboarded_tenant_keeps_exactly_its_data_parts_as_they_were_and_each_is_retained(states, tenant):
    active, offboarded = states[lifecycle.ACTIVE][tenant], states[lifecycle.OFFBOARDED][tenant]
    # The key and alias, the table, the queue and its policy, buckets with their settings, the Glue catalog.
    kept_types = {tokens.TENANT_PIPELINE, tokens.ALIAS, tokens.QUEUE_POLICY, *DATA_HOLDING}
    kept_types |= {r.type for r in active.resources if r.type.startswith(("aws:s3/", "aws:glue/"))}
    expected = {(r.type, r.name): r.inputs for r in active.resources if r.type in kept_types}
    kept = {(r.type, r.name): r.inputs for r in offboarded.resources}
    assert kept.keys() == expected.keys(), f"tenant {tenant}: {sorted(kept.keys() ^ expected.keys())}"
    for (type_, name), inputs in kept.items():
        before = expected[(type_, name)]
        if type_ == tokens.KEY:  # the policy names only principals that remain (below)
            inputs, before = {**inputs, "policy": None}, {**before, "policy": None}
        assert inputs == before, f"tenant {tenant}, {type_} {name}: changed by offboarding"
    for type_, name in _data(offboarded):
        assert offboarded.retained[(type_, name)] is True, f"tenant {tenant}, {type_} {name}: not retained"


@pytest.mark.parametrize("tenant", EXAMPLES)
def test_offboarded_outputs_keep_every_key_and_blank_only_the_parts_that_are_gone(states, tenant):
    active = states[lifecycle.ACTIVE].recorded.evaluation.outputs[tenant]
    offboarded = states[lifecycle.OFFBOARDED].recorded.evaluation.outputs[tenant]
    assert set(offboarded) == set(program.OUTPUTS), f"tenant {tenant}: outputs {sorted(offboarded)}"
    for output in program.OUTPUTS:
        expected = "" if output in PIPELINE_OUTPUTS else active[output]
        assert offboarded[output] == expected, f"tenant {tenant}: {output} is {offboarded[output]!r}"
    assert all(active[output] for output in PIPELINE_OUTPUTS), f"tenant {tenant}: an active output is blank"


@pytest.mark.parametrize("state", [lifecycle.OFFBOARDED, lifecycle.DELETE_DATA])
def test_key_without_a_pipeline_names_only_principals_that_remain_and_readers_still_read(states, state):
    evaluation = states[state].recorded.evaluation
    for tenant, pipeline in states[state].pipelines.items():
        policy = statements(pipeline.one(tokens.KEY).inputs["policy"])
        principals, remaining = _principals(pipeline), _remaining(pipeline)
        assert principals <= remaining, f"tenant {tenant}: key policy names {sorted(principals - remaining)}"
        active_policy = statements(states[lifecycle.ACTIVE][tenant].one(tokens.KEY).inputs["policy"])
        readers = [s for s in active_policy if s["Sid"].startswith("Readers")]
        assert readers == [s for s in policy if s["Sid"].startswith("Readers")], f"tenant {tenant}: readers"
        assert bool(readers) == bool(pipeline.tenant.access.readers), f"tenant {tenant}: readers"
    # The deployer can still update each table encrypted with its tenant's key.
    assert deployer_key_check(evaluation) == []


def test_delete_data_lets_go_of_every_data_part_and_tags_it_for_the_policy_pack(states):
    evaluated = states[lifecycle.DELETE_DATA]
    for tenant, pipeline in evaluated.pipelines.items():
        assert _data(pipeline).keys() == _data(states[lifecycle.OFFBOARDED][tenant]).keys(), tenant
        for resource in pipeline.resources:
            where = pipeline.where(resource)
            if resource.type in DATA_HOLDING:
                assert pipeline.retained[(resource.type, resource.name)] is False, f"{where}: retained"
                assert resource.inputs["tags"][lifecycle.LIFECYCLE_TAG] == lifecycle.DELETE_DATA, where
        assert pipeline.one(tokens.TABLE).inputs["deletionProtectionEnabled"] is False, tenant
        assert all(b.inputs["forceDestroy"] is True for b in pipeline.all(tokens.BUCKET)), tenant
        # Deleting the key schedules its deletion: the window is the time left to notice a mistake.
        assert pipeline.one(tokens.KEY).inputs["deletionWindowInDays"] == defaults.KMS_DELETION_WINDOW_DAYS
    evaluation = evaluated.recorded.evaluation
    assert policy_run.check(evaluation.stack, evaluation.resources).violations == ()


@pytest.mark.parametrize("state", [lifecycle.ACTIVE, lifecycle.OFFBOARDED])
def test_no_state_but_delete_data_tags_or_releases_anything(states, state):
    for tenant, pipeline in states[state].pipelines.items():
        tagged = [r.name for r in pipeline.resources if lifecycle.LIFECYCLE_TAG in (r.inputs.get("tags") or {})]
        assert not tagged, f"tenant {tenant} ({state}): tagged {tagged}"
        assert pipeline.one(tokens.TABLE).inputs["deletionProtectionEnabled"] is True, tenant
        assert all(b.inputs["forceDestroy"] is False for b in pipeline.all(tokens.BUCKET)), tenant
    evaluation = states[state].recorded.evaluation
    assert policy_run.check(evaluation.stack, evaluation.resources).violations == ()


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        ({"lifecycle": "delete-data"}, "delete_data_confirm: must be the tenant's name, 'orders'"),
        ({"lifecycle": "delete-data", "delete_data_confirm": "order"}, "(got 'order')"),
        ({"lifecycle": "delete-data", "delete_data_confirm": "Orders"}, "(got 'Orders')"),
        ({"lifecycle": "offboarded", "delete_data_confirm": "orders"}, "delete_data_confirm: only allowed with"),
        ({"lifecycle": "delete_data", "delete_data_confirm": "orders"}, "lifecycle: must be one of"),
        ({"tags": {"lifecycle": "delete-data"}}, "tags.lifecycle: is set by tributary"),
    ],
    ids=["missing", "typo", "case", "leftover", "state-typo", "own-tag"],
)
def test_deleting_data_without_its_exact_confirmation_is_refused_naming_file_and_field(extra, message):
    source = "tenants/orders.yaml"
    with pytest.raises(TenantFileError) as refused:
        parse_tenant(yaml.safe_dump({**_example("orders"), **extra}), source)
    assert any(line.startswith(f"{source}: ") and message in line for line in refused.value.problems), refused.value


def test_validate_refuses_a_mistyped_confirmation_in_one_line_without_traceback(write_project):
    project = write_project([{**_example("orders"), "lifecycle": "delete-data", "delete_data_confirm": "order"}])
    path = project / "tenants" / "orders.yaml"
    result = CliRunner().invoke(app, ["validate", str(path), "--project", str(project)])
    assert result.exit_code == 1, result.output
    assert result.stderr.splitlines() == [
        f"{path}: delete_data_confirm: must be the tenant's name, 'orders', with `lifecycle: delete-data`: removing "
        "the file afterwards deletes its table, buckets and key (got 'order')"
    ]


@pytest.mark.parametrize("state", STATES)
def test_plan_words_name_what_each_state_registers(states, state):
    for tenant, pipeline in states[state].pipelines.items():
        line, parts = lifecycle.plan_line(pipeline.tenant), _parts(pipeline)
        assert line.startswith(f"lifecycle {state}: "), line
        for part in lifecycle.data_parts(pipeline.tenant):
            assert parts[part], f"tenant {tenant} ({state}): plan says it keeps {part}, which is not registered"
        for part in lifecycle.pipeline_parts(pipeline.tenant):
            running = lifecycle.runs_pipeline(state)
            assert parts[part] is running, f"tenant {tenant} ({state}): {part} registered={parts[part]}"
        named = lifecycle.data_parts(pipeline.tenant) + lifecycle.pipeline_parts(pipeline.tenant)
        unnamed = [part for part, present in parts.items() if present and part not in named]
        assert not unnamed, f"tenant {tenant} ({state}): the plan does not name {unnamed}"


def test_plan_prints_each_tenants_lifecycle_under_its_table(write_project):
    documents = {
        "sensors": _example("sensors"),
        "clicks": _in_state(_example("clicks"), lifecycle.OFFBOARDED),
        "orders": _in_state(_example("orders"), lifecycle.DELETE_DATA),
    }
    project = write_project(list(documents.values()))
    result = CliRunner().invoke(app, ["plan", "--project", str(project)])
    assert result.exit_code == 0, result.output
    words = " ".join(result.stdout.split())
    for name, document in documents.items():
        line = lifecycle.plan_line(parse_tenant(yaml.safe_dump(document), f"tenants/{name}.yaml"))
        assert line in words, f"{name}: {line!r} not in the plan"
    assert (
        "lifecycle offboarded: keeps key, table, failure queue, failure bucket, archive (removing the file keeps them "
        "too); removes stream, function, mapping, Firehose, alarms, dashboard"
    ) in words
    assert "lifecycle delete-data: keeps key, table, failure queue, archive until the file is removed, then" in words


@EVALUATIONS
@given(document=tenant_documents(), state=st.sampled_from([lifecycle.OFFBOARDED, lifecycle.DELETE_DATA]))
def test_data_parts_never_shrink_from_active_through_offboarding(evaluate_tenants, document, state):
    name = document["tenant"]
    active = evaluate_tenants([document])[name]
    later = evaluate_tenants([_in_state(document, state)])[name]
    assert _data(later).keys() == _data(active).keys(), f"tenant {name}: {state} drops data parts"
    keeps = document.get("retain_on_delete", True) and state != lifecycle.DELETE_DATA
    for resource_id in _data(later):
        assert active.retained[resource_id] is document.get("retain_on_delete", True), f"{name}: {resource_id}"
        assert later.retained[resource_id] is keeps, f"tenant {name} ({state}): {resource_id} retained"
    principals = _principals(later)
    assert principals <= _remaining(later), f"tenant {name} ({state}): key policy names {principals}"


def test_main_exports_every_output_of_an_offboarded_tenant(monkeypatch, tmp_path, write_project):
    """`__main__.py` as `pulumi up` runs it, on a stack whose every tenant is offboarded: each tenant's outputs
    under the same keys, and no part of a running pipeline registered."""
    monkeypatch.setattr(packaging, "DEPENDENCIES_DIR", tmp_path)  # as `make package` leaves it
    project = write_project([_in_state(_example(name), lifecycle.OFFBOARDED) for name in EXAMPLES])
    config = {"tributary:tenantsDir": str(project / "tenants")}
    evaluation = evaluate_main(PROJECT_ROOT, "dev", config)
    assert sorted(evaluation.outputs["tenants"]) == EXAMPLES
    for name in EXAMPLES:
        assert set(evaluation.outputs[name]) == set(program.OUTPUTS), name
    running = (tokens.STREAM, tokens.FUNCTION, tokens.EVENT_SOURCE_MAPPING, tokens.FIREHOSE, tokens.METRIC_ALARM)
    assert not [r.name for r in evaluation.resources if r.type in running]
