"""The one internal conversation type every reader produces and every writer consumes."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

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
