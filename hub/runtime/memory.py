"""How the hub's process keeps Python's cyclic garbage collector off its hot paths.

Every record the router or the delivery engine handles allocates a few dozen short-lived
objects (a CloudEvent, payload dicts, pydantic models, closures). With CPython's default
thresholds (700, 10, 10) that is a collection of the youngest generation every few records and
one of all generations often enough that the collector walks the whole heap built at start-up
(the config, every contract's schema, FastAPI's routes, a sink per destination) again and
again, none of which is ever garbage. Measured on the router's decision path (5,000 e-forms
submissions, no Kafka): 127 µs per record with the defaults, 104 µs with the start-up heap
frozen and the youngest generation collected every 10,000 allocations (docs/design.md).

The fix is CPython's own (``gc.freeze``, Python 3.7+, made for this use by pre-fork servers):
once the hub has started, everything alive is moved to a permanent generation the collector
never scans; reference counting still frees what is not in a cycle at once, and cycles made
later are collected as before, only less often.
"""

from __future__ import annotations

import gc

__all__ = ["YOUNGEST_THRESHOLD", "freeze_start_up_heap"]

# Allocations (minus deallocations) between two collections of the youngest generation. A
# cycle made per record waits at most this many allocations: a few MB at most.
YOUNGEST_THRESHOLD = 10_000


def freeze_start_up_heap() -> None:
    """Collect once, then hide every object alive now from the collector and collect the
    youngest generation every ``YOUNGEST_THRESHOLD`` allocations (the older two as before)."""
    gc.collect()
    gc.freeze()
    _youngest, middle, oldest = gc.get_threshold()
    gc.set_threshold(YOUNGEST_THRESHOLD, middle, oldest)
