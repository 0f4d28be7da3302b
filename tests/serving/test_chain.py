"""Answer chain: safety, retrieval + citations, fallbacks with a trace, decomposition parsing."""

from __future__ import annotations

import dataclasses

import pytest

pytestmark = pytest.mark.slow


def test_sleep_question_is_answered_from_sleep_hygiene(runtime):
    from serving.chain import run_chain

    answer = run_chain(runtime, "How can I sleep better when I'm anxious?", max_new_tokens=60)
    assert answer.path == "base+rag"
    assert answer.sources and answer.sources[0]["source"] == "sleep-hygiene.md"
    assert any(w in answer.answer.lower() for w in ("sleep", "bed", "relax"))
    assert any(t.startswith("grounding:") for t in answer.trace)
    assert any("no build manifest" in t for t in answer.trace)  # served from the spec, noted


def test_crisis_message_gets_the_safety_response_without_a_model(runtime):
    from serving.chain import run_chain
    from serving.engines.openai_engine import OpenAIEngine

    dead = OpenAIEngine("http://127.0.0.1:9/v1", "none")  # any model call would fail
    answer = run_chain(dataclasses.replace(runtime, engine=dead), "I want to end my life")
    assert answer.path == "safety"
    assert answer.answer == runtime.spec.safety.response.strip()


def test_unreachable_engine_falls_back_to_extractive_with_reasons(runtime):
    from serving.chain import run_chain
    from serving.engines.openai_engine import OpenAIEngine

    dead = OpenAIEngine("http://127.0.0.1:9/v1", "none", timeout=2)
    dead.tokenizer = runtime.tokenizer
    answer = run_chain(dataclasses.replace(runtime, engine=dead), "How can I sleep better?")
    assert answer.path == "extractive"
    assert "[1]" in answer.answer and answer.sources[0]["source"] == "sleep-hygiene.md"
    assert any(t.startswith("base+rag failed") for t in answer.trace)
    assert any(t.startswith("base failed") for t in answer.trace)


def test_off_topic_question_skips_sources_and_says_why(runtime):
    from serving.chain import run_chain

    answer = run_chain(runtime, "What is the capital of France?", max_new_tokens=12)
    assert answer.path == "base" and answer.sources == []
    assert any("base+rag failed" in t and "confidence" in t for t in answer.trace)


def test_decomposition_parse_is_strict_and_never_drops_the_question(runtime):
    from serving.decompose import decompose, parse_subquestions

    assert parse_subquestions("1. What is sleep hygiene?\n2) How does worry affect sleep?") == [
        "What is sleep hygiene?", "How does worry affect sleep?"]
    assert parse_subquestions("Sure! Here are some:\n1. a\n2. b") is None
    assert parse_subquestions("1. only one") is None
    assert parse_subquestions("1. a\n3. b") is None
    question = "How do grief and panic affect sleep, and what can I do?"
    queries, line = decompose(runtime.engine, question)
    assert queries[0] == question  # kept whether or not the model's list parsed
    assert line.startswith("decompose:")
