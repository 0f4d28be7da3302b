"""`vertical plan`: profile a domain's assets and this machine, then apply the rule table.

Profiling is cheap on purpose (file sizes, line counts, a word-based token estimate, mtimes) so
planning a domain with thousands of documents takes seconds. The rules themselves live in
:mod:`vertical.strategy.rules`.
"""

from __future__ import annotations

import json
import os
import re
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from pathlib import Path

from vertical.strategy.rules import Decision, FiredRule, Profile, decide
from vertical.core.spec import DomainSpec

TEXT_SUFFIXES = {".md", ".txt", ".rst", ".html", ".htm", ".json", ".jsonl", ".csv"}
BINARY_DOC_SUFFIXES = {".pdf", ".docx"}
TOKENS_PER_WORD = 1.3  # BPE tokenizers average ~1.3 tokens per English word
BINARY_BYTES_PER_TOKEN = 16.0  # pdf/docx carry layout and compression overhead; a rough, cheap estimate
_TAG = re.compile(r"<[^>]+>")


@dataclass
class Plan:
    strategy: str
    reasons: list[str]
    profile: Profile
    candidates: list[str]
    fired: list[FiredRule] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)

    def to_dict(self) -> dict:
        return {
            "strategy": self.strategy,
            "candidates": self.candidates,
            "reasons": self.reasons,
            "fired": [f.__dict__ for f in self.fired],
            "profile": self.profile.fields(),
            "warnings": self.warnings,
        }


def estimate_tokens(text: str) -> int:
    return int(len(text.split()) * TOKENS_PER_WORD)


def _doc_files(spec: DomainSpec) -> list[Path]:
    files: list[Path] = []
    for root in spec.source_paths:
        if root.is_file():
            files.append(root)
        elif root.is_dir():
            files.extend(p for p in sorted(root.rglob("*")) if p.is_file() and not p.name.startswith("."))
    return [p for p in files if p.suffix.lower() in TEXT_SUFFIXES | BINARY_DOC_SUFFIXES]


def _file_tokens(path: Path) -> int:
    if path.suffix.lower() in BINARY_DOC_SUFFIXES:
        return int(path.stat().st_size / BINARY_BYTES_PER_TOKEN)
    text = path.read_text(encoding="utf-8", errors="replace")
    if path.suffix.lower() in {".html", ".htm"}:
        text = _TAG.sub(" ", text)
    return estimate_tokens(text)


def _change_days(files: list[Path], days: int = 30) -> int:
    """Distinct calendar days (UTC) on which any document was modified within the last ``days``."""
    cutoff = datetime.now(timezone.utc) - timedelta(days=days)
    stamps = {datetime.fromtimestamp(p.stat().st_mtime, timezone.utc) for p in files}
    return len({s.date() for s in stamps if s >= cutoff})


def _count_records(path: Path) -> int:
    if path.suffix.lower() == ".json":
        data = json.loads(path.read_text(encoding="utf-8"))
        return len(data) if isinstance(data, list) else 1
    with path.open(encoding="utf-8", errors="replace") as fh:
        return sum(1 for line in fh if line.strip())


def _gpu() -> tuple[bool, str, float]:
    try:
        import torch
    except ImportError:  # pragma: no cover - torch is a dependency
        return False, "", 0.0
    if not torch.cuda.is_available():
        return False, "", 0.0
    props = torch.cuda.get_device_properties(0)
    return True, props.name, round(props.total_memory / 2**30, 1)


def profile_domain(spec: DomainSpec, time_budget_min: float | None = None) -> tuple[Profile, list[str]]:
    """Measure the domain's assets; returns the profile and warnings (e.g. a missing data file)."""
    from vertical.strategy.steps.history import kb_syncs_since

    warnings: list[str] = []
    docs = _doc_files(spec)
    doc_tokens = sum(_file_tokens(p) for p in docs)
    conversations = 0
    text_tokens = 0
    for ds in spec.data.datasets:
        if ds.split != "train":
            continue
        path = spec.path(ds.file)
        if not path.is_file():
            warnings.append(f"dataset {ds.name!r}: {path} does not exist")
            continue
        if ds.format == "text":
            text_tokens += _file_tokens(path)
        else:
            try:
                conversations += _count_records(path)
            except (OSError, ValueError) as exc:
                warnings.append(f"dataset {ds.name!r}: cannot read {path}: {exc}")
    eval_questions = 0
    if spec.eval.file is not None and spec.path(spec.eval.file).is_file():
        eval_questions = _count_records(spec.path(spec.eval.file))
    gpu, gpu_name, gpu_mem = _gpu()
    profile = Profile(
        documents=len(docs),
        doc_tokens=doc_tokens,
        conversations=conversations,
        raw_corpus_tokens=doc_tokens + text_tokens,
        doc_change_days_30=_change_days(docs),
        kb_syncs_30=kb_syncs_since(spec.name),
        eval_questions=eval_questions,
        gpu=gpu,
        gpu_name=gpu_name,
        gpu_mem_gb=gpu_mem,
        cpu_cores=os.cpu_count() or 1,
        time_budget_min=time_budget_min,
    )
    return profile, warnings


def plan_from_profile(profile: Profile, warnings: list[str] | None = None) -> Plan:
    decision: Decision = decide(profile)
    reasons = [f"{f.name}: {f.explanation}" for f in decision.fired]
    return Plan(decision.strategy, reasons, profile, decision.candidates, decision.fired, warnings or [])


def plan(spec: DomainSpec, time_budget_min: float | None = None) -> Plan:
    """Profile the domain and recommend a strategy plus the candidate set ``auto`` builds."""
    profile, warnings = profile_domain(spec, time_budget_min)
    return plan_from_profile(profile, warnings)
