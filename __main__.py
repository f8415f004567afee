"""Tributary: one real-time pipeline per tenant file, for the tenants this stack selects."""

from pathlib import Path

import pulumi

from components.config import TenantFileError
from components.packaging import PackageNotBuilt
from components.program import run
from components.stack import StackSettings

config = pulumi.Config("tributary")
# The documented `tributary:` keys (Pulumi.yaml), each read with its type's getter.
values = {
    "tributary:tenants": config.get_object("tenants"),
    "tributary:notify": config.get_object("notify"),
    "tributary:tenantsDir": config.get("tenantsDir"),
    "tributary:powertoolsLayerArn": config.get("powertoolsLayerArn"),
    "tributary:powertoolsLayerVersion": config.get_int("powertoolsLayerVersion"),
    "aws:region": pulumi.Config("aws").get("region"),
}
try:
    settings = StackSettings.from_config({k: v for k, v in values.items() if v is not None}, "stack config")
    run(Path(__file__).parent, pulumi.get_stack(), settings)
except TenantFileError as error:
    # One line per problem, no traceback: the same report `tributary validate` prints.
    raise pulumi.RunError("invalid tenant files or stack config:\n" + str(error)) from None
except PackageNotBuilt as error:
    raise pulumi.RunError(str(error)) from None
