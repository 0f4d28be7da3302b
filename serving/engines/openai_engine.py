"""Any OpenAI-compatible endpoint (vLLM, Ollama, llama.cpp server, hosted APIs, our own API)."""

from __future__ import annotations

import os
from collections.abc import Iterator
from typing import Any

from vertical.errors import EngineUnavailableError

from serving.engines.base import Completion, Engine, GenerationParams, Messages


class OpenAIEngine(Engine):
    kind = "openai"

    def __init__(self, base_url: str, model: str, api_key_env: str = "OPENAI_API_KEY",
                 adapters: dict[str, str] | None = None, timeout: float = 120.0) -> None:
        from openai import OpenAI

        self.base_url = base_url
        self.model = model
        # adapter name → the model name the server knows it by (vLLM: the --lora-modules name)
        self._adapters = dict(adapters or {})
        self.client = OpenAI(base_url=base_url, api_key=os.environ.get(api_key_env) or "not-needed",
                             timeout=timeout, max_retries=0)

    @property
    def adapters(self) -> list[str]:
        return sorted(self._adapters)

    def _model_for(self, params: GenerationParams) -> str:
        if not params.adapter:
            return self.model
        if params.adapter not in self._adapters:
            raise EngineUnavailableError(f"adapter {params.adapter!r} is not served by {self.base_url}",
                                         hint=f"known adapters: {', '.join(self._adapters) or 'none'}")
        return self._adapters[params.adapter]

    def _request(self, messages: Messages, params: GenerationParams, stream: bool) -> Any:
        from openai import OpenAIError

        extra = {"repetition_penalty": params.repetition_penalty} if params.repetition_penalty != 1.0 else None
        try:
            return self.client.chat.completions.create(
                model=self._model_for(params), messages=messages, max_tokens=params.max_new_tokens,
                temperature=params.temperature, stream=stream, extra_body=extra,
            )
        except OpenAIError as exc:
            raise EngineUnavailableError(
                f"OpenAI-compatible endpoint {self.base_url} failed: {exc}",
                hint="check that the server is running, the model name and the API key variable",
            ) from exc

    def generate(self, messages: Messages, params: GenerationParams | None = None) -> Completion:
        params = params or GenerationParams()
        resp = self._request(messages, params, stream=False)
        choice = resp.choices[0]
        usage = resp.usage
        return Completion(
            (choice.message.content or "").strip(),
            usage.prompt_tokens if usage else 0,
            usage.completion_tokens if usage else 0,
            choice.finish_reason or "stop",
        )

    def stream(self, messages: Messages, params: GenerationParams | None = None) -> Iterator[str]:
        from openai import OpenAIError

        params = params or GenerationParams()
        try:
            for chunk in self._request(messages, params, stream=True):
                if chunk.choices and chunk.choices[0].delta.content:
                    yield chunk.choices[0].delta.content
        except OpenAIError as exc:
            raise EngineUnavailableError(f"stream from {self.base_url} failed: {exc}",
                                         hint="check that the server is running") from exc

    def close(self) -> None:
        self.client.close()
