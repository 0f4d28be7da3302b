"""Cleaning: normalisation, PII scrubbing, exact and near dedupe, length filters.

Each step returns the kept conversations and records what it dropped in a :class:`DataReport`
(``dropped[reason]``), so nothing disappears without being counted.

- Normalisation is ``vertical.core.text.normalize`` (full-width letters/digits → ASCII, whitespace),
  plus dropping invisible control/format characters. Not NFKC: that would rewrite every full-width
  ，？！：； of Chinese text to ASCII punctuation the model would then learn to write.
- PII: ``vertical.core.pii.scrub_all`` per conversation; counts per type (``pii: phone`` …).
- Near-dedupe: datasketch MinHash LSH over ``vertical.core.text.shingles`` of the whole conversation
  (character 3-grams for CJK text, word 3-grams otherwise). LSH only proposes candidates, at a lower
  threshold; a candidate is dropped when the exact shingle Jaccard similarity reaches ``threshold``.
  So the threshold means what it says (a one-word edit of a Chinese answer, Jaccard 0.875, is a
  near-duplicate at 0.85) instead of depending on MinHash's estimate.
"""

from __future__ import annotations

import hashlib
import json
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass, replace

from finetune.data.report import DataReport
from finetune.data.types import Conversation, Turn
from vertical.core.pii import PII_TYPES, scrub_all
from vertical.core.text import count_tokens, normalize, shingles

# LSH candidates are looked up at this share of the threshold, then verified exactly.
CANDIDATE_SHARE = 0.7


@dataclass
class CleanOptions:
    dedupe_threshold: float = 0.85
    scrub_pii: bool = False
    pii_types: tuple[str, ...] = PII_TYPES
    min_tokens: int = 2  # per assistant turn: shorter answers carry no signal
    max_tokens: int | None = None  # whole conversation; None: long ones are split into windows instead
    num_perm: int = 128


def normalize_text(text: str) -> str:
    """Shared normalisation (keeps CJK punctuation) without invisible control/format characters."""
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    text = "".join(ch for ch in text if ch in "\n\t" or unicodedata.category(ch) not in ("Cc", "Cf"))
    return normalize(text)


def scrub_pii(text: str, lang: str | None = None) -> tuple[str, int]:
    """Placeholders for PII in one text; returns (text, replacements). See ``vertical.core.pii``."""
    (new,), counts = scrub_all([text], lang)
    return new, sum(counts.values())


def _map_turns(conv: Conversation, fn: Callable[[str], str]) -> Conversation:
    return replace(conv, turns=[Turn(t.role, fn(t.content), t.tool_call) for t in conv.turns])


def content_key(conv: Conversation) -> str:
    """Exact-duplicate key: the normalised, case-folded turns (not the file name or id)."""
    payload = json.dumps([(t.role, t.content.casefold()) for t in conv.turns], ensure_ascii=False)
    return hashlib.sha256(payload.encode("utf-8")).hexdigest()


def conversation_shingles(conv: Conversation) -> set[str]:
    return shingles("\n".join(t.content for t in conv.turns).casefold())


def jaccard(a: set[str], b: set[str]) -> float:
    return len(a & b) / len(a | b) if a or b else 1.0


def exact_dedupe(convs: list[Conversation], report: DataReport) -> list[Conversation]:
    seen: set[str] = set()
    kept = []
    for conv in convs:
        key = content_key(conv)
        if key in seen:
            report.drop("exact duplicate", conv)
            continue
        seen.add(key)
        kept.append(conv)
    return kept


def near_dedupe(
    convs: list[Conversation], report: DataReport, threshold: float, num_perm: int = 128
) -> list[Conversation]:
    """Keep the first of each group whose shingle Jaccard similarity reaches ``threshold``."""
    from datasketch import MinHash, MinHashLSH

    lsh = MinHashLSH(threshold=max(0.05, threshold * CANDIDATE_SHARE), num_perm=num_perm)
    kept: list[Conversation] = []
    kept_shingles: dict[str, set[str]] = {}
    for i, conv in enumerate(convs):
        grams = conversation_shingles(conv)
        mh = MinHash(num_perm=num_perm, seed=1)
        mh.update_batch([g.encode("utf-8") for g in grams])
        if any(jaccard(grams, kept_shingles[key]) >= threshold for key in lsh.query(mh)):
            report.drop("near duplicate", conv)
            continue
        lsh.insert(str(i), mh)
        kept_shingles[str(i)] = grams
        kept.append(conv)
    return kept


def length_filter(
    convs: list[Conversation], report: DataReport, count_tokens: Callable[[str], int], opts: CleanOptions
) -> list[Conversation]:
    kept = []
    for conv in convs:
        is_text = bool(conv.meta.get("text"))
        answers = conv.turns if is_text else conv.assistant_turns
        if any(count_tokens(t.content) < opts.min_tokens for t in answers):
            report.drop(f"shorter than {opts.min_tokens} tokens", conv)
            continue
        if opts.max_tokens and sum(count_tokens(t.content) for t in conv.turns) > opts.max_tokens:
            report.drop(f"longer than {opts.max_tokens} tokens", conv)
            continue
        kept.append(conv)
    return kept


def clean_conversations(
    convs: list[Conversation],
    report: DataReport,
    opts: CleanOptions,
    count_tokens: Callable[[str], int] | None = None,
    on_progress: Callable[[str, int, int], None] | None = None,
    stage: str = "clean",
) -> list[Conversation]:
    """Normalise → (scrub PII) → drop emptied → exact dedupe → near dedupe → length filter."""
    count_tokens = count_tokens or _estimated_tokens
    step = on_progress or (lambda name, done, total: None)
    step(stage, 0, len(convs))
    out = [_map_turns(c, normalize_text) for c in convs]
    if opts.scrub_pii:
        scrubbed = []
        for i, conv in enumerate(out, 1):
            if i % 50 == 0:
                step(f"{stage} (PII)", i, len(out))
            texts, counts = scrub_all([t.content for t in conv.turns], types=opts.pii_types)
            turns = [Turn(t.role, text, t.tool_call) for t, text in zip(conv.turns, texts)]
            scrubbed.append(replace(conv, turns=turns))
            for kind, n in counts.items():
                report.count(f"pii: {kind}", n)
            report.count("pii replaced", sum(counts.values()))
        out = scrubbed
    kept = []
    for conv in out:
        if any(not t.content for t in conv.turns):
            report.drop("empty after cleaning", conv)
        else:
            kept.append(conv)
    kept = exact_dedupe(kept, report)
    kept = near_dedupe(kept, report, opts.dedupe_threshold, opts.num_perm)
    kept = length_filter(kept, report, count_tokens, opts)
    step(stage, len(convs), len(convs))
    return kept


def _estimated_tokens(text: str) -> int:
    return count_tokens(text)  # calibrated estimate (CJK ≈ chars) when no tokenizer is given


def tokenizer_counter(tokenizer) -> Callable[[str], int]:
    return lambda text: count_tokens(text, tokenizer)
