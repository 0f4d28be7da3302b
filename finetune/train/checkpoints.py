"""Find the last checkpoint that finished saving.

The Trainer writes ``trainer_state.json`` after the weights, optimizer and RNG state, so a folder
without a readable one was interrupted mid-save and must not be resumed from.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

_CHECKPOINT = re.compile(r"^checkpoint-(\d+)$")


def is_complete(checkpoint: Path) -> bool:
    state = checkpoint / "trainer_state.json"
    try:
        json.loads(state.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return False
    # plain / peft weights, or DeepSpeed's own global_step* folder
    return (
        any(checkpoint.glob("*.safetensors")) or any(checkpoint.glob("*.bin")) or any(checkpoint.glob("global_step*"))
    )


def list_checkpoints(directory: Path) -> list[Path]:
    """Checkpoint folders sorted by step (complete or not)."""
    if not directory.is_dir():
        return []
    found = [(int(m.group(1)), p) for p in directory.iterdir() if p.is_dir() and (m := _CHECKPOINT.match(p.name))]
    return [p for _, p in sorted(found)]


def last_complete_checkpoint(directory: Path) -> Path | None:
    for checkpoint in reversed(list_checkpoints(directory)):
        if is_complete(checkpoint):
            return checkpoint
    return None
