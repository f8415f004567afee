"""`tributary cost`: the table, the JSON document, the article's view, and one line per bad input."""

from __future__ import annotations

import json

import pytest

from ops.prices import load_prices

PRICES = load_prices()


def invoke(runner, app, project, *args):
    return runner.invoke(app, ["cost", "--project", str(project), *args])


def test_cost_command_is_registered_on_the_tributary_command():
    from cli.main import app

    assert "cost" in {command.name for command in app.registered_commands}


def test_table_shows_each_tenant_by_component_with_totals_idle_floor_and_price_date(runner, cost_app, project):
    result = invoke(runner, cost_app, project, "--stack", "dev")
    assert result.exit_code == 0, result.output
    text = " ".join(result.output.split())
    assert f"{PRICES.region} list prices as of {PRICES.as_of.isoformat()}" in text
    for tenant in ("clicks", "orders", "sensors"):
        assert tenant in text
    for component in ("Kinesis", "Lambda", "DynamoDB", "Firehose", "S3", "KMS", "CloudWatch Logs", "Alarms", "X-Ray"):
        assert component in text
    assert "idle $" in text and "total" in text
    assert "$29.20 a month per stream" in text  # on-demand stream-hours, which the article leaves out


def test_json_prints_the_same_estimate_with_stable_keys_and_numbers(runner, cost_app, project):
    result = invoke(runner, cost_app, project, "--stack", "dev", "--json", "--events-per-day", "2000000")
    assert result.exit_code == 0, result.output
    document = json.loads(result.output)
    assert set(document) == {"prices", "traffic", "tenants", "total_usd", "idle_usd", "notes"}
    assert document["prices"]["as_of"] == PRICES.as_of.isoformat()
    assert document["traffic"] == {"events_per_day": 2_000_000, "record_bytes": 1_000, "duration_ms": 200}
    assert [tenant["tenant"] for tenant in document["tenants"]] == ["clicks", "orders", "sensors"]
    for tenant in document["tenants"]:
        assert set(tenant) == {
            "tenant", "region", "stream_mode", "write_mode", "total_usd", "idle_usd", "components", "shards", "warnings"
        }  # fmt: skip
        assert isinstance(tenant["total_usd"], float) and isinstance(tenant["idle_usd"], float)
        assert tenant["total_usd"] == pytest.approx(sum(c["monthly_usd"] for c in tenant["components"]), abs=1e-3)
        assert tenant["idle_usd"] == pytest.approx(sum(c["idle_usd"] for c in tenant["components"]), abs=1e-3)
        for component in tenant["components"]:
            assert set(component) == {"component", "monthly_usd", "idle_usd", "usage", "charges"}
            for charge in component["charges"]:
                assert set(charge) == {"item", "quantity", "unit", "monthly_usd"}
                assert isinstance(charge["quantity"], int | float) and isinstance(charge["monthly_usd"], int | float)
    assert document["total_usd"] == pytest.approx(sum(t["total_usd"] for t in document["tenants"]), abs=1e-3)


def test_one_named_tenant_is_priced_alone(runner, cost_app, project):
    result = invoke(runner, cost_app, project, "sensors", "--json")
    assert result.exit_code == 0, result.output
    assert [tenant["tenant"] for tenant in json.loads(result.output)["tenants"]] == ["sensors"]


def test_article_view_lands_in_range_beside_tributarys_totals(runner, cost_app, project):
    result = invoke(runner, cost_app, project, "--article", "--json")
    assert result.exit_code == 0, result.output
    view = json.loads(result.output)["article"]
    assert view["in_range"] and 31 <= view["subtotal_usd"] <= 41
    assert [row["component"] for row in view["rows"]] == ["Kinesis", "Lambda", "DynamoDB", "CloudWatch Logs"]
    assert all(row["lands_near"] for row in view["rows"])
    assert set(view["tributary_total_usd"]) == {"clicks", "orders", "sensors"}
    assert all(total > view["subtotal_usd"] for total in view["tributary_total_usd"].values())
    text = " ".join(invoke(runner, cost_app, project, "--article").output.split())
    assert f"come to ${view['subtotal_usd']:,.2f}, inside its $31-41" in text


def test_a_shard_count_below_the_estimate_is_a_warning_line(runner, cost_app, project):
    result = invoke(runner, cost_app, project, "orders", "--events-per-day", "500000000", "--record-bytes", "100")
    assert result.exit_code == 0, result.output
    assert "warning: orders: stream.shards is 4, below the 7" in " ".join(result.output.split())


@pytest.mark.parametrize(
    ("args", "line"),
    [
        (["--events-per-day", "-5"], "--events-per-day: must be at least 0 (got -5)"),
        (["--record-bytes", "0"], "--record-bytes: must be between 1 and 1,048,576"),
        (["--record-bytes", "2000000"], "--record-bytes: must be between 1 and 1,048,576"),
        (["--duration-ms", "0"], "--duration-ms: must be above 0 and at most 900,000 (got 0)"),
        (["nosuch"], "tenant 'nosuch': no such tenant in"),
        (["clicks", "--stack", "cell-1"], "tenant 'clicks': not selected by stack 'cell-1'"),
        (["--stack", "nosuch"], "no such file, so --stack 'nosuch' has no settings"),
    ],
)
def test_bad_input_is_one_line_and_exit_1(runner, cost_app, project, args, line):
    result = invoke(runner, cost_app, project, *args)
    assert result.exit_code == 1, result.output
    lines = result.output.strip().splitlines()
    assert len(lines) == 1 and line in lines[0], result.output
    assert "Traceback" not in result.output


def test_a_bad_tenant_file_is_its_own_line(runner, cost_app, project):
    path = project / "tenants" / "sensors.yaml"
    path.write_text(path.read_text().replace("batch_size: 500", "batch_size: 20000"))
    result = invoke(runner, cost_app, project)
    assert result.exit_code == 1
    assert "sensors.yaml: processing.batch_size: must be between 1 and 10000 (got 20000)" in result.output
