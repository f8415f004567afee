"""`failures export` and `send` need the core dependencies only (a reader's or an operator's machine has no
emulator); `query` needs the query extra and says so when it is missing."""

from __future__ import annotations

from test_dependencies import PYPROJECT, extra_requirements, importable_modules, run_without


def test_day_two_modules_import_with_the_core_dependencies_only(tmp_path):
    core = importable_modules(PYPROJECT["dependencies"])
    extras_only = sorted(importable_modules(extra_requirements("dev")) - core)
    assert "duckdb" in extras_only and "moto" in extras_only  # the block below means something
    pills = tmp_path / "pills.jsonl"
    pills.write_text('{"payloadText": "x", "partitionKey": "k"}\n')
    code = (
        "import ops.failures, ops.put, ops.target, ops.query, cli.day_two\n"
        f"assert [r.data for r in ops.failures.read_pill_file(__import__('pathlib').Path({str(pills)!r}))] == [b'x']\n"
        "try:\n"
        "    ops.query._duckdb()\n"
        "except ops.query.QueryError as error:\n"
        "    print(error)\n"
    )
    result = run_without(extras_only, code)
    assert result.returncode == 0, result.stderr[-2000:]
    assert result.stdout.strip() == "`tributary query` needs duckdb: pip install 'tributary[query]'"
