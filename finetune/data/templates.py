"""Tokenise conversations with the tokenizer's own chat template; loss only on assistant turns.

We render growing prefixes of the conversation with ``apply_chat_template`` and take the token
difference, so every template quirk (default system prompts, separators, end-of-turn tokens) comes
from the model's own template instead of a hand-written copy. Assistant spans include the
end-of-turn token so the model learns to stop; the "assistant header" that the generation prompt
adds is masked.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from finetune.data.types import IGNORE_INDEX, Conversation
from vertical.core.errors import DataFormatError

__all__ = ["IGNORE_INDEX", "Encoded", "TurnSpan", "encode_conversation", "trained_text"]


@dataclass
class TurnSpan:
    role: str
    start: int  # token offsets into input_ids, end exclusive
    end: int
    trained: bool


@dataclass
class Encoded:
    input_ids: list[int]
    labels: list[int]
    spans: list[TurnSpan] = field(default_factory=list)

    def __len__(self) -> int:
        return len(self.input_ids)


def _render(tokenizer: Any, messages: list[dict[str, str]], add_generation_prompt: bool) -> list[int]:
    if not messages:
        return []
    ids = tokenizer.apply_chat_template(messages, tokenize=True, add_generation_prompt=add_generation_prompt)
    if isinstance(ids, dict) or hasattr(ids, "keys"):
        ids = ids["input_ids"]
    return list(ids)


def _render_text(tokenizer: Any, messages: list[dict[str, str]], add_generation_prompt: bool) -> str:
    if not messages:
        return ""
    return tokenizer.apply_chat_template(messages, tokenize=False, add_generation_prompt=add_generation_prompt)


def _encode_by_text(tokenizer: Any, messages: list[dict[str, str]]) -> Encoded | None:
    """The same result from rendered text: each turn's text difference is tokenised once (linear, not
    quadratic, in the number of turns). None when the template is not prefix-stable as text, or when
    tokenising the pieces differs from tokenising the whole (then the exact path decides)."""
    pieces: list[tuple[str, str, bool]] = []  # (role, text, trained) in order; headers are untrained pieces
    done = ""
    for i, msg in enumerate(messages):
        trained = msg["role"] == "assistant"
        prefix = _render_text(tokenizer, messages[:i], add_generation_prompt=trained) if i or trained else ""
        full = _render_text(tokenizer, messages[: i + 1], add_generation_prompt=False)
        if not (full.startswith(done) and prefix.startswith(done) and full.startswith(prefix)):
            return None
        header = prefix[len(done) :] if trained else ""
        pieces.append((msg["role"], header, False))
        pieces.append((msg["role"], full[len(done) + len(header) :], trained))
        done = full
    input_ids: list[int] = []
    labels: list[int] = []
    spans: list[TurnSpan] = []
    for k in range(0, len(pieces), 2):
        (role, header, _), (_, body, trained) = pieces[k], pieces[k + 1]
        start = len(input_ids)
        header_ids = tokenizer(header, add_special_tokens=False)["input_ids"] if header else []
        body_ids = tokenizer(body, add_special_tokens=False)["input_ids"] if body else []
        input_ids += header_ids + body_ids
        labels += [IGNORE_INDEX] * len(header_ids) + (body_ids if trained else [IGNORE_INDEX] * len(body_ids))
        spans.append(TurnSpan(role, start, len(input_ids), trained))
    if input_ids != list(tokenizer(done, add_special_tokens=False)["input_ids"]):
        return None
    return Encoded(input_ids, labels, spans)


def encode_conversation(tokenizer: Any, conversation: Conversation) -> Encoded:
    """Token ids + labels (IGNORE_INDEX outside assistant turns) + per-turn spans."""
    messages = conversation.messages()
    fast = _encode_by_text(tokenizer, messages)
    if fast is not None:
        return fast
    input_ids: list[int] = []
    labels: list[int] = []
    spans: list[TurnSpan] = []
    for i, msg in enumerate(messages):
        trained = msg["role"] == "assistant"
        # For an assistant turn the header ("<|im_start|>assistant\n") belongs to the prompt.
        prefix = _render(tokenizer, messages[:i], add_generation_prompt=trained) if i or trained else []
        full = _render(tokenizer, messages[: i + 1], add_generation_prompt=False)
        if full[: len(input_ids)] != input_ids or full[: len(prefix)] != prefix[: len(full)]:
            raise DataFormatError(
                f"{conversation.source or conversation.id}: the chat template of this tokenizer is not prefix-stable",
                hint="use a model whose chat template renders each turn independently (ChatML, Llama 3, Qwen…)",
            )
        header = prefix[len(input_ids) :] if trained else []
        body = full[len(input_ids) + len(header) :]
        start = len(input_ids)
        input_ids.extend(header + body)
        labels.extend([IGNORE_INDEX] * len(header) + (body if trained else [IGNORE_INDEX] * len(body)))
        spans.append(TurnSpan(msg["role"], start, len(input_ids), trained))
    return Encoded(input_ids, labels, spans)


def trained_text(tokenizer: Any, encoded: Encoded) -> str:
    """Decode only the tokens that carry loss (used by tests and `vertical data inspect`)."""
    return tokenizer.decode([t for t, lab in zip(encoded.input_ids, encoded.labels) if lab != IGNORE_INDEX])
