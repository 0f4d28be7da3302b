"""Evaluation on the domain's held-out set, one metric per module (ragas style).

Contract: ``vertical.strategy.evaluation.evaluate(spec, manifest) -> dict`` (scores, 95% intervals, per-item
rows). composite.py: the score every candidate gets the same way; stats.py: bootstrap intervals;
decision.py: which candidate ``auto`` keeps; report.py/render.py: the JSON/Markdown/HTML report;
compare.py: ``vertical eval --compare A B``.
"""

from __future__ import annotations

from typing import Any


def evaluate(spec: Any, manifest: Any, **kwargs: Any) -> dict:
    from vertical.strategy.evaluation.runner import evaluate as _evaluate

    return _evaluate(spec, manifest, **kwargs)
