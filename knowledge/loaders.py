"""Turn one file into text + title, using each format's own library.

Every loader returns a :class:`LoadedDocument` whose text is markdown-ish (headings as ``#`` lines,
so the chunker can keep a heading path) or raises :class:`SkipFile` with a reason a user can act on.
A bad file never stops a job: the job records the reason and moves on.
"""

from __future__ import annotations

import io
import re
from collections.abc import Callable
from pathlib import Path

from knowledge import budget
from knowledge.archives import check_zip, load_epub
from knowledge.document import LoadedDocument, SkipFile
from knowledge.encoding import decode_text
from knowledge.html_text import html_to_text
from knowledge.structured import load_csv, load_json, load_xlsx, load_yaml
from vertical.core.spec import KnowledgeSpec

__all__ = [
    "LOADERS",
    "LoadedDocument",
    "SkipFile",
    "check_size",
    "decode_text",
    "is_supported",
    "load_bytes",
    "load_file",
]


def _first_line_title(text: str, fallback: str) -> str:
    for line in text.splitlines():
        line = line.strip().lstrip("#").strip()
        if line:
            return line[:200]
    return fallback


def load_txt(data: bytes, path: Path, spec: KnowledgeSpec) -> LoadedDocument:
    text = decode_text(data)
    # Plain-text docs often mark sections with a short ALL-CAPS line between blank lines.
    lines = text.splitlines()
    out: list[str] = []
    for i, line in enumerate(lines):
        stripped = line.strip()
        blank_around = (i == 0 or not lines[i - 1].strip()) and (i + 1 >= len(lines) or not lines[i + 1].strip())
        if blank_around and stripped.isupper() and 3 <= len(stripped) <= 80:
            out.append(f"{'#' if not out else '##'} {stripped.title()}")
        else:
            out.append(line)
    text = "\n".join(out)
    return LoadedDocument(text, _first_line_title(text, path.stem))


def load_markdown(data: bytes, path: Path, spec: KnowledgeSpec) -> LoadedDocument:
    text = decode_text(data)
    if text.startswith("---\n"):  # YAML front matter is metadata, not content
        end = text.find("\n---", 4)
        if end != -1:
            text = text[end + 4 :].lstrip("\n")
    return LoadedDocument(text, _first_line_title(text, path.stem))


def load_html(data: bytes, path: Path, spec: KnowledgeSpec) -> LoadedDocument:
    text, title = html_to_text(decode_text(data))
    return LoadedDocument(text, title or _first_line_title(text, path.stem))


def load_pdf(data: bytes, path: Path, spec: KnowledgeSpec) -> LoadedDocument:
    from pypdf import PdfReader
    from pypdf.errors import PyPdfError

    try:
        reader = PdfReader(io.BytesIO(data))
        if reader.is_encrypted:
            raise SkipFile("encrypted PDF; decrypt it first")
        pages = []
        for page in reader.pages:
            budget.check("extracting PDF pages")
            pages.append(page.extract_text() or "")
        meta_title = (reader.metadata.title if reader.metadata else None) or ""
    except SkipFile:
        raise
    except (PyPdfError, ValueError, KeyError, TypeError, OSError, AttributeError) as exc:
        raise SkipFile(f"corrupt PDF: {type(exc).__name__}: {exc}") from exc
    text = "\n\n".join(p.strip() for p in pages if p.strip())
    if not text:
        raise SkipFile("PDF has no extractable text (scanned images need OCR first)")
    return LoadedDocument(text, str(meta_title).strip() or _first_line_title(text, path.stem), markdown=False)


def load_docx(data: bytes, path: Path, spec: KnowledgeSpec) -> LoadedDocument:
    check_zip(data, spec, "DOCX")
    import docx
    from docx.opc.exceptions import PackageNotFoundError

    try:
        document = docx.Document(io.BytesIO(data))
    except (PackageNotFoundError, ValueError, KeyError, OSError) as exc:
        raise SkipFile(f"corrupt DOCX: {type(exc).__name__}: {exc}") from exc
    except Exception as exc:  # zipfile.BadZipFile, lxml errors: any unreadable package
        raise SkipFile(f"corrupt DOCX: {type(exc).__name__}: {exc}") from exc
    lines = []
    for n, para in enumerate(document.paragraphs):
        if n % 200 == 0:
            budget.check("reading DOCX paragraphs")
        text = para.text.strip()
        if not text:
            continue
        style = (para.style.name if para.style is not None else "") or ""
        match = re.match(r"Heading (\d)", style)
        if style == "Title":
            lines.append(f"# {text}")
        elif match:
            lines.append(f"{'#' * min(int(match.group(1)), 6)} {text}")
        elif "List" in style:
            lines.append(f"- {text}")
        else:
            lines.append(text)
        lines.append("")
    for table in document.tables:
        for row in table.rows:
            lines.append(" | ".join(cell.text.strip() for cell in row.cells))
        lines.append("")
    text = "\n".join(lines).strip()
    if not text:
        raise SkipFile("DOCX has no text")
    title = (document.core_properties.title or "").strip()
    return LoadedDocument(text, title or _first_line_title(text, path.stem))


LOADERS: dict[str, Callable[[bytes, Path, KnowledgeSpec], LoadedDocument]] = {
    ".md": load_markdown,
    ".markdown": load_markdown,
    ".txt": load_txt,
    ".text": load_txt,
    ".html": load_html,
    ".htm": load_html,
    ".pdf": load_pdf,
    ".docx": load_docx,
    ".json": load_json,
    ".jsonl": load_json,
    ".yaml": load_yaml,
    ".yml": load_yaml,
    ".csv": load_csv,
    ".xlsx": load_xlsx,
    ".epub": load_epub,
}


def is_supported(path: Path) -> bool:
    return path.suffix.lower() in LOADERS


def check_size(path: Path, spec: KnowledgeSpec) -> int:
    """File size in bytes; oversize/empty → SkipFile (checked before reading the file)."""
    size = path.stat().st_size
    if size == 0:
        raise SkipFile("empty file")
    if size > spec.max_file_mb * 1024 * 1024:
        raise SkipFile(f"{size / 1024 / 1024:.1f} MB is over knowledge.max_file_mb={spec.max_file_mb:g}")
    return size


def load_bytes(data: bytes, path: Path, spec: KnowledgeSpec) -> LoadedDocument:
    """Parse already-read bytes of ``path`` (the job hashes the same bytes it parses)."""
    loader = LOADERS.get(path.suffix.lower())
    if loader is None:
        raise SkipFile(f"unsupported file type {path.suffix or '(none)'}; supported: {', '.join(sorted(LOADERS))}")
    if not data.strip():
        raise SkipFile("empty file")
    document = loader(data, path, spec)
    if not document.text.strip():
        raise SkipFile("no text after parsing")
    return document


def load_file(path: Path, spec: KnowledgeSpec) -> LoadedDocument:
    check_size(path, spec)
    return load_bytes(path.read_bytes(), path, spec)
