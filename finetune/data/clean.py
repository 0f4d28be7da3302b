"""Cleaning: unicode/whitespace normalisation, PII scrubbing, exact and near dedupe, length filters.

Each step returns the kept conversations and records what it dropped in a :class:`DataReport`
(``dropped[reason]``), so nothing disappears without being counted. Near-dedupe uses datasketch
MinHash LSH on word 3-gram shingles of the whole conversation (threshold = Jaccard similarity).
"""

from __future__ import annotations

import hashlib
import json
import re
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass, replace

from finetune.data.report import DataReport
from finetune.data.types import Conversation, Turn

EMAIL_RE = re.compile(r"\b[A-Za-z0-9._%+-]+@[A-Za-z0-9.-]+\.[A-Za-z]{2,}\b")
# International or local numbers with 7+ digits, allowing spaces, dots, dashes and one (area) group.
PHONE_RE = re.compile(r"(?<![\w+])(?:\+\d{1,3}[\s.-]?)?(?:\(\d{1,4}\)[\s.-]?)?\d{2,4}(?:[\s.-]?\d{2,4}){1,4}(?!\w)")
EMAIL_PLACEHOLDER, PHONE_PLACEHOLDER = "[EMAIL]", "[PHONE]"


@dataclass
class CleanOptions:
    dedupe_threshold: float = 0.85
    scrub_pii: bool = False
    min_tokens: int = 2  # per assistant turn: shorter answers carry no signal
    max_tokens: int | None = None  # whole conversation; None: long ones are split into windows instead
    num_perm: int = 128


def normalize_text(text: str) -> str:
    """NFKC (full-width, ligatures, non-breaking spaces) + tidy whitespace, keeping paragraph breaks."""
    text = unicodedata.normalize("NFKC", text).replace("\r\n", "\n").replace("\r", "\n")
    text = "".join(ch for ch in text if ch in "\n\t" or unicodedata.category(ch) not in ("Cc", "Cf"))
    lines = [re.sub(r"[ \t]+", " ", line).strip() for line in text.split("\n")]
    return re.sub(r"\n{3,}", "\n\n", "\n".join(lines)).strip()


def scrub_pii(text: str) -> tuple[str, int]:
    """Replace e-mail addresses and phone numbers with placeholders; returns (text, replacements)."""
    text, n_email = EMAIL_RE.subn(EMAIL_PLACEHOLDER, text)

    def _phone(match: re.Match) -> str:
        return PHONE_PLACEHOLDER if sum(ch.isdigit() for ch in match.group()) >= 7 else match.group()

    new, _ = PHONE_RE.subn(_phone, text)
    return new, n_email + new.count(PHONE_PLACEHOLDER) - text.count(PHONE_PLACEHOLDER)


def _map_turns(conv: Conversation, fn: Callable[[str], str]) -> Conversation:
    return replace(conv, turns=[Turn(t.role, fn(t.content), t.tool_call) for t in conv.turns])


def content_key(conv: Conversation) -> str:
    """Exact-duplicate key: the normalised, case-folded turns (not the file name or id)."""
    payload = json.dumps([(t.role, t.content.casefold()) for t in conv.turns], ensure_ascii=False)
    return hashlib.sha256(payload.encode("utf-8")).hexdigest()


def _shingles(text: str, n: int = 3) -> set[bytes]:
    words = re.findall(r"\w+", text.casefold())
    if len(words) < n:
        return {" ".join(words).encode("utf-8")}
    return {" ".join(words[i : i + n]).encode("utf-8") for i in range(len(words) - n + 1)}


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


def near_dedupe(convs: list[Conversation], report: DataReport, threshold: float, num_perm: int = 128) -> list[Conversation]:
    """Keep the first of each group whose MinHash Jaccard estimate is above ``threshold``."""
    from datasketch import MinHash, MinHashLSH

    lsh = MinHashLSH(threshold=threshold, num_perm=num_perm)
    kept = []
    for i, conv in enumerate(convs):
        mh = MinHash(num_perm=num_perm, seed=1)
        mh.update_batch(list(_shingles("\n".join(t.content for t in conv.turns))))
        if lsh.query(mh):
            report.drop("near duplicate", conv)
            continue
        lsh.insert(str(i), mh)
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
    convs: list[Conversation], report: DataReport, opts: CleanOptions, count_tokens: Callable[[str], int] | None = None
) -> list[Conversation]:
    """Normalise → (scrub PII) → drop emptied → exact dedupe → near dedupe → length filter."""
    count_tokens = count_tokens or (lambda s: len(s.split()))
    out = [_map_turns(c, normalize_text) for c in convs]
    if opts.scrub_pii:
        scrubbed = []
        for conv in out:
            total = 0

            def _scrub(text: str) -> str:
                nonlocal total
                text, n = scrub_pii(text)
                total += n
                return text

            scrubbed.append(_map_turns(conv, _scrub))
            report.count("pii replaced", total)
        out = scrubbed
    kept = []
    for conv in out:
        if any(not t.content for t in conv.turns):
            report.drop("empty after cleaning", conv)
        else:
            kept.append(conv)
    kept = exact_dedupe(kept, report)
    kept = near_dedupe(kept, report, opts.dedupe_threshold, opts.num_perm)
    return length_filter(kept, report, count_tokens, opts)


def tokenizer_counter(tokenizer) -> Callable[[str], int]:
    return lambda text: len(tokenizer(text, add_special_tokens=False)["input_ids"])
