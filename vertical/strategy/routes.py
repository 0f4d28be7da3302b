"""Strategy-layer endpoints: the planner's plan, a build as a background job, the eval report, the loss log.

A build runs ``vertical.strategy.build.build`` in a thread and is registered in the app's job table, so the
existing ``GET /v1/jobs/{id}`` reports it (``status``, ``progress: {step, steps, stage}``, ``error``).
Builds cannot be interrupted safely mid-step, so ``POST /v1/jobs/{id}/cancel`` answers 409 for them.
"""

from __future__ import annotations

import json
import threading
import uuid
from pathlib import Path
from typing import Any

from fastapi import APIRouter, Request
from pydantic import BaseModel, Field

from serving.api.deps import app_state, domain_runtime
from serving.api.state import JobRecord
from serving.domains import DomainRuntime
from vertical.core.errors import BuildConflictError, NotBuiltError, SpecError, VerticalError
from vertical.core.spec import STRATEGY_CHOICES

router = APIRouter(prefix="/v1/domains", tags=["strategy"])
ACTIVE = ("pending", "running")
_start_lock = threading.Lock()  # "is a build running?" and "register this one" must be one step


class BuildRequest(BaseModel):
    strategy: str | None = Field(None, max_length=40, description=STRATEGY_CHOICES + "; default: domain.yaml's")
    tiny: bool = Field(False, description="smoke-test sizes: few steps, few eval items")
    evaluate: bool = Field(True, description="run the eval step (needed for /eval and for auto)")
    eval_limit: int | None = Field(None, ge=1, le=10_000, description="evaluate on at most this many items")


class BuildJob:
    """The job object a JobRecord holds: status, progress and cancel, like knowledge's IngestJob."""

    def __init__(self, strategy: str, steps: int | None) -> None:
        self.strategy = strategy
        self.status = "pending"
        self._progress: dict[str, Any] = {"step": 0, "steps": steps, "stage": "queued", "strategy": strategy}
        self._lock = threading.Lock()

    @property
    def progress(self) -> dict[str, Any]:
        with self._lock:
            return dict(self._progress)

    def on_step(self, name: str, status: str) -> None:
        with self._lock:
            if status == "running" or status.startswith("skipped"):
                self._progress["step"] += 1
            self._progress["stage"] = f"{name}: {status}"

    def on_report(self, text: str, done: float | None, total: float | None) -> None:
        with self._lock:
            self._progress["detail"] = text
            if done is not None and total:
                self._progress.update(detail_done=done, detail_total=total)

    def cancel(self) -> None:
        raise BuildConflictError(
            f"a {self.strategy} build cannot be cancelled once started",
            hint="wait for it to finish; the previous manifest stays in place until it succeeds",
        )


def _planned_steps(strategy: str, evaluate: bool) -> int | None:
    """How many steps a single-strategy build runs (auto builds several candidates: unknown upfront)."""
    if strategy == "auto":
        return None
    from vertical.strategy.steps.definitions import steps_for

    return len(steps_for(strategy, evaluate))


def _run_build(record: JobRecord, runtime: DomainRuntime, body: BuildRequest) -> None:
    from vertical.core.manifest import try_load_manifest
    from vertical.strategy.build import build, summarize

    job: BuildJob = record.job
    job.status = "running"
    try:
        manifest = build(
            runtime.spec,
            job.strategy,
            tiny=body.tiny,
            evaluate=body.evaluate,
            eval_limit=body.eval_limit,
            report=job.on_report,
            on_step=job.on_step,
        )
        record.report = summarize(manifest)
        runtime.manifest = try_load_manifest(runtime.name)  # serve what was just built
        job.status = "done"
    except VerticalError as exc:
        record.error, job.status = str(exc), "failed"
    except Exception as exc:  # noqa: BLE001 - reported through the job status
        record.error, job.status = f"{type(exc).__name__}: {exc}", "failed"
    finally:
        with job._lock:
            job._progress["stage"] = job.status


@router.get("/{domain}/plan")
def plan(domain: str, request: Request) -> dict:
    from vertical.strategy.planner import plan as make_plan

    return make_plan(domain_runtime(request, domain).spec).to_dict()


@router.post("/{domain}/build")
def start_build(domain: str, request: Request, body: BuildRequest | None = None) -> dict:
    from vertical.core.spec import parse_strategy

    body = body or BuildRequest()
    state = app_state(request)
    runtime = domain_runtime(request, domain)
    try:  # a bad name is the caller's mistake now, not a failed job later
        strategy = parse_strategy(body.strategy or runtime.spec.strategy, allow_auto=True)
    except ValueError as exc:
        raise SpecError(str(exc), hint=f"use {STRATEGY_CHOICES}") from exc
    with _start_lock:
        running = [
            r
            for r in state.jobs.values()
            if r.domain == runtime.name and isinstance(r.job, BuildJob) and r.job.status in ACTIVE
        ]
        if running:
            raise BuildConflictError(
                f"a build of {runtime.name!r} is already running (job {running[0].id})",
                hint=f"poll GET /v1/jobs/{running[0].id} and start the next build when it ends",
            )
        record = JobRecord(
            uuid.uuid4().hex[:12], runtime.name, BuildJob(strategy, _planned_steps(strategy, body.evaluate)), []
        )
        state.jobs[record.id] = record
    threading.Thread(target=_run_build, args=(record, runtime, body), name=f"build-{record.id}", daemon=True).start()
    return {"job_id": record.id, "strategy": strategy}


def _numbers(scores: dict | None) -> dict[str, float]:
    return {k: v for k, v in (scores or {}).items() if isinstance(v, (int, float)) and not isinstance(v, bool)}


def _evaluated(results: list[dict]) -> dict:
    """For the UI: each candidate's scores and 95% intervals, and the report's per-question table (every
    candidate's answer side by side, and which is better)."""
    from vertical.strategy.evaluation.report import question_table

    complete = bool(results) and all(isinstance(r.get("items"), list) and r["items"] for r in results)
    table = question_table(results) if complete else None
    return {
        "results": [
            {"strategy": r.get("strategy"), "scores": _numbers(r.get("scores")), "intervals": r.get("intervals") or {}}
            for r in results
        ],
        "questions": {"headers": table.headers, "rows": table.rows} if table else None,
    }


def _read_report(path: Path) -> dict | None:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None


@router.get("/{domain}/eval")
def eval_report(domain: str, request: Request) -> dict:
    """The eval report; report and adapter paths are shown relative to the workspace, never absolute."""
    from serving.api.errors import scrub_json

    return scrub_json(_eval_report(domain, request))


def _eval_report(domain: str, request: Request) -> dict:
    from vertical.core.manifest import try_load_manifest
    from vertical.core.settings import get_settings

    runtime = domain_runtime(request, domain)
    manifest = try_load_manifest(runtime.name)
    report_path = Path((manifest.eval.get("report") or {}).get("json", "")) if manifest else None
    if not report_path or not report_path.is_file():
        report_path = get_settings().domain_dir(runtime.name) / "eval" / "report.json"
    report = _read_report(report_path) if report_path.is_file() else None
    results = [r for r in (report or {}).get("results") or [] if isinstance(r, dict)]
    candidates = [{"strategy": r.get("strategy"), "scores": _numbers(r.get("scores"))} for r in results]
    if manifest is not None and manifest.eval.get("scores"):
        return {
            "domain": runtime.name,
            "strategy": manifest.strategy,
            "scores": _numbers(manifest.eval["scores"]),
            "candidates": manifest.candidates or candidates,
            "reasons": manifest.reasons,
            "verdict": manifest.verdict or (report or {}).get("verdict"),
            "intervals": manifest.eval.get("intervals") or {},
            "n_items": manifest.eval.get("n_items"),
            "created_at": manifest.created_at,
            "report": manifest.eval.get("report") or {},
            **_evaluated(results),
            "safety_report": manifest.safety_report or (report or {}).get("safety_detector"),
        }
    if results:
        chosen = (report or {}).get("chosen") or results[0].get("strategy")
        best = next((r for r in results if r.get("strategy") == chosen), results[0])
        return {
            "domain": runtime.name,
            "strategy": chosen,
            "scores": _numbers(best.get("scores")),
            "candidates": candidates,
            "reasons": [],
            "n_items": best.get("n_items"),
            "verdict": (report or {}).get("verdict"),
            "intervals": best.get("intervals") or {},
            "report": {"json": str(report_path)},
            **_evaluated(results),
            "safety_report": (report or {}).get("safety_detector"),
        }
    raise NotBuiltError(
        f"domain {runtime.name!r} has no eval report yet",
        hint="build it with evaluation: POST /v1/domains/{d}/build or `vertical build <folder>`",
    )


@router.get("/{domain}/training")
def training_log(domain: str, request: Request) -> dict:
    """The newest training run's log; its paths are shown relative to the workspace."""
    from serving.api.errors import scrub_json

    return scrub_json(_training_log(domain, request))


def _training_log(domain: str, request: Request) -> dict:
    from vertical.core.settings import get_settings

    runtime = domain_runtime(request, domain)
    runs = get_settings().domain_dir(runtime.name) / "runs"
    logs = sorted(runs.glob("*/log.json"), key=lambda p: p.stat().st_mtime, reverse=True) if runs.is_dir() else []
    for path in logs:  # newest readable one; a half-written run must not hide the previous
        log = _read_report(path)
        if isinstance(log, dict):
            plot = path.parent / "loss.png"
            return {
                **log,
                "run": path.parent.name,
                "log_path": str(path),
                "loss_plot": str(plot) if plot.is_file() else None,
            }
    raise NotBuiltError(
        f"domain {runtime.name!r} has no training run yet (nothing under {runs})",
        hint="build a strategy with sft or cpt (e.g. sft+rag) to train an adapter",
    )
