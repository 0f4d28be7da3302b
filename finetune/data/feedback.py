"""Feedback store: thumbs up/down and corrected answers, kept in a real database through SQLAlchemy.

One row per rated answer. SQLite in the workspace by default (WAL, busy timeout); PostgreSQL or any
SQLAlchemy URL through ``VERTICAL_DATABASE_URL`` when several API replicas serve one team. Each insert is
its own transaction, so a crash or a second process never leaves half a row. The API's
``POST /v1/domains/{d}/feedback`` is the only writer in a deployment (the UI goes through it); rows become
preference pairs (:mod:`finetune.data.preferences`) and SFT data (:mod:`finetune.data.feedback_export`).
"""

from __future__ import annotations

import json
import threading
import time
from dataclasses import dataclass, field
from typing import Any

from vertical.core.database import database_engine
from vertical.core.errors import DataFormatError
from vertical.core.settings import get_settings

_stores_lock = threading.Lock()


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
            raise DataFormatError(
                f"feedback not saved: {'; '.join(problems)}",
                "rate an answer that has a question and text, or add a correction",
            )


def _table(metadata: Any) -> Any:
    from sqlalchemy import Column, Float, Index, Integer, String, Table, Text

    return Table(
        "feedback",
        metadata,
        Column("id", Integer, primary_key=True, autoincrement=True),
        Column("created", Float, nullable=False),
        Column("domain", String(64), nullable=False),
        Column("model", String(200), nullable=False),
        Column("question", Text, nullable=False),
        Column("answer", Text, nullable=False),
        Column("rating", Integer, nullable=False),
        Column("correction", Text),
        Column("history", Text, nullable=False, default="[]"),
        Column("sources", Text, nullable=False, default="[]"),
        Column("trace", Text, nullable=False, default="[]"),
        Index("feedback_domain", "domain"),
    )


class FeedbackStore:
    """Append-only feedback rows; safe to share between processes and replicas."""

    def __init__(self, url: str | None = None) -> None:
        from sqlalchemy import MetaData

        self.url = url or get_settings().database
        self.engine = database_engine(self.url)
        metadata = MetaData()
        self.table = _table(metadata)
        metadata.create_all(self.engine)

    def add(self, item: Feedback) -> int:
        """Validate and insert one row atomically; returns its id."""
        item.validate()
        correction = (item.correction or "").strip() or None
        with self.engine.begin() as conn:  # one transaction: committed whole or rolled back
            result = conn.execute(
                self.table.insert().values(
                    created=time.time(),
                    domain=item.domain,
                    model=item.model or item.domain,
                    question=item.question,
                    answer=item.answer,
                    rating=item.rating,
                    correction=correction,
                    history=json.dumps(item.history, ensure_ascii=False),
                    sources=json.dumps(item.sources, ensure_ascii=False),
                    trace=json.dumps(item.trace, ensure_ascii=False),
                )
            )
            return int(result.inserted_primary_key[0])

    def list(self, domain: str | None = None) -> list[Feedback]:
        from sqlalchemy import select

        query = select(self.table).order_by(self.table.c.id)
        if domain:
            query = query.where(self.table.c.domain == domain)
        with self.engine.connect() as conn:
            rows = conn.execute(query).mappings().all()
        return [
            Feedback(
                domain=r["domain"],
                question=r["question"],
                answer=r["answer"],
                rating=r["rating"],
                correction=r["correction"],
                model=r["model"],
                history=json.loads(r["history"]),
                sources=json.loads(r["sources"]),
                trace=json.loads(r["trace"]),
                id=r["id"],
                created=r["created"],
            )
            for r in rows
        ]

    def counts(self, domain: str) -> dict[str, int]:
        rows = self.list(domain)
        return {
            "up": sum(r.rating > 0 for r in rows),
            "down": sum(r.rating < 0 for r in rows),
            "corrected": sum(bool(r.correction) for r in rows),
            "total": len(rows),
        }


_stores: dict[str, FeedbackStore] = {}


def store_for(url: str | None = None) -> FeedbackStore:
    """The store for ``url`` (default: the settings' database), created once per process."""
    url = url or get_settings().database
    with _stores_lock:
        store = _stores.get(url)
    if store is None:
        store = _stores.setdefault(url, FeedbackStore(url))
    return store
