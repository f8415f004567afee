"""`tributary plan` runs the pack over every tenant: a verdict per tenant, exit 1 on a mandatory violation."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
import yaml
from typer.testing import CliRunner

from cli.main import app
from components import defaults
from policy.rules import RULES

PROJECT_ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = sorted(path.stem for path in (PROJECT_ROOT / "tenants").glob("*.yaml"))


@pytest.fixture
def project(tmp_path) -> Path:
    """A copy of the repository's project: stack files and the example tenants."""
    for stack_file in PROJECT_ROOT.glob("Pulumi*.yaml"):
        shutil.copy(stack_file, tmp_path)
    shutil.copytree(PROJECT_ROOT / "tenants", tmp_path / "tenants")
    return tmp_path


def _plan(project: Path, *options: str):
    return CliRunner().invoke(app, ["plan", "--project", str(project), *options])


def _words(text: str) -> str:
    """The output with the console's line wrapping undone."""
    return " ".join(text.split())


def _verdicts(stdout: str) -> dict[str, str]:
    """Each tenant's policy line: the first one after the tenant's resource table (titled `tenant <name>: ...`)."""
    verdicts, tenant = {}, None
    for line in stdout.splitlines():
        if line.startswith("tenant "):
            tenant = line.split()[1].rstrip(":")
        elif line.startswith("policy: ") and tenant is not None:
            verdicts[tenant], tenant = line, None
    return verdicts


def _turn_off_deletion_protection(project: Path, tenant: str) -> None:
    path = project / "tenants" / f"{tenant}.yaml"
    document = yaml.safe_load(path.read_text(encoding="utf-8"))
    document.setdefault("table", {})["deletion_protection"] = False  # valid: the schema lets a file turn it off
    path.write_text(yaml.safe_dump(document, sort_keys=False), encoding="utf-8")


def test_plan_prints_the_packs_verdict_for_every_example_tenant(project):
    result = _plan(project)
    assert result.exit_code == 0, result.output
    assert _verdicts(result.stdout) == {tenant: f"policy: {len(RULES)} rules, no violations" for tenant in EXAMPLES}


def test_plan_exits_1_naming_tenant_resource_and_rule_when_a_tenant_file_turns_off_a_safety_default(project):
    _turn_off_deletion_protection(project, "orders")
    result = _plan(project)
    assert result.exit_code == 1, result.output
    assert _verdicts(result.stdout) == {
        "clicks": f"policy: {len(RULES)} rules, no violations",
        "orders": f"policy: 1 violation(s) of {len(RULES)} rules",
        "sensors": f"policy: {len(RULES)} rules, no violations",
    }
    violation = "table-deletion-protection aws:dynamodb/table:Table orders-table: deletionProtectionEnabled is off"
    assert _words(result.stdout).count(violation) == 1
    assert "Fix: remove table.deletion_protection: false from the tenant file" in _words(result.stdout)
    assert "1 mandatory policy violation(s)" in result.stderr
    assert "Traceback" not in result.output


def test_plan_json_still_prints_the_plan_and_reports_violations_on_stderr(project):
    _turn_off_deletion_protection(project, "sensors")
    result = _plan(project, "--json")
    assert result.exit_code == 1
    assert {item["tenant"] for item in json.loads(result.stdout)} == set(EXAMPLES)
    [violation] = [line for line in result.stderr.splitlines() if line.startswith("tenant ")]
    assert violation.startswith("tenant sensors: aws:dynamodb/table:Table sensors-table: table-deletion-protection: ")


def test_plan_exits_1_for_every_tenant_when_a_component_loosens_the_checklist(project, monkeypatch):
    monkeypatch.setattr(defaults, "BISECT_BATCH_ON_FUNCTION_ERROR", False)
    result = _plan(project)
    assert result.exit_code == 1
    flagged = [line.split()[1] for line in result.stdout.splitlines() if "mapping-bisect-on-error" in line]
    assert flagged == ["aws:lambda/eventSourceMapping:EventSourceMapping"] * len(EXAMPLES)
    assert f"{len(EXAMPLES)} mandatory policy violation(s)" in result.stderr
