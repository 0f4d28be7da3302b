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

from vertical.core.errors import DataFormatError, SpecError
from vertical.core.settings import get_settings

_engines: dict[str, Any] = {}
_engines_lock = threading.Lock()


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


def database_engine(url: str) -> Any:
    """One SQLAlchemy engine per URL per process (SQLite: WAL and a busy timeout for concurrent writers)."""
    from sqlalchemy import create_engine, event
    from sqlalchemy.exc import ArgumentError, NoSuchModuleError

    with _engines_lock:
        if url not in _engines:
            try:
                from sqlalchemy.engine import make_url

                make_url(url).get_dialect()
            except (ArgumentError, NoSuchModuleError, ValueError) as exc:
                raise SpecError(
                    f"database URL {url!r} is not one SQLAlchemy can open ({exc})",
                    hint="set VERTICAL_DATABASE_URL to e.g. sqlite:////path/vertical.sqlite or "
                    "postgresql+psycopg://user:pass@host/db",
                ) from exc
            if url.startswith("sqlite"):
                from pathlib import Path

                Path(url.split("///", 1)[-1]).parent.mkdir(parents=True, exist_ok=True)
                engine = create_engine(url, connect_args={"timeout": 10.0})

                @event.listens_for(engine, "connect")
                def _wal(conn: Any, _record: Any) -> None:
                    conn.execute("PRAGMA journal_mode=WAL")
            else:
                engine = create_engine(url, pool_pre_ping=True)
            _engines[url] = engine
        return _engines[url]


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
    with _engines_lock:
        store = _stores.get(url)
    if store is None:
        store = _stores.setdefault(url, FeedbackStore(url))
    return store
