"""`vertical build`: run a strategy's steps in order and write the manifest only when all succeeded.

    ingest (rag) → cpt → data → train (sft) → prompt → eval

Each step records the content hash of its inputs in the manifest's StepRecord; the next build skips
a step whose hash is unchanged and whose outputs still exist. A failing step raises BuildError and
the previous manifest is left untouched (it is replaced atomically at the very end).

``--strategy auto`` asks the planner for candidates, builds and evaluates each on the same eval
items, and keeps the cheapest candidate whose composite (:mod:`vertical.strategy.evaluation.composite`) is not
significantly below the best's (paired bootstrap, :mod:`vertical.strategy.evaluation.decision`). Every
candidate with its interval, the verdict and its reason go into the manifest and the eval report.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from vertical.core.errors import BuildError, VerticalError
from vertical.core.manifest import Manifest, StepRecord, save_manifest, try_load_manifest
from vertical.core.settings import get_settings
from vertical.core.spec import STRATEGY_CHOICES, DomainSpec, parse_strategy
from vertical.strategy.steps.definitions import BuildContext, Step, steps_for
from vertical.strategy.steps.history import append_history

Reporter = Callable[[str, float | None, float | None], None]


def _new_manifest(spec: DomainSpec, strategy: str, reasons: list[str]) -> Manifest:
    return Manifest(
        domain=spec.name,
        domain_root=str(spec.root),
        strategy=strategy,
        base_model=spec.base_model,
        embedder=spec.embedder,
        system_prompt=spec.system_prompt,
        reasons=reasons,
    )


def _reusable(step: Step, ctx: BuildContext, input_hash: str, known: list[StepRecord]) -> StepRecord | None:
    for record in known:
        if record.name == step.name and record.input_hash == input_hash:
            try:
                if step.still_valid(ctx, record.outputs):
                    return record
            except Exception:  # noqa: BLE001 - an unreadable output just means: run the step again
                return None
    return None


def run_steps(
    ctx: BuildContext, steps: list[Step], known: list[StepRecord], on_step: Callable[[str, str], None] | None = None
) -> Manifest:
    """Run (or skip) each step, filling ``ctx.manifest``; raises BuildError naming the failed step."""

    def notify(n: int, name: str, status: str) -> None:
        if on_step:
            on_step(f"step {n}/{len(steps)} {name}", status)

    for n, step in enumerate(steps, 1):
        input_hash = step.input_hash(ctx)
        ctx.hashes[step.name] = input_hash
        previous = _reusable(step, ctx, input_hash, known)
        if previous is not None:
            step.apply(ctx, previous.outputs)
            ctx.manifest.steps.append(
                StepRecord(name=step.name, input_hash=input_hash, outputs=previous.outputs, seconds=0.0, skipped=True)
            )
            notify(n, step.name, "skipped (inputs unchanged)")
            continue
        notify(n, step.name, "running")
        started = time.perf_counter()
        try:
            outputs = step.run(ctx)
        except VerticalError as exc:
            raise BuildError(
                f"build step {step.name!r} failed: {exc.message}",
                hint=exc.hint or "fix the problem above and run the build again; the previous manifest is unchanged",
            ) from exc
        except Exception as exc:  # noqa: BLE001 - any crash inside a step is a failed build, not a traceback
            raise BuildError(
                f"build step {step.name!r} failed: {type(exc).__name__}: {exc}",
                hint="the previous manifest is unchanged; rerun with the same command after fixing it",
            ) from exc
        seconds = round(time.perf_counter() - started, 2)
        step.apply(ctx, outputs)
        ctx.manifest.steps.append(StepRecord(name=step.name, input_hash=input_hash, outputs=outputs, seconds=seconds))
        ctx.manifest.timings[step.name] = seconds
        notify(n, step.name, f"done in {seconds:.1f}s")
    return ctx.manifest


def build_candidate(
    spec: DomainSpec,
    strategy: str,
    known: list[StepRecord],
    tiny: bool = False,
    evaluate: bool = True,
    eval_limit: int | None = None,
    eval_items: list | None = None,
    reasons: list[str] | None = None,
    report: Reporter | None = None,
    on_step: Callable[[str, str], None] | None = None,
) -> tuple[Manifest, BuildContext]:
    """Build one strategy without saving anything (used by :func:`build` for each auto candidate)."""
    manifest = _new_manifest(spec, strategy, reasons or [])
    ctx = BuildContext(
        spec=spec,
        strategy=strategy,
        manifest=manifest,
        tiny=tiny,
        eval_limit=eval_limit,
        eval_items=eval_items,
        report=report or (lambda text, done, total: None),
    )
    started = time.perf_counter()
    run_steps(ctx, steps_for(strategy, evaluate), known, on_step)
    manifest.timings["total"] = round(time.perf_counter() - started, 2)
    return manifest, ctx


def safety_detector_report(spec: DomainSpec) -> dict | None:
    """The crisis detector's recall / false-alarm rate per language on the shipped safety set, when available."""
    try:
        from vertical.core import safety
    except ImportError:
        return None
    report = getattr(safety, "safety_report", None)
    if report is None:
        return None
    try:
        return report(spec)
    except Exception as exc:  # noqa: BLE001 - a broken detector report must not fail the build; say so instead
        return {"error": f"{type(exc).__name__}: {exc}"}


def _finish(
    spec: DomainSpec, manifest: Manifest, results: list[dict], chosen: str | None, verdict: dict | None = None
) -> Manifest:
    if results:
        from vertical.strategy.evaluation.report import write_report

        manifest.safety_report = safety_detector_report(spec)
        paths = write_report(
            get_settings().domain_dir(spec.name) / "eval", spec.name, results, chosen, verdict, manifest.safety_report
        )
        manifest.eval = {**manifest.eval, "report": {k: str(v) for k, v in paths.items()}}
    save_manifest(manifest)
    ingest = manifest.step("ingest")
    append_history(
        spec.name,
        {
            "strategy": manifest.strategy,
            "kb_changed": bool(ingest and not ingest.skipped and ingest.outputs.get("kb_changed")),
            "composite": (manifest.eval.get("scores") or {}).get("composite"),
        },
    )
    return manifest


def build(
    spec: DomainSpec,
    strategy: str | None = None,
    tiny: bool = False,
    evaluate: bool = True,
    eval_limit: int | None = None,
    time_budget_min: float | None = None,
    report: Reporter | None = None,
    on_step: Callable[[str, str], None] | None = None,
) -> Manifest:
    """Build ``strategy`` (default: the spec's) and save the manifest (contract entry point)."""
    try:
        strategy = parse_strategy(strategy or spec.strategy, allow_auto=True)
    except ValueError as exc:
        raise BuildError(str(exc), hint=f"use --strategy {STRATEGY_CHOICES}") from exc
    previous = try_load_manifest(spec.name)
    known = list(previous.steps) if previous else []
    if strategy != "auto":
        manifest, ctx = build_candidate(
            spec, strategy, known, tiny, evaluate, eval_limit, None, [f"strategy {strategy} requested"], report, on_step
        )
        results = [ctx.eval_result] if ctx.eval_result else []
        return _finish(spec, manifest, results, None)
    return _build_auto(spec, known, tiny, evaluate, eval_limit, time_budget_min, report, on_step)


def _build_auto(
    spec: DomainSpec,
    known: list[StepRecord],
    tiny: bool,
    evaluate: bool,
    eval_limit: int | None,
    time_budget_min: float | None,
    report: Reporter | None,
    on_step: Callable[[str, str], None] | None,
) -> Manifest:
    from vertical.strategy.evaluation.composite import FORMULA
    from vertical.strategy.evaluation.dataset import load_eval_set
    from vertical.strategy.evaluation.runner import TINY_LIMIT, load_result
    from vertical.strategy.planner import plan

    decision = plan(spec, time_budget_min)
    reasons = decision.reasons
    if not evaluate or decision.profile.eval_questions == 0:
        manifest, _ = build_candidate(
            spec,
            decision.strategy,
            known,
            tiny,
            False,
            reasons=reasons + [f"auto: no evaluation possible, kept the planner's recommendation {decision.strategy}"],
            report=report,
            on_step=on_step,
        )
        return _finish(spec, manifest, [], decision.strategy)
    items = load_eval_set(spec, eval_limit if eval_limit is not None else (TINY_LIMIT if tiny else None))
    built: list[tuple[Manifest, dict]] = []
    for strategy in decision.candidates:
        if on_step:
            on_step(f"candidate {strategy}", "building")
        manifest, ctx = build_candidate(spec, strategy, known, tiny, True, eval_limit, items, reasons, report, on_step)
        known = known + manifest.steps  # later candidates reuse ingest/data/train of earlier ones
        result = ctx.eval_result or load_result(manifest.eval)  # eval step skipped: its rows from disk
        built.append((manifest, result))
    from vertical.strategy.evaluation.decision import cost_rank, decide

    results = [r for _, r in built if r.get("scores") and r.get("items")]
    verdict = decide(results, tiny=tiny)
    by_strategy = {m.strategy: m for m, _ in built}
    kept = by_strategy[verdict.chosen]
    kept.candidates = [candidate_row(m) for m, _ in sorted(built, key=lambda mr: cost_rank(mr[0].strategy))]
    from vertical.strategy.evaluation.win_rate import preference_win_rates

    kept.verdict = {**verdict.to_dict(), "preference_win_rates": preference_win_rates(results)}
    kept.reasons = reasons + [
        f"auto: kept {kept.strategy} out of {', '.join(decision.candidates)}: {verdict.reason}",
        f"auto: {FORMULA}; the cheapest candidate not significantly below the best is kept",
    ]
    for rate in kept.verdict["preference_win_rates"]:
        ci = rate["interval"]
        kept.reasons.append(
            f"auto: {rate['strategy']} answered better than {rate['versus']} on {rate['win_rate']:.0%} of "
            f"{rate['n']} questions (95% CI {ci['low']:.0%}-{ci['high']:.0%}; ties count half)"
        )
    return _finish(spec, kept, results, kept.strategy, kept.verdict)


def candidate_row(manifest: Manifest) -> dict[str, Any]:
    """One candidate in ``manifest.candidates``: its composite with the 95% interval, and every score."""
    scores = manifest.eval.get("scores") or {}
    return {
        "strategy": manifest.strategy,
        "composite": scores.get("composite"),
        "interval": (manifest.eval.get("intervals") or {}).get("composite"),
        "scores": scores,
        "adapter": manifest.adapter_path,
        "seconds": manifest.timings.get("total"),
        "answer_seconds": manifest.eval.get("answer_seconds"),
    }


def summarize(manifest: Manifest) -> dict[str, Any]:
    """What the CLI prints at the end: one screen."""
    scores = manifest.eval.get("scores") or {}
    return {
        "strategy": manifest.strategy,
        "adapter": manifest.adapter_path,
        "kb": manifest.kb.model_dump() if manifest.kb else None,
        "steps": [(s.name, "skipped" if s.skipped else f"{s.seconds:.1f}s") for s in manifest.steps],
        "scores": {
            k: scores.get(k)
            for k in (
                "composite",
                "correctness",
                "faithfulness",
                "safety",
                "retention",
                "keyword_recall",
                "answer_similarity",
                "hit_at_k",
                "citation",
                "general_mc_accuracy",
            )
            if k in scores
        },
        "interval": (manifest.eval.get("intervals") or {}).get("composite"),
        "verdict": manifest.verdict.get("reason") if manifest.verdict else None,
    }
