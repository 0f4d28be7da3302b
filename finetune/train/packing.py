"""Sequence packing and its batch collator.

Packing puts several encoded windows into one row of at most ``max_length`` tokens. Every window
restarts its ``position_ids`` at 0 and no attention mask is passed, so transformers builds a
block-diagonal causal mask from the position ids (``masking_utils.find_packed_sequence_indices``):
a token never attends across a window boundary, and the first label of every window is masked so
no window is trained to predict the next one's first token.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from finetune.data.types import IGNORE_INDEX, Window
from vertical.core.errors import TrainingError

__all__ = ["IGNORE_INDEX", "PackedCollator", "Window", "as_windows", "pack_windows", "unpacked_rows"]


def as_windows(items: Sequence[Any]) -> list[Window]:
    """Accept ``Encoded`` objects, dicts or Windows; drop windows with no trained token."""
    out = []
    for item in items:
        ids = item["input_ids"] if isinstance(item, dict) else item.input_ids
        labels = item["labels"] if isinstance(item, dict) else item.labels
        if len(ids) != len(labels):
            raise TrainingError(
                f"a window has {len(ids)} input ids but {len(labels)} labels",
                hint="encode conversations with finetune.data.templates.encode_conversation",
            )
        if any(lab != IGNORE_INDEX for lab in labels):
            out.append(item if isinstance(item, Window) else Window(list(ids), list(labels)))
    return out


def _row(windows: list[Window]) -> dict[str, list[int]]:
    input_ids: list[int] = []
    labels: list[int] = []
    position_ids: list[int] = []
    for w in windows:
        input_ids += w.input_ids
        labels += [IGNORE_INDEX] + w.labels[1:]  # the first token is never a prediction target
        position_ids += list(range(len(w)))
    return {"input_ids": input_ids, "labels": labels, "position_ids": position_ids}


def pack_windows(windows: Sequence[Window], max_length: int) -> list[dict[str, list[int]]]:
    """First-fit-decreasing bin packing into rows of at most ``max_length`` tokens (deterministic)."""
    too_long = [len(w) for w in windows if len(w) > max_length]
    if too_long:
        raise TrainingError(
            f"{len(too_long)} windows are longer than max_length={max_length} (longest {max(too_long)})",
            hint="let finetune.data split long conversations (prepare_sft) or raise data.max_length",
        )
    order = sorted(range(len(windows)), key=lambda i: (-len(windows[i]), i))
    bins: list[list[Window]] = []
    space: list[int] = []
    for i in order:
        w = windows[i]
        slot = next((b for b, free in enumerate(space) if free >= len(w)), None)
        if slot is None:
            bins.append([w])
            space.append(max_length - len(w))
        else:
            bins[slot].append(w)
            space[slot] -= len(w)
    return [_row(b) for b in bins]


def unpacked_rows(windows: Sequence[Window]) -> list[dict[str, list[int]]]:
    """One window per row (used with length-grouped batching when packing is off)."""
    return [_row([w]) for w in windows]


class PackedCollator:
    """Pad rows to the longest row of the batch; padding gets its own position run and no loss."""

    def __init__(self, pad_token_id: int) -> None:
        self.pad_token_id = pad_token_id

    def __call__(self, rows: list[dict[str, list[int]]]) -> dict[str, Any]:
        import torch

        width = max(len(r["input_ids"]) for r in rows)
        batch: dict[str, list[list[int]]] = {"input_ids": [], "labels": [], "position_ids": []}
        real = 0
        for r in rows:
            pad = width - len(r["input_ids"])
            real += len(r["input_ids"])
            batch["input_ids"].append(r["input_ids"] + [self.pad_token_id] * pad)
            batch["labels"].append(r["labels"] + [IGNORE_INDEX] * pad)
            batch["position_ids"].append(r["position_ids"] + list(range(pad)))
        out: dict[str, Any] = {k: torch.tensor(v, dtype=torch.long) for k, v in batch.items()}
        out["real_tokens"] = torch.tensor(real)
        return out
