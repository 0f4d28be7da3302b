"""Record formats (JSON, JSONL, YAML, CSV, XLSX): one section, hence at least one chunk, per record.

A record is written as ``field: value`` lines so the field names stay searchable ("dosage: 20 mg");
nested mappings become ``parent.child`` fields, lists of scalars are joined with commas. A record
with a name-like field (title, name, question, ...) uses it as its heading. When the records carry
the configured text field (``knowledge.json_field``, default ``text``), that field alone is the
record's text, as before. ``knowledge.csv_column`` does the same for CSV.
"""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path
from typing import Any

from knowledge import budget
from knowledge.archives import check_zip
from knowledge.document import LoadedDocument, SkipFile
from knowledge.encoding import decode_text
from vertical.core.spec import KnowledgeSpec

HEADING_FIELDS = ("title", "name", "question", "heading", "subject", "term", "id")
MAX_NODES = 200_000  # values walked per file: YAML aliases can make a small file a huge tree
_HEADING_CHARS = 120


class _Walk:
    def __init__(self) -> None:
        self.nodes = 0

    def lines(self, value: Any, prefix: str = "") -> list[str]:
        self.nodes += 1
        if self.nodes > MAX_NODES:
            raise SkipFile(f"more than {MAX_NODES:,} values in one file (YAML aliases?); split the file")
        if self.nodes % 1000 == 0:
            budget.check("flattening records")
        if isinstance(value, dict):
            out: list[str] = []
            for key, item in value.items():
                out += self.lines(item, f"{prefix}.{key}" if prefix else str(key))
            return out
        if isinstance(value, list):
            if all(not isinstance(v, (dict, list)) for v in value):
                joined = ", ".join(_scalar(v) for v in value if _scalar(v))
                return [f"{prefix}: {joined}" if prefix else joined] if joined else []
            out = []
            for i, item in enumerate(value, 1):
                out += self.lines(item, f"{prefix}[{i}]" if prefix else f"[{i}]")
            return out
        text = _scalar(value)
        if not text:
            return []
        return [f"{prefix}: {text}" if prefix else text]


def _scalar(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return " ".join(str(value).split()) if not isinstance(value, str) else value.strip()


def _heading(record: Any) -> str:
    if not isinstance(record, dict):
        return ""
    lowered = {str(k).lower(): v for k, v in record.items()}
    for name in HEADING_FIELDS:
        value = lowered.get(name)
        if isinstance(value, (str, int)) and not isinstance(value, bool) and str(value).strip():
            return str(value).strip().replace("\n", " ")[:_HEADING_CHARS]
    return ""


def records_document(
    records: list[Any], path: Path, spec: KnowledgeSpec, notes: list[str], what: str = "record"
) -> LoadedDocument:
    """Sections from parsed records, using ``json_field`` when the records carry it (or it was set)."""
    field_set = "json_field" in spec.model_fields_set
    uses_field = field_set or any(isinstance(r, dict) and isinstance(r.get(spec.json_field), str) for r in records)
    walk = _Walk()
    sections: list[tuple[str, str]] = []
    missing = 0
    for record in records:
        if uses_field and isinstance(record, dict):
            value = record.get(spec.json_field)
            text = value.strip() if isinstance(value, str) else ""
            missing += not text
        else:
            text = "\n".join(walk.lines(record)).strip()
        if text:
            sections.append((_heading(record), text))
    if uses_field and not sections:
        raise SkipFile(f"no {what} has a text field {spec.json_field!r} (set knowledge.json_field)")
    if not sections:
        raise SkipFile(f"no {what} has any text")
    if uses_field and missing:
        notes.append(f"{missing} {what}(s) without text in field {spec.json_field!r}")
    return LoadedDocument(
        "\n\n".join(t for _, t in sections), path.stem, markdown=False, notes=notes, sections=sections
    )


def _as_records(obj: Any) -> list[Any]:
    """A list is the records; a mapping holding exactly one list of mappings is a wrapper around them."""
    if isinstance(obj, list):
        return obj
    if isinstance(obj, dict):
        lists = [v for v in obj.values() if isinstance(v, list) and v and all(isinstance(x, dict) for x in v)]
        if len(lists) == 1:
            return lists[0]
    return [obj]


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
            records = _as_records(json.loads(text))
        except json.JSONDecodeError as exc:
            raise SkipFile(f"invalid JSON at line {exc.lineno}: {exc.msg}") from exc
    return records_document(records, path, spec, notes)


def load_yaml(data: bytes, path: Path, spec: KnowledgeSpec) -> LoadedDocument:
    import yaml

    try:
        documents = [d for d in yaml.safe_load_all(decode_text(data)) if d is not None]
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" at line {mark.line + 1}" if mark is not None else ""
        raise SkipFile(f"invalid YAML{where}: {getattr(exc, 'problem', None) or exc}") from exc
    records = [r for d in documents for r in _as_records(d)]
    return records_document(records, path, spec, [])


def _row_sections(header: list[str], rows: Any, column: str | None, where: str) -> list[tuple[str, str]]:
    sections = []
    for n, row in enumerate(rows, 1):
        if n % 500 == 0:
            budget.check(f"reading {where} rows")
        values = {h: _scalar(v) for h, v in zip(header, row) if h}
        if column is not None:
            text = values.get(column, "")
        else:
            text = "\n".join(f"{h}: {v}" for h, v in values.items() if v)
        if text:
            sections.append((_heading(values), text))
    return sections


def _header(row: Any) -> list[str]:
    return [_scalar(h) or f"column {i}" for i, h in enumerate(row, 1)]


def load_csv(data: bytes, path: Path, spec: KnowledgeSpec) -> LoadedDocument:
    text = decode_text(data)
    try:
        dialect = csv.Sniffer().sniff(text[:4096], delimiters=",;\t|")
    except csv.Error:
        dialect = csv.excel
    try:
        rows = list(csv.reader(io.StringIO(text), dialect=dialect))
    except csv.Error as exc:  # e.g. a field over csv.field_size_limit
        raise SkipFile(f"unreadable CSV: {exc}") from exc
    if not rows:
        raise SkipFile("CSV has no rows")
    header = _header(rows[0])
    column = spec.csv_column
    if column is not None and column not in header:
        raise SkipFile(f"no column {column!r}; columns are {header} (set knowledge.csv_column)")
    sections = _row_sections(header, rows[1:], column, "CSV")
    if not sections:
        raise SkipFile("CSV has no rows with text")
    return LoadedDocument("\n\n".join(t for _, t in sections), path.stem, markdown=False, sections=sections)


def load_xlsx(data: bytes, path: Path, spec: KnowledgeSpec) -> LoadedDocument:
    """Every sheet: the first non-empty row is the header, each later row one record."""
    check_zip(data, spec, "XLSX")
    import openpyxl

    try:
        book = openpyxl.load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except Exception as exc:  # openpyxl raises KeyError, InvalidFileException, lxml errors for broken files
        raise SkipFile(f"corrupt XLSX: {type(exc).__name__}: {exc}") from exc
    sections: list[tuple[str, str]] = []
    try:
        for sheet in book.worksheets:
            rows = (r for r in sheet.iter_rows(values_only=True) if any(_scalar(v) for v in r))
            first = next(rows, None)
            if first is None:
                continue
            header = _header(first)
            if spec.csv_column is not None and spec.csv_column not in header:
                continue
            found = _row_sections(header, rows, spec.csv_column, f"sheet {sheet.title!r}")
            sections += [(heading or sheet.title, text) for heading, text in found]
    finally:
        book.close()
    if not sections:
        raise SkipFile("XLSX has no rows with text" + (f" in column {spec.csv_column!r}" if spec.csv_column else ""))
    return LoadedDocument("\n\n".join(t for _, t in sections), path.stem, markdown=False, sections=sections)
