"""Optional classifier next to the rules (``safety.classifier`` in domain.yaml).

Three kinds, all behind ``flag(texts) -> list[Flag]``:
  hf          any local Hugging Face text-classification folder (transformers pipeline)
  moderation  an OpenAI-compatible ``POST {base_url}/moderations`` endpoint
  chat        an OpenAI-compatible ``POST {base_url}/chat/completions`` endpoint asked YES/NO

Combination (see docs/DESIGN-NOTES.md): the classifier can only ADD risk. A failure (endpoint down,
folder missing at run time) leaves the rules in charge and says so in ``Flag.error``.
Scores are cached per message text, so a 20-turn conversation classifies each turn once.
"""

from __future__ import annotations

import os
from collections import OrderedDict
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from vertical.core.spec import DomainSpec

DEFAULT_LABELS = {
    "hf": ["label_1", "crisis", "suicide", "suicidal", "self-harm", "self_harm", "risk", "danger"],
    "moderation": ["self-harm", "self-harm/intent", "self-harm/instructions"],
    "chat": ["yes"],
}
CHAT_PROMPT = (
    "You are a safety classifier for a counseling service. Read the user's message. Reply with only "
    "YES if the writer may be at risk of suicide or self-harm, is in danger from another person, or "
    "intends to seriously harm someone; otherwise reply with only NO."
)
CACHE_SIZE = 2048


@dataclass(frozen=True)
class Flag:
    flagged: bool
    score: float | None
    label: str = ""
    error: str | None = None


class Classifier:
    def __init__(
        self,
        kind: str,
        model: str,
        base_url: str | None = None,
        labels: list[str] | None = None,
        threshold: float = 0.5,
        api_key_env: str = "OPENAI_API_KEY",
        timeout_s: float = 5.0,
    ) -> None:
        self.kind, self.model, self.base_url = kind, model, (base_url or "").rstrip("/")
        self.labels = [label.lower() for label in (labels or DEFAULT_LABELS[kind])]
        self.threshold, self.api_key_env, self.timeout_s = threshold, api_key_env, timeout_s
        self._cache: OrderedDict[str, Flag] = OrderedDict()
        self._pipeline: Any = None  # transformers pipeline, loaded on first use

    # ---- one call per uncached text --------------------------------------------------------
    def flag(self, texts: list[str]) -> list[Flag]:
        todo = [t for t in dict.fromkeys(texts) if t not in self._cache]
        if todo:
            try:
                scored = self._score(todo)
            except Exception as exc:  # noqa: BLE001 - any failure leaves the rules in charge
                return [self._cache.get(t) or Flag(False, None, error=f"{type(exc).__name__}: {exc}") for t in texts]
            for text, (score, label) in zip(todo, scored):
                self._remember(text, Flag(score >= self.threshold, score, label))
        return [self._cache[t] for t in texts]

    def _remember(self, text: str, flag: Flag) -> None:
        self._cache[text] = flag
        while len(self._cache) > CACHE_SIZE:
            self._cache.popitem(last=False)

    def _score(self, texts: list[str]) -> list[tuple[float, str]]:
        return {"hf": self._score_hf, "moderation": self._score_moderation, "chat": self._score_chat}[self.kind](texts)

    def _best(self, scores: dict[str, float]) -> tuple[float, str]:
        risky = {k: v for k, v in scores.items() if k.lower() in self.labels}
        return max(((v, k) for k, v in risky.items()), default=(0.0, ""))

    def _score_hf(self, texts: list[str]) -> list[tuple[float, str]]:
        if self._pipeline is None:
            from transformers import pipeline

            self._pipeline = pipeline(
                "text-classification", model=self.model, tokenizer=self.model, top_k=None, device="cpu"
            )
        out = self._pipeline(texts, truncation=True)
        return [self._best({d["label"]: float(d["score"]) for d in row}) for row in out]

    def _headers(self) -> dict[str, str]:
        key = os.environ.get(self.api_key_env)
        return {"Authorization": f"Bearer {key}"} if key else {}

    def _score_moderation(self, texts: list[str]) -> list[tuple[float, str]]:
        import httpx

        body = {"input": texts, **({"model": self.model} if self.model else {})}
        r = httpx.post(f"{self.base_url}/moderations", json=body, headers=self._headers(), timeout=self.timeout_s)
        r.raise_for_status()
        return [
            self._best(res.get("category_scores") or {k: float(v) for k, v in res["categories"].items()})
            for res in r.json()["results"]
        ]

    def _score_chat(self, texts: list[str]) -> list[tuple[float, str]]:
        import httpx

        out = []
        for text in texts:
            body = {
                "model": self.model,
                "temperature": 0,
                "max_tokens": 3,
                "messages": [{"role": "system", "content": CHAT_PROMPT}, {"role": "user", "content": text}],
            }
            r = httpx.post(
                f"{self.base_url}/chat/completions", json=body, headers=self._headers(), timeout=self.timeout_s
            )
            r.raise_for_status()
            reply = r.json()["choices"][0]["message"]["content"].strip().lower()
            yes = any(reply.startswith(label) for label in self.labels)
            out.append((1.0 if yes else 0.0, reply[:12]))
        return out


@lru_cache(maxsize=16)
def _cached(
    kind: str,
    model: str,
    base_url: str | None,
    labels: tuple[str, ...],
    threshold: float,
    api_key_env: str,
    timeout_s: float,
) -> Classifier:
    return Classifier(kind, model, base_url, list(labels) or None, threshold, api_key_env, timeout_s)


def classifier_for(spec: DomainSpec | None) -> Classifier | None:
    """The domain's classifier (one instance per configuration), or None when none is configured."""
    if spec is None or spec.safety.classifier is None:
        return None
    cfg = spec.safety.classifier
    model = cfg.model or ""
    if cfg.kind == "hf" and model and not Path(model).is_absolute() and spec.path(model).exists():
        model = str(spec.path(model))
    return _cached(cfg.kind, model, cfg.base_url, tuple(cfg.labels), cfg.threshold, cfg.api_key_env, cfg.timeout_s)
