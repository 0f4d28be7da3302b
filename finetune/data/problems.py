"""Malformed-record bookkeeping: every skipped record is counted with ``file:line`` and a reason.

Readers never drop a record silently. They append a :class:`Problem`; the pipeline counts them in
the stats report, and :func:`raise_if_strict` turns them into a :class:`DataFormatError` listing the
first few when ``spec.data.strict`` is set.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from dataclasses import asdict, dataclass

from vertical.core.errors import DataFormatError

SHOWN_IN_ERRORS = 5


@dataclass(frozen=True)
class Problem:
    source: str  # "path/to/file.jsonl:17"
    reason: str  # short, countable: "bad JSON", "empty content", "non-alternating turns", ...
    detail: str = ""

    def __str__(self) -> str:
        return f"{self.source}: {self.reason}" + (f" ({self.detail})" if self.detail else "")

    def to_dict(self) -> dict[str, str]:
        return asdict(self)


def count_by_reason(problems: Iterable[Problem]) -> dict[str, int]:
    return dict(Counter(p.reason for p in problems).most_common())


def raise_if_strict(problems: list[Problem], strict: bool, what: str = "training data") -> None:
    """In strict mode any problem fails the build; the message lists the first few with file:line."""
    if not strict or not problems:
        return
    shown = "\n".join(f"  {p}" for p in problems[:SHOWN_IN_ERRORS])
    more = f"\n  … and {len(problems) - SHOWN_IN_ERRORS} more" if len(problems) > SHOWN_IN_ERRORS else ""
    raise DataFormatError(
        f"{len(problems)} malformed record(s) in {what}:\n{shown}{more}",
        hint="fix the records listed above, or set data.strict: false to skip them (they are counted in the report)",
    )
