"""Zip-based formats (DOCX, XLSX, EPUB): bounded before they are opened, and the EPUB loader.

A 636 KB .docx can inflate to 502 MB. The zip directory is read first (cheap) and a file whose
entries would inflate past ``knowledge.max_unzipped_mb``, or that holds more than
``knowledge.max_zip_entries`` entries, is skipped before any parser sees it. The declared sizes are
a real bound: Python's ``zipfile`` (which python-docx, openpyxl and ebooklib read through) stops
every entry at its declared size and fails its CRC check if the data was longer.
"""

from __future__ import annotations

import io
import zipfile
from pathlib import Path

from knowledge import budget
from knowledge.document import LoadedDocument, SkipFile
from knowledge.html_text import html_to_text
from vertical.core.spec import KnowledgeSpec

_MB = 1024 * 1024


def check_zip(data: bytes, spec: KnowledgeSpec, kind: str) -> None:
    """SkipFile when ``data`` is not a zip, or would inflate past the limits."""
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            entries = archive.infolist()
    except (zipfile.BadZipFile, OSError, ValueError) as exc:
        raise SkipFile(f"corrupt {kind}: not a readable zip package ({exc})") from exc
    if len(entries) > spec.max_zip_entries:
        raise SkipFile(
            f"{kind} holds {len(entries):,} entries, over knowledge.max_zip_entries={spec.max_zip_entries:,}"
        )
    inflated = sum(e.file_size for e in entries)
    if inflated > spec.max_unzipped_mb * _MB:
        raise SkipFile(
            f"{kind} inflates to {inflated / _MB:,.0f} MB, over knowledge.max_unzipped_mb="
            f"{spec.max_unzipped_mb:g} (a zip bomb, or raise the limit)"
        )


def load_epub(data: bytes, path: Path, spec: KnowledgeSpec) -> LoadedDocument:
    """Chapters in reading (spine) order, each converted like an HTML page."""
    check_zip(data, spec, "EPUB")
    import ebooklib
    from ebooklib import epub

    try:
        book = epub.read_epub(io.BytesIO(data), {"ignore_ncx": True})
    except Exception as exc:  # ebooklib raises bare Exceptions, KeyError, lxml errors for broken books
        raise SkipFile(f"corrupt EPUB: {type(exc).__name__}: {exc}") from exc
    parts = []
    for item_id, _linear in book.spine:
        item = book.get_item_with_id(item_id)
        if item is None or item.get_type() != ebooklib.ITEM_DOCUMENT:
            continue
        budget.check("reading EPUB chapters")
        text, _ = html_to_text(item.get_content().decode("utf-8", errors="replace"))
        if text.strip():
            parts.append(text)
    if not parts:
        raise SkipFile("EPUB has no text")
    titles = book.get_metadata("DC", "title")
    title = str(titles[0][0]).strip() if titles else ""
    return LoadedDocument("\n\n".join(parts), title or path.stem)
