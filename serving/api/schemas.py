"""Request bodies of our own routes (the OpenAI ones are in protocol.py); bad input → 400 naming the field."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field, field_validator


class ChatMessage(BaseModel):
    role: Literal["system", "user", "assistant"]
    content: str


class DomainChatRequest(BaseModel):
    question: str = Field(min_length=1)
    history: list[ChatMessage] = Field(default_factory=list, max_length=500)
    max_tokens: int | None = Field(None, ge=1, le=4096)
    temperature: float | None = Field(None, ge=0, le=2)
    k: int | None = Field(None, ge=1, le=50)
    adapter: bool = Field(True, description="Use the domain's adapter when it has one.")

    @field_validator("question")
    @classmethod
    def _not_blank(cls, q: str) -> str:
        if not q.strip():
            raise ValueError("the question is blank")
        return q
