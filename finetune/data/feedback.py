"""Feedback store: thumbs up/down and corrected answers, kept in a real database through SQLAlchemy.

One row per rated answer. SQLite in the workspace by default (WAL, busy timeout); PostgreSQL or any
SQLAlchemy URL through ``VERTICAL_DATABASE_URL`` when several API replicas serve one team. Each insert is
its own transaction, so a crash or a second process never leaves half a row. The API's
``POST /v1/domains/{d}/feedback`` is the only writer in a deployment (the UI goes through it); rows become
preference pairs (:mod:`finetune.data.preferences`) and SFT data (:mod:`finetune.data.feedback_export`).
Review: thumbs-down and corrected rows wait in a queue (``status`` pending); a reviewer accepts one as
``sft`` or ``preference`` (``target``) or rejects it, and :func:`training_rows` decides what training reads.
Tables from before the review columns get them on open (``_migrate``: ALTER TABLE ADD COLUMN, idempotent).
"""

from __future__ import annotations

import json
import threading
import time
from dataclasses import dataclass, field
from typing import Any

from vertical.core.database import database_engine
from vertical.core.errors import DataFormatError, FeedbackNotFoundError, FeedbackReviewError
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
    status: str = "pending"  # review: pending | accepted | rejected
    target: str | None = None  # what an accepted row trains: "sft" | "preference"
    note: str | None = None  # the reviewer's note
    reviewed: float | None = None

    @property
    def queued(self) -> bool:
        """Thumbs-down and corrections go to the review queue; a plain thumbs-up is only counted."""
        return self.rating < 0 or bool(self.correction)

    def to_dict(self) -> dict:
        keys = ("id", "created", "rating", "question", "answer", "correction", "sources", "status", "target")
        return {**{k: getattr(self, k) for k in keys}, "note": self.note, "reviewed": self.reviewed}

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
        *_review_columns(),
        Index("feedback_domain", "domain"),
    )


def _review_columns() -> list[Any]:
    from sqlalchemy import Column, Float, String, Text

    return [
        Column("status", String(16), nullable=False, default="pending", server_default="pending"),
        Column("target", String(16)),
        Column("note", Text),
        Column("reviewed", Float),
    ]


def _migrate(engine: Any, table: Any) -> None:
    """Add the review columns to a feedback table made before the review queue (idempotent)."""
    from sqlalchemy import inspect
    from sqlalchemy.exc import DBAPIError

    present = {c["name"] for c in inspect(engine).get_columns("feedback")}
    for column in _review_columns():
        if column.name in present:
            continue
        kind = column.type.compile(dialect=engine.dialect)
        extra = " NOT NULL DEFAULT 'pending'" if column.name == "status" else ""  # old rows: not reviewed yet
        try:
            with engine.begin() as conn:
                conn.exec_driver_sql(f"ALTER TABLE {table.name} ADD COLUMN {column.name} {kind}{extra}")
        except DBAPIError:  # another process added it between our look and our ALTER
            if column.name not in {c["name"] for c in inspect(engine).get_columns("feedback")}:
                raise


class FeedbackStore:
    """Feedback rows, appended then reviewed (status/target); safe to share between processes and replicas."""

    def __init__(self, url: str | None = None) -> None:
        from sqlalchemy import MetaData

        self.url = url or get_settings().database
        self.engine = database_engine(self.url)
        metadata = MetaData()
        self.table = _table(metadata)
        metadata.create_all(self.engine)
        _migrate(self.engine, self.table)

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
            return [_row(r) for r in conn.execute(query).mappings().all()]

    def queue(self, domain: str, status: str = "pending", limit: int = 50) -> list[Feedback]:
        """Thumbs-down and corrected rows with this review status ("all": any), newest first."""
        from sqlalchemy import select

        t = self.table.c
        query = select(self.table).where((t.domain == domain) & ((t.rating < 0) | t.correction.is_not(None)))
        if status != "all":
            query = query.where(t.status == status)
        with self.engine.connect() as conn:
            rows = conn.execute(query.order_by(t.id.desc()).limit(limit)).mappings().all()
        return [_row(r) for r in rows]

    def review(self, domain: str, item_id: int, decision: str, note: str | None = None) -> Feedback:
        """Accept a row as SFT data or a preference pair, or reject it; a later review replaces it."""
        from sqlalchemy import select, update

        if decision not in DECISIONS:
            raise FeedbackReviewError(
                f"decision must be one of {', '.join(DECISIONS)}, got {decision!r}",
                hint="send sft, preference or reject",
            )
        t = self.table
        with self.engine.begin() as conn:
            found = conn.execute(select(t).where((t.c.id == item_id) & (t.c.domain == domain))).mappings().first()
            if found is None:
                raise FeedbackNotFoundError(
                    f"no feedback {item_id} in domain {domain!r}", hint="list the queue with GET .../feedback"
                )
            if decision != "reject" and not found["correction"]:
                use = "the corrected answer is the SFT target" if decision == "sft" else "chosen = the correction"
                raise FeedbackReviewError(
                    f"feedback {item_id} has no correction, so it cannot be accepted as {decision} ({use})",
                    hint="reject it, or have someone add a corrected answer first",
                )
            values = {
                "status": "rejected" if decision == "reject" else "accepted",
                "target": None if decision == "reject" else decision,
                "note": (note or "").strip() or None,
                "reviewed": time.time(),
            }
            conn.execute(update(t).where(t.c.id == item_id).values(**values))
        return _row({**found, **values})

    def review_counts(self, domain: str) -> dict[str, int]:
        """Queue and rating counts in one grouped query."""
        from sqlalchemy import func, select

        t = self.table.c
        corrected = t.correction.is_not(None)
        query = (
            select(t.rating, corrected.label("corrected"), t.status, t.target, func.count().label("n"))
            .where(t.domain == domain)
            .group_by(t.rating, corrected, t.status, t.target)
        )
        out = dict.fromkeys(
            ("pending", "accepted_sft", "accepted_preference", "rejected", "up", "down", "corrected", "total"), 0
        )
        with self.engine.connect() as conn:
            for rating, has_correction, status, target, n in conn.execute(query):
                out["total"] += n
                out["up"] += n if rating > 0 else 0
                out["down"] += n if rating < 0 else 0
                out["corrected"] += n if has_correction else 0
                if status == "accepted" and target in ("sft", "preference"):
                    out[f"accepted_{target}"] += n
                elif status == "rejected":
                    out["rejected"] += n
                elif rating < 0 or has_correction:  # pending and queued; a plain thumbs-up is not
                    out["pending"] += n
        return out

    def counts(self, domain: str) -> dict[str, int]:
        c = self.review_counts(domain)
        return {k: c[k] for k in ("up", "down", "corrected", "total")}


DECISIONS = ("sft", "preference", "reject")


def _row(r: Any) -> Feedback:
    return Feedback(
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
        status=r["status"] or "pending",
        target=r["target"],
        note=r["note"],
        reviewed=r["reviewed"],
    )


def training_rows(rows: list[Feedback], target: str) -> list[Feedback]:
    """The rows that may become ``target`` ("sft" | "preference") training data.

    Until anyone reviews a row of the domain, all rows (as before the review queue). Once the queue is
    in use: queued rows (thumbs-down, corrections) only when accepted for this target; plain thumbs-up
    rows, which are never queued, stay in.
    """
    if all(r.status == "pending" for r in rows):
        return rows
    return [r for r in rows if not r.queued or (r.status == "accepted" and r.target == target)]


_stores: dict[str, FeedbackStore] = {}


def store_for(url: str | None = None) -> FeedbackStore:
    """The store for ``url`` (default: the settings' database), created once per process."""
    url = url or get_settings().database
    with _stores_lock:
        store = _stores.get(url)
    if store is None:
        store = _stores.setdefault(url, FeedbackStore(url))
    return store
