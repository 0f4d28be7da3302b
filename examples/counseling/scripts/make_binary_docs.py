#!/usr/bin/env python3
"""Build the binary demo documents of the counseling example.

Reads the Markdown sources in ``binary_src/`` and writes:

* ``docs/progressive-muscle-relaxation.pdf`` (fpdf2)
* ``docs/safety-planning.docx`` (python-docx)

Only a tiny Markdown subset is understood: ``#`` / ``##`` headings,
paragraphs, ``- `` bullets and ``1. `` numbered items (``**bold**`` markers
are stripped). Output is deterministic: fixed creation/modification dates
and fixed ZIP entry timestamps, so reruns do not change the files.

Usage: python examples/counseling/scripts/make_binary_docs.py
"""

from __future__ import annotations

import datetime as dt
import io
import re
import zipfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
SRC = HERE / "binary_src"
DOCS = HERE.parent / "docs"

FIXED_DATE = dt.datetime(2024, 1, 1, 0, 0, 0, tzinfo=dt.timezone.utc)
ZIP_DATE = (2024, 1, 1, 0, 0, 0)
AUTHOR = "vertical counseling example"

# (source name, output format)
TARGETS = [
    ("progressive-muscle-relaxation", "pdf"),
    ("safety-planning", "docx"),
]


def parse_markdown(text: str) -> list[tuple[str, str]]:
    """Return blocks as (kind, text); kind in h1, h2, p, bullet, number."""
    blocks: list[tuple[str, str]] = []
    para: list[str] = []

    def flush() -> None:
        if para:
            blocks.append(("p", " ".join(para)))
            para.clear()

    for raw in text.splitlines():
        line = raw.strip()
        if not line:
            flush()
            continue
        line = line.replace("**", "")
        if line.startswith("## "):
            flush()
            blocks.append(("h2", line[3:].strip()))
        elif line.startswith("# "):
            flush()
            blocks.append(("h1", line[2:].strip()))
        elif line.startswith("- "):
            flush()
            blocks.append(("bullet", line[2:].strip()))
        elif re.match(r"^\d+\.\s", line):
            flush()
            blocks.append(("number", line))
        else:
            para.append(line)
    flush()
    return blocks


def write_pdf(name: str, blocks: list[tuple[str, str]], out: Path) -> None:
    from fpdf import FPDF

    title = next((t for k, t in blocks if k == "h1"), name)
    pdf = FPDF(format="A4")
    pdf.set_creation_date(FIXED_DATE)
    pdf.set_title(title)
    pdf.set_author(AUTHOR)
    pdf.set_creator("make_binary_docs.py")
    pdf.set_producer("fpdf2")
    pdf.set_margins(20, 20, 20)
    pdf.set_auto_page_break(auto=True, margin=20)
    pdf.add_page()
    width = pdf.w - pdf.l_margin - pdf.r_margin
    for kind, text in blocks:
        text.encode("latin-1")  # core fonts are latin-1 only; fail loudly
        pdf.set_x(pdf.l_margin)
        if kind == "h1":
            pdf.set_font("Helvetica", "B", 18)
            pdf.multi_cell(width, 9, text)
            pdf.ln(3)
        elif kind == "h2":
            pdf.ln(2)
            pdf.set_font("Helvetica", "B", 13)
            pdf.multi_cell(width, 7, text)
            pdf.ln(1)
        elif kind == "bullet":
            pdf.set_font("Helvetica", "", 11)
            pdf.set_x(pdf.l_margin + 5)
            pdf.multi_cell(width - 5, 6, "- " + text)
        elif kind == "number":
            pdf.set_font("Helvetica", "", 11)
            pdf.set_x(pdf.l_margin + 5)
            pdf.multi_cell(width - 5, 6, text)
        else:
            pdf.set_font("Helvetica", "", 11)
            pdf.multi_cell(width, 6, text)
            pdf.ln(2)
    pdf.output(str(out))


def _normalise_zip(path: Path) -> None:
    """Rewrite a docx with fixed entry timestamps so the bytes are stable."""
    with zipfile.ZipFile(path) as zin:
        entries = [(info.filename, zin.read(info.filename)) for info in zin.infolist()]
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zout:
        for filename, data in entries:
            info = zipfile.ZipInfo(filename, date_time=ZIP_DATE)
            info.compress_type = zipfile.ZIP_DEFLATED
            info.external_attr = 0o644 << 16
            zout.writestr(info, data)
    path.write_bytes(buf.getvalue())


def write_docx(name: str, blocks: list[tuple[str, str]], out: Path) -> None:
    import docx

    document = docx.Document()
    title = next((t for k, t in blocks if k == "h1"), name)
    props = document.core_properties
    props.title = title
    props.author = AUTHOR
    props.last_modified_by = AUTHOR
    props.created = FIXED_DATE.replace(tzinfo=None)
    props.modified = FIXED_DATE.replace(tzinfo=None)
    props.revision = 1
    for kind, text in blocks:
        if kind == "h1":
            document.add_heading(text, level=1)
        elif kind == "h2":
            document.add_heading(text, level=2)
        elif kind == "bullet":
            document.add_paragraph(text, style="List Bullet")
        elif kind == "number":
            document.add_paragraph(re.sub(r"^\d+\.\s+", "", text), style="List Number")
        else:
            document.add_paragraph(text)
    document.save(str(out))
    _normalise_zip(out)


def main() -> None:
    DOCS.mkdir(parents=True, exist_ok=True)
    for name, fmt in TARGETS:
        blocks = parse_markdown((SRC / f"{name}.md").read_text(encoding="utf-8"))
        out = DOCS / f"{name}.{fmt}"
        if fmt == "pdf":
            write_pdf(name, blocks, out)
        else:
            write_docx(name, blocks, out)
        print(f"wrote {out.relative_to(HERE.parent.parent.parent)} ({out.stat().st_size} bytes)")


if __name__ == "__main__":
    main()
