"""Which OpenAI parameters a request may use on this engine: honoured, or refused with a 400. One table.

Rule: a parameter set to a value that changes the output is passed to the engine when the engine's
``capabilities`` name it, and refused otherwise (naming the parameter, the engine and an engine that
honours it). Values that change nothing (``top_p=1``, penalties 0, ``response_format: text``,
``tool_choice: "none"``, ``logprobs: false``) are accepted on every engine. Nothing is silently ignored.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from serving.answer.links import REPETITION_PENALTY
from serving.api.protocol import ChatCompletionRequest, CompletionRequest, SamplingFields, stop_list
from serving.engines.base import Engine
from vertical.core.errors import UnsupportedParameterError

Request = ChatCompletionRequest | CompletionRequest


@dataclass(frozen=True)
class Param:
    name: str  # as the error states it ("response_format json_schema")
    field: str  # the request field (the error's ``param``)
    capability: str | None  # None: no engine of ours can honour it
    requested: Callable[[Any], bool]


def _get(field: str) -> Callable[[Any], Any]:
    return lambda r: getattr(r, field, None)


def _format(kind: str) -> Callable[[Any], bool]:
    return lambda r: getattr(r, "response_format", None) is not None and r.response_format.type == kind


PARAMETERS: tuple[Param, ...] = (
    Param("stop", "stop", "stop", lambda r: bool(stop_list(r.stop))),
    Param("seed", "seed", "seed", lambda r: r.seed is not None),
    Param("top_p", "top_p", "top_p", lambda r: r.top_p is not None and r.top_p < 1),
    Param("presence_penalty", "presence_penalty", "presence_penalty", lambda r: bool(r.presence_penalty)),
    Param("frequency_penalty", "frequency_penalty", "frequency_penalty", lambda r: bool(r.frequency_penalty)),
    Param("logit_bias", "logit_bias", "logit_bias", lambda r: bool(r.logit_bias)),
    Param("response_format json_object", "response_format", "response_format", _format("json_object")),
    Param("response_format json_schema", "response_format", "response_format", _format("json_schema")),
    Param("tools", "tools", "tools", lambda r: bool(getattr(r, "tools", None)) and r.tool_choice != "none"),
    Param(
        "tool_choice",
        "tool_choice",
        "tools",
        lambda r: getattr(r, "tool_choice", None) not in (None, "none", "auto") and not r.tools,
    ),
    Param("logprobs", "logprobs", "logprobs", lambda r: bool(getattr(r, "logprobs", None))),
    # no engine of ours can do these: the answer policy makes one text answer per choice
    Param("store", "store", None, lambda r: bool(getattr(r, "store", None))),
    Param("audio", "audio", None, lambda r: bool(getattr(r, "audio", None))),
    Param(
        "modalities other than text",
        "modalities",
        None,
        lambda r: any(m != "text" for m in (getattr(r, "modalities", None) or [])),
    ),
    Param("prediction", "prediction", None, lambda r: bool(getattr(r, "prediction", None))),
    Param("reasoning_effort", "reasoning_effort", None, lambda r: bool(getattr(r, "reasoning_effort", None))),
    Param(
        f"repetition_penalty other than the answer policy's {REPETITION_PENALTY}",
        "repetition_penalty",
        None,
        lambda r: r.repetition_penalty is not None and abs(r.repetition_penalty - REPETITION_PENALTY) > 1e-6,
    ),
    Param("echo", "echo", None, lambda r: bool(getattr(r, "echo", None))),
    Param("suffix", "suffix", None, lambda r: bool(getattr(r, "suffix", None))),
    Param("best_of", "best_of", None, lambda r: (getattr(r, "best_of", None) or 1) > 1),
)
# passed to the engine verbatim (GenerationParams.extra) when honoured; stop/seed/top_p have own fields
EXTRA_FIELDS = ("presence_penalty", "frequency_penalty", "logit_bias", "response_format")


def engines_with(capability: str) -> list[str]:
    """Engine kinds whose class declares ``capability`` (for the hint)."""
    from serving.engines.openai_engine import OpenAIEngine
    from serving.engines.vllm_engine import VLLMEngine

    kinds = [cls.kind for cls in (VLLMEngine, OpenAIEngine) if capability in cls.capabilities]
    try:
        from serving.engines.transformers_engine import TransformersEngine
    except ImportError:  # pragma: no cover - transformers is a main dependency
        return kinds
    return kinds + (["transformers"] if capability in TransformersEngine.capabilities else [])


def check_parameters(req: Request, engine: Engine, max_n: int) -> dict[str, Any]:
    """Raise UnsupportedParameterError for the first parameter this engine cannot honour; return the
    extra options to pass verbatim (``GenerationParams.extra``)."""
    if req.n > max_n:
        raise UnsupportedParameterError(
            f"n={req.n} is over this server's limit of {max_n}",
            param="n",
            hint=f"ask for at most {max_n} choices or raise VERTICAL_MAX_N",
        )
    if req.n > 1 and req.stream:
        raise UnsupportedParameterError(
            "n>1 is not supported with stream=true",
            param="n",
            hint="stream one choice per request, or set stream=false",
        )
    for p in PARAMETERS:
        if not p.requested(req):
            continue
        if p.capability is None:
            raise UnsupportedParameterError(
                f"{p.name} is not supported by this server", param=p.field, hint="leave it unset"
            )
        if p.capability not in engine.capabilities:
            others = [k for k in engines_with(p.capability) if k != engine.kind]
            advice = f"use --engine {others[0]}" if others else "no engine of ours supports it; leave it unset"
            raise UnsupportedParameterError(
                f"{p.name} is not supported by the {engine.kind} engine; {advice}", param=p.field, hint=advice
            )
    extra = {}
    for field in EXTRA_FIELDS:
        value = getattr(req, field, None)
        if value is not None and any(p.field == field and p.requested(req) for p in PARAMETERS):
            extra[field] = value.model_dump(by_alias=True, exclude_none=True) if hasattr(value, "model_dump") else value
    return extra


def sampling_fields(req: SamplingFields) -> dict[str, Any]:
    """The AnswerRequest fields every request sets the same way."""
    return {
        "max_new_tokens": req.max_new_tokens,
        "temperature": req.temperature,
        "top_p": req.top_p,  # type: ignore[attr-defined]
        "seed": req.seed,
        "stop": stop_list(req.stop),
        "k": req.k,
    }
