"""Decomposition: strict parsing of the model's list; the original question is never dropped."""

from __future__ import annotations

import pytest


def test_parse_is_strict():
    from serving.decompose import parse_subquestions

    assert parse_subquestions("1. What is sleep hygiene?\n2) How does worry affect sleep?") == [
        "What is sleep hygiene?",
        "How does worry affect sleep?",
    ]
    assert parse_subquestions("Sure! Here are some:\n1. a\n2. b") is None
    assert parse_subquestions("1. only one") is None
    assert parse_subquestions("1. a\n3. b") is None


@pytest.mark.slow
def test_decomposition_never_drops_the_question(runtime):
    from serving.decompose import decompose

    question = "How do grief and panic affect sleep, and what can I do?"
    queries, line = decompose(runtime.engine, question)
    assert queries[0] == question  # kept whether or not the model's list parsed
    assert line.startswith("decompose:")


@pytest.mark.slow
def test_decomposed_retrieval_merges_queries_in_the_policy(runtime):
    import dataclasses

    from serving.answer import AnswerRequest
    from serving.answer.prepare import prepare

    serving = runtime.spec.serving.model_copy(update={"decompose": True})
    rt = dataclasses.replace(runtime, spec=runtime.spec.model_copy(update={"serving": serving}))
    state = prepare(rt, AnswerRequest.ask("How do grief and panic affect sleep, and what can I do?"))
    assert state.queries[0] == state.question and any(t.startswith("decompose:") for t in state.trace)
    ids = [h.chunk_id for h in state.hits]
    assert len(ids) == len(set(ids))  # each chunk once
    if len(state.queries) > 1:  # merged: best fused score per chunk, best first
        assert [h.score for h in state.hits] == sorted((h.score for h in state.hits), reverse=True)
