"""Feedback store (SQLAlchemy; SQLite by default) and its export to SFT / preference JSONL, incl. the CLI."""

from __future__ import annotations

import json
import sqlite3
import threading
from pathlib import Path

import pytest
from typer.testing import CliRunner

from finetune.data.feedback import Feedback, FeedbackStore
from finetune.data.feedback_export import export_feedback
from vertical.core.errors import DataFormatError, SpecError


def _rows(store: FeedbackStore) -> None:
    history = [{"role": "user", "content": "I can't sleep."}, {"role": "assistant", "content": "That sounds hard."}]
    store.add(
        Feedback(
            "counseling",
            "What helps with insomnia?",
            "Drink coffee late.",
            -1,
            correction="Keep a regular wake time and avoid caffeine after noon [1].",
            history=history,
            sources=["sleep-hygiene.md"],
            trace=["retrieve", "generate"],
        )
    )
    store.add(Feedback("counseling", "How do I breathe to calm down?", "Try box breathing: 4 in, 4 hold, 4 out.", 1))
    store.add(Feedback("counseling", "how do i breathe to calm down?", "Hold your breath as long as you can.", -1))
    store.add(Feedback("counseling", "Is grief normal?", "No.", -1))  # no correction: no SFT, no pair
    store.add(Feedback("other", "Unrelated?", "Yes.", -1, correction="Other domain."))


def test_store_round_trip_and_default_location(tmp_path: Path):
    store = FeedbackStore()  # <workspace>/vertical.sqlite from the per-test VERTICAL_WORKSPACE
    assert store.url == f"sqlite:///{(tmp_path / 'workspace' / 'vertical.sqlite').resolve()}"
    _rows(store)
    rows = store.list("counseling")
    assert len(rows) == 4 and rows[0].history[1]["role"] == "assistant"
    assert rows[0].sources == ["sleep-hygiene.md"] and rows[0].trace == ["retrieve", "generate"]
    assert store.counts("counseling") == {"up": 1, "down": 3, "corrected": 1, "total": 4}


@pytest.mark.parametrize(
    "bad",
    [
        Feedback("counseling", "", "an answer", 1),
        Feedback("counseling", "q", "  ", 1),
        Feedback("counseling", "q", "a", 5),
        Feedback("counseling", "q", "a", 0),  # correction-only feedback without a correction
    ],
)
def test_bad_feedback_is_refused_and_nothing_is_stored(bad: Feedback):
    store = FeedbackStore()
    store.add(Feedback("counseling", "q", "a", 1))
    with pytest.raises(DataFormatError) as err:
        store.add(bad)
    assert "feedback not saved" in err.value.message and err.value.hint
    assert len(store.list()) == 1


def test_concurrent_inserts_from_two_stores_lose_nothing(tmp_path: Path):
    path = tmp_path / "fb.sqlite"
    stores = [FeedbackStore(f"sqlite:///{path}"), FeedbackStore(f"sqlite:///{path}")]

    def write(store: FeedbackStore, tag: str) -> None:
        for i in range(40):
            store.add(Feedback("counseling", f"{tag} question {i}", f"answer {i}", 1))

    threads = [threading.Thread(target=write, args=(s, t)) for s, t in zip(stores, "ab")]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(FeedbackStore(f"sqlite:///{path}").list("counseling")) == 80
    assert sqlite3.connect(path).execute("PRAGMA integrity_check").fetchone()[0] == "ok"


def test_export_writes_sharegpt_sft_and_preference_pairs(tmp_path: Path):
    store = FeedbackStore()
    _rows(store)
    summary = export_feedback("counseling", tmp_path / "out", store=store, system="Be kind.")
    sft = [json.loads(line) for line in (tmp_path / "out" / "feedback_sft.jsonl").read_text().splitlines()]
    pref = [json.loads(line) for line in (tmp_path / "out" / "feedback_preference.jsonl").read_text().splitlines()]
    assert summary.rows == 4 and summary.sft == 1 and summary.preference == 2
    assert sft == [
        {
            "system": "Be kind.",
            "conversations": [
                {"from": "human", "value": "I can't sleep."},
                {"from": "gpt", "value": "That sounds hard."},
                {"from": "human", "value": "What helps with insomnia?"},
                {"from": "gpt", "value": "Keep a regular wake time and avoid caffeine after noon [1]."},
            ],
        }
    ]
    corrected, liked_over_disliked = pref
    assert (
        corrected["chosen"]["value"].startswith("Keep a regular")
        and corrected["rejected"]["value"] == "Drink coffee late."
    )
    assert corrected["conversations"][-1] == {"from": "human", "value": "What helps with insomnia?"}
    assert liked_over_disliked["chosen"] == {"from": "gpt", "value": "Try box breathing: 4 in, 4 hold, 4 out."}
    assert liked_over_disliked["rejected"]["value"] == "Hold your breath as long as you can."
    info = json.loads((tmp_path / "out" / "dataset_info.json").read_text())
    assert info["counseling_feedback_preference"]["ranking"] is True
    # the SFT file is valid ShareGPT for the finetune data readers
    from finetune.data.formats import read_file

    conversations, problems = read_file(tmp_path / "out" / "feedback_sft.jsonl", "sharegpt")
    assert not problems and conversations[0].turns[-1].role == "assistant"

    with_liked = export_feedback("counseling", tmp_path / "out2", store=store, include_liked=True)
    assert with_liked.sft == 2


def test_cli_export_feedback_by_domain_folder(tmp_path: Path, counseling_dir: Path):
    from vertical.cli import app

    _rows(FeedbackStore())
    out = tmp_path / "export"
    result = CliRunner().invoke(app, ["data", "export-feedback", str(counseling_dir), "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert "preference" in result.output and (out / "feedback_preference.jsonl").is_file()
    first = json.loads((out / "feedback_sft.jsonl").read_text().splitlines()[0])
    assert first["system"].startswith("You are a warm")  # the domain's system prompt rides along

    default = CliRunner().invoke(app, ["data", "export-feedback", "counseling"])
    assert default.exit_code == 0
    assert (tmp_path / "workspace" / "counseling" / "data" / "feedback" / "feedback_sft.jsonl").is_file()

    bad = CliRunner().invoke(app, ["data", "export-feedback", "counseling", "--database-url", "nosuchdb://x"])
    assert bad.exit_code != 0 and isinstance(bad.exception, SpecError) and "VERTICAL_DATABASE_URL" in bad.exception.hint
