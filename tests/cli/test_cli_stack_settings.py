"""The command line and the stack: a bad `--stack` or stack setting is refused once, naming the file and key."""

from __future__ import annotations

from pathlib import Path

import pytest

from cli.main import app

PROJECT_ROOT = Path(__file__).resolve().parents[2]


def _problems(result) -> list[str]:
    assert result.exit_code == 1, result.output
    assert "Traceback" not in result.output
    return [line for line in result.stderr.splitlines() if line]


@pytest.mark.parametrize("command", ["validate", "plan"])
def test_cli_refuses_a_stack_without_a_stack_file(runner, project, command):
    lines = _problems(runner.invoke(app, [command, "--project", str(project), "--stack", "nosuch"]))
    assert len(lines) == 1, lines
    assert lines[0].startswith(f"{project / 'Pulumi.nosuch.yaml'}: "), lines
    assert "cell-1, dev" in lines[0], lines


@pytest.mark.parametrize("command", ["validate", "plan"])
@pytest.mark.parametrize(
    ("setting", "key"),
    [
        ("aws:region: 5", "aws:region"),
        ("aws:region: not-a-region", "aws:region"),
        ("tributary:powertoolsLayerArn: not-an-arn", "tributary:powertoolsLayerArn"),
    ],
)
def test_cli_reports_a_bad_stack_setting_once_naming_the_key(runner, project, command, setting, key):
    (project / "Pulumi.bad.yaml").write_text(f"config:\n  {setting}\n", encoding="utf-8")
    lines = _problems(runner.invoke(app, [command, "--project", str(project), "--stack", "bad"]))
    assert lines == [line for line in lines if line.startswith(f"{project / 'Pulumi.bad.yaml'}: {key}: ")], lines
    assert len(lines) == 1, lines


@pytest.mark.parametrize("stack", ["Bad_Stack", "bar--dev"])
def test_cli_reports_a_bad_stack_name_once_not_once_per_tenant_file(runner, project, stack):
    lines = _problems(runner.invoke(app, ["validate", "--project", str(project), "--stack", stack]))
    assert len(lines) == 1 and lines[0].startswith(f"--stack: {stack!r}"), lines


def test_cli_validates_a_fresh_project_without_a_stack_file_on_the_default_stack(runner, project):
    for stack_file in project.glob("Pulumi.*.yaml"):
        stack_file.unlink()
    result = runner.invoke(app, ["validate", "--project", str(project)])
    assert result.exit_code == 0, result.output


@pytest.mark.parametrize("name", ["xn--foo", "sthree-foo", "amzn-s3-demo-foo"])
def test_cli_new_refuses_a_name_s3_reserves_and_writes_nothing(runner, project, name):
    lines = _problems(runner.invoke(app, ["new", name, "--project", str(project)]))
    assert lines and all(line.startswith(f"{project / 'tenants' / name}.yaml: tenant: ") for line in lines), lines
    prefix = name.removesuffix("foo")
    assert any(f"may not begin with {prefix!r}" in line for line in lines), lines
    assert not (project / "tenants" / f"{name}.yaml").exists()
