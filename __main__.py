"""Tributary: one real-time pipeline per tenant file, for the tenants this stack selects."""

from pathlib import Path

import pulumi

from components.config import TenantFileError
from components.program import run
from components.stack import StackSettings

# The documented `tributary:` keys (Pulumi.yaml); objects are JSON-decoded by get_object.
STACK_KEYS = ("tenants", "tenantsDir", "notify", "powertoolsLayerArn", "powertoolsLayerVersion")

config = pulumi.Config("tributary")
values = {f"tributary:{key}": config.get_object(key) for key in STACK_KEYS}
values["aws:region"] = pulumi.Config("aws").get("region")
try:
    settings = StackSettings.from_config({k: v for k, v in values.items() if v is not None}, "stack config")
    run(Path(__file__).parent, pulumi.get_stack(), settings)
except TenantFileError as error:
    # One line per problem, no traceback: the same report `tributary validate` prints.
    raise pulumi.RunError("invalid tenant files or stack config:\n" + str(error)) from None
