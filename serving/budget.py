"""Fit system prompt + sources + history + question + generation budget into the model's context.

Token counts are exact: every candidate prompt is rendered with the model's own chat template and
tokenized. What gives way, in order: the oldest history turns (dropped a user/assistant exchange
at a time, replaced by one short note so the model knows there was earlier conversation), then
source chunks (the lowest-ranked first, the last one truncated token-wise). The system prompt and
the current question are never dropped; if they alone plus the generation budget do not fit,
:class:`ContextBudgetError` says by how much.

The text the framework itself writes into the prompt (the "Sources:" block, the instruction, the
earlier-conversation note) is in the conversation's language (``WRAPPERS``; zh and en, English for
the rest). A caller with a capable model may pass ``summarize``: the dropped turns are then replaced
by a model-written summary (with ``SUMMARY_TOKENS`` reserved for it) instead of the bare note.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from vertical.core.errors import ContextBudgetError

Messages = list[dict[str, str]]
Summarize = Callable[[Messages], str]  # dropped messages → a short summary of them
SUMMARY_TOKENS = 96  # reserved for a summary of the dropped turns (the summarizer's max_new_tokens)

# The framework's own prompt text, per conversation language (detect_language); English for the rest.
WRAPPERS: dict[str, dict[str, str]] = {
    "en": {
        "sources": "Sources:",
        "question": "Question:",
        "instruction": "Answer briefly and cite sources like [1].",
        "earlier": "(Earlier conversation: {n} older messages omitted to fit the context.)",
        "summary": "(Summary of the {n} earlier messages, omitted to fit the context: {summary})",
        "ack": "Understood.",
        "summarize": "Summarize this earlier part of a conversation in two or three sentences. Keep what the user "
        "said about themselves and what was agreed.\n\n{conversation}",
    },
    "zh": {
        "sources": "资料：",
        "question": "问题：",
        "instruction": "请简要回答，并像 [1] 这样注明出处。",
        "earlier": "（之前的对话：为适应上下文长度，省略了较早的 {n} 条消息。）",
        "summary": "（为适应上下文长度，省略了较早的 {n} 条消息，摘要如下：{summary}）",
        "ack": "好的。",
        "summarize": "请用两三句话概括下面这段较早的对话，保留用户讲述的自身情况和已经商定的内容。\n\n{conversation}",
    },
}
EARLIER_NOTE = WRAPPERS["en"]["earlier"]


def wrapper_language(text: str) -> str:
    """The WRAPPERS key for a conversation's text: its detected language when we have wrappers for it."""
    from vertical.core.text import detect_language

    lang = detect_language(text) if text.strip() else "en"
    return lang if lang in WRAPPERS else "en"


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


def format_user_message(question: str, chunks: Sequence[str], lang: str = "en") -> str:
    """Sources go in the user message (small models follow it better than a long system prompt)."""
    if not chunks:
        return question
    w = WRAPPERS.get(lang, WRAPPERS["en"])
    sources = "\n".join(f"[{i}] {c.strip()}" for i, c in enumerate(chunks, 1))
    return f"{w['sources']}\n{sources}\n\n{w['question']} {question}\n{w['instruction']}"


def _assemble(
    system: str,
    history: Messages,
    dropped: int,
    question: str,
    chunks: Sequence[str],
    note: bool = True,
    lang: str = "en",
    summary: str = "",
) -> Messages:
    w = WRAPPERS.get(lang, WRAPPERS["en"])
    messages: Messages = [{"role": "system", "content": system}] if system else []
    if dropped and note:
        text = w["summary"].format(n=dropped, summary=summary) if summary else w["earlier"].format(n=dropped)
        messages.append({"role": "user", "content": text})
        messages.append({"role": "assistant", "content": w["ack"]})
    messages.extend(history[dropped:])
    messages.append({"role": "user", "content": format_user_message(question, chunks, lang)})
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
    lang: str | None = None,
    summarize: Summarize | None = None,
) -> BudgetResult:
    """Messages that fit ``max_model_len`` with ``max_new_tokens`` left for the answer.

    ``lang``: language of the framework's wrapper text (default: detected from the question).
    ``summarize``: when given and history must be dropped, the dropped turns become a summary.
    """
    history = [m for m in (history or []) if m.get("role") in ("user", "assistant")]
    lang = lang or wrapper_language(question)
    limit = max_model_len - max_new_tokens
    essential = count_tokens(tokenizer, _assemble(system, [], 0, question, [], lang=lang))
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

    def assemble(note: bool = True, summary: str = "") -> Messages:
        return _assemble(system, history, dropped, question, chunks, note, lang, summary)

    messages = assemble()
    total = count_tokens(tokenizer, messages)
    # 1) drop the oldest exchanges first (leaving room for a summary when one will be written)
    reserve = SUMMARY_TOKENS if summarize else 0
    for point in points:
        if not history or total <= limit - (reserve if dropped else 0):
            break
        dropped = point
        messages = assemble()
        total = count_tokens(tokenizer, messages)
    if dropped:
        notes.append(f"budget: dropped the {dropped} oldest history messages to fit {max_model_len} tokens")
        if summarize:
            summary = _summary(summarize, history[:dropped], tokenizer)
            with_summary = assemble(summary=summary) if summary else messages
            if summary and count_tokens(tokenizer, with_summary) <= limit:
                messages, total = with_summary, count_tokens(tokenizer, with_summary)
                notes.append(f"budget: the dropped messages were replaced by a {len(summary)}-character summary")
            else:
                notes.append("budget: no usable summary of the dropped messages; kept a short note instead")
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
        messages = assemble()
        total = count_tokens(tokenizer, messages)
    if total > limit and dropped:  # the "earlier conversation" note itself is optional
        messages = assemble(note=False)
        total = count_tokens(tokenizer, messages)
    if truncated or len(chunks) < given_chunks:
        notes.append(f"budget: kept {len(chunks)} source chunk(s){', last one truncated' if truncated else ''}")
    if total > limit:  # defensive: the essential check above should make this unreachable
        raise ContextBudgetError(f"prompt of {total} tokens does not fit {limit}", hint="shorten the question")
    return BudgetResult(messages, total, max_new_tokens, dropped, len(chunks), truncated, notes)


def _summary(summarize: Summarize, dropped: Messages, tokenizer: Any) -> str:
    """The summarizer's text cut to SUMMARY_TOKENS tokens; "" when it fails (the note is used instead)."""
    from vertical.core.errors import VerticalError

    try:
        text = summarize(dropped).strip()
    except VerticalError:
        return ""
    ids = tokenizer(text, add_special_tokens=False)["input_ids"]
    return (
        tokenizer.decode(ids[:SUMMARY_TOKENS], skip_special_tokens=True).strip() if len(ids) > SUMMARY_TOKENS else text
    )
