"""`failures export` and `send` need the core dependencies only (a reader's or an operator's machine has no
emulator); `query` needs the query extra and says so when it is missing."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from test_dependencies import PYPROJECT, extra_requirements, importable_modules

ROOT = Path(__file__).resolve().parents[2]


def test_day_two_modules_import_with_the_core_dependencies_only(tmp_path):
    core = importable_modules(PYPROJECT["dependencies"])
    extras_only = sorted(importable_modules(extra_requirements("dev")) - core)
    assert "duckdb" in extras_only and "moto" in extras_only  # the block below means something
    pills = tmp_path / "pills.jsonl"
    pills.write_text('{"payloadText": "x", "partitionKey": "k"}\n')
    script = (
        "import sys\n"
        f"blocked = set({extras_only!r})\n"
        "class Block:\n"
        "    def find_spec(self, name, path=None, target=None):\n"
        "        if name.split('.')[0] in blocked:\n"
        "            raise ImportError(f'{name} is not installed with the core dependencies', name=name)\n"
        "sys.meta_path.insert(0, Block())\n"
        "import ops.failures, ops.put, ops.target, ops.query, cli.day_two\n"
        f"assert [r.data for r in ops.failures.read_pill_file(__import__('pathlib').Path({str(pills)!r}))] == [b'x']\n"
        "try:\n"
        "    ops.query._duckdb()\n"
        "except ops.query.QueryError as error:\n"
        "    print(error)\n"
    )
    result = subprocess.run([sys.executable, "-c", script], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr[-2000:]
    assert result.stdout.strip() == "`tributary query` needs duckdb: pip install 'tributary[query]'"
