"""The one SQLAlchemy engine cache: feedback, conversations and ingest jobs share it.

SQLite in the workspace by default (WAL and a busy timeout, so several threads and processes can
write); PostgreSQL or any SQLAlchemy URL through ``VERTICAL_DATABASE_URL`` when several API replicas
serve one team. One engine per URL per process: engines hold connection pools.
"""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any

from sqlalchemy import Engine

from vertical.core.errors import SpecError

_engines: dict[str, Engine] = {}
_lock = threading.Lock()


def database_engine(url: str) -> Engine:
    """The engine for ``url``, created once per process; a URL SQLAlchemy cannot open is a SpecError."""
    from sqlalchemy import create_engine, event
    from sqlalchemy.engine import make_url
    from sqlalchemy.exc import ArgumentError, NoSuchModuleError

    with _lock:
        if url in _engines:
            return _engines[url]
        try:
            make_url(url).get_dialect()
        except (ArgumentError, NoSuchModuleError, ValueError) as exc:
            raise SpecError(
                f"database URL {url!r} is not one SQLAlchemy can open ({exc})",
                hint="set VERTICAL_DATABASE_URL to e.g. sqlite:////path/vertical.sqlite or "
                "postgresql+pg8000://user:pass@host/db",
            ) from exc
        if url.startswith("sqlite"):
            Path(url.split("///", 1)[-1]).parent.mkdir(parents=True, exist_ok=True)
            engine = create_engine(url, connect_args={"timeout": 10.0})

            @event.listens_for(engine, "connect")
            def _wal(conn: Any, _record: Any) -> None:
                conn.execute("PRAGMA journal_mode=WAL")
        else:
            engine = create_engine(url, pool_pre_ping=True)
        _engines[url] = engine
        return engine
