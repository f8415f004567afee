"""Tributary's CrossGuard policy pack: `rules/` (one rule per module), `run.py` (the rules over an offline plan,
for `tributary plan` and the tests) and `__main__.py` (the pack Pulumi runs; never imported)."""
