"""Uploaded documents: safe Unicode names, conflict and type checks for a whole batch, then the write.

Names keep their script (NFC; letters and marks of any script, digits, ``. _ - `` and spaces), lose
any folder part, and are cut to ``MAX_NAME_CHARS`` characters (and ``MAX_NAME_BYTES`` UTF-8 bytes, the
file system's limit) without losing the extension; a cut name ends in a short hash of the full name, so
two long names stay two files. Files go to ``<workspace>/<domain>/uploads/`` (``knowledge.sources``
scans it; their KB sources are ``uploads/<name>``). A batch is checked whole before anything is written.
"""

from __future__ import annotations

import hashlib
import re
import unicodedata
from dataclasses import dataclass
from pathlib import Path

from knowledge.loaders import LOADERS, is_supported
from knowledge.sources import UPLOADS, uploads_dir
from vertical.core.errors import KnowledgeError, UnsupportedFileTypeError, UploadConflictError
from vertical.core.fsutil import atomic_write_bytes
from vertical.core.spec import DomainSpec

MAX_NAME_CHARS = 120
MAX_NAME_BYTES = 200  # file systems allow 255 bytes a name (CJK: 3 a character); the temp file adds 14
_SPACES = re.compile(r"\s+")


def _allowed(ch: str) -> bool:
    return unicodedata.category(ch)[0] in "LMN" or ch in "._- "


def _fits(stem: str, suffix: str) -> bool:
    name = stem + suffix
    return len(name) <= MAX_NAME_CHARS and len(name.encode("utf-8")) <= MAX_NAME_BYTES


def upload_name(raw: str) -> str:
    """The name an upload is stored under; KnowledgeError when nothing usable is left."""
    base = unicodedata.normalize("NFC", raw).replace("\\", "/").rsplit("/", 1)[-1]
    cleaned = "".join(ch if _allowed(ch) else "_" for ch in base)
    cleaned = _SPACES.sub(" ", cleaned).strip(" .")  # no hidden files, no "..", no trailing dot or space
    stem, dot, ext = cleaned.rpartition(".")
    stem, suffix = (stem, dot + ext) if stem and 0 < len(ext) <= 10 else (cleaned, "")
    if not any(unicodedata.category(ch)[0] in "LN" for ch in stem):
        raise KnowledgeError(f"unusable file name {raw!r}", hint="upload files with a normal name like notes.md")
    if not _fits(stem, suffix):
        tag = "-" + hashlib.sha256(cleaned.encode("utf-8")).hexdigest()[:8]
        while stem and not _fits(stem + tag, suffix):
            stem = stem[:-1]
        stem = stem.rstrip(" .") + tag
    return stem + suffix


@dataclass(frozen=True)
class Upload:
    name: str  # file name in the uploads folder
    source: str  # KB source name: "uploads/<name>"
    path: Path
    data: bytes
    replaces: bool  # an earlier upload of that name is overwritten


def plan_uploads(
    spec: DomainSpec, files: list[tuple[str, bytes]], known_sources: set[str], overwrite: bool = False
) -> list[Upload]:
    """Check a whole batch (names, types, emptiness, conflicts) before any of it is written.

    ``known_sources`` are the KB's document sources. A name taken by an earlier upload is a conflict
    unless ``overwrite``; one taken by a curated document (a file at the top of a configured source
    folder, or a KB source of that name) always is: uploads never shadow or replace curated docs."""
    folder = uploads_dir(spec)
    planned: dict[str, Upload] = {}
    for raw, data in files:
        name = upload_name(raw)
        path = folder / name
        if not is_supported(path):
            raise UnsupportedFileTypeError(
                f"{name!r}: {path.suffix or 'no extension'} files cannot be ingested; nothing was uploaded",
                hint=f"upload one of {' '.join(sorted(LOADERS))}",
            )
        if not data:
            raise KnowledgeError(f"{name!r} is empty; nothing was uploaded", hint="choose a file with some text")
        if name in planned:
            raise UploadConflictError(
                f"two files in this upload are both named {name!r}; nothing was uploaded",
                hint="rename one of them",
            )
        source = f"{UPLOADS}/{name}"
        curated = [root for root in spec.source_paths if (root / name).exists()]
        if curated or name in known_sources:
            raise UploadConflictError(
                f"a curated document named {name!r} already exists in the {spec.name!r} knowledge base; "
                "nothing was uploaded",
                hint="rename the file, or edit the curated document in the domain folder",
            )
        exists = path.exists() or source in known_sources
        if exists and not overwrite:
            raise UploadConflictError(
                f"{name!r} was already uploaded to {spec.name!r}; nothing was uploaded",
                hint="rename the file, or upload again with ?overwrite=true to replace it",
            )
        planned[name] = Upload(name, source, path, data, exists)
    return list(planned.values())


def write_uploads(uploads: list[Upload]) -> None:
    """Write every file (each atomically); if one write fails, the new files of the batch are removed."""
    written: list[Upload] = []
    try:
        for upload in uploads:
            upload.path.parent.mkdir(parents=True, exist_ok=True)
            atomic_write_bytes(upload.path, upload.data)
            written.append(upload)
    except OSError as exc:
        for upload in written:
            if not upload.replaces:
                upload.path.unlink(missing_ok=True)
        raise KnowledgeError(
            f"could not store the upload ({exc.strerror or type(exc).__name__}); nothing was uploaded",
            hint="check the server's free disk space, then upload again",
        ) from exc
