"""Domain endpoints: POST /v1/domains/{d}/chat (answer + sources + trace), GET .../manifest."""

from __future__ import annotations

from fastapi import APIRouter, Request

from vertical.core.manifest import load_manifest

from serving.api.deps import app_state, domain_runtime
from serving.api.schemas import DomainChatRequest
from serving.chain import run_chain

router = APIRouter(prefix="/v1/domains", tags=["domains"])


@router.get("")
def list_domains(request: Request) -> dict:
    from serving.api.auth import allowed_domains

    allowed = allowed_domains(request)
    return {"domains": [
        {"name": name, "description": rt.spec.description, "models": rt.model_ids, "rag": rt.uses_rag,
         "built": rt.manifest is not None}
        for name, rt in sorted(app_state(request).runtimes.items()) if "*" in allowed or name in allowed
    ]}


@router.post("/{domain}/chat")
async def domain_chat(domain: str, body: DomainChatRequest, request: Request) -> dict:
    state = app_state(request)
    runtime = domain_runtime(request, domain)
    history = [m.model_dump() for m in body.history if m.role != "system"]
    async with state.admit():
        answer = await state.run_blocking(
            run_chain, runtime, body.question, history, body.adapter,
            max_new_tokens=body.max_tokens, temperature=body.temperature, k=body.k,
        )
    state.metrics.tokens.labels(runtime.name).inc(answer.usage.get("completion_tokens", 0))
    return answer.to_dict()


@router.get("/{domain}/manifest")
def manifest(domain: str, request: Request) -> dict:
    domain_runtime(request, domain)
    return load_manifest(domain).model_dump(mode="json")
