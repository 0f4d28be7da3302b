"""Cleaning: normalisation, PII placeholders, exact and near dedupe, length filter, atomic report."""

from __future__ import annotations

import json
from pathlib import Path

from finetune.data.clean import CleanOptions, clean_conversations, normalize_text, scrub_pii
from finetune.data.report import DataReport
from finetune.data.types import Conversation, Turn

BASE = ("When worry keeps you awake, try writing the worries on paper an hour before bed, then set a short "
        "worry time for tomorrow afternoon so your mind knows they will be dealt with later.")


def _conv(user: str, answer: str, cid: str) -> Conversation:
    return Conversation([Turn("user", user), Turn("assistant", answer)], id=cid, source=f"f.jsonl:{cid}")


def test_normalize_nfkc_and_whitespace() -> None:
    assert normalize_text("Ｆｕｌｌ\u00a0width  ﬁne\t text \r\n\n\n\nnext\u200b line  ") == "Full width fine text\n\nnext line"


def test_pii_becomes_placeholders() -> None:
    text, n = scrub_pii("Mail jane.doe@example.org or call +44 20 7946 0958 or (555) 123-4567; I slept 8 hours in 2023.")
    assert text == "Mail [EMAIL] or call [PHONE] or [PHONE]; I slept 8 hours in 2023."
    assert n == 3


def test_dedupe_removes_planted_near_duplicates_and_keeps_distinct() -> None:
    distinct = [
        _conv("How do I stop worrying at night?", BASE, "1"),
        _conv("What is box breathing?", "Box breathing means breathing in for four counts, holding for four, out for four "
              "and holding again for four, repeated for a few minutes to steady the body.", "2"),
        _conv("How can I support a grieving friend?", "Stay in touch after the funeral, say the name of the person who died, "
              "offer practical help like meals, and let your friend talk without trying to fix the grief.", "3"),
    ]
    planted = [
        _conv("How do I stop worrying at night?", BASE, "exact"),  # exact copy
        _conv("how do I stop  worrying at night?", BASE.upper().lower(), "case"),  # same after normalising/case-folding
        _conv("How do I stop worrying at night?", BASE.replace("short", "brief"), "near"),  # one word changed
    ]
    report = DataReport()
    kept = clean_conversations(distinct + planted, report, CleanOptions(dedupe_threshold=0.8))
    assert [c.id for c in kept] == ["1", "2", "3"]
    assert report.dropped["exact duplicate"] == 2 and report.dropped["near duplicate"] == 1


def test_length_filter_and_empty_after_cleaning_are_counted() -> None:
    convs = [_conv("Hi", "Ok", "short"), _conv("Hello", "\u200b \u00a0", "empty"), _conv("Hey", BASE, "good")]
    report = DataReport()
    kept = clean_conversations(convs, report, CleanOptions(min_tokens=3))
    assert [c.id for c in kept] == ["good"]
    assert report.dropped == {"empty after cleaning": 1, "shorter than 3 tokens": 1}


def test_report_written_atomically_with_histogram(tmp_path: Path) -> None:
    report = DataReport()
    report.drop("near duplicate", _conv("a", "b", "x"))
    report.lengths = {"domain": [10, 20, 30, 400]}
    paths = report.write(tmp_path / "out", "sft_report")
    data = json.loads(paths["json"].read_text())
    assert data["dropped"] == {"near duplicate": 1} and data["token_lengths"]["domain"]["max"] == 400
    assert paths["histogram"].read_bytes().startswith(b"\x89PNG")
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == ["sft_report.json", "sft_report_lengths.png"]
