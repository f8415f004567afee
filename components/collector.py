"""The garbage collector while the offline engine runs a program: young objects only.

Under Pulumi's mocks every resource leaves a graph of objects behind (an Output per property, each with its
futures and tasks) that lives until the program ends. The collector's passes over the older generations then
re-scan a heap that only grows and holds almost no garbage: a third of a plan's CPU, and more the more tenants.
While the program runs, only the youngest generation is collected, so short-lived cycles are still freed; the
thresholds in force before are restored afterwards, and the next full collection sees whatever was left.
"""

from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager

# Objects allocated (net) between two collections of the youngest generation: Python's default (700) scans the
# many survivors too often for no garbage; this many still bounds the short-lived cycles waiting to be freed.
YOUNG_THRESHOLD = 10_000
# Collections of the younger generation before an older one is collected: never, while the program runs.
NEVER = 1_000_000_000


@contextmanager
def young_collections_only() -> Iterator[None]:
    """Within the block, collect only the youngest generation; restore the thresholds on the way out."""
    before = gc.get_threshold()
    gc.set_threshold(YOUNG_THRESHOLD, NEVER, NEVER)
    try:
        yield
    finally:
        gc.set_threshold(*before)
