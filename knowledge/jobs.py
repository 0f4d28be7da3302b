"""``IngestJob``: load → chunk → embed → commit per file, incremental, resumable, cancellable.

A file is re-processed only when the hash of its bytes or the chunking config changed; within a
changed file only chunks with new ids are embedded. Files are embedded in groups (one encode call for
many files, so batches stay full) and committed one by one (see ``knowledge.sync``). The cancel flag
is checked between files. Progress is a thread-safe dict the API can poll.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import json
import queue
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TextIO

from knowledge.budget import file_budget
from knowledge.chunking import Chunk
from knowledge.loaders import SkipFile, check_size, load_bytes
from knowledge.sources import SourceFile, discover, in_scope
from vertical.core.errors import IngestBusyError, IngestError, VerticalError
from vertical.core.settings import get_settings
from vertical.core.spec import DomainSpec

EMBED_GROUP_CHUNKS = 256  # chunks collected across files before one encode call
LOADER_QUEUE_FILES = 64  # files parsed ahead of the embed loop (bounds memory on big folders)
CHUNKER_VERSION = 2  # 2: one section per record (json/yaml/csv/xlsx), long lines cut before sentence splitting


def chunk_config(spec: DomainSpec) -> str:
    """Everything that changes chunks or vectors: a change re-ingests every file."""
    k = spec.knowledge
    return json.dumps(
        {
            "v": CHUNKER_VERSION,
            "embedder": spec.embedder,
            "size": k.chunk_size,
            "overlap": k.chunk_overlap,
            "json_field": k.json_field,
            "csv_column": k.csv_column,
        },
        sort_keys=True,
    )


@dataclass
class IngestReport:
    added: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    deleted: list[str] = field(default_factory=list)
    skipped: list[dict] = field(default_factory=list)  # {"path", "reason"}
    failed: list[dict] = field(default_factory=list)  # {"path", "reason"}
    notes: list[dict] = field(default_factory=list)  # non-fatal problems inside ingested files
    recovered: list[str] = field(default_factory=list)  # sources repaired after an interrupted job
    chunks_written: int = 0
    chunks_removed: int = 0
    chunks_total: int = 0
    seconds: float = 0.0
    cancelled: bool = False
    retrieval: dict = field(default_factory=dict)  # embedder coverage ([UNK] rate) and confidence calibration

    @property
    def changed(self) -> bool:
        return bool(self.chunks_written or self.chunks_removed or self.deleted or self.recovered)

    def to_dict(self) -> dict[str, Any]:
        lists = ("added", "updated", "unchanged", "deleted")  # counts at the top, names under "files"
        kept = ("skipped", "failed", "notes", "recovered", "chunks_written", "chunks_removed", "chunks_total")
        return {
            **{name: len(getattr(self, name)) for name in lists},
            **{name: getattr(self, name) for name in kept},
            "seconds": round(self.seconds, 3),
            "cancelled": self.cancelled,
            "retrieval": self.retrieval,
            "files": {name: getattr(self, name) for name in lists},
        }


@dataclass
class _Prepared:
    file: SourceFile
    file_hash: str
    title: str
    chunks: list[Chunk]
    is_new: bool


class _DomainLock:
    """One ingest per domain at a time, across threads and processes (flock on a file)."""

    def __init__(self, folder: Path) -> None:
        folder.mkdir(parents=True, exist_ok=True)
        self.path = folder / "ingest.lock"
        self._fh: TextIO | None = None

    def __enter__(self) -> _DomainLock:
        self._fh = fh = open(self.path, "a")  # held until __exit__
        try:
            fcntl.flock(fh, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError as exc:
            fh.close()
            raise IngestBusyError(  # its own class: the queue retries it instead of failing the job
                "another ingest is already running for this domain",
                hint="wait for it to finish (or cancel it), then run again",
            ) from exc
        return self

    def __exit__(self, *exc: object) -> None:
        if self._fh is not None:
            fcntl.flock(self._fh, fcntl.LOCK_UN)
            self._fh.close()
            self._fh = None


class IngestJob:
    def __init__(self, spec: DomainSpec, paths: list[Path] | None = None, sync: bool = False) -> None:
        self.id = uuid.uuid4().hex[:12]
        self.spec, self.paths, self.sync = spec, [Path(p) for p in paths] if paths else None, sync
        self.status = "pending"
        self.error: str | None = None
        self.report = IngestReport()
        self._cancel = threading.Event()
        self._lock = threading.Lock()
        self._progress: dict[str, Any] = dict(files_done=0, files_total=0, chunks=0, chunks_embedded=0)
        self._progress.update(embed_rate=0.0, current="", elapsed_s=0.0)
        self._on_progress: Callable[[dict], None] | None = None
        self._started = 0.0
        self._embed_seconds = 0.0

    # ---- API-facing state -------------------------------------------------------------------
    @property
    def progress(self) -> dict[str, Any]:
        with self._lock:
            return {**self._progress, "status": self.status}

    def cancel(self) -> None:
        """Stop after the file being committed now; committed files stay."""
        self._cancel.set()

    @property
    def cancelled(self) -> bool:
        return self._cancel.is_set()

    def _update(self, **values: Any) -> None:
        r = self.report
        with self._lock:
            self._progress.update(values)
            counts = {name: len(getattr(r, name)) for name in ("added", "updated", "unchanged", "deleted")}
            counts.update(skipped=len(r.skipped), failed=len(r.failed))
            self._progress.update(counts, elapsed_s=round(time.perf_counter() - self._started, 2))
            snapshot = {**self._progress, "status": self.status}
        if self._on_progress is not None:
            self._on_progress(snapshot)

    def _file_done(self, current: str) -> None:
        with self._lock:
            done = self._progress["files_done"] + 1
        self._update(files_done=done, current=current)

    # ---- the job ----------------------------------------------------------------------------
    def run(self, on_progress: Callable[[dict], None] | None = None) -> IngestReport:
        from knowledge.store import KnowledgeBase
        from knowledge.sync import reconcile

        self._on_progress, self._started = on_progress, time.perf_counter()
        self.status = "running"
        try:
            kb = KnowledgeBase.for_domain(self.spec)
            with _DomainLock(get_settings().domain_dir(self.spec.name)):
                if kb.records.pending():
                    self.report.recovered = reconcile(kb)
                self._reset_if_embedder_changed(kb)
                files, roots = discover(self.spec, self.paths)
                self._update(files_total=len(files))
                self._ingest(kb, files)
                if self.sync and not self.cancelled:
                    self._delete_missing(kb, files, roots)
                if self.report.changed or kb.bm25.stored_tag() != kb.content_hash():
                    kb.rebuild_bm25()
                self.report.chunks_total = kb.count()
                self._record_retrieval_stats(kb)
        except VerticalError as exc:
            self.status, self.error = "failed", str(exc)
            self._update()
            raise
        except Exception as exc:
            self.status, self.error = "failed", f"{type(exc).__name__}: {exc}"
            self._update()
            raise IngestError(
                f"ingest of {self.spec.name!r} failed: {self.error}",
                hint="fix the cause and run again: committed files are kept",
            ) from exc
        self.report.cancelled = self.cancelled
        self.report.seconds = time.perf_counter() - self._started
        self.status = "cancelled" if self.cancelled else "done"
        self._update(current="")
        return self.report

    def _reset_if_embedder_changed(self, kb: Any) -> None:
        from knowledge.sync import reset_vectors, stored_embedders

        old = stored_embedders(kb) - {self.spec.embedder}
        if old:
            redo = reset_vectors(kb)
            self.report.notes.append(
                {
                    "path": "",
                    "note": f"embedder changed ({', '.join(sorted(old))} -> "
                    f"{self.spec.embedder}): all {len(redo)} file(s) embedded again",
                }
            )

    def _record_retrieval_stats(self, kb: Any) -> None:
        """Put the embedder's [UNK] rate and the confidence calibration in the report, with a warning
        (and its fix) when the embedder cannot read the KB's language."""
        stats = kb.stats()
        if stats is None:
            return
        self.report.retrieval = stats.summary()
        warning = stats.coverage.warning() if stats.coverage else None
        if warning:
            self.report.notes.append({"path": "", "note": warning})

    def _ingest(self, kb: Any, files: list[SourceFile]) -> None:
        """Embed and commit here while a loader thread reads, parses and chunks the next files
        (torch releases the GIL in the forward pass, so parsing runs beside it). Files arrive in
        order; every report entry and commit is made on this thread, as before."""
        config = chunk_config(self.spec)
        records = kb.records.files()
        prepared: queue.Queue = queue.Queue(maxsize=LOADER_QUEUE_FILES)
        stop = threading.Event()
        loader = threading.Thread(
            target=self._load_files, args=(files, records, config, prepared, stop), name="ingest-loader", daemon=True
        )
        loader.start()
        group: list[_Prepared] = []
        try:
            while not self.cancelled:
                item = prepared.get()
                if item is None:
                    break
                kind, file, payload = item
                if kind == "error":
                    raise payload
                self._update(current=file.source)
                if kind == "skip":
                    self._skip(file, payload)
                elif kind == "fail":
                    self._fail(file, payload)
                elif kind == "unchanged":
                    self.report.unchanged.append(file.source)
                    self._file_done(file.source)
                else:
                    ready, notes = payload
                    self.report.notes.extend({"path": file.source, "note": n} for n in notes)
                    group.append(ready)
                    if sum(len(p.chunks) for p in group) >= EMBED_GROUP_CHUNKS:
                        self._flush(kb, group, config)
                        group = []
            if group:
                self._flush(kb, group, config)
        finally:
            stop.set()
            with contextlib.suppress(queue.Empty):  # unblock a loader waiting on a full queue
                while True:
                    prepared.get_nowait()
            loader.join()

    def _load_files(self, files: list[SourceFile], records: dict, config: str, out: queue.Queue, stop: Any) -> None:
        """The loader thread: one (kind, file, payload) per file, then None (or ("error", None, exc))."""
        chunker: list[Any] = []

        def put(item: Any) -> None:
            while not stop.is_set():
                with contextlib.suppress(queue.Full):
                    return out.put(item, timeout=0.1)

        try:
            for file in files:
                if self.cancelled or stop.is_set():
                    break
                put(self._load_one(file, records.get(file.source), config, chunker))
        except BaseException as exc:  # noqa: BLE001 - handed to the job thread, which raises it
            return put(("error", None, exc))
        put(None)

    def _load_one(self, file: SourceFile, record: Any, config: str, chunker: list[Any]) -> tuple:
        try:
            check_size(file.path, self.spec.knowledge)
            data = file.path.read_bytes()
        except SkipFile as exc:
            return "skip", file, exc.reason
        except OSError as exc:
            return "fail", file, f"cannot read: {exc}"
        digest = hashlib.sha256(data).hexdigest()
        if record is not None and record.file_hash == digest and record.config == config:
            return "unchanged", file, None
        try:
            if not chunker:
                chunker.append(self._chunker())  # loaded on the first changed file only
            with file_budget(self.spec.knowledge.max_file_seconds):  # parse + chunk, not the model load
                document = load_bytes(data, file.path, self.spec.knowledge)
                chunks = chunker[0].chunk(document, file.source)
            if not chunks:
                raise SkipFile("no text after chunking")
        except SkipFile as exc:
            return "skip", file, exc.reason
        except Exception as exc:  # a parser bug on one odd file must not stop the job
            return "fail", file, f"{type(exc).__name__}: {exc}"
        return "ready", file, (_Prepared(file, digest, document.title, chunks, record is None), document.notes)

    def _chunker(self) -> Any:
        from knowledge.chunking import TokenChunker
        from vertical.core.loaders import load_tokenizer

        k = self.spec.knowledge
        return TokenChunker(load_tokenizer(self.spec.embedder), k.chunk_size, k.chunk_overlap)

    def _flush(self, kb: Any, group: list[_Prepared], config: str) -> None:
        """Embed the group's new chunks in one call, then commit the group (one bad file fails alone)."""
        from knowledge.embedding import embed_texts
        from knowledge.sync import FileUpdate, new_chunks

        needed = {c.id: c for p in group for c in new_chunks(kb, p.file.source, p.chunks)}
        started = time.perf_counter()
        vectors = embed_texts(self.spec.embedder, [c.index_text for c in needed.values()])
        self._embed_seconds += time.perf_counter() - started
        embeddings = dict(zip(needed, vectors))
        with self._lock:
            embedded = self._progress["chunks_embedded"] + len(needed)
        self._update(chunks_embedded=embedded, embed_rate=round(embedded / max(self._embed_seconds, 1e-9), 1))
        if self.cancelled:
            return
        updates = [FileUpdate(p.file.source, str(p.file.path), p.file_hash, config, p.title, p.chunks) for p in group]
        for prepared, change in zip(group, self._commit(kb, updates, embeddings)):
            if isinstance(change, str):
                self._fail(prepared.file, change)
                continue
            source = prepared.file.source
            (self.report.added if prepared.is_new else self.report.updated).append(source)
            self.report.chunks_written += change.written
            self.report.chunks_removed += change.removed
            with self._lock:
                written = self._progress["chunks"] + change.written
            self._update(chunks=written)
            self._file_done(source)

    @staticmethod
    def _commit(kb: Any, updates: list[Any], embeddings: dict) -> list[Any]:
        """Commit the group at once; if that fails, file by file so only the bad file fails.
        Returns, per update, its FileChange or the reason it could not be stored."""
        from knowledge.sync import commit_files, reconcile

        try:
            return list(commit_files(kb, updates, embeddings))
        except VerticalError:
            raise  # the store itself is unusable (e.g. Chroma server down): stop the job
        except Exception:  # noqa: BLE001 - some file in the group is bad; find which
            pass
        results: list[Any] = []
        for update in updates:
            try:
                results += commit_files(kb, [update], embeddings)
            except VerticalError:
                raise
            except Exception as exc:  # noqa: BLE001 - reported for this file only
                results.append(f"could not store chunks: {type(exc).__name__}: {exc}")
        reconcile(kb)  # undo what the failed files half-wrote and clear their pending marks
        return results

    def _delete_missing(self, kb: Any, files: list[SourceFile], roots: list[Path]) -> None:
        from knowledge.sync import remove_source

        seen = {f.source for f in files}
        for source, record in sorted(kb.records.files().items()):
            if source not in seen and in_scope(record.origin, roots):
                self.report.chunks_removed += remove_source(kb, source)
                self.report.deleted.append(source)
                self._update()

    def _skip(self, file: SourceFile, reason: str) -> None:
        self.report.skipped.append({"path": file.source, "reason": reason})
        self._file_done(file.source)

    def _fail(self, file: SourceFile, reason: str) -> None:
        self.report.failed.append({"path": file.source, "reason": reason})
        self._file_done(file.source)
