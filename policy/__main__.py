"""The CrossGuard policy pack: `pulumi preview --policy-pack policy` runs this file.

Pulumi runs the pack folder as a program (`python -m pulumi.policy <engine> policy`), so this folder is first on
`sys.path` and the rules import as `rules`. Constructing the PolicyPack serves the rules to the engine and never
returns: nothing else may import this module.
"""

from pulumi_policy import PolicyPack
from rules import ENFORCEMENT, PACK_NAME, RULES

PolicyPack(
    name=PACK_NAME,
    enforcement_level=ENFORCEMENT,
    policies=RULES,
    description="Tributary's production checklist for every tenant's pipeline.",
)
