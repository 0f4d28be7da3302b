"""Split a conversation longer than ``max_length`` tokens into windows at turn boundaries.

Unlike a blunt ``cutoff_len``, no assistant turn is lost or cut mid-turn: each window keeps the
system prompt, the user turn its first assistant answer replies to, as many following answers as
fit, then as much earlier context as fits. Assistant turns that an earlier window already trained
on stay in later windows as masked context (trained exactly once). Only a single exchange that
cannot fit on its own is truncated, and that is counted as a warning in the report.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any

from finetune.data.report import DataReport
from finetune.data.templates import IGNORE_INDEX, Encoded, encode_conversation
from finetune.data.types import Conversation, Turn

TRUNCATED = "turn truncated to fit max_length"


@dataclass
class Window:
    """One training example: token ids, labels (IGNORE_INDEX outside trained assistant turns)."""

    input_ids: list[int]
    labels: list[int]
    conversation_id: str = ""
    kind: str = "domain"  # domain | general | synth
    trained_turns: int = 0

    def __len__(self) -> int:
        return len(self.input_ids)

    def to_dict(self) -> dict[str, list[int]]:
        return {"input_ids": self.input_ids, "labels": self.labels}


def _window(enc: Encoded, conv: Conversation, trained_turns: int) -> Window:
    return Window(enc.input_ids, enc.labels, conv.id, conv.meta.get("kind", "domain"), trained_turns)


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
        turns[longest] = Turn(turns[longest].role, tokenizer.decode(token_lists[longest][:keep]).strip() or "…",
                              turns[longest].tool_call)
    return turns


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
    sys_len = full.spans[0].end - full.spans[0].start if has_sys else 0
    lens = [s.end - s.start for s in full.spans]
    assistants = [i for i, t in enumerate(turns) if t.role == "assistant"]
    users = [i for i, t in enumerate(turns) if t.role == "user"]
    anchor = {a: max(u for u in users if u < a) for a in assistants}
    cost = lambda s, e: sys_len + sum(lens[s : e + 1])  # noqa: E731 (estimate; verified by encoding)

    windows: list[Window] = []
    trained_upto = -1
    for t in assistants:
        if t <= trained_upto:
            continue
        start, end = anchor[t], t
        if cost(start, end) <= max_length:
            for j in (a for a in assistants if a > t):
                if cost(start, j) > max_length:
                    break
                end = j
            for u in reversed([u for u in users if u < start]):
                if cost(u, end) > max_length:
                    break
                start = u
        while True:
            window_turns = sys_turns + turns[start : end + 1]
            train = [False] * len(sys_turns) + [i > trained_upto and turns[i].role == "assistant"
                                                for i in range(start, end + 1)]
            enc, n_trained = _encode_masked(tokenizer, window_turns, train, conv)
            if len(enc) <= max_length:
                break
            later_users = [u for u in users if start < u <= anchor[t]]
            if later_users:  # drop the earliest context first
                start = later_users[0]
            elif end > t:  # then leave later answers to the next window
                end = max(a for a in assistants if a < end)
            else:  # a single exchange longer than the budget: truncate, and say so
                window_turns = _truncate_to_fit(tokenizer, window_turns, max_length, conv)
                enc, n_trained = _encode_masked(tokenizer, window_turns, train, conv)
                report.warn(TRUNCATED, conv.source or conv.id)
                break
        windows.append(_window(enc, conv, n_trained))
        trained_upto = end
    report.count("conversations split", 1)
    return windows
