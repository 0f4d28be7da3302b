"""Turn one file into text + title, using each format's own library.

Every loader returns a :class:`LoadedDocument` whose text is markdown-ish (headings as ``#`` lines,
so the chunker can keep a heading path) or raises :class:`SkipFile` with a reason a user can act on.
A bad file never stops a job: the job records the reason and moves on.
"""

from __future__ import annotations

import csv
import io
import json
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

from vertical.core.spec import KnowledgeSpec

_BINARY_SNIFF_BYTES = 8192


class SkipFile(Exception):
    """This file cannot become chunks; ``reason`` goes into the job report."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


@dataclass
class LoadedDocument:
    text: str
    title: str
    markdown: bool = True  # '#' lines are headings
    notes: list[str] = field(default_factory=list)  # non-fatal problems (bad jsonl lines, ...)


def decode_text(data: bytes) -> str:
    """UTF-8 when it is, otherwise the encoding charset-normalizer detects; binary → SkipFile."""
    if b"\x00" in data[:_BINARY_SNIFF_BYTES] and not data.startswith((b"\xff\xfe", b"\xfe\xff")):
        raise SkipFile("binary content (NUL bytes), not a text file")
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        pass
    from charset_normalizer import from_bytes

    best = from_bytes(data).best()
    if best is None:
        raise SkipFile("cannot detect the text encoding (binary file?)")
    return str(best)


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
    out = []
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


_BLOCK_TAGS = ["p", "div", "li", "br", "tr", "section", "article", "blockquote", "pre", "table", "ul", "ol", "dd", "dt"]


def load_html(data: bytes, path: Path, spec: KnowledgeSpec) -> LoadedDocument:
    from bs4 import BeautifulSoup, NavigableString

    soup = BeautifulSoup(decode_text(data), "html.parser")
    for tag in soup(["script", "style", "noscript", "nav", "footer", "template", "svg"]):
        tag.decompose()
    title_tag = soup.find("title")
    title = title_tag.get_text(" ", strip=True) if title_tag else ""
    if title_tag:
        title_tag.decompose()
    for heading in soup.find_all(re.compile(r"^h[1-6]$")):
        level = int(heading.name[1])
        heading.replace_with(NavigableString(f"\n\n{'#' * level} {heading.get_text(' ', strip=True)}\n\n"))
    for tag in soup.find_all(_BLOCK_TAGS):
        tag.append(NavigableString("\n"))
    for item in soup.find_all("li"):
        item.insert(0, NavigableString("- "))
    text = soup.get_text()
    text = re.sub(r"[ \t]+\n", "\n", text)
    text = re.sub(r"\n{3,}", "\n\n", text).strip()
    return LoadedDocument(text, title or _first_line_title(text, path.stem))


def load_pdf(data: bytes, path: Path, spec: KnowledgeSpec) -> LoadedDocument:
    from pypdf import PdfReader
    from pypdf.errors import PyPdfError

    try:
        reader = PdfReader(io.BytesIO(data))
        if reader.is_encrypted:
            raise SkipFile("encrypted PDF; decrypt it first")
        pages = [page.extract_text() or "" for page in reader.pages]
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
    import docx
    from docx.opc.exceptions import PackageNotFoundError

    try:
        document = docx.Document(io.BytesIO(data))
    except (PackageNotFoundError, ValueError, KeyError, OSError) as exc:
        raise SkipFile(f"corrupt DOCX: {type(exc).__name__}: {exc}") from exc
    except Exception as exc:  # zipfile.BadZipFile, lxml errors: any unreadable package
        raise SkipFile(f"corrupt DOCX: {type(exc).__name__}: {exc}") from exc
    lines = []
    for para in document.paragraphs:
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


def _record_text(record: object, fieldname: str) -> str | None:
    if isinstance(record, str):
        return record
    if isinstance(record, dict):
        value = record.get(fieldname)
        return value if isinstance(value, str) else None
    return None


def load_json(data: bytes, path: Path, spec: KnowledgeSpec) -> LoadedDocument:
    text = decode_text(data)
    notes: list[str] = []
    if path.suffix.lower() == ".jsonl":
        records = []
        for n, line in enumerate(text.splitlines(), 1):
            if not line.strip():
                continue
            try:
                records.append(json.loads(line))
            except json.JSONDecodeError as exc:
                notes.append(f"line {n}: invalid JSON ({exc.msg})")
    else:
        try:
            obj = json.loads(text)
        except json.JSONDecodeError as exc:
            raise SkipFile(f"invalid JSON at line {exc.lineno}: {exc.msg}") from exc
        records = obj if isinstance(obj, list) else [obj]
    texts = [t.strip() for t in (_record_text(r, spec.json_field) for r in records) if t and t.strip()]
    if not texts:
        raise SkipFile(f"no record has a text field {spec.json_field!r} (set knowledge.json_field)")
    missing = len(records) - len(texts)
    if missing:
        notes.append(f"{missing} record(s) without text in field {spec.json_field!r}")
    joined = "\n\n".join(texts)
    return LoadedDocument(joined, path.stem, markdown=False, notes=notes)


def load_csv(data: bytes, path: Path, spec: KnowledgeSpec) -> LoadedDocument:
    text = decode_text(data)
    try:
        dialect = csv.Sniffer().sniff(text[:4096], delimiters=",;\t|")
    except csv.Error:
        dialect = csv.excel
    reader = csv.DictReader(io.StringIO(text), dialect=dialect)
    columns = reader.fieldnames or []
    column = spec.csv_column
    if column is not None and column not in columns:
        raise SkipFile(f"no column {column!r}; columns are {columns} (set knowledge.csv_column)")
    rows = []
    for row in reader:
        if column is not None:
            value = (row.get(column) or "").strip()
        else:
            value = "; ".join(f"{k}: {v.strip()}" for k, v in row.items() if k and isinstance(v, str) and v.strip())
        if value:
            rows.append(value)
    if not rows:
        raise SkipFile("CSV has no rows with text")
    return LoadedDocument("\n\n".join(rows), path.stem, markdown=False)


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
    ".csv": load_csv,
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
