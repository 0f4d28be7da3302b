"""Each loader turns its format into text + title; bad files are skipped with a reason."""

from __future__ import annotations

import io
import json
from pathlib import Path

import pytest

from knowledge.loaders import SkipFile, load_file
from vertical.core.spec import KnowledgeSpec


def _write(tmp_path: Path, name: str, content: str | bytes) -> Path:
    path = tmp_path / name
    path.write_bytes(content if isinstance(content, bytes) else content.encode("utf-8"))
    return path


def _pdf_bytes(lines: list[str]) -> bytes:
    from fpdf import FPDF

    pdf = FPDF()
    pdf.add_page()
    pdf.set_font("Helvetica", size=12)
    for line in lines:
        pdf.cell(0, 10, line, new_x="LMARGIN", new_y="NEXT")
    return bytes(pdf.output())


def _docx_bytes() -> bytes:
    import docx

    document = docx.Document()
    document.add_heading("Coping Plan", level=1)
    document.add_paragraph("Write down three people you can call.")
    document.add_heading("Warning signs", level=2)
    document.add_paragraph("Notice when sleep gets worse.")
    buf = io.BytesIO()
    document.save(buf)
    return buf.getvalue()


def test_markdown_keeps_headings_and_title(tmp_path: Path) -> None:
    doc = load_file(_write(tmp_path, "a.md", "---\nauthor: x\n---\n# Sleep\n\nKeep a wake time.\n"), KnowledgeSpec())
    assert doc.title == "Sleep" and "# Sleep" in doc.text and "author" not in doc.text


def test_txt_caps_lines_become_headings(tmp_path: Path) -> None:
    doc = load_file(_write(tmp_path, "w.txt", "WORRY\n\nWorry is a chain of what-ifs.\n"), KnowledgeSpec())
    assert doc.text.startswith("# Worry") and doc.title == "Worry"


@pytest.mark.parametrize("encoding", ["gb18030", "utf-16"])
def test_non_utf8_text_is_detected(tmp_path: Path, encoding: str) -> None:
    text = "晚上睡不着的时候，可以起床做一些安静的事情，等有睡意再回到床上。保持固定的起床时间也很重要。\n"
    doc = load_file(_write(tmp_path, "zh.txt", text.encode(encoding)), KnowledgeSpec())
    assert doc.text.strip() == text.strip()


def test_html_drops_scripts_and_converts_headings(tmp_path: Path) -> None:
    html = (
        "<html><head><title>Finding help</title><script>var x=1;</script></head><body>"
        "<h1>Finding help</h1><p>Ask your doctor.</p><h2>Costs</h2><ul><li>Sliding scale</li></ul></body></html>"
    )
    doc = load_file(_write(tmp_path, "h.html", html), KnowledgeSpec())
    assert doc.title == "Finding help"
    assert "## Costs" in doc.text and "- Sliding scale" in doc.text and "var x" not in doc.text


def test_pdf_text_and_corrupt_pdf_is_skipped(tmp_path: Path) -> None:
    doc = load_file(
        _write(tmp_path, "p.pdf", _pdf_bytes(["Progressive relaxation", "Tense then release."])), KnowledgeSpec()
    )
    assert "Tense then release." in doc.text
    with pytest.raises(SkipFile, match="corrupt PDF|no extractable text"):
        load_file(_write(tmp_path, "bad.pdf", b"%PDF-1.4\n%garbage that is not a pdf body\n"), KnowledgeSpec())


def test_docx_headings_and_corrupt_docx(tmp_path: Path) -> None:
    doc = load_file(_write(tmp_path, "s.docx", _docx_bytes()), KnowledgeSpec())
    assert "# Coping Plan" in doc.text and "## Warning signs" in doc.text
    assert "three people" in doc.text
    with pytest.raises(SkipFile, match="corrupt DOCX"):
        load_file(_write(tmp_path, "bad.docx", b"PK\x03\x04 not really a zip"), KnowledgeSpec())


def test_json_and_jsonl_use_the_configured_field(tmp_path: Path) -> None:
    spec = KnowledgeSpec(json_field="body")
    data = [{"body": "First note about grief."}, {"body": "Second note about loss."}, {"other": 1}]
    doc = load_file(_write(tmp_path, "n.json", json.dumps(data)), spec)
    assert "First note" in doc.text and "Second note" in doc.text
    assert doc.notes == ["1 record(s) without text in field 'body'"]
    lines = '{"body": "Line one."}\nnot json\n{"body": "Line two."}\n'
    doc = load_file(_write(tmp_path, "n.jsonl", lines), spec)
    assert "Line one." in doc.text and "Line two." in doc.text and "line 2" in doc.notes[0]
    with pytest.raises(SkipFile, match="no record has a text field 'body'"):
        load_file(_write(tmp_path, "m.json", json.dumps([{"text": "x"}])), spec)


def test_csv_column_or_all_columns(tmp_path: Path) -> None:
    path = _write(tmp_path, "t.csv", "topic,answer\nsleep,Keep a regular wake time.\nworry,Schedule worry time.\n")
    doc = load_file(path, KnowledgeSpec(csv_column="answer"))
    assert doc.text == "Keep a regular wake time.\n\nSchedule worry time."
    assert "topic: sleep" in load_file(path, KnowledgeSpec()).text
    with pytest.raises(SkipFile, match="no column 'missing'"):
        load_file(path, KnowledgeSpec(csv_column="missing"))


@pytest.mark.parametrize(
    ("name", "content", "reason"),
    [
        ("empty.md", b"", "empty file"),
        ("blank.txt", b"   \n\n", "empty file"),
        ("blob.txt", b"\x00\x01\x02binary\x00" * 50, "binary content"),
        ("image.png", b"\x89PNG\r\n", "unsupported file type .png"),
    ],
)
def test_empty_binary_and_unsupported_are_skipped(tmp_path: Path, name: str, content: bytes, reason: str) -> None:
    with pytest.raises(SkipFile, match=reason):
        load_file(_write(tmp_path, name, content), KnowledgeSpec())


def test_oversize_file_is_skipped_before_reading(tmp_path: Path) -> None:
    path = _write(tmp_path, "big.txt", "word " * 300_000)  # ~1.4 MB
    with pytest.raises(SkipFile, match="over knowledge.max_file_mb=1"):
        load_file(path, KnowledgeSpec(max_file_mb=1))
