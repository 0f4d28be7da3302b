"""BM25 tokenisation from the shared text module: Chinese (both scripts), mixed text, stale-tokenizer rebuilds."""

from __future__ import annotations

import json
from pathlib import Path

from knowledge.bm25_index import TOKENIZER_VERSION, BM25Index, tokenize

CHUNKS = {
    "sleep": "如果躺在床上二十分钟还睡不着，就起床去另一个房间，做一些安静的事情，直到有睡意。",
    "anger": "生气的时候先停下来，深呼吸几次，离开现场十分钟，等冷静下来再回应对方。",
    "cbt": "认知行为疗法（CBT）通常需要八到十二次会谈，帮助你识别让焦虑加重的想法。",
    "en": "If you can't sleep after twenty minutes, get up and do something quiet.",
}


def _index(tmp_path: Path) -> BM25Index:
    index = BM25Index(tmp_path / "bm25")
    index.build(list(CHUNKS), list(CHUNKS.values()), "hash-1")
    return index


def test_tokenize_segments_chinese_and_keeps_latin_words() -> None:
    assert "睡不着" in tokenize("睡不着怎么办") and "，" not in tokenize("好，的")
    assert "焦虑" in tokenize("焦虑症") and "焦虑症" in tokenize("焦虑症")  # search mode: sub-words too
    assert tokenize("焦慮症") == tokenize("焦虑症")  # traditional folded onto simplified
    assert {"cbt", "焦虑"} <= set(tokenize("CBT对焦虑有用吗"))
    assert tokenize("I can't sleep") == ["can", "sleep"]


def test_chinese_queries_in_either_script_find_their_chunk(tmp_path: Path) -> None:
    index = _index(tmp_path)
    assert index.search("睡不着怎么办", k=1)[0][0] == "sleep"
    assert index.search("生氣了怎麼冷靜", k=1)[0][0] == "anger"  # traditional query, simplified chunk
    assert index.search("CBT要几次", k=1)[0][0] == "cbt"
    assert index.search("can't sleep at night", k=1)[0][0] == "en"


def test_an_index_built_by_another_tokenizer_reads_as_stale(tmp_path: Path) -> None:
    index = _index(tmp_path)
    assert index.stored_tag() == "hash-1"
    meta_path = tmp_path / "bm25" / "meta.json"
    meta = json.loads(meta_path.read_text())
    assert meta["tokenizer"] == TOKENIZER_VERSION
    del meta["tokenizer"]  # as written before the shared text module
    meta_path.write_text(json.dumps(meta))
    assert index.stored_tag() is None
