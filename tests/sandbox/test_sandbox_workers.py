"""Lambda execution environments: one process per concurrent invocation, crashes and timeouts as Lambda
reports them, each function's environment its own."""

from __future__ import annotations

import base64

from sandbox_helpers import function_spec


def test_workers_crash_is_a_function_error_and_a_new_worker_takes_over(make_workers):
    function = function_spec("exit_on_crash")
    workers = make_workers(function)
    event = {"Records": [{"kinesis": {"data": base64.b64encode(b"CRASH").decode()}}]}

    crashed = workers.invoke(event)
    event["Records"][0]["kinesis"]["data"] = base64.b64encode(b"fine").decode()
    first, second = workers.invoke(event), workers.invoke(event)

    assert crashed.function_error == "Unhandled" and crashed.error_type == "Runtime.ExitError"
    assert "exit status 137" in crashed.error_message
    assert first.ok and first.cold_start and not second.cold_start
    assert first.payload["pid"] == second.payload["pid"]
    assert workers.stats.crashes == 1


def test_workers_timeout_reports_task_timed_out(make_workers):
    # The handler sleeps 60 s on SLOW: only the parent's deadline can end the invocation as a timeout.
    workers = make_workers(function_spec("sleep_past_timeout", timeout=1))
    result = workers.invoke({"Records": [{"kinesis": {"data": base64.b64encode(b"SLOW").decode()}}]})
    assert result.error_type == "Sandbox.Timedout"
    assert "Task timed out after 1.00 seconds" in result.error_message
    assert workers.stats.timeouts == 1


def test_workers_environment_is_isolated_per_function(make_workers, endpoint_url, monkeypatch, tmp_path):
    monkeypatch.setenv("_X_AMZN_TRACE_ID", "Root=1-parent")
    monkeypatch.setenv("OTHER_ONLY", "from-the-parent")
    first = function_spec("report_environment", {"TENANT": "acme"})
    second = function_spec("report_environment", {"TENANT": "globex", "OTHER_ONLY": "globex-only"})

    a = make_workers(first).invoke({"Records": []})
    b = make_workers(second).invoke({"Records": []})

    assert a.payload["env"] == {
        "TENANT": "acme",
        "AWS_ENDPOINT_URL": endpoint_url,
        "AWS_LAMBDA_FUNCTION_NAME": first.name,
        "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": "256",
        "POWERTOOLS_TRACE_DISABLED": "1",
        "_X_AMZN_TRACE_ID": None,
        "OTHER_ONLY": None,
    }
    assert b.payload["env"]["TENANT"] == "globex" and b.payload["env"]["OTHER_ONLY"] == "globex-only"
    assert a.payload["pid"] != b.payload["pid"]
    context = a.payload["context"]
    assert context["invoked_function_arn"] == first.function_arn
    assert context["log_group_name"] == f"/aws/lambda/{first.name}"
    assert 0 < context["remaining_ms"] <= 10_000
    log = (tmp_path / "logs" / f"{first.name}.log").read_text()
    assert '"message": "environment"' in log and "START RequestId" in log


def test_workers_prewarmed_environments_take_the_first_invocations_warm(make_workers):
    workers = make_workers(function_spec("exit_on_crash"), max_workers=2)
    workers.prewarm()
    workers.wait_warm(timeout=120)
    assert workers.stats.cold_starts == 2, "the whole pool started before any invocation"

    event = {"Records": [{"kinesis": {"data": base64.b64encode(b"fine").decode()}}]}
    first, second = workers.invoke(event), workers.invoke(event)

    assert first.ok and second.ok
    assert not first.cold_start and not second.cold_start
    assert workers.stats.cold_starts == 2, "no invocation started an environment of its own"


def test_workers_prewarm_never_starts_more_than_the_pool_holds(make_workers):
    workers = make_workers(function_spec("exit_on_crash"), max_workers=1)
    workers.prewarm(count=3)
    workers.prewarm()
    workers.wait_warm(timeout=120)
    assert workers.stats.cold_starts == 1
