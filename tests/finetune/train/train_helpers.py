"""Test-side data helpers: the counseling conversations through the data package's ``prepare_sft``.

Tests train on the conversations file only (no general-data self-replay, which would generate
with the model first) and take small slices so a run is a few seconds on CPU.
"""

from __future__ import annotations

from pathlib import Path

from finetune.train.packing import as_windows
from finetune.train.result import TrainData
from vertical.core.spec import DomainSpec


def conversations_only(spec: DomainSpec, n_conversations: int) -> DomainSpec:
    """The spec with only its conversations file, cut to the first n records (keeps tests fast)."""
    import tempfile

    from vertical.core.fsutil import atomic_write_text

    dataset = next(d for d in spec.data.datasets if d.name == "conversations")
    lines = spec.path(dataset.file).read_text(encoding="utf-8").splitlines(keepends=True)[:n_conversations]
    head = Path(tempfile.gettempdir()) / "vertical-train-tests" / f"conversations-{n_conversations}.jsonl"
    if not head.is_file() or head.read_text(encoding="utf-8") != "".join(lines):
        atomic_write_text(head, "".join(lines))
    datasets = [dataset.model_copy(update={"file": head})]
    return spec.model_copy(update={"data": spec.data.model_copy(update={"datasets": datasets, "general": "none"})})


def counseling_data(
    spec: DomainSpec, tokenizer, max_length: int, n_train: int, n_eval: int, n_conversations: int = 40
) -> TrainData:
    """prepare_sft's windows (split to max_length by the data package); the first n_train / n_eval."""
    from finetune.data.pipeline import prepare_sft

    prepared = prepare_sft(
        conversations_only(spec, n_conversations), tokenizer, max_length=max_length, general=False, write=False
    )
    assert len(prepared.train) >= n_train and len(prepared.eval) >= n_eval, (len(prepared.train), len(prepared.eval))
    return TrainData(
        train=as_windows(prepared.train[:n_train]),
        eval=as_windows(prepared.eval[:n_eval]),
        manifest={**prepared.manifest, "slice": {"train": n_train, "eval": n_eval}},
    )


def doc_blocks(tokenizer, paths: list[Path], block: int, n_blocks: int) -> list:
    """Raw document text cut into consecutive token blocks, loss on every token (CPT style)."""
    ids: list[int] = []
    for path in paths:
        ids += tokenizer(path.read_text(encoding="utf-8"))["input_ids"] + [tokenizer.eos_token_id]
    blocks = [ids[i : i + block] for i in range(0, len(ids) - block + 1, block)][:n_blocks]
    assert len(blocks) == n_blocks, f"only {len(blocks)} blocks of {block} tokens in {paths}"
    return as_windows([{"input_ids": b, "labels": list(b)} for b in blocks])
