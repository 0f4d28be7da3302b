"""Server-side conversations: ``/v1/domains/{d}/conversations[/{id}[/messages]]``.

Thin routes over :mod:`serving.conversations`. A caller sees only its own conversations (owner = a hash
of its API key, or "local" without keys); another key's conversation, or one of another domain, is a
404 like one that never existed. The chat endpoints stay stateless: the UI appends each message here.
Timestamps are Unix seconds; ``turns`` counts user messages.
"""

from __future__ import annotations

from typing import Any, Literal

from fastapi import APIRouter, Request
from pydantic import BaseModel, ConfigDict, Field

from serving.api.auth import request_key
from serving.api.deps import app_state, domain_runtime
from serving.conversations import ConversationStore, conversation_store, owner_id

router = APIRouter(prefix="/v1/domains", tags=["conversations"])


class NewConversation(BaseModel):
    model_config = ConfigDict(extra="forbid")
    title: str | None = None


class NewMessage(BaseModel):
    model_config = ConfigDict(extra="forbid")
    role: Literal["user", "assistant"]
    content: str
    meta: dict[str, Any] = Field(default_factory=dict)


class Rename(BaseModel):
    model_config = ConfigDict(extra="forbid")
    title: str


def _scope(request: Request, domain: str) -> tuple[ConversationStore, str, str]:
    """(store, domain, owner) after the domain check (401/403/404 as for every domain route)."""
    runtime = domain_runtime(request, domain)
    keyed = bool(app_state(request).keys)
    return conversation_store(), runtime.name, owner_id(request_key(request) if keyed else None)


@router.post("/{domain}/conversations", status_code=201)
def create_conversation(domain: str, request: Request, body: NewConversation | None = None) -> dict:
    store, name, owner = _scope(request, domain)
    return store.create(name, owner, body.title if body else None).to_dict()


@router.get("/{domain}/conversations")
def list_conversations(domain: str, request: Request) -> dict:
    store, name, owner = _scope(request, domain)
    return {"conversations": [c.summary() for c in store.list(name, owner)]}


@router.get("/{domain}/conversations/{conversation_id}")
def get_conversation(domain: str, conversation_id: str, request: Request) -> dict:
    store, name, owner = _scope(request, domain)
    return store.get(name, owner, conversation_id).to_dict()


@router.post("/{domain}/conversations/{conversation_id}/messages", status_code=201)
def add_message(domain: str, conversation_id: str, body: NewMessage, request: Request) -> dict:
    store, name, owner = _scope(request, domain)
    return store.append(name, owner, conversation_id, body.role, body.content, body.meta).to_dict()


@router.patch("/{domain}/conversations/{conversation_id}")
def rename_conversation(domain: str, conversation_id: str, body: Rename, request: Request) -> dict:
    store, name, owner = _scope(request, domain)
    return store.rename(name, owner, conversation_id, body.title).summary()


@router.delete("/{domain}/conversations/{conversation_id}")
def delete_conversation(domain: str, conversation_id: str, request: Request) -> dict:
    store, name, owner = _scope(request, domain)
    store.delete(name, owner, conversation_id)
    return {"deleted": True}


@router.delete("/{domain}/conversations")
def delete_all_conversations(domain: str, request: Request) -> dict:
    store, name, owner = _scope(request, domain)
    return {"deleted": store.delete_all(name, owner)}
