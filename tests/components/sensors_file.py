"""The example tenant file the hardening tests change one line of, and the check every refusal's lines pass:
one line each, naming the file, in our words rather than pydantic's."""

from __future__ import annotations

from pathlib import Path

import pytest
from guards import refused_within

from components.config import TenantFileError, parse_tenant

PROJECT_ROOT = Path(__file__).resolve().parents[2]
SENSORS = (PROJECT_ROOT / "tenants" / "sensors.yaml").read_text(encoding="utf-8")
SOURCE = "tenants/sensors.yaml"
# Words pydantic uses that a person reading a problem line should never see.
PYDANTIC_WORDS = ("Input should", "String should", "Value error", "validation error", "pydantic")


def problem_lines(text: str, source: str = SOURCE) -> list[str]:
    with refused_within(10), pytest.raises(TenantFileError) as refused:
        parse_tenant(text, source)
    lines = refused.value.problems
    for line in lines:
        assert line.startswith(f"{source}: ") and "\n" not in line, line
        assert not any(word in line for word in PYDANTIC_WORDS), line
    return lines


def sensors_with(old: str, new: str) -> str:
    assert old in SENSORS, old
    return SENSORS.replace(old, new, 1)
