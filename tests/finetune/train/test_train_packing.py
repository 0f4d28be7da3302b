"""Packing keeps every window whole, wastes little padding and never mixes windows' attention."""

from __future__ import annotations

import pytest

from finetune.train.packing import IGNORE_INDEX, PackedCollator, Window, pack_windows, unpacked_rows
from vertical.core.errors import TrainingError


def _windows(lengths: list[int]) -> list[Window]:
    out = []
    for n, length in enumerate(lengths):
        ids = [1000 + n] * length
        out.append(Window(ids, [IGNORE_INDEX] * (length // 2) + ids[length // 2 :]))
    return out


def test_rows_hold_whole_windows_within_max_length() -> None:
    windows = _windows([90, 60, 40, 30, 20, 10, 70])
    rows = pack_windows(windows, max_length=100)
    assert all(len(r["input_ids"]) <= 100 for r in rows)
    assert sum(len(r["input_ids"]) for r in rows) == sum(len(w) for w in windows)
    assert len(rows) == 4  # 320 tokens in rows of 100: first-fit-decreasing needs only 4
    for row in rows:
        starts = [i for i, p in enumerate(row["position_ids"]) if p == 0]
        for s in starts:  # every window restarts its positions and its first token is never a target
            assert row["labels"][s] == IGNORE_INDEX
            token = row["input_ids"][s]
            length = next(len(w) for w in windows if w.input_ids[0] == token)
            assert row["input_ids"][s : s + length] == [token] * length


def test_collator_counts_padding() -> None:
    rows = unpacked_rows(_windows([10, 4]))
    batch = PackedCollator(pad_token_id=0)(rows)
    assert batch["input_ids"].shape == (2, 10)
    assert int(batch["real_tokens"]) == 14
    assert batch["labels"][1, 4:].eq(IGNORE_INDEX).all()
    assert batch["position_ids"][1].tolist() == [0, 1, 2, 3, 0, 1, 2, 3, 4, 5]


def test_window_longer_than_max_length_is_an_error_not_a_silent_cut() -> None:
    with pytest.raises(TrainingError, match="longer than max_length=50") as exc:
        pack_windows(_windows([20, 60]), max_length=50)
    assert "prepare_sft" in exc.value.hint


@pytest.mark.slow
def test_packed_loss_equals_the_sum_of_separate_losses(counseling_dir, generator_name) -> None:
    """No cross-contamination: the packed row's loss is exactly the loss of each window alone."""
    import torch
    from torch.nn.functional import cross_entropy
    from train_helpers import counseling_data

    from vertical.core.loaders import load_generator, load_tokenizer
    from vertical.core.spec import load_domain

    spec = load_domain(counseling_dir)
    tokenizer = load_tokenizer(generator_name)
    model = load_generator(generator_name)
    windows = counseling_data(spec, tokenizer, 128, 3, 0).train
    collate = PackedCollator(tokenizer.pad_token_id)

    def summed_loss(rows) -> float:
        batch = collate(rows)
        batch.pop("real_tokens")
        with torch.no_grad():
            logits = model(**batch, use_cache=False).logits
        return sum(
            float(cross_entropy(lg[:-1], lab[1:], ignore_index=IGNORE_INDEX, reduction="sum"))
            for lg, lab in zip(logits, batch["labels"])
        )

    packed = pack_windows(windows, max_length=3 * 128)
    assert len(packed) == 1
    separate = sum(summed_loss([row]) for row in unpacked_rows(windows))
    assert summed_loss(packed) == pytest.approx(separate, rel=1e-4)
