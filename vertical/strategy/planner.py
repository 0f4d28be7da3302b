"""`vertical plan`: profile a domain's assets and this machine, then apply the rule table.

Profiling is cheap on purpose (file sizes, line counts, token counts, mtimes) so planning a domain
with thousands of documents takes seconds. Tokens are counted with the domain's own tokenizer (the
base model's, when it is on this machine) on up to ``EXACT_SAMPLE_CHARS`` of text spread over all
files; the rest is the shared text module's calibrated estimate, scaled by the exact/estimate ratio
of that sample. Counting words would be wrong by 30x for Chinese (1,887 characters: 104 "words",
3,285 SmolLM2 tokens). The rules themselves live in :mod:`vertical.strategy.rules`.
"""

from __future__ import annotations

import json
import os
import re
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

from vertical.core.spec import DomainSpec
from vertical.core.text import count_tokens, estimate_tokens
from vertical.strategy.rules import Decision, FiredRule, Profile, decide

TEXT_SUFFIXES = {".md", ".txt", ".rst", ".html", ".htm", ".json", ".jsonl", ".csv", ".yaml", ".yml"}
BINARY_DOC_SUFFIXES = {".pdf", ".docx", ".xlsx", ".epub"}
EXACT_SAMPLE_CHARS = 100_000  # characters tokenized exactly per plan (~0.4 s on 2 busy cores)
MIN_FILE_SAMPLE_CHARS = 200
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
    last_build: dict[str, Any] | None = None  # what the last build measured (manifest): candidates, verdict

    def to_dict(self) -> dict:
        return {
            "strategy": self.strategy,
            "candidates": self.candidates,
            "reasons": self.reasons,
            "fired": [f.__dict__ for f in self.fired],
            "profile": self.profile.fields(),
            "warnings": self.warnings,
            "last_build": self.last_build,
        }


def _doc_files(spec: DomainSpec) -> list[Path]:
    from knowledge.sources import document_roots

    files: list[Path] = []
    for root in document_roots(spec):
        if root.is_file():
            files.append(root)
        elif root.is_dir():
            files.extend(p for p in sorted(root.rglob("*")) if p.is_file() and not p.name.startswith("."))
    return [p for p in files if p.suffix.lower() in TEXT_SUFFIXES | BINARY_DOC_SUFFIXES]


def _domain_tokenizer(spec: DomainSpec) -> Any | None:
    """The base model's fast tokenizer (``tokenizer.json``) when it is on this machine, else None (estimate only).

    Loaded with ``tokenizers`` directly: 0.1 s, where importing transformers for AutoTokenizer costs 5-7 s.
    """
    from vertical.core.errors import VerticalError
    from vertical.core.provisioning import resolve_model

    try:
        path = Path(resolve_model(spec.base_model)) / "tokenizer.json"
    except VerticalError:
        return None
    if not path.is_file():
        return None
    from tokenizers import Tokenizer

    try:
        return Tokenizer.from_file(str(path))
    except Exception:  # noqa: BLE001 - an unreadable tokenizer file only costs exactness
        return None


class TokenCounter:
    """Exact counts on a bounded sample, the calibrated estimate (scaled by the sample) for the rest."""

    def __init__(self, tokenizer: Any | None, n_files: int, sample_chars: int = EXACT_SAMPLE_CHARS) -> None:
        self.tokenizer = tokenizer
        self.per_file = max(MIN_FILE_SAMPLE_CHARS, sample_chars // max(1, n_files))
        self.exact = 0  # tokens of files counted whole
        self.estimated = 0  # estimate for the files (or parts) not counted exactly
        self.sample_exact = 0
        self.sample_estimate = 0

    def add(self, text: str) -> None:
        if self.tokenizer is None:
            self.estimated += estimate_tokens(text)
            return
        if len(text) <= self.per_file:
            self.exact += count_tokens(text, self.tokenizer)
            return
        head = text[: self.per_file]
        self.sample_exact += count_tokens(head, self.tokenizer)
        self.sample_estimate += estimate_tokens(head)
        self.estimated += estimate_tokens(text)

    def add_tokens(self, tokens: int) -> None:
        self.exact += tokens

    def total(self) -> int:
        ratio = self.sample_exact / self.sample_estimate if self.sample_estimate else 1.0
        return self.exact + round(self.estimated * ratio)


def _file_text(path: Path) -> str | None:
    """Text of a text document (tags stripped from HTML); None for pdf/docx."""
    if path.suffix.lower() in BINARY_DOC_SUFFIXES:
        return None
    text = path.read_text(encoding="utf-8", errors="replace")
    if path.suffix.lower() in {".html", ".htm"}:
        text = _TAG.sub(" ", text)
    return text


def count_file_tokens(paths: list[Path], tokenizer: Any | None) -> int:
    """Tokens in ``paths``; pdf/docx are estimated from their size (parsing them would make plan slow)."""
    counter = TokenCounter(tokenizer, len(paths))
    for path in paths:
        text = _file_text(path)
        if text is None:
            counter.add_tokens(int(path.stat().st_size / BINARY_BYTES_PER_TOKEN))
        else:
            counter.add(text)
    return counter.total()


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


def _count_answers(spec: DomainSpec, dataset: Any, records: int) -> int:
    """Assistant answers in a dataset: what SFT learns from (a long session is many examples, not one).
    Falls back to one per record when the file cannot be parsed (``data inspect`` reports why)."""
    from finetune.data.formats import read_dataset
    from vertical.core.errors import VerticalError

    try:
        conversations, _ = read_dataset(spec, dataset)
    except VerticalError:
        return records
    return sum(1 for c in conversations for t in c.turns if t.role == "assistant")


def _gpu() -> tuple[bool, str, float]:
    try:
        import torch
    except ImportError:  # pragma: no cover - torch is a dependency
        return False, "", 0.0
    if not torch.cuda.is_available():
        return False, "", 0.0
    props = torch.cuda.get_device_properties(0)
    return True, props.name, round(props.total_memory / 2**30, 1)


def _embedder_warnings(spec: DomainSpec) -> list[str]:
    """Warn when the embedder cannot read the documents' language (share of [UNK] tokens)."""
    from knowledge.coverage import for_domain
    from vertical.core.errors import VerticalError

    try:
        coverage = for_domain(spec)
    except (VerticalError, OSError):  # embedder not provisioned, unreadable docs: other checks report those
        return []
    warning = coverage.warning() if coverage is not None else None
    return [warning] if warning else []


def profile_domain(spec: DomainSpec, time_budget_min: float | None = None) -> tuple[Profile, list[str]]:
    """Measure the domain's assets; returns the profile and warnings (e.g. a missing data file)."""
    from vertical.strategy.steps.history import kb_syncs_since

    warnings: list[str] = []
    docs = _doc_files(spec)
    if docs:
        warnings.extend(_embedder_warnings(spec))
    tokenizer = _domain_tokenizer(spec)
    doc_tokens = count_file_tokens(docs, tokenizer)
    conversations = pairs = answers = 0
    text_files: list[Path] = []
    for ds in spec.data.datasets:
        if ds.split != "train":
            continue
        path = spec.path(ds.file)
        if not path.is_file():
            warnings.append(f"dataset {ds.name!r}: {path} does not exist")
            continue
        if ds.format == "text":
            text_files.append(path)
            continue
        try:
            records = _count_records(path)
        except (OSError, ValueError) as exc:
            warnings.append(f"dataset {ds.name!r}: cannot read {path}: {exc}")
            continue
        if ds.ranking:
            pairs += records
        else:
            conversations += records
            answers += _count_answers(spec, ds, records)
            if ds.format == "alpaca" and spec.training.preference.references:
                pairs += records  # each reference answer over the base model's own answer is a pair
    text_tokens = count_file_tokens(text_files, tokenizer) if text_files else 0
    eval_questions = 0
    if spec.eval.file is not None and spec.path(spec.eval.file).is_file():
        eval_questions = _count_records(spec.path(spec.eval.file))
    if spec.training.preference.feedback:
        from finetune.data.feedback import store_for, training_rows

        # corrections become pairs; once the review queue is in use, only those accepted as preference data
        rows = training_rows(store_for().list(spec.name), "preference")
        pairs += sum(1 for r in rows if r.correction)
    gpu, gpu_name, gpu_mem = _gpu()
    profile = Profile(
        documents=len(docs),
        doc_tokens=doc_tokens,
        conversations=conversations,
        answers=answers,
        raw_corpus_tokens=doc_tokens + text_tokens,
        doc_change_days_30=_change_days(docs),
        kb_syncs_30=kb_syncs_since(spec.name),
        eval_questions=eval_questions,
        preference_pairs=pairs,
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
    result = plan_from_profile(profile, warnings)
    result.last_build = last_build(spec)
    return result


def last_build(spec: DomainSpec) -> dict[str, Any] | None:
    """The built strategy, every evaluated candidate with its 95% interval, and auto's verdict (if built)."""
    from vertical.core.manifest import try_load_manifest

    manifest = try_load_manifest(spec.name)
    if manifest is None:
        return None
    scores = manifest.eval.get("scores") or {}
    return {
        "strategy": manifest.strategy,
        "built_at": manifest.created_at,
        "composite": scores.get("composite"),
        "interval": (manifest.eval.get("intervals") or {}).get("composite"),
        "candidates": [{k: c.get(k) for k in ("strategy", "composite", "interval")} for c in manifest.candidates],
        "verdict": manifest.verdict or None,
    }
