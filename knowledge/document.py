"""What a loader returns (:class:`LoadedDocument`) and how it refuses a file (:class:`SkipFile`)."""

from __future__ import annotations

from dataclasses import dataclass, field


class SkipFile(Exception):
    """This file cannot become chunks; ``reason`` goes into the job report."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


@dataclass
class LoadedDocument:
    text: str
    title: str
    markdown: bool = True  # '#' lines are headings
    notes: list[str] = field(default_factory=list)  # non-fatal problems (bad jsonl lines, ...)
    # Records (JSON/YAML/CSV/XLSX): one (heading, text) per record, chunked apart so a chunk never
    # mixes two records. None for prose, which the chunker splits at markdown headings itself.
    sections: list[tuple[str, str]] | None = None
