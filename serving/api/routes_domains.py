"""Domain endpoints: POST /v1/domains/{d}/chat (answer + sources + trace), GET .../manifest."""

from __future__ import annotations

from fastapi import APIRouter, Request

from serving.answer import AnswerRequest, answer
from serving.api.deps import app_state, domain_runtime
from serving.api.messages import check_size
from serving.api.schemas import DomainChatRequest
from vertical.core.manifest import load_manifest
from vertical.core.text import detect_language

router = APIRouter(prefix="/v1/domains", tags=["domains"])


def _ui_language(*texts: str) -> str:
    """The language the UI starts in for this domain: "zh" for a Chinese domain, else "en"."""
    return "zh" if detect_language("\n".join(t for t in texts if t)) == "zh" else "en"


@router.get("")
def list_domains(request: Request) -> dict:
    from serving.api.auth import allowed_domains

    allowed = allowed_domains(request)
    return {
        "domains": [
            {
                "name": name,
                "description": rt.spec.description,
                "models": rt.model_ids,
                "rag": rt.uses_rag,
                "built": rt.manifest is not None,
                "language": _ui_language(rt.spec.system_prompt, rt.spec.description),
            }
            for name, rt in sorted(app_state(request).runtimes.items())
            if "*" in allowed or name in allowed
        ]
    }


@router.post("/{domain}/chat")
async def domain_chat(domain: str, body: DomainChatRequest, request: Request) -> dict:
    state = app_state(request)
    runtime = domain_runtime(request, domain)
    history = [m.model_dump() for m in body.history if m.role != "system"]
    system = [m.content for m in body.history if m.role == "system" and m.content.strip()]
    check_size([body.question, *(m.content for m in body.history)], state.settings.max_request_chars)
    req = AnswerRequest.ask(
        body.question,
        history,
        max_new_tokens=body.max_tokens,
        temperature=body.temperature,
        k=body.k,
        use_adapter=body.adapter,
        client_system=system,
    )
    async with state.admit():
        result = await state.run_blocking(answer, runtime, req, client=request)
    state.metrics.tokens.labels(runtime.name).inc(result.usage.get("completion_tokens", 0))
    return result.to_dict()


@router.get("/{domain}/manifest")
def manifest(domain: str, request: Request) -> dict:
    from serving.api.errors import scrub_json

    domain_runtime(request, domain)
    return scrub_json(load_manifest(domain).model_dump(mode="json"))  # adapter and report paths: no server path
