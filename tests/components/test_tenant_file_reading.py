"""Hostile and mistaken tenant files are refused before their content is read: YAML alias bombs and merge keys,
files above the size limit, files that are not regular files, and keys a mapping repeats.
"""

from __future__ import annotations

import os

import pytest
from guards import refused_within
from sensors_file import PROJECT_ROOT, SENSORS, SOURCE, problem_lines, sensors_with

from components.config import TenantFileError, load_tenant
from components.tenant_yaml import MAX_TENANT_FILE_BYTES


def billion_laughs(levels: int = 9) -> str:
    lines = ['a: &a ["lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol"]']
    for level in range(1, levels):
        previous, name = chr(ord("a") + level - 1), chr(ord("a") + level)
        lines.append(f"{name}: &{name} [" + ", ".join([f"*{previous}"] * 9) + "]")
    return "\n".join(lines) + "\n"


# ---------------------------------------------------------------------------------------------------------
# YAML aliases and the size of a file


def test_config_refuses_a_yaml_alias_bomb_at_its_first_anchor():
    lines = problem_lines(SENSORS + billion_laughs())
    assert len(lines) == 1, lines
    assert "anchors (&a) are not allowed" in lines[0], lines
    assert f"line {SENSORS.count(chr(10)) + 1}, column 4" in lines[0], lines
    assert "lol" not in lines[0]


def test_config_refuses_an_alias_to_an_anchor_inside_the_schema():
    text = sensors_with("      firmware: {type: string}", "      firmware: &fw {type: string}\n      build: *fw")
    lines = problem_lines(text)
    assert len(lines) == 1 and "YAML anchors (&fw) are not allowed" in lines[0], lines


def test_config_refuses_an_alias_without_an_anchor_naming_line_and_column():
    lines = problem_lines(sensors_with('  sort_key: "{hour}"', "  sort_key: *nowhere"))
    line_number = SENSORS.splitlines().index('  sort_key: "{hour}"') + 1
    assert any(f"line {line_number}, column 13: YAML aliases (*nowhere)" in line for line in lines), lines


def test_config_refuses_yaml_merge_keys():
    lines = problem_lines(sensors_with("processing:\n", "processing:\n  <<: {memory_mb: 512}\n"))
    assert any("processing: line 11: YAML merge keys (<<) are not allowed" in line for line in lines), lines


def test_config_refuses_a_file_above_the_size_limit_before_parsing_it(tmp_path):
    path = tmp_path / "sensors.yaml"
    path.write_text(SENSORS + "#" * MAX_TENANT_FILE_BYTES + "\n", encoding="utf-8")
    with refused_within(10), pytest.raises(TenantFileError) as refused:
        load_tenant(path)
    assert refused.value.problems == [f"{path}: is larger than 64 KiB; a tenant file takes a few KiB"]


# ---------------------------------------------------------------------------------------------------------
# Only regular files are read


def test_config_refuses_a_fifo_without_opening_it(tmp_path):
    fifo = tmp_path / "x.yaml"
    os.mkfifo(fifo)
    with refused_within(5), pytest.raises(TenantFileError) as refused:
        load_tenant(fifo)
    assert refused.value.problems == [
        f"{fifo}: is not a regular file (a device, FIFO or socket); only regular files are read"
    ]


def test_config_refuses_a_symlink_to_dev_zero(tmp_path):
    link = tmp_path / "zero.yaml"
    link.symlink_to("/dev/zero")
    with refused_within(5), pytest.raises(TenantFileError) as refused:
        load_tenant(link)
    assert refused.value.problems == [
        f"{link}: is not a regular file (a device, FIFO or socket); only regular files are read"
    ]


def test_config_reads_a_symlink_to_a_regular_tenant_file(tmp_path):
    link = tmp_path / "sensors.yaml"
    link.symlink_to(PROJECT_ROOT / "tenants" / "sensors.yaml")
    assert load_tenant(link).tenant == "sensors"


def test_config_refuses_a_directory_as_a_tenant_file(tmp_path):
    folder = tmp_path / "d.yaml"
    folder.mkdir()
    with pytest.raises(TenantFileError) as refused:
        load_tenant(folder)
    assert refused.value.problems == [f"{folder}: is a directory, not a tenant file"]


# ---------------------------------------------------------------------------------------------------------
# Repeated keys


def test_config_refuses_a_second_top_level_section_naming_the_key_and_both_lines():
    lines = problem_lines(SENSORS + "processing:\n  batch_size: 10\n")
    first = SENSORS.splitlines().index("processing:") + 1
    second = SENSORS.count("\n") + 1
    problem = f"the key 'processing' appears twice in one mapping (lines {first} and {second}); keep one"
    assert lines == [f"{SOURCE}: processing: {problem}"]


def test_config_refuses_repeated_keys_at_every_level_each_on_its_own_line():
    text = sensors_with("  batch_size: 500\n", "  batch_size: 500\n  batch_size: 5\n")
    text = text.replace(
        "      firmware: {type: string}", "      firmware: {type: string}\n      firmware: {type: number}"
    )
    text = text.replace("tags: {team: iot,", "tags: {team: iot, team: web,")
    lines = problem_lines(text)
    assert [line.split(": the key")[0] for line in lines] == [
        f"{SOURCE}: tags.team",
        f"{SOURCE}: processing.batch_size",
        f"{SOURCE}: records.schema.properties.firmware",
    ], lines
