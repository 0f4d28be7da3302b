"""Fit system prompt + sources + history + question + generation budget into the model's context.

Token counts are exact: every candidate prompt is rendered with the model's own chat template and
tokenized. What gives way, in order: the oldest history turns (dropped a user/assistant exchange
at a time, replaced by one short note so the model knows there was earlier conversation), then
source chunks (the lowest-ranked first, the last one truncated token-wise). The system prompt and
the current question are never dropped; if they alone plus the generation budget do not fit,
:class:`ContextBudgetError` says by how much.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from vertical.core.errors import ContextBudgetError

Messages = list[dict[str, str]]
EARLIER_NOTE = "(Earlier conversation: {n} older messages omitted to fit the context.)"


@dataclass
class BudgetResult:
    messages: Messages
    prompt_tokens: int
    max_new_tokens: int
    dropped_turns: int = 0
    chunks_kept: int = 0
    chunks_truncated: bool = False
    notes: list[str] = field(default_factory=list)


def count_tokens(tokenizer: Any, messages: Messages) -> int:
    """Exact prompt length as the engine will see it (chat template + generation prompt)."""
    rendered = tokenizer.apply_chat_template(messages, add_generation_prompt=True, tokenize=True, return_dict=True)
    return len(rendered["input_ids"])


def format_user_message(question: str, chunks: Sequence[str]) -> str:
    """Sources go in the user message (small models follow it better than a long system prompt)."""
    if not chunks:
        return question
    sources = "\n".join(f"[{i}] {c.strip()}" for i, c in enumerate(chunks, 1))
    return f"Sources:\n{sources}\n\nQuestion: {question}\nAnswer briefly and cite sources like [1]."


def _assemble(system: str, history: Messages, dropped: int, question: str, chunks: Sequence[str],
              note: bool = True) -> Messages:
    messages: Messages = [{"role": "system", "content": system}] if system else []
    if dropped and note:
        messages.append({"role": "user", "content": EARLIER_NOTE.format(n=dropped)})
        messages.append({"role": "assistant", "content": "Understood."})
    messages.extend(history[dropped:])
    messages.append({"role": "user", "content": format_user_message(question, chunks)})
    return messages


def _drop_points(history: Messages) -> list[int]:
    """Indices where the kept history may start: at a user turn, so exchanges stay whole."""
    points = [i for i, m in enumerate(history) if m.get("role") == "user" and i > 0]
    return points + [len(history)]


def fit_context(
    tokenizer: Any,
    system: str,
    question: str,
    chunks: Sequence[str] = (),
    history: Messages | None = None,
    max_model_len: int = 2048,
    max_new_tokens: int = 160,
) -> BudgetResult:
    """Messages that fit ``max_model_len`` with ``max_new_tokens`` left for the answer."""
    history = [m for m in (history or []) if m.get("role") in ("user", "assistant")]
    limit = max_model_len - max_new_tokens
    essential = count_tokens(tokenizer, _assemble(system, [], 0, question, []))
    if essential > limit:
        raise ContextBudgetError(
            f"the system prompt and question need {essential} tokens, plus {max_new_tokens} for the answer, "
            f"but the model's context is {max_model_len} tokens (over by {essential - limit})",
            hint="shorten the question or system prompt, lower max_tokens, or raise serving.max_model_len",
        )
    notes: list[str] = []
    chunks = list(chunks)
    given_chunks = len(chunks)
    dropped = 0
    points = _drop_points(history) if history else [0]
    messages = _assemble(system, history, dropped, question, chunks)
    total = count_tokens(tokenizer, messages)
    # 1) drop the oldest exchanges first
    for point in points:
        if total <= limit or not history:
            break
        dropped = point
        messages = _assemble(system, history, dropped, question, chunks)
        total = count_tokens(tokenizer, messages)
    if dropped:
        notes.append(f"budget: dropped the {dropped} oldest history messages to fit {max_model_len} tokens")
    # 2) then sources: drop the lowest-ranked chunks, truncate the last one kept
    truncated = False
    while total > limit and chunks:
        over = total - limit
        last_ids = tokenizer(chunks[-1], add_special_tokens=False)["input_ids"]
        if len(chunks) > 1 and len(last_ids) <= over + 8:
            chunks.pop()
        elif len(last_ids) > over + 8:
            chunks[-1] = tokenizer.decode(last_ids[: len(last_ids) - over - 4], skip_special_tokens=True)
            truncated = True
        else:
            chunks.pop()
        messages = _assemble(system, history, dropped, question, chunks)
        total = count_tokens(tokenizer, messages)
    if total > limit and dropped:  # the "earlier conversation" note itself is optional
        messages = _assemble(system, history, dropped, question, chunks, note=False)
        total = count_tokens(tokenizer, messages)
    if truncated or len(chunks) < given_chunks:
        notes.append(f"budget: kept {len(chunks)} source chunk(s){', last one truncated' if truncated else ''}")
    if total > limit:  # defensive: the essential check above should make this unreachable
        raise ContextBudgetError(f"prompt of {total} tokens does not fit {limit}", hint="shorten the question")
    return BudgetResult(messages, total, max_new_tokens, dropped, len(chunks), truncated, notes)
