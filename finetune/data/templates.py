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

from finetune.data.types import Conversation
from vertical.core.errors import DataFormatError

IGNORE_INDEX = -100


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


def encode_conversation(tokenizer: Any, conversation: Conversation) -> Encoded:
    """Token ids + labels (IGNORE_INDEX outside assistant turns) + per-turn spans."""
    messages = conversation.messages()
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
