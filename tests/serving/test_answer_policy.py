"""The answer policy: one fallback order for both modes, on the real transformers engine and a real
unreachable endpoint (a closed port); grounding policy, safety, fused retrieval order, finish reasons."""

from __future__ import annotations

import asyncio
import dataclasses
import string

import pytest

pytestmark = pytest.mark.slow
SLEEP = "How can I sleep better when I'm anxious?"
OFF_TOPIC = "What is the capital of France?"
NOT_A_LETTER = list(string.ascii_letters + string.digits + string.punctuation)  # any visible first char stops


def both_modes(runtime, req):
    """(unstreamed Answer, streamed Final, streamed deltas) for the same request."""
    from serving.answer import Final, TokenDelta, answer, astream

    async def collect():
        return [event async for event in astream(runtime, req)]

    unstreamed = answer(runtime, req)
    events = asyncio.run(collect())
    assert isinstance(events[-1], Final) and all(isinstance(e, TokenDelta) for e in events[:-1])
    deltas = [e.text for e in events[:-1]]
    assert "".join(deltas) == events[-1].streamed
    return unstreamed, events[-1], deltas


def dead_engine(runtime, timeout: float = 2):
    from serving.engines.openai_engine import OpenAIEngine

    dead = OpenAIEngine("http://127.0.0.1:9/v1", "none", timeout=timeout)  # port 9: nothing listens
    dead.tokenizer = runtime.tokenizer
    return dead


def failures(trace):
    return [t.split(":")[0] for t in trace if " failed:" in t or " skipped:" in t]


CASES = {
    # id: (runtime change, question, request options, expected path, expected failed/skipped links, trace words)
    "adapter-unavailable": (
        lambda rt: dataclasses.replace(rt, adapter="nope"),
        SLEEP,
        {},
        "base+rag",
        ["adapter+rag failed"],
        "adapter 'nope'",
    ),
    "engine-unreachable": (
        lambda rt: dataclasses.replace(rt, engine=dead_engine(rt)),
        SLEEP,
        {},
        "extractive",
        ["base+rag failed", "base failed"],
        "127.0.0.1:9",
    ),
    "empty-output": (
        lambda rt: rt,
        SLEEP,
        {"stop": NOT_A_LETTER},
        "extractive",
        ["base+rag failed", "base failed"],
        "empty answer",
    ),
    "low-confidence": (lambda rt: rt, OFF_TOPIC, {}, "base", ["base+rag skipped"], "confidence is low"),
}


@pytest.mark.parametrize("case", list(CASES))
def test_fallback_order_is_the_same_streamed_and_unstreamed(runtime, case):
    from serving.answer import AnswerRequest

    change, question, options, path, failed, words = CASES[case]
    rt = change(_with_policy(runtime, "flag", 0.3))  # the grounding policy is tested below; here it only flags
    req = AnswerRequest.ask(question, max_new_tokens=24, **options)
    unstreamed, final, deltas = both_modes(rt, req)
    streamed = final.answer
    for result in (unstreamed, streamed):
        assert result.path == path, result.trace
        assert failures(result.trace) == failed, result.trace
        assert any(words in t for t in result.trace), result.trace
        assert result.answer.strip()
    assert streamed.answer == unstreamed.answer  # greedy: the same text, citations attributed the same way
    assert streamed.grounding == unstreamed.grounding and streamed.citations == unstreamed.citations
    assert streamed.trace == unstreamed.trace and streamed.sources == unstreamed.sources
    assert streamed.finish_reason == unstreamed.finish_reason
    if path == "extractive":
        assert "[1]" in unstreamed.answer and unstreamed.sources[0]["source"] == "sleep-hygiene.md"
    if path.endswith("rag"):
        assert unstreamed.grounding["verdict"] in ("ok", "low") and unstreamed.grounding["score"] is not None
    if path == "base":
        assert unstreamed.sources == [] and unstreamed.grounding["verdict"] == "unchecked"


def _with_policy(runtime, below: str, minimum: float = 1.1):
    serving = runtime.spec.serving.model_copy(update={"min_grounding": minimum, "below_grounding": below})
    return dataclasses.replace(runtime, spec=runtime.spec.model_copy(update={"serving": serving}))


@pytest.mark.parametrize("below", ["flag", "extractive", "refuse"])
def test_grounding_policy_applies_identically_in_both_modes(runtime, below):
    from serving.answer import AnswerRequest
    from serving.answer.grounding_policy import REFUSALS

    rt = _with_policy(runtime, below)  # a minimum no answer reaches: the policy always acts
    unstreamed, final, deltas = both_modes(rt, AnswerRequest.ask(SLEEP, max_new_tokens=24))
    for result in (unstreamed, final.answer):
        assert result.grounding["verdict"] == "low" and result.grounding["min"] == 1.1
        assert result.grounding["action"] == {"flag": "flagged", "extractive": "extractive", "refuse": "refused"}[below]
        assert any(t.startswith("grounding policy:") for t in result.trace)
    assert final.answer.answer == unstreamed.answer
    if below == "flag":
        assert unstreamed.path == "base+rag" and len(deltas) > 1  # streamed live, flagged at the end
    else:
        assert deltas == [unstreamed.answer]  # held back until grounding was known
        if below == "extractive":
            assert unstreamed.path == "extractive" and "[1]" in unstreamed.answer
        else:
            assert unstreamed.answer == REFUSALS["en"] and unstreamed.sources


def test_crisis_in_the_latest_message_gets_the_fixed_response_without_a_model(runtime):
    from serving.answer import AnswerRequest
    from vertical.core.safety import safety_response

    rt = dataclasses.replace(runtime, engine=dead_engine(runtime))  # any model call would fail
    unstreamed, final, deltas = both_modes(rt, AnswerRequest.ask("I want to end my life"))
    for result in (unstreamed, final.answer):
        assert result.path == "safety" and result.safety["action"] == "fixed_response"
        assert result.answer == safety_response(runtime.spec, "en")
        assert not failures(result.trace)
    assert deltas == [unstreamed.answer]


def test_risk_earlier_in_the_conversation_keeps_the_resources_and_says_why(runtime):
    from serving.answer import AnswerRequest
    from vertical.core.safety import resources_note, safety_response

    rt = dataclasses.replace(runtime, engine=dead_engine(runtime))  # the extractive link answers: no model needed
    history = [
        {"role": "user", "content": "I want to end my life"},
        {"role": "assistant", "content": safety_response(runtime.spec, "en")},
    ]
    unstreamed, final, deltas = both_modes(rt, AnswerRequest.ask("How can I sleep better?", history))
    note = resources_note(runtime.spec, "en").strip()
    for result in (unstreamed, final.answer):
        assert result.path == "extractive" and result.answer.endswith(note)
        assert result.safety["action"] == "answer_with_resources"
        assert any("risk persisting" in t for t in result.trace)
        assert any("crisis resources appended" in t for t in result.trace)
    assert "".join(deltas).endswith(note)


def test_retrieval_keeps_the_fused_order(runtime):
    from serving.answer import AnswerRequest
    from serving.answer.prepare import merge_hits, prepare

    state = prepare(runtime, AnswerRequest.ask(SLEEP))
    assert [h.chunk_id for h in state.hits] == [h.chunk_id for h in runtime.kb().search(SLEEP)]
    a, b = runtime.kb().search(SLEEP)[:2]
    lower_a = dataclasses.replace(a, score=b.score / 2)
    merged = merge_hits([[lower_a, b], [a]])  # a again from a second query, with its better score
    assert [h.chunk_id for h in merged] == [a.chunk_id, b.chunk_id] and merged[0].score == a.score


def test_finish_reason_and_stop_sequences_in_both_modes(runtime):
    from serving.answer import AnswerRequest

    short, final, _ = both_modes(runtime, AnswerRequest.ask(OFF_TOPIC, max_new_tokens=3))
    assert short.finish_reason == final.answer.finish_reason == "length"
    assert short.usage["completion_tokens"] == final.answer.usage["completion_tokens"] == 3
    # counseling's policy (extractive below 0.3) does not judge three tokens: the client's limit stands
    tiny, final, _ = both_modes(runtime, AnswerRequest.ask(SLEEP, max_new_tokens=3))
    for result in (tiny, final.answer):
        assert result.path == "base+rag" and result.finish_reason == "length"
        assert result.grounding["verdict"] == "unchecked" and result.grounding["action"] == "none"
    stopped, final, deltas = both_modes(runtime, AnswerRequest.ask(OFF_TOPIC, max_new_tokens=24, stop=["Paris"]))
    for result in (stopped, final.answer):
        assert result.finish_reason == "stop" and "Paris" not in result.answer and result.answer.strip()
    assert "Paris" not in "".join(deltas)


def test_answer_many_keeps_order_and_batches(runtime, engine):
    from serving.answer import AnswerRequest, answer_many

    questions = [OFF_TOPIC, SLEEP, "What helps during a panic attack?", "How do I cope with grief?"] * 2
    before = engine.batches_run
    seen: list[int] = []
    results = answer_many(
        runtime, [AnswerRequest.ask(q, max_new_tokens=8) for q in questions], on_answer=lambda i, _a: seen.append(i)
    )
    assert len(results) == len(questions) and sorted(seen) == list(range(len(questions)))
    assert results[0].path == "base" and results[1].sources[0]["source"] == "sleep-hygiene.md"
    assert engine.batches_run - before < len(questions)  # rows shared generate() calls


def test_invalid_request_is_refused_before_any_work(runtime):
    from serving.answer import AnswerRequest, answer
    from vertical.core.errors import ServingError

    with pytest.raises(ServingError, match="last message"):
        answer(runtime, AnswerRequest([{"role": "assistant", "content": "hi"}]))
    with pytest.raises(ServingError):
        answer(runtime, AnswerRequest.ask("   "))


def test_client_system_messages_follow_the_domain_prompt_and_wrappers_follow_the_language(runtime):
    from serving.answer import AnswerRequest
    from serving.answer.links import Link, link_call
    from serving.answer.prepare import prepare

    state = prepare(runtime, AnswerRequest.ask(SLEEP, client_system=["Answer in one sentence."]))
    system = link_call(state, Link("base+rag", None, True)).messages[0]["content"]
    assert system.startswith(runtime.system_prompt) and system.endswith("Answer in one sentence.")
    assert any("client system message" in t for t in state.trace)
    zh = prepare(runtime, AnswerRequest.ask("焦虑的时候怎样才能睡得更好？"))
    user = link_call(zh, Link("base+rag", None, True)).messages[-1]["content"]
    assert user.startswith("资料：") and "问题：" in user


def test_a_stream_closed_by_its_reader_stops_generating(runtime, engine):
    import time

    from serving.answer import AnswerRequest, TokenDelta, astream

    async def first_delta_then_leave():
        events = astream(runtime, AnswerRequest.ask("Write a long story about the sea.", max_new_tokens=400))
        first = await events.__anext__()
        await events.aclose()  # what the API does when the client disconnects
        return first

    assert isinstance(asyncio.run(first_delta_then_leave()), TokenDelta)
    deadline = time.monotonic() + 5
    while engine.queue_depth() and time.monotonic() < deadline:
        time.sleep(0.05)
    assert engine.queue_depth() == 0  # the row was cancelled, not generated to 400 tokens


def test_quoted_text_honours_stop_sequences_and_the_token_limit(runtime):
    from serving.answer import AnswerRequest

    rt = dataclasses.replace(runtime, engine=dead_engine(runtime))  # the extractive link answers
    full = both_modes(rt, AnswerRequest.ask(SLEEP))[0]
    assert full.path == "extractive" and "." in full.answer.rstrip(".")
    for req in (AnswerRequest.ask(SLEEP, stop=["."]), AnswerRequest.ask(SLEEP, max_new_tokens=5)):
        unstreamed, final, _ = both_modes(rt, req)
        for result in (unstreamed, final.answer):
            assert result.path == "extractive" and result.answer and result.answer != full.answer
            assert "." not in result.answer if req.stop else len(rt.tokenizer.encode(result.answer)) <= 5
            assert result.finish_reason == ("stop" if req.stop else "length")


def test_dropped_history_keeps_a_note_when_the_capable_model_cannot_summarize(runtime):
    from serving.answer import AnswerRequest

    spec = runtime.spec.model_copy(update={"base_model": "Qwen/Qwen2.5-7B-Instruct"})  # a capable model, unreachable
    rt = dataclasses.replace(runtime, spec=spec, engine=dead_engine(runtime, timeout=1))
    history = []
    for i in range(120):
        history += [
            {"role": "user", "content": f"Turn {i}: I keep worrying about my exams at night, again and again."},
            {"role": "assistant", "content": f"Reply {i}: that sounds hard; what usually helps you settle?"},
        ]
    result = both_modes(rt, AnswerRequest.ask(SLEEP, history))[0]
    assert result.path == "extractive"
    assert any("no usable summary" in t for t in result.trace) or not any("dropped" in t for t in result.trace)
