"""Split a conversation longer than ``max_length`` tokens into windows that carry their context.

Unlike a blunt ``cutoff_len``, no assistant turn is lost or cut mid-turn, and no turn trains without
what was said before it. Windows go through the conversation in order; each one holds

    system prompt + preceding turns (masked context) + its own exchanges (loss on their answers)

Its own exchanges start at the user turn before the first answer not trained yet and take as many
following answers as fit in half of ``max_length`` (at least one exchange); then as many preceding
turns as fit into the rest of ``max_length`` are carried as context, whole turns, latest first. So
every assistant turn trains exactly once, and every window after the first sees the conversation
that led up to it. Context starts at any turn when the chat template accepts a window opening with
an assistant turn (ChatML, Llama 3, Qwen…), else at user turns only. Only a single exchange that
cannot fit on its own is truncated, and that is counted as a warning in the report.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from finetune.data.report import DataReport
from finetune.data.templates import Encoded, encode_conversation
from finetune.data.types import IGNORE_INDEX, Conversation, Turn, Window

TRUNCATED = "turn truncated to fit max_length"
# A window's own exchanges take at most this share of max_length; the rest is left for context.
OWN_SHARE = 0.5


def _window(enc: Encoded, conv: Conversation, trained_turns: int, context_turns: int = 0) -> Window:
    return Window(enc.input_ids, enc.labels, conv.id, conv.meta.get("kind", "domain"), trained_turns, context_turns)


def _encode_masked(tokenizer: Any, turns: list[Turn], train: list[bool], conv: Conversation) -> tuple[Encoded, int]:
    """Encode ``turns``; assistant turns whose ``train`` flag is False become masked context."""
    enc = encode_conversation(tokenizer, replace(conv, turns=turns))
    labels = list(enc.labels)
    for span, keep in zip(enc.spans, train):
        if span.trained and not keep:
            labels[span.start : span.end] = [IGNORE_INDEX] * (span.end - span.start)
    return Encoded(enc.input_ids, labels, enc.spans), sum(1 for s, k in zip(enc.spans, train) if s.trained and k)


def _truncate_to_fit(tokenizer: Any, turns: list[Turn], max_length: int, conv: Conversation) -> list[Turn]:
    """Shorten the longest turn(s) of a minimal window until it encodes within max_length."""
    turns = list(turns)
    for _ in range(8):
        length = len(encode_conversation(tokenizer, replace(conv, turns=turns)))
        excess = length - max_length
        if excess <= 0:
            return turns
        token_lists = [tokenizer(t.content, add_special_tokens=False)["input_ids"] for t in turns]
        longest = max(range(len(turns)), key=lambda i: len(token_lists[i]))
        keep = max(1, len(token_lists[longest]) - excess - 2)
        turns[longest] = Turn(
            turns[longest].role, tokenizer.decode(token_lists[longest][:keep]).strip() or "…", turns[longest].tool_call
        )
    return turns


def _opens_with_assistant_ok(tokenizer: Any, conv: Conversation, sys_turns: list[Turn]) -> bool:
    """Whether the chat template accepts a window whose first non-system turn is an assistant turn."""
    probe = sys_turns + [Turn("assistant", "a"), Turn("user", "b"), Turn("assistant", "c")]
    try:
        encode_conversation(tokenizer, replace(conv, turns=probe))
    except Exception:  # noqa: BLE001 (templates raise jinja TemplateError or their own exceptions)
        return False
    return True


def split_conversation(
    tokenizer: Any, conv: Conversation, max_length: int, report: DataReport | None = None
) -> list[Window]:
    """Windows of at most ``max_length`` tokens that together train every assistant turn once."""
    report = report or DataReport()
    full = encode_conversation(tokenizer, conv)
    n_assistant = sum(1 for s in full.spans if s.trained)
    if len(full) <= max_length:
        return [_window(full, conv, n_assistant)]

    turns = conv.turns
    has_sys = turns[0].role == "system"
    sys_turns = turns[:1] if has_sys else []
    first = 1 if has_sys else 0
    sys_len = full.spans[0].end - full.spans[0].start if has_sys else 0
    lens = [s.end - s.start for s in full.spans]
    assistants = [i for i, t in enumerate(turns) if t.role == "assistant"]
    users = [i for i, t in enumerate(turns) if t.role == "user"]
    anchor = {a: max((u for u in users if u < a), default=first) for a in assistants}
    # a tool result never opens a window without the call it answers
    any_turn = [i for i in range(first, len(turns)) if turns[i].role in ("user", "assistant")]
    context_starts = any_turn if _opens_with_assistant_ok(tokenizer, conv, sys_turns) else users
    cost = lambda s, e: sys_len + sum(lens[s : e + 1])  # noqa: E731 (estimate; verified by encoding)
    own_budget = int(max_length * OWN_SHARE)

    windows: list[Window] = []
    trained_upto = -1
    for t in assistants:
        if t <= trained_upto:
            continue
        own, end = max(anchor[t], trained_upto + 1), t  # an answer already trained is never trained again
        for j in (a for a in assistants if a > t):  # more of its own answers, within its share
            if cost(own, j) > own_budget:
                break
            end = j
        start = own
        for s in reversed([s for s in context_starts if s < own]):  # then context, latest turns first
            if cost(s, end) > max_length:
                break
            start = s
        while True:
            window_turns = sys_turns + turns[start : end + 1]
            train = [False] * len(sys_turns) + [
                own <= i and turns[i].role == "assistant" for i in range(start, end + 1)
            ]
            enc, n_trained = _encode_masked(tokenizer, window_turns, train, conv)
            if len(enc) <= max_length:
                break
            if start < own:  # the estimate was short (e.g. a default system prompt): drop the earliest context
                later = [s for s in context_starts if start < s < own]
                start = later[0] if later else own
            elif end > t:  # then leave later answers to the next window
                end = max(a for a in assistants if a < end)
            else:  # a single exchange longer than the budget: truncate, and say so
                window_turns = _truncate_to_fit(tokenizer, window_turns, max_length, conv)
                enc, n_trained = _encode_masked(tokenizer, window_turns, train, conv)
                report.warn(TRUNCATED, conv.source or conv.id)
                break
        windows.append(_window(enc, conv, n_trained, own - start))
        trained_upto = end
    report.count("conversations split", 1)
    return windows


def window_stats(windows: list[Window]) -> dict[str, float]:
    """Turns trained and context turns carried per window (``data inspect`` and the data report)."""
    if not windows:
        return {"windows": 0}
    context = [w.context_turns for w in windows]
    return {
        "windows": len(windows),
        "trained_turns": sum(w.trained_turns for w in windows),
        "context_turns_mean": round(sum(context) / len(context), 2),
        "context_turns_min": min(context),
        "context_turns_max": max(context),
    }
