"""The internal data types: the conversation every reader produces and every writer consumes, and the
training window every encoder produces and the trainer consumes (one ``Window``, one ``IGNORE_INDEX``)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

# Label of a token that carries no loss (PyTorch cross-entropy's default ignore_index).
IGNORE_INDEX = -100

Role = Literal["system", "user", "assistant", "tool"]
ROLES: tuple[str, ...] = ("system", "user", "assistant", "tool")


@dataclass
class Turn:
    role: Role
    content: str
    # An assistant turn that calls a tool (ShareGPT "function_call", OpenAI "tool_calls"): content is the call JSON.
    tool_call: bool = False


@dataclass
class Conversation:
    turns: list[Turn]
    id: str = ""
    source: str = ""  # "file:line" it came from, for reports
    meta: dict[str, Any] = field(default_factory=dict)  # e.g. {"chunk_id": ..., "dataset": ..., "kind": "domain"}

    @property
    def system(self) -> str | None:
        return self.turns[0].content if self.turns and self.turns[0].role == "system" else None

    def messages(self) -> list[dict[str, str]]:
        """OpenAI/chat-template style list of {role, content}."""
        return [{"role": t.role, "content": t.content} for t in self.turns]

    @property
    def assistant_turns(self) -> list[Turn]:
        return [t for t in self.turns if t.role == "assistant"]


@dataclass
class Window:
    """One training example: token ids and labels (IGNORE_INDEX outside the turns it trains on).

    ``trained_turns``: assistant turns that carry loss here; ``context_turns``: earlier turns of the
    same conversation carried as masked context (not counting the system prompt).
    """

    input_ids: list[int]
    labels: list[int]
    conversation_id: str = ""
    kind: str = "domain"  # domain | general | synth
    trained_turns: int = 0
    context_turns: int = 0

    def __len__(self) -> int:
        return len(self.input_ids)

    def to_dict(self) -> dict[str, list[int]]:
        return {"input_ids": self.input_ids, "labels": self.labels}
