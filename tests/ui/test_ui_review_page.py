"""The feedback review page (AppTest against the real API of tests/ui/conftest.py): the queue with its counts,
accept a correction as SFT data, a refused decision shown with the server's reason, reject."""

from __future__ import annotations

from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from ui.client import ApiClient

pytestmark = pytest.mark.slow  # the live API fixture (a model and an ingest)

PAGE = Path(__file__).resolve().parents[2] / "ui" / "views" / "review.py"


def _run(target) -> AppTest:
    """Run the page (or an element's interaction) and check it raised nothing."""
    at = target.run()
    assert not at.exception, at.exception
    return at


def test_review_queue_accepts_a_correction_refuses_sft_without_one_and_rejects(ui_api: dict):
    client = ApiClient(ui_api["url"])
    down = client.feedback(
        "counseling", {"question": "Is coffee at night fine?", "answer": "Yes, any time.", "rating": -1}
    )["id"]
    fixed = client.feedback(
        "counseling",
        {
            "question": "When should I stop caffeine?",
            "answer": "It does not matter.",
            "rating": 0,
            "correction": "Have your last coffee by early afternoon [1].",
            "sources": ["uploads/sleep-hygiene.md"],
        },
    )["id"]
    before = client.feedback_queue("counseling")["counts"]  # the session API is shared with other UI tests

    at = AppTest.from_file(str(PAGE), default_timeout=240)
    _run(at)
    metrics = {m.label: m.value for m in at.metric}
    assert metrics["pending"] == str(before["pending"]) and metrics["total"] == str(before["total"])
    text = "\n".join(m.value for m in at.markdown)
    assert "When should I stop caffeine?" in text and "Have your last coffee by early afternoon [1]." in text
    assert "Is coffee at night fine?" in text

    at.text_input(key=f"note-{fixed}").input("matches the sleep-hygiene guide")
    _run(at.button(key=f"sft-{fixed}").click())
    item = next(i for i in client.feedback_queue("counseling", status="accepted")["items"] if i["id"] == fixed)
    assert item["status"] == "accepted" and item["target"] == "sft"
    assert any(f"Feedback {fixed}: accepted as SFT data." in s.value for s in at.success)
    assert {m.label: m.value for m in at.metric}["accepted as SFT"] == str(before["accepted_sft"] + 1)

    _run(at.button(key=f"sft-{down}").click())  # no correction: the server refuses (400) and says why
    assert any("has no correction" in e.value for e in at.error), [e.value for e in at.error]
    assert down in [i["id"] for i in client.feedback_queue("counseling")["items"]]  # still pending: nothing lost

    _run(at.button(key=f"reject-{down}").click())
    assert down not in [i["id"] for i in client.feedback_queue("counseling")["items"]]
    rejected = client.feedback_queue("counseling", status="rejected")
    assert down in [i["id"] for i in rejected["items"]] and rejected["counts"]["rejected"] == before["rejected"] + 1

    at.radio(key="review-status").set_value("accepted")
    text = "\n".join(m.value for m in _run(at).markdown)
    assert "When should I stop caffeine?" in text and "Is coffee at night fine?" not in text
