"""Evaluation on the domain's held-out set, one metric per module (ragas style).

Contract: ``vertical.strategy.evaluation.evaluate(spec, manifest) -> dict``. See composite.py for the score
``auto`` ranks candidates by, and report.py for the JSON/Markdown/HTML outputs.
"""

from __future__ import annotations

from typing import Any


def evaluate(spec: Any, manifest: Any, **kwargs: Any) -> dict:
    from vertical.strategy.evaluation.runner import evaluate as _evaluate

    return _evaluate(spec, manifest, **kwargs)
