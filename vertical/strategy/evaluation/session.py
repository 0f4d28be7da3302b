"""`vertical eval`: evaluate the built manifest (plus a baseline strategy) and write the report.

The baseline (default prompt-only) reuses the built manifest's base model with no adapter and no KB,
so the report shows what the build added on the same questions.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from vertical.core.manifest import Manifest, load_manifest, save_manifest
from vertical.core.settings import get_settings
from vertical.core.spec import DomainSpec, parse_strategy
from vertical.strategy.evaluation.dataset import load_eval_set
from vertical.strategy.evaluation.judge import JudgeConfig
from vertical.strategy.evaluation.report import write_report
from vertical.strategy.evaluation.runner import TINY_LIMIT, evaluate


def baseline_manifest(built: Manifest, strategy: str) -> Manifest:
    """A manifest for a strategy that needs no build state beyond the built one (prompt, or rag on the same KB)."""
    parts = parse_strategy(strategy, allow_auto=False).split("+")
    return built.model_copy(
        update={
            "strategy": "+".join(parts),
            "adapter_path": built.adapter_path if {"sft", "cpt", "dpo"} & set(parts) else None,
            "kb": built.kb if "rag" in parts else None,
            "eval": {},
            "candidates": [],
            "steps": [],
            "verdict": {},
        }
    )


def evaluate_built(
    spec: DomainSpec,
    limit: int | None = None,
    tiny: bool = False,
    baseline: str | None = "prompt",
    max_new_tokens: int | None = None,
    judge: JudgeConfig | None = None,
    on_stage: Callable[[str], None] | None = None,
    on_progress: Callable[[str, int, int, float | None], None] | None = None,
) -> tuple[list[dict], dict[str, Path], dict | None]:
    """Evaluate the built manifest and its baseline on the same items; returns (results, report paths, verdict).

    ``on_progress(strategy, answered, total, seconds_left)`` follows the answering of each target.
    """
    from vertical.strategy.build import safety_detector_report
    from vertical.strategy.evaluation.decision import versus_baseline

    manifest = load_manifest(spec.name)
    items = load_eval_set(spec, limit if limit is not None else (TINY_LIMIT if tiny else None))
    targets = [manifest]
    if baseline and parse_strategy(baseline, allow_auto=False) != manifest.strategy:
        targets.append(baseline_manifest(manifest, baseline))
    results = []
    for target in targets:
        progress = (lambda d, t, left, s=target.strategy: on_progress(s, d, t, left)) if on_progress else None
        results.append(
            evaluate(
                spec,
                target,
                tiny=tiny,
                max_new_tokens=max_new_tokens,
                judge=judge,
                on_stage=on_stage,
                items=items,
                on_progress=progress,
            )
        )
    verdict = versus_baseline(results[0], results[1], tiny).to_dict() if len(results) > 1 else None
    manifest.safety_report = safety_detector_report(spec)
    paths = write_report(
        get_settings().domain_dir(spec.name) / "eval",
        spec.name,
        results,
        manifest.strategy,
        verdict,
        manifest.safety_report,
    )
    manifest.eval = {
        **{k: v for k, v in results[0].items() if k != "items"},
        "report": {k: str(v) for k, v in paths.items()},
    }
    save_manifest(manifest)
    return results, paths, verdict
