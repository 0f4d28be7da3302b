"""Retrieval when the embedder cannot read the language: [UNK] rate, dense weight, the confidence gate."""

from __future__ import annotations

import pytest

from knowledge.confidence import decide, query_terms
from knowledge.coverage import dense_factor, for_domain
from knowledge.jobs import IngestJob
from knowledge.store import Hit, KnowledgeBase
from tests.knowledge.zh_docs import IN_DOMAIN, OFF_TOPIC, ZH_COUNSELING
from vertical.core.errors import LowConfidenceError


def test_chinese_kb_measures_unk_rate_turns_dense_off_and_gates_off_topic(make_domain) -> None:
    spec = make_domain("zhconf", ZH_COUNSELING)
    report = IngestJob(spec).run().to_dict()
    coverage = report["retrieval"]["coverage"]
    assert coverage["unk_rate"] > 0.5 and coverage["dense_factor"] == 0.0  # MiniLM cannot read Chinese
    assert any("[UNK]" in n["note"] and "embedder:" in n["note"] for n in report["notes"])
    assert report["retrieval"]["calibration"]["language"] == "zh"

    kb = KnowledgeBase.for_domain(spec)
    assert kb.dense_weight()[0] == 0.0 and "dense weight 1.00 -> 0.00" in kb.retrieval_notes()[0]
    expected = ["失眠.md", "焦虑.md", "哀伤.md", "压力.md", "正念.md"]
    for question, source in zip(IN_DOMAIN, expected):
        hits = kb.search(question)
        assert hits[0].source == source, question
        assert [h.score for h in hits] == sorted((h.score for h in hits), reverse=True)  # fused order
        confidence = kb.confidence(hits)
        assert not confidence.low and confidence.score >= confidence.threshold, (question, confidence.reason)
        assert "confident" in confidence.reason and "calibrated on this KB" in confidence.reason
    for question in OFF_TOPIC:
        confidence = kb.confidence(kb.search(question))
        assert confidence.low, (question, confidence.reason)
        with pytest.raises(LowConfidenceError):
            confidence.raise_if_low(question)

    assert for_domain(spec).unk_rate == pytest.approx(coverage["unk_rate"], abs=1e-3)  # plan/doctor read it back


def test_explicit_weights_and_thresholds_are_kept(make_domain) -> None:
    spec = make_domain(
        "zhfixed",
        ZH_COUNSELING,
        extra_yaml=("  retrieval:\n    adapt_dense_weight: false\n    min_lexical_confidence: 0.99\n"),
    )
    IngestJob(spec).run()
    kb = KnowledgeBase.for_domain(spec)
    assert kb.dense_weight() == (1.0, None) and kb.retrieval_notes() == []
    hits = kb.search(IN_DOMAIN[0])
    assert len(hits) == spec.knowledge.retrieval.top_k and hits[0].dense_score is not None  # dense arm still on
    assert not any(h.dense_trusted for h in hits)  # but its cosine is not evidence for Chinese on MiniLM
    confidence = kb.confidence(hits)
    assert confidence.threshold == 0.99 and "retrieval.min_lexical_confidence" in confidence.reason
    assert "ignored" in confidence.reason and not confidence.dense_used


def test_decision_rule_lexical_or_trusted_dense() -> None:
    def hit(coverage: float, cosine: float | None, trusted: bool = True) -> Hit:
        return Hit("id", "text", "a.md", query_coverage=coverage, dense_score=cosine, dense_trusted=trusted)

    assert not decide([hit(0.6, 0.1)], 0.5, 0.2, "t").low  # lexical evidence alone
    assert not decide([hit(0.1, 0.5)], 0.5, 0.2, "t").low  # dense evidence alone (embedder reads the text)
    assert decide([hit(0.1, 0.9, trusted=False)], 0.5, 0.2, "t").low  # untrusted cosine never counts
    assert decide([], 0.5, 0.2, "t").low
    assert [dense_factor(u) for u in (0.0, 0.1, 0.25, 0.4, 0.7)] == [1.0, 1.0, 0.5, 0.0, 0.0]
    assert query_terms("晚上睡不着，我该怎么办？") == ["晚上", "睡不着"]  # question scaffolding is not topical
