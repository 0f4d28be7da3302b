"""The held-out eval set: ``spec.eval.file`` (JSONL: id, question, reference, source, keywords, type)."""

from __future__ import annotations

import json
from dataclasses import dataclass, field

from vertical.core.errors import SpecError
from vertical.core.spec import DomainSpec

TYPES = ("factual", "howto", "crisis")


@dataclass
class EvalItem:
    id: str
    question: str
    reference: str | None = None
    source: str | None = None
    keywords: list[str] = field(default_factory=list)
    type: str = "factual"

    @property
    def grounded(self) -> bool:
        """Answerable from one document: retrieval and citation metrics apply."""
        return self.type != "crisis" and bool(self.source)


def load_eval_set(spec: DomainSpec, limit: int | None = None) -> list[EvalItem]:
    """Read the eval file; with ``limit`` take a type-balanced subset (crisis items always included first)."""
    if spec.eval.file is None:
        raise SpecError(
            f"domain {spec.name!r} has no eval.file", hint="add eval: {file: eval/questions.jsonl} to domain.yaml"
        )
    path = spec.path(spec.eval.file)
    if not path.is_file():
        raise SpecError(
            f"eval set {path} does not exist",
            hint="write one JSON object per line: id, question, reference, source, keywords, type",
        )
    items: list[EvalItem] = []
    for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        if not line.strip():
            continue
        try:
            row = json.loads(line)
            items.append(
                EvalItem(
                    id=str(row.get("id") or f"line{n}"),
                    question=row["question"],
                    reference=row.get("reference"),
                    source=row.get("source"),
                    keywords=list(row.get("keywords") or []),
                    type=row.get("type") or "factual",
                )
            )
        except (json.JSONDecodeError, KeyError, TypeError) as exc:
            raise SpecError(
                f"{path}:{n}: bad eval record ({exc})", hint="each line needs at least a 'question' field"
            ) from exc
    if limit is None or limit >= len(items):
        return items
    return _balanced(items, limit)


def _balanced(items: list[EvalItem], limit: int) -> list[EvalItem]:
    """Round-robin quotas over types, then evenly spaced picks inside each type (different documents)."""
    by_type: dict[str, list[EvalItem]] = {}
    for item in items:
        by_type.setdefault(item.type, []).append(item)
    quota = dict.fromkeys(by_type, 0)
    while sum(quota.values()) < limit:
        for t in sorted(by_type, key=lambda t: (t != "crisis", t)):
            if quota[t] < len(by_type[t]) and sum(quota.values()) < limit:
                quota[t] += 1
    chosen = {id(v[int(i * len(v) / quota[t])]) for t, v in by_type.items() for i in range(quota[t])}
    return [item for item in items if id(item) in chosen]
