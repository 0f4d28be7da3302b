"""Evaluation on the domain's held-out set, one metric per module (ragas style).

Contract: ``vertical.strategy.evaluation.evaluate(spec, manifest) -> dict`` (scores, 95% intervals, per-item
rows). composite.py: the score every candidate gets the same way; stats.py: bootstrap intervals;
decision.py: which candidate ``auto`` keeps; report.py/render.py: the JSON/Markdown/HTML report;
compare.py: ``vertical eval --compare A B``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from vertical.core.manifest import Manifest
    from vertical.core.spec import DomainSpec


def evaluate(spec: DomainSpec, manifest: Manifest, **kwargs: Any) -> dict:
    """The contract entry point (imports the runner lazily: metrics load models)."""
    from vertical.strategy.evaluation.runner import evaluate as _evaluate

    return _evaluate(spec, manifest, **kwargs)
