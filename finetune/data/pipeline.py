"""Training data for every strategy: ``prepare_sft`` and ``prepare_cpt`` (stable API).

``prepare_sft(spec, tokenizer, max_length=None, general=True, seed=42, ...) -> SFTData``
    read every ``spec.data.datasets`` entry (malformed records counted, or DataFormatError when
    ``data.strict``) → (+ KB-synthesised Q/A when ``data.synth_pairs`` > 0) → domain system prompt
    added where missing → clean/dedupe → eval split (``split: eval`` datasets, else a held-out
    share by conversation) → dataset weights → windows of at most ``max_length`` tokens
    (default ``data.max_length``) → mixed with general windows at ``data.sft_general_ratio``.
    ``SFTData.train`` / ``.eval`` are lists of :class:`~finetune.data.types.Window` (``input_ids``,
    ``labels`` with IGNORE_INDEX outside assistant turns, ``kind``); ``.report`` is the stats dict,
    ``.manifest`` the reproducibility record (files + sha256, settings, output hash), ``.paths``
    where both were written (``<domain_dir>/data/``).

``prepare_cpt(spec, tokenizer, block_size=None, force=False, seed=42) -> CPTData``
    domain documents → cleaned text → packed ``block_size`` blocks (default ``data.max_length``),
    mixed with general text; DataPolicyError when the domain share exceeds
    ``data.cpt_max_domain_share`` unless ``force``. ``CPTData.train`` / ``.eval`` are dicts with
    ``input_ids`` and ``labels`` (= input_ids); ``.domain_share``, ``.report``, ``.manifest``.
"""

from __future__ import annotations

import hashlib
import json
import random
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from finetune.data.clean import CleanOptions, clean_conversations, tokenizer_counter
from finetune.data.corpus import load_domain_texts, pack_texts, require_blocks
from finetune.data.formats import read_dataset
from finetune.data.general import general_texts, load_general
from finetune.data.mix import apply_weight, mix_cpt, mix_sft
from finetune.data.report import DataReport
from finetune.data.split import split_conversation, window_stats
from finetune.data.types import Conversation, Turn, Window
from vertical.core.errors import DataFormatError
from vertical.core.fsutil import atomic_write_json
from vertical.core.settings import get_settings
from vertical.core.spec import DomainSpec

Progress = Callable[[str, int, int], None]
# `data mix --tiny`: self-replay answers for this many general prompts (one generation batch: 8 × 160
# tokens instead of 120 × 160), the same as a tiny build's, so both share the cached answers.
TINY_GENERAL_LIMIT = 8


@dataclass
class SFTData:
    train: list[Window]
    eval: list[Window]
    report: dict[str, Any]
    manifest: dict[str, Any]
    paths: dict[str, Path] = field(default_factory=dict)


@dataclass
class CPTData:
    train: list[dict[str, list[int]]]
    eval: list[dict[str, list[int]]]
    domain_share: float
    report: dict[str, Any]
    manifest: dict[str, Any]
    paths: dict[str, Path] = field(default_factory=dict)


def sha256_file(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def data_files(spec: DomainSpec) -> list[dict[str, Any]]:
    files = []
    for ds in spec.data.datasets:
        path = spec.path(ds.file)
        files.append(
            {
                "name": ds.name,
                "file": str(ds.file),
                "format": ds.format,
                "split": ds.split,
                "weight": ds.weight,
                "sha256": sha256_file(path) if path.is_file() else None,
            }
        )
    if str(spec.data.general) not in ("self-replay", "none"):
        path = spec.path(spec.data.general)
        files.append(
            {"name": "general", "file": str(spec.data.general), "sha256": sha256_file(path) if path.is_file() else None}
        )
    return files


def output_hash(*series: list) -> str:
    h = hashlib.sha256()
    for items in series:
        for item in items:
            ids = item["input_ids"] if isinstance(item, dict) else item.input_ids
            labels = item["labels"] if isinstance(item, dict) else item.labels
            h.update(json.dumps([ids, labels]).encode())
    return h.hexdigest()


def clean_options(spec: DomainSpec) -> CleanOptions:
    return CleanOptions(
        dedupe_threshold=spec.data.dedupe_threshold, scrub_pii=spec.data.scrub_pii, pii_types=tuple(spec.data.pii_types)
    )


def read_domain(spec: DomainSpec, report: DataReport) -> list[Conversation]:
    """Every non-text dataset of the spec, malformed records counted in ``report``."""
    convs: list[Conversation] = []
    for ds in spec.data.datasets:
        if ds.format == "text":
            report.warn("text dataset used only for continued pretraining", ds.name)
            continue
        if ds.ranking:  # preference pairs train DPO/ORPO/KTO (finetune.data.preferences), not SFT
            continue
        items, problems = read_dataset(spec, ds)
        report.add_problems(problems)
        report.count("records read", len(items) + len(problems))
        for conv in items:
            conv.meta.update(kind="domain", weight=ds.weight)
        convs += items
    return convs


def with_system_prompt(conv: Conversation, system_prompt: str) -> Conversation:
    if conv.system is not None or not system_prompt.strip():
        return conv
    return Conversation([Turn("system", system_prompt.strip()), *conv.turns], conv.id, conv.source, conv.meta)


def hold_out(convs: list[Conversation], fraction: float, seed: int) -> tuple[list[Conversation], list[Conversation]]:
    """Train/eval by conversation (windows of one conversation never straddle the split)."""
    explicit = [c for c in convs if c.meta.get("split") == "eval"]
    train = [c for c in convs if c.meta.get("split") != "eval"]
    if explicit or len(train) < 10 or fraction <= 0:
        return train, explicit
    order = list(range(len(train)))
    random.Random(seed).shuffle(order)
    n_eval = max(1, round(fraction * len(train)))
    held = set(order[:n_eval])
    return [c for i, c in enumerate(train) if i not in held], [c for i, c in enumerate(train) if i in held]


def to_windows(
    convs: list[Conversation],
    tokenizer: Any,
    max_length: int,
    report: DataReport,
    on_progress: Progress | None = None,
    stage: str = "split",
) -> list[Window]:
    """Windows of every conversation; counts answers in and trained out (they must match: no lost turns)."""
    windows: list[Window] = []
    for i, conv in enumerate(convs, 1):
        windows += split_conversation(tokenizer, conv, max_length, report)
        if on_progress and (i % 50 == 0 or i == len(convs)):
            on_progress(stage, i, len(convs))
    report.count(f"{stage}: assistant turns in", sum(len(c.assistant_turns) for c in convs))
    report.count(f"{stage}: assistant turns trained", sum(w.trained_turns for w in windows))
    return windows


def prepare_sft(
    spec: DomainSpec,
    tokenizer: Any,
    max_length: int | None = None,
    general: bool = True,
    seed: int = 42,
    eval_fraction: float = 0.1,
    general_limit: int | None = None,
    write: bool = True,
    on_progress: Progress | None = None,
) -> SFTData:
    """Encoded, split and mixed SFT windows for ``spec`` (see the module docstring)."""
    max_length = max_length or spec.data.max_length
    report = DataReport()
    step = (lambda name, i, n: on_progress(name, i, n)) if on_progress else (lambda *a: None)
    step("read", 0, len(spec.data.datasets))
    convs = read_domain(spec, report)
    step("read", len(spec.data.datasets), len(spec.data.datasets))
    if spec.data.synth_pairs > 0:
        from finetune.data.synth import synthesize_for_spec

        synth = synthesize_for_spec(spec, report=report, on_progress=on_progress)
        if not synth:
            report.warn(f"synth: 0 of {spec.data.synth_pairs} Q/A pairs (see dropped synth: reasons)", spec.name)
        convs += synth
    convs = [with_system_prompt(c, spec.system_prompt) for c in convs]
    counter = tokenizer_counter(tokenizer)
    convs = clean_conversations(convs, report, clean_options(spec), counter, on_progress=on_progress)
    if not convs:
        raise DataFormatError(
            f"domain {spec.name!r} has no usable training conversations",
            hint="check data.datasets in domain.yaml and the report of malformed/dropped records",
        )
    train_convs, eval_convs = hold_out(convs, eval_fraction, seed)
    rng = random.Random(seed)
    weighted: list[Conversation] = []
    for name in dict.fromkeys(c.meta.get("dataset", "") for c in train_convs):
        group = [c for c in train_convs if c.meta.get("dataset", "") == name]
        weighted += apply_weight(group, float(group[0].meta.get("weight", 1.0)), rng)
    domain_windows = to_windows(weighted, tokenizer, max_length, report, on_progress, "split train")
    eval_windows = to_windows(eval_convs, tokenizer, max_length, report, on_progress, "split eval")
    general_report = DataReport()
    general_windows: list[Window] = []
    if general and spec.data.sft_general_ratio > 0:
        general_convs = load_general(spec, general_report, limit=general_limit, on_progress=on_progress)
        general_convs = clean_conversations(
            general_convs, general_report, clean_options(spec), counter, on_progress=on_progress, stage="clean general"
        )
        general_windows = to_windows(general_convs, tokenizer, max_length, general_report, on_progress, "split general")
    train, mix_stats = mix_sft(domain_windows, general_windows, spec.data.sft_general_ratio, seed)
    report.count("conversations kept", len(convs))
    report.count("train conversations", len(train_convs))
    report.count("eval conversations", len(eval_convs))
    report.count("train windows", len(train))
    report.count("eval windows", len(eval_windows))
    report.lengths = {
        "domain": [len(w) for w in domain_windows],
        "general": [len(w) for w in general_windows],
        "eval": [len(w) for w in eval_windows],
    }
    report.extra = {
        "mix": mix_stats,
        "max_length": max_length,
        "windows": window_stats(domain_windows),
        "general": general_report.to_dict() if general_windows or general_report.problems else None,
    }
    manifest = {
        "kind": "sft",
        "domain": spec.name,
        "seed": seed,
        "max_length": max_length,
        "tokenizer": getattr(tokenizer, "name_or_path", ""),
        "base_model": spec.base_model,
        "general": str(spec.data.general) if general else "none",
        "files": data_files(spec),
        "data_spec": spec.data.model_dump(mode="json"),
        "counts": {"train": len(train), "eval": len(eval_windows)},
        "output_sha256": output_hash(train, eval_windows),
    }
    out = SFTData(train, eval_windows, report.to_dict(), manifest)
    if write:
        out.paths = write_outputs(spec, "sft", report, manifest)
    return out


def write_outputs(spec: DomainSpec, kind: str, report: DataReport, manifest: dict) -> dict[str, Path]:
    folder = get_settings().domain_dir(spec.name) / "data"
    paths = report.write(folder, f"{kind}_report")
    paths["manifest"] = atomic_write_json(folder / f"{kind}_manifest.json", manifest)
    return paths


def prepare_cpt(
    spec: DomainSpec,
    tokenizer: Any,
    block_size: int | None = None,
    force: bool = False,
    seed: int = 42,
    eval_fraction: float = 0.05,
    write: bool = True,
    on_progress: Progress | None = None,
) -> CPTData:
    """Packed CPT blocks, domain share guarded (see the module docstring)."""
    block_size = block_size or spec.data.max_length
    report = DataReport()
    docs = load_domain_texts(spec, report)
    report.count("domain documents", len(docs))
    domain_blocks = pack_texts([t for _, t in docs], tokenizer, block_size, report, "domain")
    require_blocks(domain_blocks, block_size, report.counts["domain tokens"])
    rng = random.Random(seed)
    rng.shuffle(domain_blocks)
    n_eval = max(1, round(eval_fraction * len(domain_blocks))) if len(domain_blocks) >= 10 else 0
    eval_blocks, domain_blocks = domain_blocks[:n_eval], domain_blocks[n_eval:]
    texts = general_texts(spec, report, on_progress=on_progress) if str(spec.data.general) != "none" else []
    general_blocks = pack_texts(texts, tokenizer, block_size, report, "general")
    mixed, stats = mix_cpt(domain_blocks, general_blocks, spec.data.cpt_max_domain_share, force, seed)
    report.extra = {"mix": stats, "block_size": block_size}
    as_example = lambda b: {"input_ids": b, "labels": list(b)}  # noqa: E731
    train, held = [as_example(b) for b in mixed], [as_example(b) for b in eval_blocks]
    report.count("train blocks", len(train))
    report.count("eval blocks", len(held))
    manifest = {
        "kind": "cpt",
        "domain": spec.name,
        "seed": seed,
        "block_size": block_size,
        "force": force,
        "tokenizer": getattr(tokenizer, "name_or_path", ""),
        "general": str(spec.data.general),
        "files": data_files(spec)
        + [{"name": "document", "file": s, "sha256": sha256_file(Path(s))} for s, _ in docs if Path(s).is_file()],
        "mix": stats,
        "output_sha256": output_hash(train, held),
    }
    out = CPTData(train, held, stats["domain_share"], report.to_dict(), manifest)
    if write:
        out.paths = write_outputs(spec, "cpt", report, manifest)
    return out
