"""Any OpenAI-compatible endpoint (vLLM, Ollama, llama.cpp server, hosted APIs, our own API)."""

from __future__ import annotations

import os
import threading
from collections.abc import Iterator
from typing import Any

from serving.engines.base import Completion, Engine, GenerationParams, Messages, current_cancel
from vertical.core.errors import EngineUnavailableError, GenerationCancelledError

# Passed through to the server (which applies them) and returned in full by Completion; tools and
# logprobs are not: Completion carries text only, so the API refuses them rather than drop the result.
PASSED_THROUGH = frozenset({"stop", "seed", "top_p", "presence_penalty", "frequency_penalty", "response_format"})


def _finish(reason: str | None) -> str:
    """OpenAI finish reasons → ours: "length" when the token limit ended it, "stop" otherwise."""
    return "length" if reason == "length" else "stop"


class OpenAIEngine(Engine):
    kind = "openai"
    capabilities = PASSED_THROUGH

    def __init__(
        self,
        base_url: str,
        model: str,
        api_key_env: str = "OPENAI_API_KEY",
        adapters: dict[str, str] | None = None,
        timeout: float = 120.0,
    ) -> None:
        from openai import OpenAI

        self.base_url = base_url
        self.model = model
        # adapter name → the model name the server knows it by (vLLM: the --lora-modules name)
        self._adapters = dict(adapters or {})
        self.client = OpenAI(
            base_url=base_url, api_key=os.environ.get(api_key_env) or "not-needed", timeout=timeout, max_retries=0
        )

    @property
    def adapters(self) -> list[str]:
        return sorted(self._adapters)

    def _model_for(self, params: GenerationParams) -> str:
        if not params.adapter:
            return self.model
        if params.adapter not in self._adapters:
            raise EngineUnavailableError(
                f"adapter {params.adapter!r} is not served by {self.base_url}",
                hint=f"known adapters: {', '.join(self._adapters) or 'none'}",
            )
        return self._adapters[params.adapter]

    def _request(self, messages: Messages, params: GenerationParams, stream: bool) -> Any:
        from openai import OpenAIError

        extra = {"repetition_penalty": params.repetition_penalty} if params.repetition_penalty != 1.0 else None
        options: dict[str, Any] = {"stream_options": {"include_usage": True}} if stream else {}
        if params.top_p is not None:
            options["top_p"] = params.top_p
        if params.seed is not None:
            options["seed"] = params.seed
        if params.stop:
            options["stop"] = list(params.stop)
        options.update(dict(params.extra))
        try:
            return self.client.chat.completions.create(
                model=self._model_for(params),
                messages=messages,
                max_tokens=params.max_new_tokens,
                temperature=params.temperature,
                stream=stream,
                extra_body=extra,
                **options,
            )
        except OpenAIError as exc:
            raise EngineUnavailableError(
                f"OpenAI-compatible endpoint {self.base_url} failed: {exc}",
                hint="check that the server is running, the model name and the API key variable",
            ) from exc

    def generate(self, messages: Messages, params: GenerationParams | None = None) -> Completion:
        params = params or GenerationParams()
        cancel = current_cancel()
        if cancel is not None:  # cancellable: stream, so closing the connection aborts it server-side
            return self._generate_cancellable(messages, params, cancel)
        resp = self._request(messages, params, stream=False)
        choice = resp.choices[0]
        usage = resp.usage
        return Completion(
            (choice.message.content or "").strip(),
            usage.prompt_tokens if usage else 0,
            usage.completion_tokens if usage else 0,
            _finish(choice.finish_reason),
        )

    def _generate_cancellable(
        self, messages: Messages, params: GenerationParams, cancel: threading.Event
    ) -> Completion:
        parts: list[str] = []
        usage, finish = None, "stop"
        for chunk in self._chunks(messages, params, cancel):
            if chunk.usage:
                usage = chunk.usage
            if chunk.choices:
                parts.append(chunk.choices[0].delta.content or "")
                finish = _finish(chunk.choices[0].finish_reason) if chunk.choices[0].finish_reason else finish
        return Completion(
            "".join(parts).strip(), usage.prompt_tokens if usage else 0, usage.completion_tokens if usage else 0, finish
        )

    def _chunks(
        self, messages: Messages, params: GenerationParams, cancel: threading.Event | None = None
    ) -> Iterator[Any]:
        from openai import OpenAIError

        try:
            with self._request(messages, params, stream=True) as response:
                for chunk in response:
                    if cancel is not None and cancel.is_set():
                        # leaving the block closes the connection; vLLM aborts a request whose client left
                        raise GenerationCancelledError("generation cancelled; the request to the server was closed")
                    yield chunk
        except OpenAIError as exc:
            raise EngineUnavailableError(
                f"stream from {self.base_url} failed: {exc}", hint="check that the server is running"
            ) from exc

    def stream(self, messages: Messages, params: GenerationParams | None = None) -> Iterator[str]:
        for item in self.stream_completion(messages, params):
            if isinstance(item, str):
                yield item

    def stream_completion(
        self, messages: Messages, params: GenerationParams | None = None
    ) -> Iterator[str | Completion]:
        parts: list[str] = []
        usage, finish = None, "stop"
        for chunk in self._chunks(messages, params or GenerationParams(), current_cancel()):
            if chunk.usage:
                usage = chunk.usage
            if chunk.choices:
                finish = _finish(chunk.choices[0].finish_reason) if chunk.choices[0].finish_reason else finish
                if chunk.choices[0].delta.content:
                    parts.append(chunk.choices[0].delta.content)
                    yield parts[-1]
        yield Completion(
            "".join(parts).strip(), usage.prompt_tokens if usage else 0, usage.completion_tokens if usage else 0, finish
        )

    def close(self) -> None:
        self.client.close()
