"""`tributary plan` ends with one row per tenant: its resources, lifecycle, policy verdict and monthly cost."""

import re

from cli.main import app
from components.config import load_tenants, tenant_files
from components.stack import read_named_stack
from ops.cost import monthly_estimate


def _rows(output: str) -> dict[str, list[str]]:
    """The per-tenant table's rows, by tenant: the lines that start with a tenant name and a resource count."""
    rows = {}
    for line in output.splitlines():
        cells = line.split()
        if len(cells) == 6 and re.fullmatch(r"\d+", cells[1]):
            rows[cells[0]] = cells[1:]
    return rows


def test_plan_shows_each_tenants_monthly_cost_as_tributary_cost_estimates_it(runner, project):
    result = runner.invoke(app, ["plan", "--project", str(project), "--stack", "dev"], terminal_width=200)

    assert result.exit_code == 0, result.output
    settings = read_named_stack(project, "dev")
    tenants = load_tenants(tenant_files(project / settings.tenants_dir), "dev")
    rows = _rows(result.output)
    assert set(rows) == {t.tenant for t in tenants}
    for tenant in tenants:
        estimate = monthly_estimate(tenant, settings)
        resources, lifecycle, verdict, monthly, idle = rows[tenant.tenant]
        assert (lifecycle, verdict) == ("active", "ok")
        assert monthly == f"{estimate.total:,.2f}" and idle == f"{estimate.idle:,.2f}"
        assert estimate.total > estimate.idle > 0


def test_plan_prices_no_traffic_for_a_tenant_that_runs_no_pipeline(runner, project):
    sensors = project / "tenants" / "sensors.yaml"
    sensors.write_text(sensors.read_text() + "\nlifecycle: offboarded\n")

    result = runner.invoke(app, ["plan", "--project", str(project), "--stack", "dev"], terminal_width=200)

    assert result.exit_code == 0, result.output
    assert _rows(result.output)["sensors"][1:] == ["offboarded", "ok", "-", "-"]
