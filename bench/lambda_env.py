"""The environment a benchmarked function runs with: Lambda's own variables plus the tenant's.

Lambda's variables are the ones its runtimes set (https://docs.aws.amazon.com/lambda/latest/dg/configuration-envvars.html,
"Defined runtime environment variables"); the tenant's come from the processor component's own function
(components/handler_env.py), so the handler reads exactly what `pulumi up` would give it.
"""

from __future__ import annotations

import os

from bench.workload import ROOT, TENANT_OF_MODE, tenant_path

REGION = "us-east-1"
ACCOUNT = "123456789012"
MEMORY_MB = "1024"
DUMMY_CREDENTIALS = {
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing",
    "AWS_SESSION_TOKEN": "testing",
}
# Kept from the calling shell: where programs are, nothing that could point boto3 at a real account.
PASSED_THROUGH = ("PATH", "HOME", "LANG", "LC_ALL", "TMPDIR")


def basic_environment() -> dict[str, str]:
    """A process outside Lambda: the shell's basics, no AWS variable."""
    return {key: os.environ[key] for key in PASSED_THROUGH if key in os.environ}


def lambda_runtime_environment(function_name: str) -> dict[str, str]:
    """What Lambda's Python runtime sets before it imports the handler (credentials are dummies)."""
    from components import defaults

    return {
        **basic_environment(),
        "AWS_LAMBDA_FUNCTION_NAME": function_name,
        "AWS_LAMBDA_FUNCTION_VERSION": "$LATEST",
        "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": MEMORY_MB,
        "AWS_LAMBDA_INITIALIZATION_TYPE": "on-demand",
        "AWS_LAMBDA_LOG_GROUP_NAME": f"/aws/lambda/{function_name}",
        "AWS_LAMBDA_LOG_STREAM_NAME": "2026/01/01/[$LATEST]0123456789abcdef0123456789abcdef",
        "AWS_EXECUTION_ENV": f"AWS_Lambda_{defaults.LAMBDA_RUNTIME}",
        "AWS_REGION": REGION,
        "AWS_DEFAULT_REGION": REGION,
        "LAMBDA_TASK_ROOT": str(ROOT),
        "LAMBDA_RUNTIME_DIR": "/var/runtime",
        "_HANDLER": defaults.LAMBDA_HANDLER,
        "TZ": ":UTC",
        **DUMMY_CREDENTIALS,
    }


def tenant_environment(mode: str, queue_url: str) -> dict[str, str]:
    """The variables the processor component sets for the example tenant of `mode`."""
    from components.config import load_tenant
    from components.handler_env import handler_environment

    tenant = load_tenant(tenant_path(mode))
    return handler_environment(tenant, table_name=f"{tenant.tenant}-bench", failure_queue_url=queue_url)


def function_environment(mode: str, endpoint_url: str) -> dict[str, str]:
    """The whole environment of the tenant's function, its AWS calls sent to `endpoint_url`.

    Tracing is off, as in the sandbox's workers: there is no X-Ray daemon here to send segments to.
    """
    name = f"{TENANT_OF_MODE[mode]}-bench-processor"
    queue_url = f"{endpoint_url}/{ACCOUNT}/{TENANT_OF_MODE[mode]}-bench-failures"
    return {
        **lambda_runtime_environment(name),
        **tenant_environment(mode, queue_url),
        "AWS_ENDPOINT_URL": endpoint_url,
        "POWERTOOLS_TRACE_DISABLED": "1",
    }
