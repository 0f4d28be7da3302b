"""Resume only from checkpoints that finished saving."""

from __future__ import annotations

from pathlib import Path

from finetune.train.checkpoints import last_complete_checkpoint, list_checkpoints


def _checkpoint(root: Path, step: int, state: str | None = "{}", weights: bool = True) -> Path:
    path = root / f"checkpoint-{step}"
    path.mkdir(parents=True)
    if weights:
        (path / "adapter_model.safetensors").write_bytes(b"x")
    if state is not None:
        (path / "trainer_state.json").write_text(state)
    return path


def test_latest_complete_checkpoint_wins_and_partial_ones_are_skipped(tmp_path: Path) -> None:
    _checkpoint(tmp_path, 5)
    good = _checkpoint(tmp_path, 10)
    _checkpoint(tmp_path, 15, state=None)  # killed before trainer_state.json was written
    _checkpoint(tmp_path, 20, state='{"global_st')  # killed while writing it
    _checkpoint(tmp_path, 25, weights=False)
    (tmp_path / "checkpoint-tmp").mkdir()
    assert [p.name for p in list_checkpoints(tmp_path)][-1] == "checkpoint-25"
    assert last_complete_checkpoint(tmp_path) == good


def test_no_checkpoints(tmp_path: Path) -> None:
    assert last_complete_checkpoint(tmp_path / "missing") is None
    _checkpoint(tmp_path, 3, state=None)
    assert last_complete_checkpoint(tmp_path) is None
