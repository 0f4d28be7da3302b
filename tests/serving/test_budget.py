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
    result = fit_context(tokenizer, "You are kind.", "How do I sleep before the exam?", ["Keep a routine."],
                         history, max_model_len=512, max_new_tokens=100)
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

    wider = _assemble("You are kind.", history, result.dropped_turns - 2, "How do I sleep before the exam?",
                      ["Keep a routine."])
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
