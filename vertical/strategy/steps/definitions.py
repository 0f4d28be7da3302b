"""The build steps. Each one: hash its inputs, run, put its outputs into the manifest.

A step whose input hash matches a recorded StepRecord (previous manifest, or an earlier candidate of
the same ``auto`` run) and whose outputs still exist is skipped and its recorded outputs reused.
Adapters go to content-addressed folders (``adapters/sft-<hash>``), so retraining never overwrites
the adapter the current manifest points at.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from vertical.core.manifest import KBRecord, Manifest
from vertical.core.settings import get_settings
from vertical.core.spec import DomainSpec
from vertical.strategy.steps.hashing import hash_files, hash_values

# CPU-friendly settings for --tiny: the demo domain builds in minutes on 2 cores.
TINY_TRAINING = {
    "max_steps": 12,
    "batch_size": 2,
    "gradient_accumulation_steps": 1,
    "save_steps": 1000,
    "eval_before": False,
}
# windows no longer than this under --tiny; shorter than the domain's own max_length would cut turns
# (at 256, 187 of 260 xinli answers were truncated), so tiny keeps the domain's value up to 512
TINY_MAX_LENGTH = 512
TINY_EVAL_WINDOWS = 8


@dataclass
class BuildContext:
    spec: DomainSpec
    strategy: str
    manifest: Manifest
    tiny: bool = False
    eval_limit: int | None = None
    eval_items: list | None = None  # the same items for every auto candidate
    report: Callable[[str, float | None, float | None], None] = lambda text, done, total: None
    hashes: dict[str, str] = field(default_factory=dict)
    train_data: Any = None
    eval_result: dict | None = None

    @property
    def parts(self) -> list[str]:
        return self.strategy.split("+")

    @property
    def max_length(self) -> int:
        return min(self.spec.data.max_length, TINY_MAX_LENGTH) if self.tiny else self.spec.data.max_length

    def training_overrides(self) -> dict[str, Any]:
        return {**TINY_TRAINING, "max_length": self.max_length} if self.tiny else {}


@dataclass(frozen=True)
class Step:
    name: str
    input_hash: Callable[[BuildContext], str]
    run: Callable[[BuildContext], dict[str, Any]]
    apply: Callable[[BuildContext, dict[str, Any]], None]
    still_valid: Callable[[BuildContext, dict[str, Any]], bool] = lambda ctx, out: True


def _dataset_files(spec: DomainSpec) -> list[Path]:
    return [spec.path(d.file) for d in spec.data.datasets]


# ---- ingest -------------------------------------------------------------------------------------
def _ingest_hash(ctx: BuildContext) -> str:
    s = ctx.spec
    from knowledge.sources import document_roots

    return hash_values(hash_files(document_roots(s), s.root), s.knowledge, s.embedder, s.name)


def _ingest_run(ctx: BuildContext) -> dict[str, Any]:
    from knowledge.jobs import IngestJob
    from knowledge.store import KnowledgeBase

    def progress(p: dict) -> None:
        ctx.report(
            f"ingest: {p.get('files_done', 0)}/{p.get('files_total', '?')} files, {p.get('chunks', 0)} chunks",
            p.get("files_done"),
            p.get("files_total"),
        )

    report = IngestJob(ctx.spec, sync=True).run(on_progress=progress).to_dict()
    kb = KnowledgeBase.for_domain(ctx.spec)
    if kb.count() == 0:
        from vertical.core.errors import IngestError

        raise IngestError(
            f"no chunks were ingested from {', '.join(map(str, ctx.spec.source_paths))}",
            hint=f"check the knowledge sources; skipped: {report.get('skipped')}, failed: {report.get('failed')}",
        )
    changed = any(report.get(k) for k in ("added", "updated", "deleted"))
    return {
        "collection": kb.collection_name,
        "content_hash": kb.content_hash(),
        "chunks": kb.count(),
        "documents": len(kb.list_documents()),
        "kb_changed": changed,
        "report": {k: report.get(k) for k in ("added", "updated", "unchanged", "deleted", "failed", "skipped")},
    }


def _ingest_valid(ctx: BuildContext, out: dict[str, Any]) -> bool:
    from knowledge.store import KnowledgeBase

    return KnowledgeBase.for_domain(ctx.spec).content_hash() == out.get("content_hash")


def _ingest_apply(ctx: BuildContext, out: dict[str, Any]) -> None:
    ctx.manifest.kb = KBRecord(
        collection=out["collection"], content_hash=out["content_hash"], chunks=out["chunks"], documents=out["documents"]
    )


# ---- data + train -------------------------------------------------------------------------------
def _data_hash(ctx: BuildContext) -> str:
    s = ctx.spec
    return hash_values(hash_files(_dataset_files(s), s.root), s.data, s.system_prompt, s.base_model, ctx.tiny)


def _data_run(ctx: BuildContext) -> dict[str, Any]:
    from finetune.data.pipeline import TINY_GENERAL_LIMIT, prepare_sft
    from finetune.train.data_source import from_sft
    from vertical.core.loaders import load_tokenizer

    max_length = ctx.max_length
    ctx.report("data: preparing SFT windows (general self-replay mix)", None, None)
    prepared = prepare_sft(
        ctx.spec,
        load_tokenizer(ctx.spec.base_model),
        max_length=max_length,
        general_limit=TINY_GENERAL_LIMIT if ctx.tiny else None,
        on_progress=lambda name, i, n: ctx.report(f"data: {name}", i, n),
    )
    data = from_sft(prepared)  # its manifest names the data files and their hashes
    if ctx.tiny:
        data.eval = data.eval[:TINY_EVAL_WINDOWS]  # eval loss on a subset: minutes saved on CPU
    ctx.train_data = data
    return {"train_windows": len(data.train), "eval_windows": len(data.eval), "max_length": max_length}


def _train_hash(ctx: BuildContext) -> str:
    s = ctx.spec
    return hash_values(ctx.hashes.get("data"), s.training, s.base_model, ctx.training_overrides())


def _train_run(ctx: BuildContext) -> dict[str, Any]:
    from finetune.train import run_sft

    out_dir = get_settings().domain_dir(ctx.spec.name) / "adapters" / f"sft-{ctx.hashes['train'][:12]}"

    def progress(event: dict) -> None:
        if event.get("event") in ("begin", "step"):
            loss = event.get("loss")
            ctx.report(
                f"train: step {event['step']}/{event['max_steps']}" + (f" loss {loss:.3f}" if loss else ""),
                event["step"],
                event["max_steps"],
            )

    result = run_sft(
        ctx.spec, out_dir, overrides=ctx.training_overrides() or None, data=ctx.train_data, on_progress=progress
    )
    metrics = {k: v for k, v in result.metrics.items() if isinstance(v, (int, float, str)) or v is None}
    return {"adapter_dir": str(result.adapter_dir), "metrics": metrics}


def _train_valid(ctx: BuildContext, out: dict[str, Any]) -> bool:
    return Path(out.get("adapter_dir", "")).is_dir()


def _train_apply(ctx: BuildContext, out: dict[str, Any]) -> None:
    ctx.manifest.adapter_path = out["adapter_dir"]


def _cpt_hash(ctx: BuildContext) -> str:
    from knowledge.sources import document_roots

    s = ctx.spec
    return hash_values(
        hash_files([*document_roots(s), *_dataset_files(s)], s.root),
        s.data,
        s.training,
        s.base_model,
        ctx.training_overrides(),
    )


def _cpt_run(ctx: BuildContext) -> dict[str, Any]:
    from finetune.train import run_cpt

    out_dir = get_settings().domain_dir(ctx.spec.name) / "adapters" / f"cpt-{ctx.hashes['cpt'][:12]}"
    result = run_cpt(ctx.spec, out_dir, overrides=ctx.training_overrides() or None)
    return {
        "adapter_dir": str(result.adapter_dir),
        "metrics": {k: v for k, v in result.metrics.items() if isinstance(v, (int, float, str))},
    }


def _cpt_apply(ctx: BuildContext, out: dict[str, Any]) -> None:
    # the sft step (when present) replaces this with its own adapter, trained after cpt
    ctx.manifest.adapter_path = out["adapter_dir"]


# ---- preference alignment (+dpo) ----------------------------------------------------------------
TINY_ALIGN = {"max_steps": 4, "batch_size": 2, "max_length": 256, "eval_before": False}
TINY_REFERENCES = 12  # reference prompts answered by the base model to make pairs


def _align_hash(ctx: BuildContext) -> str:
    from finetune.data.feedback import store_for

    s = ctx.spec
    feedback = store_for().counts(s.name) if s.training.preference.feedback else {}
    return hash_values(
        ctx.hashes.get("train"),
        hash_files(_dataset_files(s), s.root),
        s.training,
        s.base_model,
        s.system_prompt,
        feedback,
        ctx.tiny,
    )


def _align_run(ctx: BuildContext) -> dict[str, Any]:
    from finetune.train.preference import preference_data, run_preference

    pref = ctx.spec.training.preference
    out_dir = get_settings().domain_dir(ctx.spec.name) / "adapters" / f"{pref.method}-{ctx.hashes['align'][:12]}"
    sft = Path(ctx.manifest.adapter_path) if ctx.manifest.adapter_path else None  # the SFT/CPT adapter, if any
    ctx.report(f"align: collecting {pref.method} preference data", None, None)
    data = preference_data(ctx.spec, pref.method, limit=TINY_REFERENCES if ctx.tiny else None)

    def progress(event: dict) -> None:
        if event.get("event") in ("begin", "step"):
            ctx.report(
                f"align ({pref.method}): step {event['step']}/{event['max_steps']}", event["step"], event["max_steps"]
            )

    result = run_preference(
        ctx.spec,
        pref.method,
        out_dir,
        data=data,
        sft_adapter=sft,
        overrides=dict(TINY_ALIGN) if ctx.tiny else None,
        on_progress=progress,
    )
    metrics = {k: v for k, v in result.metrics.items() if isinstance(v, (int, float, str, dict)) or v is None}
    return {"adapter_dir": str(result.adapter_dir), "metrics": metrics, "pairs": data.manifest}


def _align_apply(ctx: BuildContext, out: dict[str, Any]) -> None:
    ctx.manifest.adapter_path = out["adapter_dir"]  # the aligned adapter includes the SFT one it started from


# ---- prompt -------------------------------------------------------------------------------------
def _prompt_hash(ctx: BuildContext) -> str:
    s = ctx.spec
    return hash_values(hash_files(_dataset_files(s), s.root), s.system_prompt, s.embedder, ctx.strategy == "prompt")


def _prompt_run(ctx: BuildContext) -> dict[str, Any]:
    """System prompt for every strategy; a few-shot pool only for prompt-only (others learn or retrieve)."""
    pool: list[dict[str, str]] = []
    if ctx.strategy == "prompt" and ctx.spec.data.datasets:
        from serving.few_shot import example_pool

        pool = example_pool(ctx.spec)
    return {"system_prompt": ctx.spec.system_prompt, "few_shot": pool}


def _prompt_apply(ctx: BuildContext, out: dict[str, Any]) -> None:
    ctx.manifest.system_prompt = out["system_prompt"]
    ctx.manifest.few_shot = out["few_shot"]


# ---- eval ---------------------------------------------------------------------------------------
def _eval_hash(ctx: BuildContext) -> str:
    s = ctx.spec
    eval_file = [s.path(s.eval.file)] if s.eval.file else []
    return hash_values(
        sorted(ctx.hashes.items()),
        ctx.strategy,
        hash_files(eval_file, s.root),
        s.eval,
        s.safety,
        s.serving,
        ctx.tiny,
        ctx.eval_limit,
        [getattr(i, "id", None) for i in ctx.eval_items or []],
    )


def _eval_run(ctx: BuildContext) -> dict[str, Any]:
    from vertical.strategy.evaluation.runner import evaluate, save_items

    def progress(done: int, total: int, left: float | None) -> None:
        eta = "" if left is None or not done else f", about {left:.0f}s left"
        ctx.report(f"eval {ctx.strategy}: answered {done}/{total}{eta}", done, total)

    result = evaluate(
        ctx.spec,
        ctx.manifest,
        limit=ctx.eval_limit,
        tiny=ctx.tiny,
        items=ctx.eval_items,
        on_stage=lambda text: ctx.report(f"eval: {text}", None, None),
        on_progress=progress,
    )
    ctx.eval_result = result
    out = {k: v for k, v in result.items() if k != "items"}
    out["items_file"] = str(save_items(ctx.spec.name, ctx.hashes["eval"], result["items"]))  # for auto's paired test
    return out


def _eval_valid(ctx: BuildContext, out: dict[str, Any]) -> bool:
    return Path(out.get("items_file", "")).is_file()


def _eval_apply(ctx: BuildContext, out: dict[str, Any]) -> None:
    ctx.manifest.eval = out


INGEST = Step("ingest", _ingest_hash, _ingest_run, _ingest_apply, _ingest_valid)
DATA = Step("data", _data_hash, _data_run, lambda ctx, out: None)
CPT = Step("cpt", _cpt_hash, _cpt_run, _cpt_apply, _train_valid)
TRAIN = Step("train", _train_hash, _train_run, _train_apply, _train_valid)
ALIGN = Step("align", _align_hash, _align_run, _align_apply, _train_valid)
PROMPT = Step("prompt", _prompt_hash, _prompt_run, _prompt_apply)
EVAL = Step("eval", _eval_hash, _eval_run, _eval_apply, _eval_valid)


def steps_for(strategy: str, evaluate: bool = True) -> list[Step]:
    """Steps in order: ingest → cpt → data → train → align → prompt → eval (the ones the strategy needs)."""
    parts = strategy.split("+")
    steps: list[Step] = []
    if "rag" in parts:
        steps.append(INGEST)
    if "cpt" in parts:
        steps.append(CPT)
    if "sft" in parts:
        steps += [DATA, TRAIN]
    if "dpo" in parts:
        steps.append(ALIGN)
    steps.append(PROMPT)
    if evaluate:
        steps.append(EVAL)
    return steps
