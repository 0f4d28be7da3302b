"""Conversations kept on the server, so a user's chats survive a browser reload, a new device or a restart.

Two tables through SQLAlchemy Core (the shared engine of :mod:`vertical.core.database`: SQLite in the
workspace, PostgreSQL when replicas share one database): ``conversations`` (one row per chat, owned by
one API key within one domain) and ``conversation_messages`` (its messages in order, with the ``meta``
the UI shows: sources, grounding, trace). Each write is one transaction. The owner is a one-way hash of
the API key (the key itself is never stored), or ``"local"`` when the server has no keys.

Retention (``VERTICAL_CONVERSATION_RETENTION_DAYS``, default 90, 0 = forever): a conversation not updated
within it is invisible at once and deleted with its messages when the store first opens in a process and
then at most every ``PURGE_EVERY_S`` on create/list (one indexed delete).
"""

from __future__ import annotations

import hashlib
import json
import threading
import time
import uuid
from dataclasses import dataclass, field
from typing import Any, Literal

from vertical.core.database import database_engine
from vertical.core.errors import ConversationLimitError, ConversationNotFoundError
from vertical.core.settings import get_settings
from vertical.core.text import normalize

MAX_CONTENT_CHARS = 32_000
MAX_MESSAGES = 1000
MAX_TITLE_CHARS = 200
AUTO_TITLE_CHARS = 60
MAX_META_CHARS = 256_000  # sources with their quoted text, grounding, trace
PURGE_EVERY_S = 600.0
LOCAL_OWNER = "local"

Role = Literal["user", "assistant"]


def owner_id(api_key: str | None) -> str:
    """A stable id for an API key that does not reveal it; ``"local"`` for a server without keys."""
    if not api_key:
        return LOCAL_OWNER
    return hashlib.sha256(api_key.encode("utf-8")).hexdigest()[:32]


def auto_title(text: str) -> str:
    """The first user message on one line, cut to AUTO_TITLE_CHARS (characters, so CJK cuts cleanly)."""
    line = " ".join(normalize(text).split())  # collapse whitespace only
    return line if len(line) <= AUTO_TITLE_CHARS else line[: AUTO_TITLE_CHARS - 1].rstrip() + "…"


@dataclass
class Message:
    role: str
    content: str
    meta: dict[str, Any]
    created: float

    def to_dict(self) -> dict[str, Any]:
        return {"role": self.role, "content": self.content, "meta": self.meta, "created": self.created}


@dataclass
class Conversation:
    id: str
    title: str
    created: float
    updated: float
    turns: int = 0  # user messages
    messages: list[Message] = field(default_factory=list)

    def summary(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "title": self.title,
            "created": self.created,
            "updated": self.updated,
            "turns": self.turns,
        }

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "title": self.title,
            "created": self.created,
            "updated": self.updated,
            "messages": [m.to_dict() for m in self.messages],
        }


def _tables(metadata: Any) -> tuple[Any, Any]:
    from sqlalchemy import Column, Float, ForeignKey, Index, Integer, String, Table, Text

    conversations = Table(
        "conversations",
        metadata,
        Column("id", String(32), primary_key=True),
        Column("domain", String(64), nullable=False),
        Column("owner", String(64), nullable=False),
        Column("title", String(MAX_TITLE_CHARS), nullable=False, default=""),
        Column("created", Float, nullable=False),
        Column("updated", Float, nullable=False),
        Index("conversations_owner", "domain", "owner", "updated"),
        Index("conversations_updated", "updated"),  # the retention delete
    )
    messages = Table(
        "conversation_messages",
        metadata,
        Column("id", Integer, primary_key=True, autoincrement=True),
        Column("conversation_id", String(32), ForeignKey("conversations.id", ondelete="CASCADE"), nullable=False),
        Column("position", Integer, nullable=False),
        Column("role", String(16), nullable=False),
        Column("content", Text, nullable=False),
        Column("meta", Text, nullable=False, default="{}"),
        Column("created", Float, nullable=False),
        Index("conversation_messages_order", "conversation_id", "position", unique=True),
    )
    return conversations, messages


def _check_title(title: str) -> str:
    title = " ".join(normalize(title).split())
    if not title:
        raise ConversationLimitError("the title is empty", hint="send a title with some text", param="title")
    if len(title) > MAX_TITLE_CHARS:
        raise ConversationLimitError(
            f"the title has {len(title)} characters; a title holds at most {MAX_TITLE_CHARS}",
            hint="send a shorter title",
            param="title",
        )
    return title


def _check_message(role: str, content: str, meta: dict[str, Any] | None) -> str:
    if role not in ("user", "assistant"):
        raise ConversationLimitError(
            f"role must be 'user' or 'assistant', got {role!r}", hint="store user and assistant messages", param="role"
        )
    if not content.strip():
        raise ConversationLimitError("the message is empty", hint="send the message text", param="content")
    if len(content) > MAX_CONTENT_CHARS:
        raise ConversationLimitError(
            f"the message has {len(content)} characters; a stored message holds at most {MAX_CONTENT_CHARS}",
            hint="send a shorter message",
            param="content",
        )
    try:
        meta_text = json.dumps(meta or {}, ensure_ascii=False)
    except (TypeError, ValueError) as exc:
        raise ConversationLimitError(
            f"meta is not JSON: {exc}", hint="send meta as a JSON object", param="meta"
        ) from exc
    if len(meta_text) > MAX_META_CHARS:
        raise ConversationLimitError(
            f"meta has {len(meta_text)} characters serialized; at most {MAX_META_CHARS}",
            hint="send fewer or shorter sources in meta",
            param="meta",
        )
    return meta_text


def _not_found(conversation_id: str) -> ConversationNotFoundError:
    return ConversationNotFoundError(
        f"no conversation {conversation_id!r} for this key in this domain",
        hint="list your conversations with GET /v1/domains/{domain}/conversations",
    )


class ConversationStore:
    """Conversations per (domain, owner); every method is one transaction."""

    def __init__(self, url: str | None = None, retention_days: float | None = None) -> None:
        from sqlalchemy import MetaData

        self.url = url or get_settings().database
        self.engine = database_engine(self.url)
        self._retention_days = retention_days
        metadata = MetaData()
        self.conversations, self.messages = _tables(metadata)
        metadata.create_all(self.engine)
        self._last_purge = 0.0
        self.purge_expired()  # start-up: old conversations go before anyone can read them

    # ---- retention -----------------------------------------------------------------------------
    @property
    def retention_days(self) -> float:
        return get_settings().conversation_retention_days if self._retention_days is None else self._retention_days

    def _cutoff(self, now: float) -> float:
        """Conversations updated before this are expired (-inf when kept forever)."""
        days = self.retention_days
        return now - days * 86_400 if days > 0 else float("-inf")

    def purge_expired(self, now: float | None = None) -> int:
        """Delete expired conversations and their messages; returns how many conversations went."""
        from sqlalchemy import delete, select

        now = time.time() if now is None else now
        self._last_purge = now
        if self.retention_days <= 0:
            return 0
        c, m = self.conversations, self.messages
        expired = select(c.c.id).where(c.c.updated < self._cutoff(now))
        with self.engine.begin() as conn:  # messages first: SQLite does not enforce the foreign key
            conn.execute(delete(m).where(m.c.conversation_id.in_(expired)))
            return conn.execute(delete(c).where(c.c.updated < self._cutoff(now))).rowcount

    def _maybe_purge(self, now: float) -> None:
        if now - self._last_purge >= PURGE_EVERY_S:
            self.purge_expired(now)

    def _mine(self, domain: str, owner: str, now: float) -> Any:
        c = self.conversations.c
        return (c.domain == domain) & (c.owner == owner) & (c.updated >= self._cutoff(now))

    # ---- conversations ---------------------------------------------------------------------------
    def create(self, domain: str, owner: str, title: str | None = None) -> Conversation:
        now = time.time()
        self._maybe_purge(now)
        clean = _check_title(title) if title is not None else ""
        conv = Conversation(id=uuid.uuid4().hex, title=clean, created=now, updated=now)
        with self.engine.begin() as conn:
            conn.execute(
                self.conversations.insert().values(
                    id=conv.id, domain=domain, owner=owner, title=clean, created=now, updated=now
                )
            )
        return conv

    def list(self, domain: str, owner: str, limit: int = 500) -> list[Conversation]:
        """The owner's conversations in this domain, most recently updated first."""
        from sqlalchemy import func, select

        now = time.time()
        self._maybe_purge(now)
        c, m = self.conversations, self.messages
        turns = (
            select(func.count(m.c.id))
            .where((m.c.conversation_id == c.c.id) & (m.c.role == "user"))
            .scalar_subquery()
            .label("turns")
        )
        query = (
            select(c.c.id, c.c.title, c.c.created, c.c.updated, turns)
            .where(self._mine(domain, owner, now))
            .order_by(c.c.updated.desc(), c.c.created.desc())
            .limit(limit)
        )
        with self.engine.connect() as conn:
            rows = conn.execute(query).mappings().all()
        return [Conversation(r["id"], r["title"], r["created"], r["updated"], int(r["turns"] or 0)) for r in rows]

    def get(self, domain: str, owner: str, conversation_id: str) -> Conversation:
        from sqlalchemy import select

        now = time.time()
        c, m = self.conversations, self.messages
        with self.engine.connect() as conn:
            row = (
                conn.execute(select(c).where(self._mine(domain, owner, now) & (c.c.id == conversation_id)))
                .mappings()
                .first()
            )
            if row is None:
                raise _not_found(conversation_id)
            msgs = (
                conn.execute(select(m).where(m.c.conversation_id == conversation_id).order_by(m.c.position))
                .mappings()
                .all()
            )
        messages = [Message(r["role"], r["content"], json.loads(r["meta"]), r["created"]) for r in msgs]
        turns = sum(msg.role == "user" for msg in messages)
        return Conversation(row["id"], row["title"], row["created"], row["updated"], turns, messages)

    def append(
        self, domain: str, owner: str, conversation_id: str, role: str, content: str, meta: dict | None = None
    ) -> Message:
        """Add one message at the end; the first user message names an untitled conversation."""
        from sqlalchemy import func, select, update

        meta_text = _check_message(role, content, meta)
        now = time.time()
        c, m = self.conversations, self.messages
        with self.engine.begin() as conn:
            # the UPDATE first: it locks the row, so concurrent appends to one conversation queue up
            bumped = conn.execute(
                update(c).where(self._mine(domain, owner, now) & (c.c.id == conversation_id)).values(updated=now)
            )
            if bumped.rowcount == 0:
                raise _not_found(conversation_id)
            count, last = conn.execute(
                select(func.count(m.c.id), func.max(m.c.position)).where(m.c.conversation_id == conversation_id)
            ).one()
            if count >= MAX_MESSAGES:  # raising rolls the transaction back: nothing changes
                raise ConversationLimitError(
                    f"conversation {conversation_id} already holds {MAX_MESSAGES} messages",
                    hint="start a new conversation",
                    param="content",
                )
            conn.execute(
                m.insert().values(
                    conversation_id=conversation_id,
                    position=(last + 1) if last is not None else 0,
                    role=role,
                    content=content,
                    meta=meta_text,
                    created=now,
                )
            )
            if role == "user":
                conn.execute(
                    update(c).where((c.c.id == conversation_id) & (c.c.title == "")).values(title=auto_title(content))
                )
        return Message(role, content, json.loads(meta_text), now)

    def rename(self, domain: str, owner: str, conversation_id: str, title: str) -> Conversation:
        from sqlalchemy import update

        clean = _check_title(title)
        now = time.time()
        c = self.conversations
        with self.engine.begin() as conn:
            done = conn.execute(
                update(c)
                .where(self._mine(domain, owner, now) & (c.c.id == conversation_id))
                .values(title=clean, updated=now)
            )
            if done.rowcount == 0:
                raise _not_found(conversation_id)
        conv = self.get(domain, owner, conversation_id)
        conv.messages = []  # a summary: the caller asked for the title, not the transcript
        return conv

    def delete(self, domain: str, owner: str, conversation_id: str) -> None:
        self._delete(domain, owner, conversation_id)

    def delete_all(self, domain: str, owner: str) -> int:
        """Delete every conversation of this owner in this domain; returns how many."""
        return self._delete(domain, owner, None)

    def _delete(self, domain: str, owner: str, conversation_id: str | None) -> int:
        from sqlalchemy import delete, select

        c, m = self.conversations, self.messages
        where = (c.c.domain == domain) & (c.c.owner == owner)  # expired ones too: the user asked
        if conversation_id is not None:
            where = where & (c.c.id == conversation_id)
        with self.engine.begin() as conn:
            conn.execute(delete(m).where(m.c.conversation_id.in_(select(c.c.id).where(where))))
            gone = conn.execute(delete(c).where(where)).rowcount
        if conversation_id is not None and gone == 0:
            raise _not_found(conversation_id)
        return gone


_stores: dict[str, ConversationStore] = {}
_stores_lock = threading.Lock()


def conversation_store(url: str | None = None) -> ConversationStore:
    """The store for ``url`` (default: the settings' database), opened once per process."""
    url = url or get_settings().database
    with _stores_lock:
        if url not in _stores:
            _stores[url] = ConversationStore(url)
        return _stores[url]
