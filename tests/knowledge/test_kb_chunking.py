"""Chunks respect the token budget, keep heading paths, split CJK sentences and have stable ids."""

from __future__ import annotations

import pytest

from knowledge.chunking import TokenChunker, split_sections, split_sentences
from knowledge.loaders import LoadedDocument
from vertical.core.loaders import load_tokenizer


@pytest.fixture
def tokenizer(embedder_name: str):
    return load_tokenizer(embedder_name)


def test_heading_paths_follow_markdown_nesting() -> None:
    text = (
        "# Sleep\n\nIntro.\n\n## Wind down\n\nDim lights.\n\n```\n# not a heading\n```\n\n## Caffeine\n\nStop by 2 pm."
    )
    sections = split_sections(text)
    assert [h for h, _ in sections] == ["Sleep", "Sleep > Wind down", "Sleep > Caffeine"]
    assert "# not a heading" in sections[1][1]


def test_cjk_sentences_end_at_cjk_punctuation() -> None:
    parts = split_sentences("我睡不好。晚上总是担心！怎么办？先写下来；再休息。It helps. Really.")
    assert [p.strip() for p in parts] == [
        "我睡不好。",
        "晚上总是担心！",
        "怎么办？",
        "先写下来；",
        "再休息。",
        "It helps.",
        "Really.",
    ]


def test_chunks_fit_the_token_budget_and_ids_are_stable(tokenizer) -> None:
    body = "".join(f"Habit {i} anchors the body clock and makes sleep come more easily. " for i in range(40))
    doc = LoadedDocument("# Sleep\n\n" + body + "\n\n## Screens\n\nPut the phone away an hour before bed.", "Sleep")
    chunker = TokenChunker(tokenizer, chunk_size=64, chunk_overlap=8)
    chunks = chunker.chunk(doc, "sleep.md")
    assert len(chunks) > 3
    for c in chunks:
        assert len(tokenizer.encode(c.text, add_special_tokens=False)) <= 64
        assert c.text.endswith(".")  # sentence-aware: no chunk cut mid-sentence
    assert chunks[-1].heading == "Sleep > Screens" and chunks[0].heading == "Sleep"
    assert [c.position for c in chunks] == list(range(len(chunks)))
    again = TokenChunker(tokenizer, chunk_size=64, chunk_overlap=8).chunk(doc, "sleep.md")
    assert [c.id for c in again] == [c.id for c in chunks]
    assert chunker.chunk(doc, "other.md")[0].id != chunks[0].id  # ids include the source


def test_chinese_text_is_chunked_at_sentence_ends(tokenizer) -> None:
    text = "失眠的时候不要一直看时间。如果二十分钟还睡不着，就起床去另一个房间。做一些安静无聊的事情，直到有睡意。" * 6
    chunks = TokenChunker(tokenizer, chunk_size=48, chunk_overlap=0).chunk(
        LoadedDocument(text, "失眠", markdown=False), "zh.txt"
    )
    assert len(chunks) > 2
    assert all(c.text.endswith("。") for c in chunks)
