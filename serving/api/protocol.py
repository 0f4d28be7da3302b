"""OpenAI protocol: typed requests, responses, stream chunks, usage and errors (after vLLM's ``protocol.py``).

Requests take what OpenAI takes. A field that is not part of the API is refused (400, as OpenAI does);
whether a known parameter is honoured or refused is decided per engine in :mod:`serving.api.parameters`.
Message validation happens here (roles, content parts); a part we cannot read (image, audio, file) is a
400 naming the part type.
"""

from __future__ import annotations

import json
import time
import uuid
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator


class OpenAIBaseModel(BaseModel):
    model_config = ConfigDict(extra="forbid")  # unknown request fields: 400, never silently dropped


class _Response(BaseModel):
    model_config = ConfigDict(extra="allow")


# ---- errors -------------------------------------------------------------------------------------
class ErrorInfo(BaseModel):
    message: str
    type: str
    param: str | None = None
    code: str | None = None
    hint: str | None = None  # ours: what to do about it


class ErrorResponse(BaseModel):
    error: ErrorInfo


# ---- messages -----------------------------------------------------------------------------------
class ContentPart(BaseModel):
    """One part of a list-valued ``content``; only ``text`` parts can be answered (checked in :func:`_parts`)."""

    model_config = ConfigDict(extra="allow")
    type: Literal["text"]
    text: str


def _parts(content: Any) -> Any:
    """Name the first part we cannot read, instead of pydantic's "input should be a valid string"."""
    if isinstance(content, list):
        for part in content:
            kind = part.get("type") if isinstance(part, dict) else None
            if kind != "text":
                raise ValueError(f"content part type {kind!r} is not supported: this server reads text parts only")
    return content


Content = str | list[ContentPart]


def content_text(content: Content | None) -> str:
    """The text of a string or a list of text parts (parts joined with newlines, as vLLM does)."""
    if content is None:
        return ""
    if isinstance(content, str):
        return content
    return "\n".join(part.text or "" for part in content)


class FunctionCall(OpenAIBaseModel):
    name: str
    arguments: str


class ToolCall(OpenAIBaseModel):
    id: str
    type: Literal["function"] = "function"
    function: FunctionCall


class _Message(OpenAIBaseModel):
    @field_validator("content", mode="before", check_fields=False)
    @classmethod
    def _readable_parts(cls, content: Any) -> Any:
        return _parts(content)


class SystemMessage(_Message):
    role: Literal["system", "developer"]  # developer is the newer name for system
    content: Content
    name: str | None = None


class UserMessage(_Message):
    role: Literal["user"]
    content: Content
    name: str | None = None


class AssistantMessage(_Message):
    role: Literal["assistant"]
    content: Content | None = None
    name: str | None = None
    refusal: str | None = None
    tool_calls: list[ToolCall] | None = None


class ToolMessage(_Message):
    role: Literal["tool"]
    content: Content
    tool_call_id: str


ChatMessage = Annotated[SystemMessage | UserMessage | AssistantMessage | ToolMessage, Field(discriminator="role")]


# ---- request parameters -------------------------------------------------------------------------
class StreamOptions(OpenAIBaseModel):
    include_usage: bool = False
    include_obfuscation: bool | None = None  # newer clients send it; we never pad chunks


class JsonSchema(BaseModel):
    model_config = ConfigDict(extra="allow", populate_by_name=True)
    name: str
    description: str | None = None
    json_schema: dict[str, Any] | None = Field(None, alias="schema")
    strict: bool | None = None


class ResponseFormat(OpenAIBaseModel):
    type: Literal["text", "json_object", "json_schema"]
    json_schema: JsonSchema | None = None

    @model_validator(mode="after")
    def _schema_given(self) -> ResponseFormat:
        if self.type == "json_schema" and self.json_schema is None:
            raise ValueError("response_format type json_schema needs a json_schema object")
        return self


class FunctionDefinition(BaseModel):
    model_config = ConfigDict(extra="allow")
    name: str
    description: str | None = None
    parameters: dict[str, Any] | None = None
    strict: bool | None = None


class Tool(BaseModel):
    model_config = ConfigDict(extra="allow")
    type: Literal["function"] = "function"
    function: FunctionDefinition


class NamedToolChoice(BaseModel):
    model_config = ConfigDict(extra="allow")
    type: Literal["function"] = "function"
    function: dict[str, Any]


Stop = str | list[str] | None


def stop_list(stop: Stop) -> list[str]:
    return [stop] if isinstance(stop, str) else list(stop or [])


class SamplingFields(OpenAIBaseModel):
    """Parameters chat and text completions share."""

    model: str = Field(min_length=1, max_length=200, description="<domain>, <domain>:<adapter> or <domain>:base")
    max_tokens: int | None = Field(None, ge=1, le=4096)
    temperature: float | None = Field(None, ge=0, le=2)
    top_p: float | None = Field(None, gt=0, le=1)
    n: int = Field(1, ge=1, le=128)  # the server's own bound (settings.max_n) is checked per request
    seed: int | None = None
    stop: Stop = None
    presence_penalty: float | None = Field(None, ge=-2, le=2)
    frequency_penalty: float | None = Field(None, ge=-2, le=2)
    logit_bias: dict[str, float] | None = None
    stream: bool = False
    stream_options: StreamOptions | None = None
    user: str | None = Field(None, max_length=512)  # an end-user id: accepted, not used for generation
    k: int | None = Field(None, ge=1, le=50, description="ours: retrieved chunks to consider")
    repetition_penalty: float | None = Field(
        None,
        gt=0,
        le=2,
        description="vLLM's extension; our OpenAI engine "
        "sends it. The answer policy's own value is the only one honoured",
    )

    @field_validator("stop")
    @classmethod
    def _stops(cls, stop: Stop) -> Stop:
        stops = stop_list(stop)
        if len(stops) > 4 or any(not s for s in stops):
            raise ValueError("stop takes up to 4 non-empty strings")
        return stop


class ChatCompletionRequest(SamplingFields):
    messages: list[ChatMessage] = Field(min_length=1, max_length=2000)
    max_completion_tokens: int | None = Field(None, ge=1, le=4096)
    logprobs: bool | None = None
    top_logprobs: int | None = Field(None, ge=0, le=20)
    response_format: ResponseFormat | None = None
    tools: list[Tool] | None = None
    tool_choice: Literal["none", "auto", "required"] | NamedToolChoice | None = None
    parallel_tool_calls: bool | None = None
    store: bool | None = None
    metadata: dict[str, str] | None = None
    service_tier: str | None = None
    modalities: list[str] | None = None
    reasoning_effort: str | None = None
    audio: dict[str, Any] | None = None
    prediction: dict[str, Any] | None = None

    @field_validator("messages")
    @classmethod
    def _ends_with_question(cls, messages: list) -> list:
        last = messages[-1]
        if last.role not in ("user", "tool") or not content_text(last.content).strip():
            raise ValueError("the last message must be a non-empty user (or tool) message: the question")
        return messages

    @model_validator(mode="after")
    def _top_logprobs_needs_logprobs(self) -> ChatCompletionRequest:
        if self.top_logprobs and not self.logprobs:
            raise ValueError("top_logprobs needs logprobs=true")
        return self

    @property
    def max_new_tokens(self) -> int | None:
        return self.max_completion_tokens or self.max_tokens


class CompletionRequest(SamplingFields):
    prompt: str | list[str] | list[int] | list[list[int]]
    logprobs: int | None = Field(None, ge=0, le=5)
    echo: bool | None = None
    suffix: str | None = None
    best_of: int | None = Field(None, ge=1, le=128)

    @field_validator("prompt")
    @classmethod
    def _text_prompts(cls, prompt: Any) -> Any:
        prompts = [prompt] if isinstance(prompt, str) else prompt
        if not prompts or not all(isinstance(p, str) for p in prompts):
            raise ValueError("prompt must be a string or a list of strings (token-id prompts are not supported)")
        if not all(p.strip() for p in prompts):
            raise ValueError("prompt is blank")
        return prompt

    @property
    def prompts(self) -> list[str]:
        return [self.prompt] if isinstance(self.prompt, str) else list(self.prompt)  # type: ignore[arg-type]

    @property
    def max_new_tokens(self) -> int | None:
        return self.max_tokens


# ---- responses ----------------------------------------------------------------------------------
FinishReason = Literal["stop", "length", "tool_calls", "content_filter"]


class UsageInfo(_Response):
    prompt_tokens: int = 0
    completion_tokens: int = 0
    total_tokens: int = 0

    @classmethod
    def of(cls, prompt_tokens: int, completion_tokens: int) -> UsageInfo:
        return cls(
            prompt_tokens=prompt_tokens,
            completion_tokens=completion_tokens,
            total_tokens=prompt_tokens + completion_tokens,
        )


class VerticalInfo(_Response):
    """Ours, beside the OpenAI fields: how the answer was made (OpenAI clients ignore it)."""

    path: str
    sources: list[dict[str, Any]] = Field(default_factory=list)
    trace: list[str] = Field(default_factory=list)
    grounding: Any = None
    citations: Any = None


class ResponseMessage(_Response):
    role: Literal["assistant"] = "assistant"
    content: str | None = None
    tool_calls: list[dict[str, Any]] | None = None
    refusal: str | None = None


class ChatCompletionChoice(_Response):
    index: int
    message: ResponseMessage
    finish_reason: FinishReason | None
    logprobs: Any = None


def completion_id(prefix: str = "chatcmpl") -> str:
    return f"{prefix}-{uuid.uuid4().hex[:24]}"


class ChatCompletionResponse(_Response):
    id: str = Field(default_factory=completion_id)
    object: Literal["chat.completion"] = "chat.completion"
    created: int = Field(default_factory=lambda: int(time.time()))
    model: str
    choices: list[ChatCompletionChoice]
    usage: UsageInfo
    vertical: VerticalInfo | None = None


class DeltaMessage(_Response):
    role: Literal["assistant"] | None = None
    content: str | None = None
    tool_calls: list[dict[str, Any]] | None = None


class ChatChunkChoice(_Response):
    index: int
    delta: DeltaMessage
    finish_reason: FinishReason | None = None
    logprobs: Any = None


class ChatCompletionChunk(_Response):
    id: str
    object: Literal["chat.completion.chunk"] = "chat.completion.chunk"
    created: int = Field(default_factory=lambda: int(time.time()))
    model: str
    choices: list[ChatChunkChoice]
    usage: UsageInfo | None = None
    vertical: VerticalInfo | None = None


class CompletionChoice(_Response):
    index: int
    text: str
    finish_reason: FinishReason | None = None
    logprobs: Any = None


class CompletionResponse(_Response):
    id: str = Field(default_factory=lambda: completion_id("cmpl"))
    object: Literal["text_completion"] = "text_completion"
    created: int = Field(default_factory=lambda: int(time.time()))
    model: str
    choices: list[CompletionChoice]
    usage: UsageInfo
    vertical: VerticalInfo | None = None


class CompletionChunk(_Response):
    id: str
    object: Literal["text_completion"] = "text_completion"
    created: int = Field(default_factory=lambda: int(time.time()))
    model: str
    choices: list[CompletionChoice]
    usage: UsageInfo | None = None
    vertical: VerticalInfo | None = None


# ---- models -------------------------------------------------------------------------------------
class ModelCard(_Response):
    id: str
    object: Literal["model"] = "model"
    created: int = 0
    owned_by: str = "vertical"
    root: str | None = None  # the base model it runs on
    parent: str | None = None  # for <domain>:<adapter> / <domain>:base: the domain


class ModelList(_Response):
    object: Literal["list"] = "list"
    data: list[ModelCard] = Field(default_factory=list)


def sse(payload: BaseModel) -> str:
    """One server-sent event. Unset extras (``usage``/``vertical`` on content chunks, empty delta fields) are
    left out; ``finish_reason: null`` stays, as OpenAI sends it."""
    data = payload.model_dump(mode="json")
    for key in ("usage", "vertical"):
        if data.get(key) is None:
            data.pop(key, None)
    for choice in data.get("choices", []):
        if isinstance(choice.get("delta"), dict):
            choice["delta"] = {k: v for k, v in choice["delta"].items() if v is not None}
    return f"data: {json.dumps(data, ensure_ascii=False)}\n\n"


SSE_DONE = "data: [DONE]\n\n"
