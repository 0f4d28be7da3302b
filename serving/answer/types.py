"""What goes into the answer policy and what comes out of it, streamed or not."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

from vertical.core.errors import ServingError


@dataclass
class AnswerRequest:
    """One question in its conversation.

    ``messages``: OpenAI-style ``{"role", "content"}`` dicts, oldest first; the last one is the user's
    question, the ones before it are the history (user/assistant turns). ``client_system``: the
    client's own system/developer messages; they are added AFTER the domain's system prompt and
    never replace it, and safety runs before any of them is read. ``None`` means the domain default.
    ``engine_extra``: further OpenAI parameters passed verbatim to an OpenAI-compatible engine (only
    those in ``engine.capabilities``; the API refuses the rest).
    """

    messages: list[dict[str, Any]]
    max_new_tokens: int | None = None
    temperature: float | None = None
    top_p: float | None = None
    seed: int | None = None
    stop: list[str] = field(default_factory=list)
    use_adapter: bool = True
    k: int | None = None
    client_system: list[str] = field(default_factory=list)
    engine_extra: dict[str, Any] = field(default_factory=dict)

    @classmethod
    def ask(cls, question: str, history: list[dict[str, Any]] | None = None, **options: Any) -> AnswerRequest:
        """Shorthand for a question and its history."""
        return cls([*(history or []), {"role": "user", "content": question}], **options)

    @property
    def question(self) -> str:
        return text_of(self.messages[-1]).strip() if self.messages else ""

    @property
    def history(self) -> list[dict[str, str]]:
        return [
            {"role": m["role"], "content": text_of(m)}
            for m in self.messages[:-1]
            if m.get("role") in ("user", "assistant")
        ]

    def validate(self) -> None:
        if not self.messages or self.messages[-1].get("role") != "user" or not self.question:
            raise ServingError(
                "the last message must be the user's question, with text",
                hint="send the conversation with the question as the last user message",
            )


def text_of(message: dict[str, Any]) -> str:
    """A message's text; OpenAI content parts are joined (the API refuses non-text parts before this)."""
    content = message.get("content") or ""
    if isinstance(content, list):
        return "".join(p.get("text", "") for p in content if isinstance(p, dict))
    return str(content)


def no_grounding() -> dict[str, Any]:
    return {"score": None, "verdict": "unchecked", "action": "none", "min": None}


@dataclass
class Answer:
    """The policy's result. ``grounding``: ``score`` (share of answer words found in the sources, None
    when the answer had no sources), ``verdict`` ok | low | unchecked, ``action`` none | flagged |
    extractive | refused, ``min`` (serving.min_grounding). ``citations``: source numbers the model
    ``written`` itself and those ``attributed`` afterwards by word overlap. ``safety``: the
    SafetyVerdict as a dict. ``path``: safety | adapter+rag | adapter | base+rag | base | extractive."""

    answer: str
    sources: list[dict[str, Any]] = field(default_factory=list)
    trace: list[str] = field(default_factory=list)
    path: str = ""
    usage: dict[str, int] = field(default_factory=dict)
    finish_reason: str = "stop"  # "stop" | "length"
    grounding: dict[str, Any] = field(default_factory=no_grounding)
    citations: dict[str, list[int]] = field(default_factory=lambda: {"written": [], "attributed": []})
    safety: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass
class TokenDelta:
    """Text to append to what the client shows."""

    text: str


@dataclass
class Final:
    """The last event of a stream: the same Answer an unstreamed request gets. ``answer.answer`` is the
    full text after citation attribution; ``streamed`` is exactly what the TokenDeltas carried."""

    answer: Answer
    streamed: str = ""


StreamEvent = TokenDelta | Final
