"""How well the embedder reads the KB's language: its unknown-token rate, and the dense weight that follows.

A WordPiece embedder such as all-MiniLM-L6-v2 maps most Chinese characters to ``[UNK]`` (61% of the
xinli KB's tokens): its vectors then mostly encode length and punctuation, and off-topic questions
score cosine 0.5-0.7 against every chunk. Measured on xinli (11 questions), hit@3 was 8/11 with
the dense arm at weight 1.0, 0.5 or 0.33, and 10/11 with it off: a poorly read language needs the
dense arm off, not merely damped. The rule below ramps the weight linearly from full at 10% unknown
tokens to zero at 40%. Byte-level BPE and SentencePiece tokenizers rarely emit an unknown token, so
their rate stays near 0 and nothing changes.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from vertical.core.errors import VerticalError

if TYPE_CHECKING:
    from vertical.core.spec import DomainSpec

UNK_OK = 0.10  # at or below: dense weight unchanged
UNK_OFF = 0.40  # at or above: dense arm off
SAMPLE_CHUNKS = 2000  # coverage is measured on at most this many chunks (evenly spaced)
EMBEDDER_FIX = (
    "set `embedder:` in domain.yaml to a sentence-transformers folder that reads this language, "
    "e.g. a Chinese or multilingual model (bge-small-zh-v1.5, paraphrase-multilingual-MiniLM-L12-v2)"
)


@dataclass(frozen=True)
class EmbedderCoverage:
    embedder: str
    unk_rate: float  # share of the embedder tokenizer's tokens that are its unknown token
    tokens: int
    unknown: int
    chunks: int  # chunks measured

    @property
    def poor(self) -> bool:
        return self.unk_rate > UNK_OK

    def dense_factor(self) -> float:
        return dense_factor(self.unk_rate)

    def warning(self) -> str | None:
        """One line for plan/doctor/ingest reports when the embedder cannot read the text well."""
        if not self.poor:
            return None
        factor = self.dense_factor()
        effect = "dense retrieval is switched off" if factor == 0 else f"dense weight is scaled by {factor:.2f}"
        return (
            f"embedder {self.embedder!r} turns {self.unk_rate:.0%} of the knowledge base's tokens into "
            f"unknown tokens ([UNK]): {effect} and retrieval relies on BM25; fix: {EMBEDDER_FIX}"
        )

    def to_dict(self) -> dict[str, Any]:
        return {**asdict(self), "unk_rate": round(self.unk_rate, 4), "dense_factor": round(self.dense_factor(), 3)}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> EmbedderCoverage:
        return cls(
            str(data["embedder"]),
            float(data["unk_rate"]),
            int(data["tokens"]),
            int(data["unknown"]),
            int(data["chunks"]),
        )


def dense_factor(unk_rate: float) -> float:
    """Multiplier for retrieval.dense_weight: 1 at <= 10% unknown tokens, 0 at >= 40%, linear between."""
    if unk_rate <= UNK_OK:
        return 1.0
    if unk_rate >= UNK_OFF:
        return 0.0
    return (UNK_OFF - unk_rate) / (UNK_OFF - UNK_OK)


def count_unknown(tokenizer: Any, texts: list[str]) -> tuple[int, int]:
    """(unknown tokens, all tokens) of ``texts`` under ``tokenizer`` (0 unknown when it has no unknown token)."""
    unk_id = getattr(tokenizer, "unk_token_id", None)
    if not texts:
        return 0, 0
    encoded = tokenizer(texts, add_special_tokens=False, verbose=False)["input_ids"]
    total = sum(len(ids) for ids in encoded)
    if unk_id is None:
        return 0, total
    return sum(1 for ids in encoded for i in ids if i == unk_id), total


def measure(embedder: str, texts: list[str], tokenizer: Any = None) -> EmbedderCoverage:
    """Unknown-token rate of the embedder's tokenizer over ``texts`` (an even sample of at most SAMPLE_CHUNKS)."""
    if tokenizer is None:
        from vertical.core.loaders import load_tokenizer

        tokenizer = load_tokenizer(embedder)
    if len(texts) > SAMPLE_CHUNKS:
        step = len(texts) / SAMPLE_CHUNKS
        texts = [texts[int(i * step)] for i in range(SAMPLE_CHUNKS)]
    unknown, total = count_unknown(tokenizer, texts)
    return EmbedderCoverage(embedder, unknown / total if total else 0.0, total, unknown, len(texts))


def text_unk_rate(embedder: str, text: str) -> float:
    """Unknown-token rate of one text (a query): decides whether its cosine scores mean anything."""
    from vertical.core.loaders import load_tokenizer

    unknown, total = count_unknown(load_tokenizer(embedder), [text])
    return unknown / total if total else 0.0


class _FastTokenizer:
    """The embedder's ``tokenizer.json`` through ``tokenizers`` alone: 0.1 s to load, where importing
    transformers costs 5-7 s (``plan`` stays quick). Same ids as the transformers tokenizer."""

    def __init__(self, path: Path) -> None:
        from tokenizers import Tokenizer

        self._tok = Tokenizer.from_file(str(path))
        self._tok.no_truncation()  # the file carries the model's 512-token truncation: count every token
        self._tok.no_padding()
        model = json.loads(path.read_text(encoding="utf-8")).get("model", {})
        unk = model.get("unk_token")
        self.unk_token_id = self._tok.token_to_id(unk) if isinstance(unk, str) else model.get("unk_id")

    def __call__(self, texts: list[str], **_: Any) -> dict[str, list[list[int]]]:
        return {"input_ids": [e.ids for e in self._tok.encode_batch(texts, add_special_tokens=False)]}


def _light_tokenizer(embedder: str) -> Any | None:
    from vertical.core.provisioning import resolve_model

    path = Path(resolve_model(embedder)) / "tokenizer.json"
    try:
        return _FastTokenizer(path) if path.is_file() else None
    except Exception:  # noqa: BLE001 - fall back to the transformers tokenizer
        return None


def for_domain(spec: DomainSpec, max_files: int = 20, max_chars: int = 20_000) -> EmbedderCoverage | None:
    """The domain's coverage: the one measured at the last ingest when the KB is current for this
    embedder, else measured now on a sample of the documents (``plan`` before anything is built).
    Reads files only (no Chroma, no transformers import)."""
    from knowledge import retrieval_stats
    from knowledge.loaders import SkipFile, load_file
    from knowledge.record_manager import RecordStore
    from knowledge.sources import discover
    from vertical.core.settings import get_settings

    folder = get_settings().domain_dir(spec.name)
    stored = retrieval_stats.load(folder)
    if (
        stored is not None
        and stored.coverage is not None
        and stored.embedder == spec.embedder
        and stored.content_hash == RecordStore(folder / "records.sqlite").content_hash()
    ):
        return stored.coverage
    try:
        files, _ = discover(spec, None)
    except VerticalError:
        return None
    texts: list[str] = []
    for file in files[:max_files]:
        try:
            texts.append(load_file(file.path, spec.knowledge).text[:max_chars])
        except (SkipFile, OSError):
            continue
    return measure(spec.embedder, texts, _light_tokenizer(spec.embedder)) if texts else None
