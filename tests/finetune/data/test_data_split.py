"""Long conversations split at turn boundaries: nothing lost, nothing over budget, loss on answers only."""

from __future__ import annotations

import json
import random
from pathlib import Path

from finetune.data.report import DataReport
from finetune.data.split import TRUNCATED, split_conversation, window_stats
from finetune.data.templates import encode_conversation, trained_text
from finetune.data.types import IGNORE_INDEX, Conversation, Turn

WORDS = (
    "sleep worry breathe evening routine friend notice feeling gentle pattern thought body "
    "tension morning walk pause kindness support listen habit"
).split()
SYSTEM = "You are a supportive listener."


def _sentence(rng: random.Random, n: int) -> str:
    return " ".join(rng.choice(WORDS) for _ in range(n)).capitalize() + "."


def _long_conversation(exchanges: int, seed: int = 0) -> Conversation:
    rng = random.Random(seed)
    turns = [Turn("system", SYSTEM)]
    for i in range(exchanges):
        turns += [
            Turn("user", f"Question {i}: " + _sentence(rng, rng.randint(10, 40))),
            Turn("assistant", f"Answer {i}: " + _sentence(rng, rng.randint(40, 140))),
        ]
    return Conversation(turns, id="long", source="test:1")


def _trained(tokenizer, window) -> str:
    return tokenizer.decode([t for t, lab in zip(window.input_ids, window.labels) if lab != IGNORE_INDEX])


def test_5000_token_conversation_keeps_every_answer_once(tokenizer) -> None:
    conv = _long_conversation(40)
    full = encode_conversation(tokenizer, conv)
    assert len(full) >= 5000
    report = DataReport()
    windows = split_conversation(tokenizer, conv, 512, report)
    assert len(windows) > 10
    assert max(len(w) for w in windows) <= 512
    expected = "".join(f"{t.content}<|im_end|>\n" for t in conv.assistant_turns)
    assert "".join(_trained(tokenizer, w) for w in windows) == expected  # all answers, once, in order, uncut
    assert sum(w.trained_turns for w in windows) == len(conv.assistant_turns)
    for w in windows:
        text = tokenizer.decode(w.input_ids)
        assert text.startswith(f"<|im_start|>system\n{SYSTEM}<|im_end|>\n<|im_start|>")  # system, then context
    assert not report.warnings


def test_windows_carry_prior_context(tokenizer) -> None:
    conv = _long_conversation(12, seed=3)
    windows = split_conversation(tokenizer, conv, 1024)
    # some window holds more than the one exchange it trains on: earlier turns kept as masked context
    assert any(tokenizer.decode(w.input_ids).count("<|im_start|>user") > w.trained_turns for w in windows)


def test_short_conversation_is_one_window_with_assistant_only_labels(tokenizer) -> None:
    conv = Conversation(
        [
            Turn("user", "How can I wind down?"),
            Turn("assistant", "Try dimming the lights an hour before bed."),
            Turn("user", "Thanks."),
            Turn("assistant", "You're welcome."),
        ]
    )
    windows = split_conversation(tokenizer, conv, 512)
    assert len(windows) == 1
    assert (
        trained_text(tokenizer, encode_conversation(tokenizer, conv))
        == "Try dimming the lights an hour before bed.<|im_end|>\nYou're welcome.<|im_end|>\n"
    )
    assert (
        _trained(tokenizer, windows[0])
        == "Try dimming the lights an hour before bed.<|im_end|>\nYou're welcome.<|im_end|>\n"
    )


def test_single_turn_over_budget_is_truncated_and_counted(tokenizer) -> None:
    rng = random.Random(1)
    conv = Conversation(
        [
            Turn("system", SYSTEM),
            Turn("user", _sentence(rng, 900)),
            Turn("assistant", "That is a lot to carry."),
            Turn("user", "Yes."),
            Turn("assistant", "Let's take it one step at a time."),
        ],
        id="big",
    )
    report = DataReport()
    windows = split_conversation(tokenizer, conv, 256, report)
    assert all(len(w) <= 256 for w in windows)
    assert report.warnings[TRUNCATED] == 1
    assert (
        "".join(_trained(tokenizer, w) for w in windows)
        == "That is a lot to carry.<|im_end|>\nLet's take it one step at a time.<|im_end|>\n"
    )


def _chinese_session(fixtures_dir: Path) -> Conversation:
    record = json.loads((fixtures_dir / "zh_long_session.json").read_text(encoding="utf-8"))
    turns = [Turn("system", record["system"])]
    for user, answer in record["exchanges"]:
        turns += [Turn("user", user), Turn("assistant", answer)]
    return Conversation(turns, id=record["id"], source="zh_long_session.json:1")


def test_60_turn_chinese_session_trains_every_answer_once_with_context(tokenizer, fixtures_dir: Path) -> None:
    conv = _chinese_session(fixtures_dir)
    assert len(conv.turns) == 61
    report = DataReport()
    windows = split_conversation(tokenizer, conv, 512, report)
    assert len(encode_conversation(tokenizer, conv)) > 3 * 512 and len(windows) > 3
    assert all(len(w) <= 512 for w in windows) and not report.warnings
    # Every answer is a labelled turn exactly once, in order and uncut.
    expected = "".join(f"{t.content}<|im_end|>\n" for t in conv.assistant_turns)
    assert "".join(_trained(tokenizer, w) for w in windows) == expected
    assert sum(w.trained_turns for w in windows) == 30
    answers = [t.content for t in conv.assistant_turns]
    done = 0
    for w in windows:
        text = tokenizer.decode(w.input_ids)
        trained = answers[done : done + w.trained_turns]
        first_trained = text.index(trained[0])
        # the context turns are the ones right before the window's own exchange, in the original order
        own_user = 1 + 2 * done  # turn index of the window's own user turn
        previous = [t.content for t in conv.turns[own_user - w.context_turns : own_user]]
        assert text.count("<|im_start|>") == 1 + w.context_turns + 2 * w.trained_turns  # system + context + own
        positions = [text.index(c) for c in previous]
        assert positions == sorted(positions) and all(p < first_trained for p in positions)
        done += w.trained_turns
    # after the first window every window carries earlier turns (at 512 a Chinese exchange is ~150–250 tokens)
    assert windows[0].context_turns == 0 and all(w.context_turns >= 1 for w in windows[1:])
    stats = window_stats(windows)
    assert stats["trained_turns"] == 30 and stats["context_turns_mean"] >= 1.5
