"""`vertical ask` entry point: a thin wrapper over the answer policy (serving.answer)."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any


@dataclass
class Source:
    source: str
    heading: str
    text: str


@dataclass
class QuickAnswer:
    answer: str
    sources: list[Source] = field(default_factory=list)
    trace: str = ""
    path: str = ""
    grounding: dict[str, Any] = field(default_factory=dict)


def answer_question(domain: str | Path, question: str, k: int | None = None, base: bool = False) -> QuickAnswer:
    """Answer with the domain's built assistant; ``base``: with the base model (no build needed).

    A domain that was never built raises NotBuiltError unless ``base`` is set, except for a crisis
    message: its fixed safety response needs no build and is never withheld.
    """
    from serving.answer import AnswerRequest, answer
    from serving.engines import default_runtime
    from vertical.core.errors import NotBuiltError
    from vertical.core.manifest import try_load_manifest
    from vertical.core.safety import assess
    from vertical.core.spec import load_domain

    spec = load_domain(domain)
    req = AnswerRequest.ask(question, k=k, use_adapter=not base)
    if not base and try_load_manifest(spec.name) is None and assess(req.messages, spec).action != "fixed_response":
        raise NotBuiltError(
            f"domain {spec.name!r} is not built: run `vertical build {domain}` first",
            hint="or pass --base to answer from the base model (with the knowledge base if it holds documents)",
        )
    result = answer(default_runtime(Path(domain)), req)
    sources = [Source(s["source"], s.get("heading", ""), s["text"]) for s in result.sources]
    return QuickAnswer(result.answer, sources, "\n".join(result.trace), result.path, result.grounding)
