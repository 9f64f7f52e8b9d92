"""Reading a script without the cycle collector running in the middle of it.

Reading a long script creates millions of small objects (tokens, words,
locations, specs) and no reference cycles; each time the allocations pass
the collector's thresholds it walks every object still alive, so a full
read of a 4 MB script spent about a third of its time in collections that
freed nothing. Reading and checking one script pause the collector, and
``dockaudit check`` pauses it from the first file to the report: let run
between the steps, it walks the millions of objects of the script just read
once more (a twentieth of the time of a 4 MB check), while reference
counting alone frees what each file leaves behind (a check of the whole
corpus ends with the same peak memory with the collector paused or not).
"""

from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager


@contextmanager
def collector_paused() -> Iterator[None]:
    """Pause automatic garbage collection for the block (re-entrant)."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()
