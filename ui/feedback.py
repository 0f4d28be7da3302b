"""Feedback store: thumbs up/down and corrected answers from the chat page, kept in SQLite.

One row per rated answer in ``<workspace>/feedback.sqlite``. Each insert is its own transaction
(WAL mode, busy timeout), so a crash or a second UI process never leaves half a row. Rows are
turned into training data by :mod:`ui.feedback_export`.
"""

from __future__ import annotations

import json
import sqlite3
import time
from dataclasses import dataclass, field
from pathlib import Path

from vertical.core.errors import DataFormatError
from vertical.core.settings import get_settings

SCHEMA = """
CREATE TABLE IF NOT EXISTS feedback (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    created REAL NOT NULL,
    domain TEXT NOT NULL,
    model TEXT NOT NULL,
    question TEXT NOT NULL,
    answer TEXT NOT NULL,
    rating INTEGER NOT NULL CHECK (rating IN (-1, 0, 1)),
    correction TEXT,
    history TEXT NOT NULL DEFAULT '[]',
    sources TEXT NOT NULL DEFAULT '[]',
    trace TEXT NOT NULL DEFAULT '[]'
);
CREATE INDEX IF NOT EXISTS feedback_domain ON feedback(domain);
"""


@dataclass
class Feedback:
    domain: str
    question: str
    answer: str
    rating: int  # +1 thumbs up, -1 thumbs down, 0 correction only
    correction: str | None = None
    model: str = ""
    history: list[dict] = field(default_factory=list)  # earlier turns: [{"role", "content"}]
    sources: list[str] = field(default_factory=list)  # document names the answer cited
    trace: list[str] = field(default_factory=list)
    id: int | None = None
    created: float = 0.0

    def validate(self) -> None:
        problems = []
        if not self.domain.strip():
            problems.append("domain is empty")
        if not self.question.strip():
            problems.append("question is empty")
        if not self.answer.strip():
            problems.append("answer is empty")
        if self.rating not in (-1, 0, 1):
            problems.append(f"rating must be -1, 0 or 1, got {self.rating!r}")
        if self.rating == 0 and not (self.correction or "").strip():
            problems.append("a rating of 0 needs a correction")
        if problems:
            raise DataFormatError(f"feedback not saved: {'; '.join(problems)}",
                                  "rate an answer that has a question and text, or add a correction")


def default_path() -> Path:
    return get_settings().workspace / "feedback.sqlite"


class FeedbackStore:
    """Append-only feedback rows; safe to share between processes."""

    def __init__(self, path: Path | None = None) -> None:
        self.path = Path(path or default_path())
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with self._connect() as conn:
            conn.executescript(SCHEMA)

    def _connect(self) -> sqlite3.Connection:
        conn = sqlite3.connect(self.path, timeout=10.0)
        conn.execute("PRAGMA journal_mode=WAL")
        conn.row_factory = sqlite3.Row
        return conn

    def add(self, item: Feedback) -> int:
        """Validate and insert one row atomically; returns its id."""
        item.validate()
        correction = (item.correction or "").strip() or None
        conn = self._connect()
        try:
            with conn:  # one transaction: committed whole or rolled back
                cur = conn.execute(
                    "INSERT INTO feedback (created, domain, model, question, answer, rating, correction,"
                    " history, sources, trace) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                    (time.time(), item.domain, item.model or item.domain, item.question, item.answer,
                     item.rating, correction, json.dumps(item.history, ensure_ascii=False),
                     json.dumps(item.sources, ensure_ascii=False), json.dumps(item.trace, ensure_ascii=False)),
                )
            return int(cur.lastrowid)
        finally:
            conn.close()

    def list(self, domain: str | None = None) -> list[Feedback]:
        conn = self._connect()
        try:
            query, args = "SELECT * FROM feedback", ()
            if domain:
                query, args = query + " WHERE domain = ?", (domain,)
            rows = conn.execute(query + " ORDER BY id", args).fetchall()
        finally:
            conn.close()
        return [Feedback(domain=r["domain"], question=r["question"], answer=r["answer"], rating=r["rating"],
                         correction=r["correction"], model=r["model"], history=json.loads(r["history"]),
                         sources=json.loads(r["sources"]), trace=json.loads(r["trace"]), id=r["id"],
                         created=r["created"]) for r in rows]

    def counts(self, domain: str) -> dict[str, int]:
        rows = self.list(domain)
        return {"up": sum(r.rating > 0 for r in rows), "down": sum(r.rating < 0 for r in rows),
                "corrected": sum(bool(r.correction) for r in rows), "total": len(rows)}
