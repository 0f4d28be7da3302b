"""Per-KB retrieval statistics, rebuilt with the BM25 index: embedder coverage, word document
frequencies and the calibrated confidence threshold (``retrieval_stats.json`` beside the store).

Derived data like the BM25 index: tagged with the content hash (and embedder) it was computed from,
written atomically, recomputed whenever the tag is not the KB's. Never part of the commit protocol.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from knowledge.confidence import Calibration, LexicalStats, calibrate
from knowledge.coverage import EmbedderCoverage, measure
from knowledge.offdomain import questions
from vertical.core.fsutil import atomic_write_json

FILENAME = "retrieval_stats.json"
VERSION = 1


@dataclass(frozen=True)
class RetrievalStats:
    content_hash: str
    embedder: str
    coverage: EmbedderCoverage | None
    lexical: LexicalStats
    calibration: Calibration | None

    def tag(self) -> tuple[str, str]:
        return self.content_hash, self.embedder

    def to_dict(self) -> dict[str, Any]:
        return {
            "version": VERSION,
            "content_hash": self.content_hash,
            "embedder": self.embedder,
            "coverage": self.coverage.to_dict() if self.coverage else None,
            "calibration": self.calibration.to_dict() if self.calibration else None,
            "lexical": {"chunks": self.lexical.chunks, "df": self.lexical.df},
        }

    def summary(self) -> dict[str, Any]:
        """What the ingest report shows (no df table)."""
        data = self.to_dict()
        data.pop("lexical")
        data.pop("version")
        return data


def load(folder: Path) -> RetrievalStats | None:
    path = folder / FILENAME
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    if data.get("version") != VERSION:
        return None
    coverage = EmbedderCoverage.from_dict(data["coverage"]) if data.get("coverage") else None
    calibration = Calibration.from_dict(data["calibration"]) if data.get("calibration") else None
    lexical = LexicalStats(int(data["lexical"]["chunks"]), dict(data["lexical"]["df"]))
    return RetrievalStats(data["content_hash"], data["embedder"], coverage, lexical, calibration)


def build(
    folder: Path, embedder: str, content_hash: str, texts: list[str], top_texts: Callable[[str], list[str]]
) -> RetrievalStats:
    """Measure and calibrate over ``texts`` (the chunks' index texts), save, and return the stats."""
    lexical = LexicalStats.build(texts)
    coverage = measure(embedder, texts) if texts else None
    calibration = calibrate(texts, lexical, top_texts, questions) if texts else None
    stats = RetrievalStats(content_hash, embedder, coverage, lexical, calibration)
    folder.mkdir(parents=True, exist_ok=True)
    atomic_write_json(folder / FILENAME, stats.to_dict())
    return stats
