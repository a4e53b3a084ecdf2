"""The cyclic garbage collector's settings for a capturing process.

A backfill allocates millions of short-lived objects (parsed headers,
drafts, plans, rows). With CPython's defaults the collector runs a young
collection every 700 net allocations and a full one each time the
survivors grow by a quarter, and a full collection walks every object the
process holds, most of them the modules and data it loaded once (the
public suffix list, name lists, phone metadata, SQLAlchemy's tables). In
the IMAP benchmark that was a sixth of the agent's CPU.

``settle`` is called once, when the agent has loaded what it needs and
before its first sync: what exists then is moved out of the collector's
sight for good (``gc.freeze``), and collections run less often. Reference
counting still frees everything that is not in a cycle at once; cycles
wait a little longer. The read-ahead child inherits both when it forks.
"""

from __future__ import annotations

import gc

# Young collections every 10,000 net container allocations instead of 700;
# a full one every 100 young ones at most, as before relative to it.
THRESHOLDS = (10_000, 10, 10)

_settled = False


def settle() -> None:
    """Freeze what is loaded and relax the thresholds; later calls do nothing.

    Only once: objects frozen stay uncollected even when they become
    garbage, so freezing again at every poll would keep each poll's cycles.
    """
    global _settled
    if _settled:
        return
    gc.collect()  # garbage made while loading is freed, not frozen
    gc.freeze()
    gc.set_threshold(*THRESHOLDS)
    _settled = True
