"""The `tributary` command: validate, new and plan, as a user runs them."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from tenant_mutations import InvalidFile, invalid_files

from cli.main import app

PROJECT_ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = sorted(path.stem for path in (PROJECT_ROOT / "tenants").glob("*.yaml"))
PLAN_KEYS = {"tenant", "type", "name", "inputs"}
INVOCATIONS = settings(
    max_examples=min(50, max(25, settings().max_examples)),
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.large_base_example],
)


def test_cli_validate_accepts_the_example_tenants(runner):
    result = runner.invoke(app, ["validate", "--project", str(PROJECT_ROOT)])
    assert result.exit_code == 0, result.output
    assert "3 tenant file(s) valid" in result.stdout


@INVOCATIONS
@given(invalid=invalid_files())
def test_cli_validate_exits_1_with_one_line_per_problem_and_no_traceback(
    runner, tmp_path_factory, invalid: InvalidFile
):
    folder = tmp_path_factory.mktemp("invalid")
    path = folder / f"{invalid.stem}.yaml"
    path.write_text(invalid.text, encoding="utf-8")
    result = runner.invoke(app, ["validate", str(path), "--project", str(folder)])
    assert result.exit_code == 1, f"{invalid.mutation}: exit {result.exit_code}\n{result.output}"
    assert not isinstance(result.exception, Exception) or isinstance(result.exception, SystemExit), result.exception
    assert "Traceback" not in result.output
    lines = [line for line in result.stderr.splitlines() if line]
    assert lines, f"{invalid.mutation}: no problem printed"
    assert all(line.startswith(f"{path}: ") for line in lines), lines


def test_cli_validate_reports_the_name_length_limit_on_a_long_stack(runner, project):
    name = "a" * 24
    text = (project / "tenants" / "sensors.yaml").read_text().replace("tenant: sensors", f"tenant: {name}")
    path = project / "tenants" / f"{name}.yaml"
    path.write_text(text)
    (project / "Pulumi.production-eu-west.yaml").write_text("config: {}\n")  # a named stack needs its file
    result = runner.invoke(app, ["validate", str(path), "--project", str(project), "--stack", "production-eu-west"])
    assert result.exit_code == 1
    assert f"{path}: tenant: S3 bucket name" in result.stderr
    assert "above AWS's limit of 63" in result.stderr


@pytest.mark.parametrize("name", ["acme", "iot-fleet-7", "a" * 24])
def test_cli_new_writes_a_tenant_file_that_validates(runner, project, name):
    result = runner.invoke(app, ["new", name, "--project", str(project)])
    assert result.exit_code == 0, result.output
    path = project / "tenants" / f"{name}.yaml"
    assert path.exists()
    validated = runner.invoke(app, ["validate", str(path), "--project", str(project)])
    assert validated.exit_code == 0, validated.output


def test_cli_new_refuses_to_overwrite_an_existing_tenant(runner, project):
    result = runner.invoke(app, ["new", "sensors", "--project", str(project)])
    assert result.exit_code == 1
    assert "already exists" in result.stderr
    assert "Traceback" not in result.output


def test_cli_new_refuses_an_invalid_name_with_a_problem_line(runner, project):
    result = runner.invoke(app, ["new", "Bad_Name", "--project", str(project)])
    assert result.exit_code == 1
    assert ": tenant: " in result.stderr
    assert not (project / "tenants" / "Bad_Name.yaml").exists()


def test_cli_plan_json_prints_every_resource_of_every_example_tenant(runner, project):
    result = runner.invoke(app, ["plan", "--project", str(project), "--json"])
    assert result.exit_code == 0, result.output
    plan = json.loads(result.stdout)
    assert isinstance(plan, list) and plan
    assert all(isinstance(item, dict) and set(item) == PLAN_KEYS for item in plan)
    components = sorted(item["name"] for item in plan if item["type"] == "tributary:index:TenantPipeline")
    assert components == EXAMPLES
    assert {item["tenant"] for item in plan} == set(EXAMPLES)


def test_cli_plan_json_follows_the_stack_selection(runner, project):
    result = runner.invoke(app, ["plan", "--project", str(project), "--stack", "cell-1", "--json"])
    assert result.exit_code == 0, result.output
    assert {item["tenant"] for item in json.loads(result.stdout)} == {"orders", "sensors"}


def test_cli_plan_exits_1_without_traceback_for_an_invalid_tenant(runner, project):
    (project / "tenants" / "broken.yaml").write_text("tenant: broken\nprocessing: {batch_size: 20000}\n")
    result = runner.invoke(app, ["plan", "--project", str(project), "--json"])
    assert result.exit_code == 1
    assert "Traceback" not in result.output
    assert f"{project / 'tenants' / 'broken.yaml'}: processing.batch_size: must be between 1 and 10000" in result.stderr
