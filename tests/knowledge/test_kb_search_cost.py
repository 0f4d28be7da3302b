"""Per-query cost of ``kb.search`` stays bounded, and the fusion it uses ranks as documented.

Counting calls, not timing: a search on an unchanged KB must not re-read every file's chunk list
(that was 9 ms a query at 3.6k chunks), and a commit must still show at once (nothing stale).
"""

from __future__ import annotations

import pytest

from knowledge.fusion import score_fusion, weighted_rrf
from knowledge.jobs import IngestJob
from knowledge.record_manager import RecordStore
from knowledge.store import KnowledgeBase

DOCS = {
    "sleep.md": "# Sleep\n\nKeep the same wake time every day, even on weekends.",
    "panic.md": "# Panic\n\nA panic attack peaks within about ten minutes and then passes.",
}


def test_search_does_not_reread_every_chunk_list_per_query(make_domain, monkeypatch) -> None:
    spec = make_domain("cost", DOCS)
    IngestJob(spec).run()
    kb = KnowledgeBase.for_domain(spec)
    kb.search("wake time")  # first search may load the index and the count
    calls = {"files": 0}
    original = RecordStore.files

    def counting_files(self: RecordStore) -> dict:
        calls["files"] += 1
        return original(self)

    monkeypatch.setattr(RecordStore, "files", counting_files)
    for question in ("wake time on weekends", "panic attack", "ten minutes", "sleep"):
        assert kb.search(question, k=2)
    assert calls["files"] == 0


def test_a_commit_shows_in_count_and_search_at_once(make_domain) -> None:
    spec = make_domain("cost-fresh", DOCS)
    IngestJob(spec).run()
    kb = KnowledgeBase.for_domain(spec)
    before = kb.count()
    assert kb.search("wake time")[0].source == "sleep.md"
    (spec.root / "docs" / "tides.md").write_text("# Tides\n\nThe harbour tide tables are posted at the pier.\n")
    IngestJob(spec).run()
    assert kb.count() == before + 1
    assert kb.search("harbour tide tables", k=1)[0].source == "tides.md"
    kb.delete_document("tides.md")
    assert kb.count() == before
    assert all(h.source != "tides.md" for h in kb.search("harbour tide tables", k=3))


def test_score_fusion_keeps_a_clear_winner_and_respects_weights() -> None:
    # "a" is far ahead in the dense arm (0.80 against 0.40) and last of 20 in BM25, whose scores are
    # all close: a margin RRF cannot see (it ranks n0 first), score fusion keeps.
    dense = [("a", 0.80)] + [(f"n{i}", 0.40 - i * 0.005) for i in range(19)]
    bm25 = [(f"n{i}", 9.0 - i * 0.05) for i in range(19)] + [("a", 8.0)]
    both = {"dense": dense, "bm25": bm25}
    assert score_fusion(both, {"dense": 1.0, "bm25": 1.0})[0][0] == "a"
    assert weighted_rrf({n: [i for i, _ in r] for n, r in both.items()}, {"dense": 1.0, "bm25": 1.0})[0][0] == "n0"
    bm25_only = score_fusion(both, {"dense": 0.0, "bm25": 1.0})
    assert [i for i, _ in bm25_only] == [i for i, _ in bm25]  # weight 0 switches the arm off
    only = score_fusion({"dense": [("x", 0.3), ("y", 0.3)], "bm25": []}, {"dense": 1.0, "bm25": 1.0})
    assert only == [("x", 1.0), ("y", 1.0)]  # equal scores: no division by zero, order kept


@pytest.mark.parametrize("weights", [{"dense": 1.0, "bm25": 1.0}, {"dense": 2.0, "bm25": 0.5}])
def test_score_fusion_orders_every_candidate_once(weights: dict[str, float]) -> None:
    dense = [(f"d{i}", 1.0 - i / 50) for i in range(20)]
    bm25 = [(f"d{i * 2}", 20.0 - i) for i in range(20)]
    fused = score_fusion({"dense": dense, "bm25": bm25}, weights)
    scores = [s for _, s in fused]
    assert scores == sorted(scores, reverse=True)
    assert len(fused) == len({i for i, _ in dense} | {i for i, _ in bm25})  # every candidate kept once
    assert fused[0][0] == "d0"  # first in both arms
