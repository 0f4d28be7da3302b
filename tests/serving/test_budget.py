"""Context budget: exact token counts, oldest turns dropped first, system + question never dropped."""

from __future__ import annotations

import pytest

from vertical.core.errors import ContextBudgetError


@pytest.fixture(scope="module")
def tokenizer(generator_name):
    from vertical.core.loaders import load_tokenizer

    return load_tokenizer(generator_name)


def _conversation(turns: int) -> list[dict]:
    history = []
    for i in range(turns):
        history.append({"role": "user", "content": f"Turn {i}: I keep thinking about my exam number {i} at night."})
        history.append({"role": "assistant", "content": f"Reply {i}: that sounds stressful; what helps you relax?"})
    return history


def test_fifty_turn_conversation_fits_exactly_and_drops_oldest_first(tokenizer):
    from serving.budget import count_tokens, fit_context

    history = _conversation(50)
    result = fit_context(
        tokenizer,
        "You are kind.",
        "How do I sleep before the exam?",
        ["Keep a routine."],
        history,
        max_model_len=512,
        max_new_tokens=100,
    )
    assert result.prompt_tokens == count_tokens(tokenizer, result.messages)  # exact, not estimated
    assert result.prompt_tokens + 100 <= 512
    assert result.messages[0] == {"role": "system", "content": "You are kind."}
    assert "How do I sleep before the exam?" in result.messages[-1]["content"]
    assert "Keep a routine." in result.messages[-1]["content"]
    assert 0 < result.dropped_turns < len(history)
    kept = [m for m in result.messages[1:-1] if not m["content"].startswith(("(Earlier", "Understood"))]
    assert kept == history[result.dropped_turns :]  # a suffix: the newest turns survive
    assert kept[0]["role"] == "user"
    # one more exchange would not have fit: the budget is used, not wasted
    from serving.budget import _assemble

    wider = _assemble(
        "You are kind.", history, result.dropped_turns - 2, "How do I sleep before the exam?", ["Keep a routine."]
    )
    assert count_tokens(tokenizer, wider) + 100 > 512


def test_chunks_are_trimmed_before_the_question(tokenizer):
    from serving.budget import fit_context

    chunks = ["sleep " * 300, "routine " * 300]
    result = fit_context(tokenizer, "sys", "What helps?", chunks, [], max_model_len=300, max_new_tokens=50)
    assert result.prompt_tokens + 50 <= 300
    assert result.chunks_kept == 1 and result.chunks_truncated
    assert "What helps?" in result.messages[-1]["content"]


def test_question_that_cannot_fit_raises_clear_error(tokenizer):
    from serving.budget import fit_context

    with pytest.raises(ContextBudgetError, match="over by"):
        fit_context(tokenizer, "sys", "word " * 400, [], [], max_model_len=256, max_new_tokens=64)


def _zh_conversation(turns: int) -> list[dict]:
    history = []
    for i in range(turns):
        history.append({"role": "user", "content": f"第{i}轮：我晚上总是想着考试，睡不着，心里很紧张。"})
        history.append({"role": "assistant", "content": f"第{i}轮回复：听起来压力很大，什么能让你放松一些？"})
    return history


def test_wrappers_and_the_dropped_history_note_follow_the_conversation_language(tokenizer):
    from serving.budget import WRAPPERS, count_tokens, fit_context

    result = fit_context(
        tokenizer,
        "你是一位温和的心理咨询助手。",
        "考试前怎么才能睡好？",
        ["保持规律的作息。"],
        _zh_conversation(40),
        max_model_len=512,
        max_new_tokens=100,
    )
    assert result.prompt_tokens == count_tokens(tokenizer, result.messages)  # still token-exact
    last = result.messages[-1]["content"]
    assert last.startswith("资料：") and "问题： 考试前怎么才能睡好？" in last and "注明出处" in last
    assert "Sources" not in last and "Question" not in last
    assert result.dropped_turns > 0
    assert result.messages[1]["content"] == WRAPPERS["zh"]["earlier"].format(n=result.dropped_turns)
    assert result.messages[2]["content"] == "好的。"
    english = fit_context(tokenizer, "sys", "How do I sleep?", ["Keep a routine."], [], 512, 100)
    assert english.messages[-1]["content"].startswith("Sources:")


def test_a_summary_replaces_the_note_when_a_summarizer_is_given(tokenizer):
    from serving.budget import count_tokens, fit_context

    seen: list[int] = []

    def summarize(dropped: list[dict]) -> str:  # what a capable model would return
        seen.append(len(dropped))
        return "The user has exam stress and trouble sleeping; breathing exercises helped a little."

    history = _conversation(50)
    result = fit_context(
        tokenizer,
        "You are kind.",
        "How do I sleep before the exam?",
        [],
        history,
        max_model_len=512,
        max_new_tokens=100,
        summarize=summarize,
    )
    assert seen == [result.dropped_turns] and result.dropped_turns > 0
    assert result.messages[1]["content"].startswith(f"(Summary of the {result.dropped_turns} earlier messages")
    assert "breathing exercises" in result.messages[1]["content"]
    assert result.prompt_tokens == count_tokens(tokenizer, result.messages) and result.prompt_tokens + 100 <= 512
    assert any("summary" in n for n in result.notes)
    assert result.messages[3:-1] == history[result.dropped_turns :]


def test_summaries_are_only_asked_of_a_capable_model(runtime):
    import dataclasses

    from serving.answer import AnswerRequest
    from serving.answer.links import summarizer_for
    from serving.answer.prepare import prepare
    from serving.engines.openai_engine import OpenAIEngine

    state = prepare(runtime, AnswerRequest.ask("How do I sleep?"))
    assert summarizer_for(state) is None  # transformers engine, 135M default: a note, not a summary
    small = OpenAIEngine("http://127.0.0.1:9/v1", "smollm2-135m-instruct")
    assert summarizer_for(dataclasses.replace(state, runtime=dataclasses.replace(runtime, engine=small))) is None
    spec = runtime.spec.model_copy(update={"base_model": "Qwen/Qwen2.5-7B-Instruct"})
    capable = dataclasses.replace(
        runtime, engine=OpenAIEngine("http://127.0.0.1:9/v1", "Qwen/Qwen2.5-7B-Instruct"), spec=spec
    )
    assert summarizer_for(dataclasses.replace(state, runtime=capable)) is not None
