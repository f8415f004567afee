"""Benchmarks of the handler, the plan and the sandbox, with their results (RESULTS.md); `python -m bench`."""
