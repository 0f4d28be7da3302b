"""Bounded cost per file: zip limits before parsing, long lines cut before sentence splitting, a time budget."""

from __future__ import annotations

import io
import random
import time
import zipfile
from pathlib import Path

import pytest

from knowledge.chunking import TokenChunker
from knowledge.document import LoadedDocument
from knowledge.jobs import IngestJob
from knowledge.loaders import SkipFile, load_file
from vertical.core.loaders import load_tokenizer
from vertical.core.spec import KnowledgeSpec


def _docx_with_padding(padding_bytes: int, extra_entries: int = 0) -> bytes:
    import docx

    buf = io.BytesIO()
    document = docx.Document()
    document.add_paragraph("A real paragraph.")
    document.save(buf)
    with zipfile.ZipFile(buf, "a", compression=zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("word/media/padding.bin", b"\0" * padding_bytes)  # compresses to almost nothing
        for i in range(extra_entries):
            archive.writestr(f"word/media/x{i}.bin", b"x")
    return buf.getvalue()


def test_zip_bombs_are_skipped_before_parsing(tmp_path: Path) -> None:
    path = tmp_path / "bomb.docx"
    path.write_bytes(_docx_with_padding(3 * 1024 * 1024))
    assert path.stat().st_size < 100_000
    with pytest.raises(SkipFile, match=r"DOCX inflates to \d MB, over knowledge.max_unzipped_mb=2 \(a zip bomb"):
        load_file(path, KnowledgeSpec(max_unzipped_mb=2))
    assert "A real paragraph." in load_file(path, KnowledgeSpec()).text  # within the default limit
    path.write_bytes(_docx_with_padding(10, extra_entries=50))
    with pytest.raises(SkipFile, match="entries, over knowledge.max_zip_entries=40"):
        load_file(path, KnowledgeSpec(max_zip_entries=40))


@pytest.fixture(scope="module")
def chunker(embedder_name: str) -> TokenChunker:
    return TokenChunker(load_tokenizer(embedder_name), 200, 30)


def test_one_long_line_is_cut_into_bounded_chunks(chunker: TokenChunker) -> None:
    rng = random.Random(0)
    blob = "".join(rng.choice("abcdefghij0123456789") for _ in range(300_000))  # no spaces: one WordPiece [UNK]
    chunks = chunker.chunk(LoadedDocument(blob, "t", markdown=False), "blob.txt")
    assert max(len(c.text) for c in chunks) <= 200 * 16 and sum(len(c.text) for c in chunks) >= len(blob)

    han = "".join(rng.choice("睡眠焦虑呼吸放松朋友早晨夜晚压力身体情绪") for _ in range(200_000))  # no punctuation
    started = time.perf_counter()
    chunks = chunker.chunk(LoadedDocument(han, "t", markdown=False), "han.txt")
    assert time.perf_counter() - started < 30  # was 45 µs per character (9 s here) before the cut
    tokenizer = chunker._tokenizer
    assert max(len(tokenizer.encode(c.text, add_special_tokens=False)) for c in chunks) <= 200
    assert sum(len(c.text) for c in chunks) >= len(han)


def test_time_budget_skips_the_slow_file_with_a_reason(make_domain) -> None:
    words = " ".join(f"word{i % 997}" for i in range(60_000))  # ~0.5 MB: far more than 1 ms of chunking
    spec = make_domain("budget", {"big.txt": words}, extra_yaml="  max_file_seconds: 0.001\n")
    report = IngestJob(spec).run()
    assert report.added == [] and report.chunks_total == 0
    reasons = {s["path"]: s["reason"] for s in report.skipped}
    assert "over the per-file time budget of 0.001 s" in reasons["big.txt"]
    assert "knowledge.max_file_seconds" in reasons["big.txt"]
