"""Record formats become one chunk per record with field names kept: YAML, JSON, CSV, XLSX; EPUB chapters."""

from __future__ import annotations

import io
import json
from pathlib import Path

import pytest

from knowledge.chunking import TokenChunker
from knowledge.loaders import SkipFile, load_file
from vertical.core.loaders import load_tokenizer
from vertical.core.spec import KnowledgeSpec

TECHNIQUES_YAML = """\
# a third-party knowledge library published as YAML records
- name: Box breathing
  category: breathing
  steps: [Breathe in for four seconds, hold for four, breathe out for four, hold for four]
  when: Before a stressful meeting
- name: 5-4-3-2-1 grounding
  category: grounding
  steps: [Name five things you see, four you can touch, three you hear]
  source: {book: Anxiety workbook, page: 12}
"""


def _write(tmp_path: Path, name: str, content: str | bytes) -> Path:
    path = tmp_path / name
    path.write_bytes(content if isinstance(content, bytes) else content.encode("utf-8"))
    return path


@pytest.fixture(scope="module")
def chunker(embedder_name: str) -> TokenChunker:
    return TokenChunker(load_tokenizer(embedder_name), 200, 30)


def test_yaml_records_are_one_chunk_each_with_field_names(tmp_path: Path, chunker: TokenChunker) -> None:
    doc = load_file(_write(tmp_path, "techniques.yaml", TECHNIQUES_YAML), KnowledgeSpec())
    chunks = chunker.chunk(doc, "techniques.yaml")
    assert [c.heading for c in chunks] == ["Box breathing", "5-4-3-2-1 grounding"]
    assert chunks[0].text.splitlines() == [
        "name: Box breathing",
        "category: breathing",
        "steps: Breathe in for four seconds, hold for four, breathe out for four, hold for four",
        "when: Before a stressful meeting",
    ]
    assert "source.book: Anxiety workbook" in chunks[1].text and "source.page: 12" in chunks[1].text


def test_yaml_errors_and_alias_bombs_are_skipped(tmp_path: Path) -> None:
    with pytest.raises(SkipFile, match="invalid YAML at line 2"):
        load_file(_write(tmp_path, "bad.yml", "- a: 1\n b: [unclosed\n"), KnowledgeSpec())
    levels = ["a0: &a0 [x, x, x, x, x, x, x, x, x, x]"]
    levels += [f"a{i}: &a{i} [{', '.join([f'*a{i - 1}'] * 10)}]" for i in range(1, 7)]  # 10**7 values
    with pytest.raises(SkipFile, match="more than 200,000 values"):
        load_file(_write(tmp_path, "bomb.yaml", "\n".join(levels) + "\n"), KnowledgeSpec())


def test_json_records_without_a_text_field_keep_all_fields(tmp_path: Path, chunker: TokenChunker) -> None:
    data = {
        "items": [
            {"title": "Sleep", "tip": "Keep a regular wake time.", "tags": ["sleep", "routine"]},
            {"title": "Worry", "tip": "Schedule a daily worry time."},
        ]
    }
    doc = load_file(_write(tmp_path, "tips.json", json.dumps(data)), KnowledgeSpec())
    chunks = chunker.chunk(doc, "tips.json")
    assert [c.heading for c in chunks] == ["Sleep", "Worry"]
    assert chunks[0].text == "title: Sleep\ntip: Keep a regular wake time.\ntags: sleep, routine"
    jsonl = '{"text": "Line one."}\n{"text": "Line two."}\n'
    assert len(chunker.chunk(load_file(_write(tmp_path, "t.jsonl", jsonl), KnowledgeSpec()), "t.jsonl")) == 2


def test_csv_rows_are_one_chunk_each_with_header_names(tmp_path: Path, chunker: TokenChunker) -> None:
    csv_text = "question,answer\nHow long to nap?,Twenty minutes at most.\nWhen to stop coffee?,By 2 pm.\n"
    chunks = chunker.chunk(load_file(_write(tmp_path, "faq.csv", csv_text), KnowledgeSpec()), "faq.csv")
    assert [c.text for c in chunks] == [
        "question: How long to nap?\nanswer: Twenty minutes at most.",
        "question: When to stop coffee?\nanswer: By 2 pm.",
    ]
    assert chunks[0].heading == "How long to nap?"


def test_xlsx_rows_become_records_per_sheet(tmp_path: Path, chunker: TokenChunker) -> None:
    import openpyxl

    book = openpyxl.Workbook()
    sheet = book.active
    sheet.title = "Hotlines"
    for row in [("name", "phone", "hours"), ("Crisis line", "988", "24/7"), ("心理援助热线", "12356", 24)]:
        sheet.append(row)
    book.create_sheet("Empty")
    buf = io.BytesIO()
    book.save(buf)
    doc = load_file(_write(tmp_path, "lines.xlsx", buf.getvalue()), KnowledgeSpec())
    chunks = chunker.chunk(doc, "lines.xlsx")
    assert [c.text for c in chunks] == [
        "name: Crisis line\nphone: 988\nhours: 24/7",
        "name: 心理援助热线\nphone: 12356\nhours: 24",
    ]
    assert [c.heading for c in chunks] == ["Crisis line", "心理援助热线"]
    only = load_file(_write(tmp_path, "lines2.xlsx", buf.getvalue()), KnowledgeSpec(csv_column="phone"))
    assert only.text == "988\n\n12356"


def test_epub_chapters_in_reading_order(tmp_path: Path) -> None:
    from ebooklib import epub

    book = epub.EpubBook()
    book.set_identifier("id-1")
    book.set_title("Coping Skills")
    book.set_language("en")
    chapters = []
    for i, (title, body) in enumerate([("Breathing", "Breathe out slowly."), ("Sleep", "Keep a wake time.")], 1):
        chapter = epub.EpubHtml(title=title, file_name=f"c{i}.xhtml", lang="en")
        chapter.content = f"<html><body><h1>{title}</h1><p>{body}</p></body></html>"
        book.add_item(chapter)
        chapters.append(chapter)
    book.toc = chapters
    book.add_item(epub.EpubNcx())
    book.add_item(epub.EpubNav())
    book.spine = chapters
    path = tmp_path / "skills.epub"
    epub.write_epub(str(path), book)
    doc = load_file(path, KnowledgeSpec())
    assert doc.title == "Coping Skills"
    assert doc.text.index("# Breathing") < doc.text.index("Breathe out slowly.") < doc.text.index("# Sleep")
    with pytest.raises(SkipFile, match="corrupt EPUB"):
        load_file(_write(tmp_path, "bad.epub", b"PK\x03\x04 not a zip"), KnowledgeSpec())
