"""Turn stored feedback into training data LLaMA-Factory reads directly.

- SFT (ShareGPT, ``from``/``value``): each corrected answer becomes ``history + question → correction``;
  with ``include_liked`` thumbs-up answers are added as they were.
- Preference (ShareGPT ranking): ``{"conversations": [...], "chosen": {...}, "rejected": {...}}`` from
  (a) a correction (chosen) over the original answer (rejected), and (b) a thumbs-up answer over a
  thumbs-down answer to the same question.
Once anyone has reviewed a row (``POST /v1/domains/{d}/feedback/{id}/review``), thumbs-down and corrected
rows count only when accepted for that file's target (:func:`finetune.data.feedback.training_rows`).
A ``dataset_info.json`` beside the files registers both for LLaMA-Factory. Files are written atomically.
The shapes match finetune.data.formats (ShareGPT defaults); this module writes plain JSONL so the UI
reads the store directly.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

from finetune.data.feedback import Feedback, FeedbackStore, training_rows
from vertical.core.fsutil import atomic_write_json, atomic_write_text

ROLE_TAGS = {"user": "human", "assistant": "gpt", "system": "system"}
SFT_FILE, PREF_FILE = "feedback_sft.jsonl", "feedback_preference.jsonl"


@dataclass
class ExportSummary:
    domain: str
    out_dir: Path
    rows: int = 0
    sft: int = 0
    preference: int = 0
    skipped: dict[str, int] = field(default_factory=dict)  # reason -> count
    files: list[Path] = field(default_factory=list)

    def skip(self, reason: str) -> None:
        self.skipped[reason] = self.skipped.get(reason, 0) + 1


def _prompt_turns(row: Feedback, system: str | None) -> tuple[list[dict], str | None]:
    """The turns up to and including the question, plus the system prompt (ShareGPT keeps it apart)."""
    turns = []
    for msg in row.history:
        role = msg.get("role")
        if role == "system":
            system = system or msg.get("content")
        elif role in ROLE_TAGS and msg.get("content"):
            turns.append({"from": ROLE_TAGS[role], "value": msg["content"]})
    turns.append({"from": "human", "value": row.question})
    return turns, system


def _with_system(record: dict, system: str | None) -> dict:
    return {**record, "system": system} if system else record


def sft_records(rows: list[Feedback], summary: ExportSummary, include_liked: bool, system: str | None) -> list[dict]:
    out, seen = [], set()
    for row in rows:
        target = row.correction or (row.answer if include_liked and row.rating > 0 else None)
        if not target:
            summary.skip("no correction" if row.rating <= 0 else "thumbs-up only (use --include-liked)")
            continue
        turns, sys_prompt = _prompt_turns(row, system)
        key = json.dumps([turns, target])
        if key in seen:
            summary.skip("duplicate")
            continue
        seen.add(key)
        out.append(_with_system({"conversations": turns + [{"from": "gpt", "value": target}]}, sys_prompt))
    return out


def preference_records(rows: list[Feedback], system: str | None) -> list[dict]:
    out, seen = [], set()

    def add(row: Feedback, chosen: str, rejected: str) -> None:
        turns, sys_prompt = _prompt_turns(row, system)
        key = json.dumps([turns, chosen, rejected])
        if chosen.strip() == rejected.strip() or key in seen:
            return
        seen.add(key)
        out.append(
            _with_system(
                {
                    "conversations": turns,
                    "chosen": {"from": "gpt", "value": chosen},
                    "rejected": {"from": "gpt", "value": rejected},
                },
                sys_prompt,
            )
        )

    for row in rows:
        if row.correction:
            add(row, row.correction, row.answer)
    liked: dict[str, list[Feedback]] = {}
    for row in rows:
        if row.rating > 0:
            liked.setdefault(row.question.strip().lower(), []).append(row)
    for row in rows:
        if row.rating < 0:
            for good in liked.get(row.question.strip().lower(), []):
                if good.history == row.history:
                    add(row, good.answer, row.answer)
    return out


def _jsonl(records: list[dict]) -> str:
    return "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in records)


def export_feedback(
    domain: str,
    out_dir: Path,
    store: FeedbackStore | None = None,
    include_liked: bool = False,
    system: str | None = None,
) -> ExportSummary:
    """Write ``feedback_sft.jsonl``, ``feedback_preference.jsonl`` and ``dataset_info.json`` into out_dir."""
    store = store or FeedbackStore()
    rows = store.list(domain)
    summary = ExportSummary(domain=domain, out_dir=out_dir, rows=len(rows))
    sft_rows, pref_rows = training_rows(rows, "sft"), training_rows(rows, "preference")
    if len(sft_rows) < len(rows):  # the review queue is in use: only what a reviewer accepted for SFT
        summary.skipped["not accepted for sft in review"] = len(rows) - len(sft_rows)
    sft = sft_records(sft_rows, summary, include_liked, system)
    pref = preference_records(pref_rows, system)
    summary.sft, summary.preference = len(sft), len(pref)
    out_dir = Path(out_dir)
    summary.files = [
        atomic_write_text(out_dir / SFT_FILE, _jsonl(sft)),
        atomic_write_text(out_dir / PREF_FILE, _jsonl(pref)),
    ]
    info = {
        f"{domain}_feedback_sft": {
            "file_name": SFT_FILE,
            "formatting": "sharegpt",
            "columns": {"messages": "conversations", "system": "system"},
        },
        f"{domain}_feedback_preference": {
            "file_name": PREF_FILE,
            "formatting": "sharegpt",
            "ranking": True,
            "columns": {"messages": "conversations", "chosen": "chosen", "rejected": "rejected", "system": "system"},
        },
    }
    summary.files.append(atomic_write_json(out_dir / "dataset_info.json", info))
    return summary
