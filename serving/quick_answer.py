"""`vertical ask` entry point: a thin wrapper over the answer chain (serving.chain)."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path


@dataclass
class Source:
    source: str
    heading: str
    text: str


@dataclass
class QuickAnswer:
    answer: str
    sources: list[Source] = field(default_factory=list)
    trace: str = ""
    path: str = ""


def answer_question(domain: str | Path, question: str, k: int | None = None) -> QuickAnswer:
    from serving.chain import answer

    result = answer(Path(domain), question, k=k)
    sources = [Source(s["source"], s.get("heading", ""), s["text"]) for s in result.sources]
    return QuickAnswer(result.answer, sources, "\n".join(result.trace), result.path)
