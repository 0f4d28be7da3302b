"""Weighted reciprocal rank fusion and MMR on hand-made rankings."""

from __future__ import annotations

import numpy as np
import pytest

from knowledge.fusion import mmr, weighted_rrf


def test_rrf_rewards_agreement_between_rankers() -> None:
    fused = weighted_rrf({"dense": ["a", "b", "c"], "bm25": ["c", "b", "d"]}, {"dense": 1.0, "bm25": 1.0}, k=60)
    # c: 1/63 + 1/61 = 0.032266 edges out b: 2/62 = 0.032258; both beat single-list hits.
    assert [d for d, _ in fused] == ["c", "b", "a", "d"]
    assert fused[0][1] == pytest.approx(1 / 63 + 1 / 61)
    assert fused[1][1] == pytest.approx(2 / 62)
    assert fused[2][1] == pytest.approx(1 / 61)


def test_rrf_weights_shift_the_order_and_zero_weight_drops_a_ranker() -> None:
    rankings = {"dense": ["a", "b"], "bm25": ["b", "a"]}
    assert weighted_rrf(rankings, {"dense": 2.0, "bm25": 1.0}, k=60)[0][0] == "a"
    assert weighted_rrf(rankings, {"dense": 1.0, "bm25": 2.0}, k=60)[0][0] == "b"
    assert [d for d, _ in weighted_rrf({"dense": ["a"], "bm25": ["z"]}, {"dense": 0.0, "bm25": 1.0})] == ["z"]


def test_mmr_skips_near_duplicates() -> None:
    q = np.array([1.0, 0.0])
    cands = np.array([[1.0, 0.0], [0.999, 0.045], [0.6, 0.8]])
    cands /= np.linalg.norm(cands, axis=1, keepdims=True)
    assert mmr(q, cands, k=2, lambda_mult=0.3) == [0, 2]
    assert mmr(q, cands, k=2, lambda_mult=1.0) == [0, 1]
