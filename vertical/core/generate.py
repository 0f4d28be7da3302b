"""Plain batched chat generation for offline jobs (self-replay, KB synthesis, evaluation).

Serving has its own engines with dynamic batching and streaming; these helpers are for batch jobs
in packages below serving (finetune, evaluation), which may not import serving.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, cast

from vertical.core.errors import EngineUnavailableError
from vertical.core.loaders import load_generator, load_tokenizer

if TYPE_CHECKING:
    from openai.types.chat import ChatCompletionMessageParam

Messages = list[dict[str, str]]


def chat_generate(
    model_name: str,
    conversations: Sequence[Messages],
    max_new_tokens: int = 128,
    adapter: str | None = None,
    batch_size: int = 8,
    temperature: float = 0.0,
    repetition_penalty: float = 1.1,
) -> list[str]:
    """Answer each conversation with the local model (left-padded batches, greedy by default)."""
    import torch

    tokenizer = load_tokenizer(model_name)
    model = load_generator(model_name, adapter)
    tokenizer.padding_side = "left"
    outputs: list[str] = []
    for start in range(0, len(conversations), batch_size):
        batch = conversations[start : start + batch_size]
        prompts = [tokenizer.apply_chat_template(m, add_generation_prompt=True, tokenize=False) for m in batch]
        enc = tokenizer(prompts, return_tensors="pt", padding=True, add_special_tokens=False).to(model.device)
        kwargs = {"do_sample": temperature > 0, "repetition_penalty": repetition_penalty}
        if temperature > 0:
            kwargs["temperature"] = temperature
        with torch.inference_mode():
            out = model.generate(**enc, max_new_tokens=max_new_tokens, pad_token_id=tokenizer.pad_token_id, **kwargs)
        new_tokens = out[:, enc["input_ids"].shape[1] :]
        outputs.extend(t.strip() for t in tokenizer.batch_decode(new_tokens, skip_special_tokens=True))
    return outputs


@dataclass
class OpenAIChat:
    """Any OpenAI-compatible endpoint (vLLM, Ollama, llama.cpp server, hosted APIs)."""

    base_url: str
    model: str
    api_key_env: str = "OPENAI_API_KEY"
    timeout: float = 120.0

    def generate(
        self, conversations: Sequence[Messages], max_new_tokens: int = 128, temperature: float = 0.0
    ) -> list[str]:
        from openai import OpenAI, OpenAIError

        client = OpenAI(
            base_url=self.base_url, api_key=os.environ.get(self.api_key_env, "not-needed"), timeout=self.timeout
        )
        answers = []
        for messages in conversations:
            try:
                resp = client.chat.completions.create(
                    model=self.model,
                    messages=cast("list[ChatCompletionMessageParam]", messages),  # role/content dicts
                    max_tokens=max_new_tokens,
                    temperature=temperature,
                )
            except OpenAIError as exc:
                raise EngineUnavailableError(
                    f"OpenAI-compatible endpoint {self.base_url} failed: {exc}",
                    hint="check the URL, the model name and the API key variable " + self.api_key_env,
                ) from exc
            answers.append((resp.choices[0].message.content or "").strip())
        return answers
