"""Hybrid retrieval on the real embedder: counseling docs, Chinese BM25, filters, interop retrievers."""

from __future__ import annotations

import pytest

from knowledge.interop import langchain_retriever, llamaindex_retriever
from knowledge.jobs import IngestJob
from knowledge.store import KnowledgeBase
from vertical.core.errors import KnowledgeError, LowConfidenceError
from vertical.core.spec import load_domain

ZH_DOCS = {
    "失眠.md": "# 失眠\n\n如果躺在床上二十分钟还睡不着，就起床去另一个房间，做一些安静的事情，直到有睡意再回到床上。",
    "愤怒.md": "# 愤怒\n\n生气的时候先停下来，深呼吸几次，离开现场十分钟，等冷静下来再回应对方。",
    "悲伤.md": "# 悲伤\n\n失去亲人之后的悲伤会一阵一阵地出现，允许自己哭泣，也可以请朋友帮忙做饭和处理杂事。",
}


@pytest.mark.slow  # ingests all 34 counseling docs: the full suite runs it, test-fast does not
def test_counseling_sleep_question_finds_sleep_hygiene(counseling_dir, embedder_name) -> None:
    spec = load_domain(counseling_dir)
    report = IngestJob(spec).run()
    assert report.failed == [] and report.skipped == []
    kb = KnowledgeBase.for_domain(spec)
    hits = kb.search("How can I sleep better when I'm anxious?")
    assert len(hits) == spec.knowledge.retrieval.top_k
    assert "sleep-hygiene.md" in [h.source for h in hits[:2]]
    assert hits[0].score >= hits[-1].score and hits[0].dense_score is not None
    assert not kb.confidence(hits)  # confident: best cosine above min_confidence

    only_pdf = kb.search("relax tense muscles", k=3, where={"source": "progressive-muscle-relaxation.pdf"})
    assert only_pdf and {h.source for h in only_pdf} == {"progressive-muscle-relaxation.pdf"}

    docs = langchain_retriever(kb, k=2).invoke("How can I sleep better when I'm anxious?")
    nodes = llamaindex_retriever(kb, k=2).retrieve("How can I sleep better when I'm anxious?")
    assert (
        [d.metadata["source"] for d in docs]
        == [n.node.metadata["source"] for n in nodes]
        == [h.source for h in hits[:2]]
    )

    off_topic = kb.search("depreciation schedule for corporate tax filings", k=2)
    on, off = kb.confidence(hits), kb.confidence(off_topic)
    assert off.best_dense < on.best_dense and off.score < on.score and on.dense_used  # MiniLM reads English
    between = (on.best_dense + off.best_dense) / 2  # raise the dense bar between the two: lexical evidence decides
    retrieval = spec.knowledge.retrieval.model_copy(update={"min_confidence": between})
    kb.knowledge = spec.knowledge.model_copy(update={"retrieval": retrieval})
    assert kb.confidence(off_topic).low and not kb.confidence(hits).low
    with pytest.raises(LowConfidenceError, match="min_confidence"):
        kb.confidence(off_topic).raise_if_low("tax")


def test_chinese_query_retrieves_the_right_chunk_with_jieba_bm25(make_domain) -> None:
    spec = make_domain("zh", ZH_DOCS, extra_yaml="  retrieval:\n    dense_weight: 0.0\n")
    IngestJob(spec).run()
    kb = KnowledgeBase.for_domain(spec)
    hits = kb.search("睡不着怎么办", k=1)  # BM25 only (dense weight 0): jieba must cut 睡不着
    assert hits[0].source == "失眠.md" and hits[0].bm25_score and hits[0].bm25_score > 0
    assert kb.search("生气了怎么冷静", k=1)[0].source == "愤怒.md"


def test_empty_query_and_bad_filter_are_clear_errors(make_domain) -> None:
    spec = make_domain("errs", {"a.md": "# A\n\nSome text about routines."})
    IngestJob(spec).run()
    kb = KnowledgeBase.for_domain(spec)
    with pytest.raises(KnowledgeError, match="empty search query"):
        kb.search("   ")
    with pytest.raises(KnowledgeError, match="search failed for filter"):
        kb.search("routines", where={"$bogus": 1})
