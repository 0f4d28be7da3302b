"""The record manager: which file content produced which chunk ids (SQLite beside the collection).

Like LangChain's record manager, decisions are keyed on content hashes: a file is re-ingested only
when the hash of its bytes (or the chunking config) changed. A ``pending`` row is the write-ahead
intent for one file: it is set before chunks are written and cleared in the same transaction that
records the new chunk ids, so a job killed in between is detected and reconciled on the next run.
Reading never writes (no WAL files), so an unchanged re-ingest leaves the folder untouched.
"""

from __future__ import annotations

import hashlib
import json
import sqlite3
import threading
import time
from dataclasses import dataclass
from pathlib import Path

_SCHEMA = """
CREATE TABLE IF NOT EXISTS files (
    source TEXT PRIMARY KEY, origin TEXT NOT NULL, file_hash TEXT NOT NULL, config TEXT NOT NULL,
    title TEXT NOT NULL, chunk_ids TEXT NOT NULL, ingested_at TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS pending (source TEXT PRIMARY KEY, started_at TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
"""
EMPTY_HASH = hashlib.sha256(b"").hexdigest()


@dataclass(frozen=True)
class FileRecord:
    source: str
    origin: str
    file_hash: str
    config: str
    title: str
    chunk_ids: tuple[str, ...]
    ingested_at: str


def _record(row: tuple) -> FileRecord:
    return FileRecord(row[0], row[1], row[2], row[3], row[4], tuple(json.loads(row[5])), row[6])


def now_iso() -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())


class RecordStore:
    def __init__(self, path: Path) -> None:
        self.path = path
        self._lock = threading.Lock()

    def _connect_read(self) -> sqlite3.Connection | None:
        """None when nothing was recorded yet: reading never creates the file (no WAL files either)."""
        if not self.path.exists():
            return None
        return sqlite3.connect(self.path, timeout=30, check_same_thread=False)

    def _connect(self) -> sqlite3.Connection:
        """A connection for one write transaction, the schema created if needed."""
        self.path.parent.mkdir(parents=True, exist_ok=True)
        conn = sqlite3.connect(self.path, timeout=30, check_same_thread=False)
        conn.executescript(_SCHEMA)
        return conn

    def _read(self, sql: str, args: tuple = ()) -> list[tuple]:
        conn = self._connect_read()
        if conn is None:
            return []
        try:
            return conn.execute(sql, args).fetchall()
        except sqlite3.OperationalError as exc:
            if "no such table" in str(exc):
                return []
            raise
        finally:
            conn.close()

    # ---- reads -------------------------------------------------------------------------------
    _COLUMNS = "source, origin, file_hash, config, title, chunk_ids, ingested_at"

    def files(self) -> dict[str, FileRecord]:
        rows = self._read(f"SELECT {self._COLUMNS} FROM files")
        return {r[0]: _record(r) for r in rows}

    def get(self, source: str) -> FileRecord | None:
        rows = self._read(f"SELECT {self._COLUMNS} FROM files WHERE source = ?", (source,))
        return _record(rows[0]) if rows else None

    def pending(self) -> list[str]:
        return [r[0] for r in self._read("SELECT source FROM pending ORDER BY source")]

    def content_hash(self) -> str:
        rows = self._read("SELECT value FROM meta WHERE key = 'content_hash'")
        return rows[0][0] if rows else EMPTY_HASH

    def chunk_count(self) -> int:
        return sum(len(r.chunk_ids) for r in self.files().values())

    # ---- writes (each one transaction) -------------------------------------------------------
    def mark_pending(self, source: str | list[str]) -> None:
        """Mark one source (or several, in one transaction) as being changed right now."""
        sources = [source] if isinstance(source, str) else source
        with self._lock:
            conn = self._connect()
            try:
                with conn:
                    conn.executemany("INSERT OR REPLACE INTO pending VALUES (?, ?)", [(s, now_iso()) for s in sources])
            finally:
                conn.close()

    def clear_pending(self, source: str) -> None:
        with self._lock:
            conn = self._connect()
            try:
                with conn:
                    conn.execute("DELETE FROM pending WHERE source = ?", (source,))
            finally:
                conn.close()

    def commit_files(self, records: list[FileRecord]) -> None:
        """Record several files' chunk ids and clear their pending marks in one transaction."""
        with self._lock:
            conn = self._connect()
            try:
                with conn:
                    conn.executemany(
                        "INSERT OR REPLACE INTO files VALUES (?, ?, ?, ?, ?, ?, ?)",
                        [
                            (
                                r.source,
                                r.origin,
                                r.file_hash,
                                r.config,
                                r.title,
                                json.dumps(list(r.chunk_ids)),
                                r.ingested_at,
                            )
                            for r in records
                        ],
                    )
                    conn.executemany("DELETE FROM pending WHERE source = ?", [(r.source,) for r in records])
                    self._update_hash(conn)
            finally:
                conn.close()

    def remove_file(self, source: str) -> None:
        with self._lock:
            conn = self._connect()
            try:
                with conn:
                    conn.execute("DELETE FROM files WHERE source = ?", (source,))
                    conn.execute("DELETE FROM pending WHERE source = ?", (source,))
                    self._update_hash(conn)
            finally:
                conn.close()

    @staticmethod
    def _update_hash(conn: sqlite3.Connection) -> None:
        ids = sorted(i for (raw,) in conn.execute("SELECT chunk_ids FROM files") for i in json.loads(raw))
        digest = hashlib.sha256("\n".join(ids).encode()).hexdigest()
        conn.execute("INSERT OR REPLACE INTO meta VALUES ('content_hash', ?)", (digest,))
