"""`tributary validate` reads only tenant files: a directory stands for the tenant files in it, and a FIFO
or a link to a device among them is refused by name instead of hanging or exhausting memory."""

from __future__ import annotations

import os
from pathlib import Path

from guards import refused_within
from typer.testing import CliRunner

from cli.main import app

PROJECT_ROOT = Path(__file__).resolve().parents[2]
SENSORS = (PROJECT_ROOT / "tenants" / "sensors.yaml").read_text(encoding="utf-8")
NOT_REGULAR = "is not a regular file (a device, FIFO or socket); only regular files are read"


def test_cli_validate_of_a_directory_validates_the_tenant_files_in_it():
    result = CliRunner().invoke(app, ["validate", str(PROJECT_ROOT / "tenants"), "--project", str(PROJECT_ROOT)])
    assert result.exit_code == 0, result.output
    assert "3 tenant file(s) valid" in result.stdout


def test_cli_validate_of_a_directory_reports_its_fifo_and_device_link_and_exits_1(tmp_path):
    tenants = tmp_path / "tenants"
    tenants.mkdir()
    (tenants / "sensors.yaml").write_text(SENSORS, encoding="utf-8")
    os.mkfifo(tenants / "x.yaml")
    (tenants / "zero.yaml").symlink_to("/dev/zero")
    with refused_within(10):
        result = CliRunner().invoke(app, ["validate", str(tenants), "--project", str(tmp_path)])
    assert result.exit_code == 1, result.output
    assert result.stderr.splitlines() == [
        f"{tenants / 'x.yaml'}: {NOT_REGULAR}",
        f"{tenants / 'zero.yaml'}: {NOT_REGULAR}",
    ]


def test_cli_validate_of_an_empty_directory_says_it_holds_no_tenant_files(tmp_path):
    result = CliRunner().invoke(app, ["validate", str(tmp_path), "--project", str(tmp_path)])
    assert result.exit_code == 1
    assert result.stderr.startswith(f"{tmp_path}: no tenant files (*.yaml) in this directory")
