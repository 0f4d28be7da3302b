"""A per-file time budget: parsing and chunking one file stop with a clear skip reason when it runs out.

The job opens ``file_budget(seconds)`` around each file; loaders and the chunker call ``check(stage)``
between pages, records, rows and pieces. A context variable carries the deadline, so concurrent
jobs in threads each see their own. Our own steps are linear in the file size (long lines are cut
before sentence splitting, zip archives are bounded before they are opened), so the budget is the
backstop for a parser that is slow on one odd file, and it bounds the time a file can hold a job.
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Iterator
from contextvars import ContextVar

from knowledge.document import SkipFile

_deadline: ContextVar[tuple[float, float] | None] = ContextVar("knowledge_file_deadline", default=None)


@contextlib.contextmanager
def file_budget(seconds: float | None) -> Iterator[None]:
    token = _deadline.set((time.perf_counter() + seconds, seconds) if seconds else None)
    try:
        yield
    finally:
        _deadline.reset(token)


def check(stage: str) -> None:
    """Raise SkipFile when the current file's budget is spent (no-op outside a budget)."""
    current = _deadline.get()
    if current is not None and time.perf_counter() > current[0]:
        raise SkipFile(
            f"over the per-file time budget of {current[1]:g} s while {stage}; split the file or "
            f"raise knowledge.max_file_seconds"
        )
