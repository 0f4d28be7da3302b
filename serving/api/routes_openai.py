"""OpenAI-compatible routes (thin: parse → serving class): chat and text completions, models.

``model`` is ``<domain>``, ``<domain>:<adapter>`` or ``<domain>:base`` (see serving_models).
"""

from __future__ import annotations

from fastapi import APIRouter, Request

from serving.api.deps import app_state
from serving.api.protocol import ChatCompletionRequest, CompletionRequest, ModelCard, ModelList
from serving.api.serving_chat import OpenAIServingChat
from serving.api.serving_completion import OpenAIServingCompletion
from serving.api.serving_models import OpenAIServingModels

router = APIRouter(prefix="/v1", tags=["openai"])


def models(request: Request) -> OpenAIServingModels:
    return OpenAIServingModels(app_state(request))


@router.get("/models")
def list_models(request: Request) -> ModelList:
    return models(request).list(request)


@router.get("/models/{model_id:path}")
def get_model(model_id: str, request: Request) -> ModelCard:
    return models(request).get(request, model_id)


@router.post("/chat/completions")
async def chat_completions(body: ChatCompletionRequest, request: Request):
    return await OpenAIServingChat(app_state(request), models(request)).create(body, request)


@router.post("/completions")
async def completions(body: CompletionRequest, request: Request):
    return await OpenAIServingCompletion(app_state(request), models(request)).create(body, request)
