"""Continued-pretraining corpus: raw documents → cleaned text → token blocks, mixed with general text.

Domain text comes from the knowledge sources (``spec.knowledge.sources``, parsed with the knowledge
package's loaders when it is importable, so PDF/DOCX/HTML work; otherwise .txt/.md are read as
text) plus any ``format: text`` datasets. Each document is normalised, tokenised, ended with EOS,
concatenated and cut into ``block_size`` blocks (the tail shorter than a block is dropped and
counted). General text is packed the same way and mixed so the domain share of tokens stays at or
below ``spec.data.cpt_max_domain_share`` (DataPolicyError otherwise, unless ``force``).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from finetune.data.clean import normalize_text
from finetune.data.formats import read_dataset
from finetune.data.report import DataReport
from vertical.core.errors import DataFormatError
from vertical.core.spec import DomainSpec

PLAIN_SUFFIXES = {".txt", ".md", ".markdown", ".text"}


def _iter_files(paths: list[Path]) -> list[Path]:
    files: list[Path] = []
    for p in paths:
        if p.is_dir():
            files += sorted(f for f in p.rglob("*") if f.is_file() and not f.name.startswith("."))
        elif p.is_file():
            files.append(p)
    return files


def load_domain_texts(spec: DomainSpec, report: DataReport | None = None) -> list[tuple[str, str]]:
    """``(source, text)`` for every knowledge source file and ``format: text`` dataset record."""
    from knowledge.loaders import SkipFile, is_supported, load_file

    report = report or DataReport()
    docs: list[tuple[str, str]] = []
    from knowledge.sources import document_roots

    for f in _iter_files(document_roots(spec)):
        try:
            if is_supported(f):
                text = load_file(f, spec.knowledge).text
            elif f.suffix.lower() in PLAIN_SUFFIXES:
                text = f.read_text(encoding="utf-8", errors="replace")
            else:
                report.drop(f"unsupported document type {f.suffix}", None)
                continue
        except Exception as exc:  # a bad file never stops the corpus: counted with its reason
            if isinstance(exc, SkipFile):
                report.warn(f"document skipped: {exc.reason}", str(f))
                continue
            raise
        docs.append((str(f), text))
    for ds in spec.data.datasets:
        if ds.format == "text":
            convs, problems = read_dataset(spec, ds)
            report.add_problems(problems)
            docs += [(c.source, c.turns[0].content) for c in convs]
    return docs


def pack_texts(
    texts: list[str], tokenizer: Any, block_size: int, report: DataReport | None = None, name: str = "domain"
) -> list[list[int]]:
    """Normalise, tokenise (EOS after each document), concatenate and cut into full blocks."""
    report = report or DataReport()
    stream: list[int] = []
    eos = tokenizer.eos_token_id
    for text in texts:
        text = normalize_text(text)
        if not text:
            report.drop(f"{name} document empty after cleaning")
            continue
        ids = tokenizer(text, add_special_tokens=False)["input_ids"]
        stream += ids + ([eos] if eos is not None else [])
    n_blocks = len(stream) // block_size
    report.count(f"{name} tokens", len(stream))
    report.count(f"{name} tokens dropped (last partial block)", len(stream) - n_blocks * block_size)
    return [stream[i * block_size : (i + 1) * block_size] for i in range(n_blocks)]


def require_blocks(blocks: list, block_size: int, tokens: int) -> None:
    if not blocks:
        raise DataFormatError(
            f"the domain corpus has {tokens} tokens, less than one block of {block_size}",
            hint="add documents to the knowledge sources or lower the block size (data.max_length)",
        )
