"""Tributary: one real-time pipeline per tenant file, for the tenants this stack selects."""

from pathlib import Path

import pulumi

from components.config import TenantFileError
from components.packaging import PackageNotBuilt
from components.program import run
from components.stack import StackSettings, pulumi_stack_config

try:
    settings = StackSettings.from_config(pulumi_stack_config(), "stack config")
    run(Path(__file__).parent, pulumi.get_stack(), settings)
except TenantFileError as error:
    # One line per problem, no traceback: the same report `tributary validate` prints.
    raise pulumi.RunError("invalid tenant files or stack config:\n" + str(error)) from None
except PackageNotBuilt as error:
    raise pulumi.RunError(str(error)) from None
