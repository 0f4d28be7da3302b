"""The feedback review queue (GET …/feedback, POST …/feedback/{id}/review) and what training reads after review.

On SQLite and a real PostgreSQL (skipped without its binaries); no model loads (these routes never generate).
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from postgres import database_url

from finetune.data import feedback as feedback_module
from finetune.data.feedback import FeedbackStore
from vertical.core.settings import reset_settings

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"
BASE = "/v1/domains/counseling/feedback"


@pytest.fixture(params=["sqlite", "postgresql"])
def db(request: pytest.FixtureRequest, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    server = request.getfixturevalue("pg_server") if request.param == "postgresql" else None
    url = database_url(request.param, tmp_path, server)
    monkeypatch.setenv("VERTICAL_DATABASE_URL", url)
    monkeypatch.setattr(feedback_module, "_stores", {})
    reset_settings()
    return url


def _client() -> TestClient:
    from serving.api import create_app
    from serving.api.config import ServeSettings
    from serving.domains import DomainRuntime
    from serving.engines.openai_engine import OpenAIEngine
    from vertical.core.spec import load_domain

    engine = OpenAIEngine("http://127.0.0.1:9/v1", "none")  # port 9: nothing listens, nothing is asked
    runtimes = {n: DomainRuntime(spec=load_domain(EXAMPLES / n), engine=engine) for n in ("counseling", "xinli")}
    return TestClient(create_app([], ServeSettings(), runtimes=runtimes))


def _rate(client: TestClient, question: str, answer: str, rating: int, correction: str | None = None) -> int:
    body = {"question": question, "answer": answer, "rating": rating, "correction": correction, "sources": ["a.md"]}
    resp = client.post(BASE, json=body)
    assert resp.status_code == 201, resp.text
    return resp.json()["id"]


def _seed(client: TestClient) -> dict[str, int]:
    return {
        "liked": _rate(client, "How do I calm down?", "Box breathing: 4 in, 4 hold, 4 out.", 1),
        "sft": _rate(
            client, "What helps insomnia?", "Coffee late.", -1, "A regular wake time; no caffeine after noon."
        ),
        "pref": _rate(client, "Is grief normal?", "No.", -1, "Yes, grief is a normal response to loss."),
        "bad_fix": _rate(client, "Can I call someone?", "No.", 0, "Call a friend."),
        "down": _rate(client, "How do I calm down?", "Hold your breath as long as you can.", -1),
    }


def _review(client: TestClient, item: int, decision: str, note: str | None = None):
    return client.post(f"{BASE}/{item}/review", json={"decision": decision, "note": note})


def test_queue_holds_thumbs_down_and_corrections_newest_first(db: str):
    client = _client()
    ids = _seed(client)
    resp = client.get(BASE)
    assert resp.status_code == 200, resp.text
    body = resp.json()
    assert [i["id"] for i in body["items"]] == [ids["down"], ids["bad_fix"], ids["pref"], ids["sft"]]
    first = body["items"][-1]
    assert {k: first[k] for k in ("rating", "question", "correction", "sources", "status", "target")} == {
        "rating": -1,
        "question": "What helps insomnia?",
        "correction": "A regular wake time; no caffeine after noon.",
        "sources": ["a.md"],
        "status": "pending",
        "target": None,
    }
    assert body["counts"] == {
        "pending": 4,
        "accepted_sft": 0,
        "accepted_preference": 0,
        "rejected": 0,
        "up": 1,
        "down": 3,
        "corrected": 3,
        "total": 5,
    }
    assert [i["id"] for i in client.get(BASE, params={"limit": 2}).json()["items"]] == [ids["down"], ids["bad_fix"]]
    assert client.get("/v1/domains/xinli/feedback").json()["items"] == []  # per domain


def test_review_decisions_move_rows_out_of_the_queue(db: str):
    client = _client()
    ids = _seed(client)
    sft = _review(client, ids["sft"], "sft", "good fix")
    assert sft.status_code == 200, sft.text
    assert (sft.json()["status"], sft.json()["target"], sft.json()["note"]) == ("accepted", "sft", "good fix")
    assert _review(client, ids["pref"], "preference").json()["target"] == "preference"
    assert _review(client, ids["down"], "reject").json()["status"] == "rejected"

    body = client.get(BASE).json()
    assert [i["id"] for i in body["items"]] == [ids["bad_fix"]]
    counts = body["counts"]
    assert (counts["pending"], counts["accepted_sft"], counts["accepted_preference"], counts["rejected"]) == (
        1,
        1,
        1,
        1,
    )
    accepted = client.get(BASE, params={"status": "accepted"}).json()["items"]
    assert {i["id"] for i in accepted} == {ids["sft"], ids["pref"]}

    again = _review(client, ids["sft"], "reject")  # a later review replaces the first
    assert (again.json()["status"], again.json()["target"]) == ("rejected", None)
    assert client.get(BASE).json()["counts"]["rejected"] == 2


def test_sft_or_preference_without_a_correction_is_a_clear_400(db: str):
    client = _client()
    ids = _seed(client)
    for decision in ("sft", "preference"):
        resp = _review(client, ids["down"], decision)
        assert resp.status_code == 400, resp.text
        error = resp.json()["error"]
        assert error["code"] == "feedback_review" and "no correction" in error["message"] and error["hint"]
    assert _review(client, 999_999, "reject").json()["error"]["code"] == "feedback_not_found"
    wrong_domain = client.post(f"/v1/domains/xinli/feedback/{ids['sft']}/review", json={"decision": "reject"})
    assert wrong_domain.status_code == 404
    bad = _review(client, ids["sft"], "maybe")
    assert bad.status_code == 400 and bad.json()["error"]["param"] == "decision"
    assert client.get(BASE, params={"status": "nope"}).status_code == 400
    assert client.get(BASE).json()["counts"]["pending"] == 4  # nothing changed


def test_a_table_from_before_the_review_queue_is_migrated_and_keeps_its_rows(db: str):
    from sqlalchemy import Column, Float, Integer, MetaData, String, Table, Text, insert, inspect

    from vertical.core.database import database_engine

    engine = database_engine(db)
    old = Table(  # the feedback table as deployed before the review columns
        "feedback",
        MetaData(),
        Column("id", Integer, primary_key=True, autoincrement=True),
        Column("created", Float, nullable=False),
        Column("domain", String(64), nullable=False),
        Column("model", String(200), nullable=False),
        Column("question", Text, nullable=False),
        Column("answer", Text, nullable=False),
        Column("rating", Integer, nullable=False),
        Column("correction", Text),
        Column("history", Text, nullable=False),
        Column("sources", Text, nullable=False),
        Column("trace", Text, nullable=False),
    )
    old.metadata.create_all(engine)
    with engine.begin() as conn:
        row = {"created": 1.0, "domain": "counseling", "model": "m", "history": "[]", "sources": "[]", "trace": "[]"}
        conn.execute(insert(old), [{**row, "question": "q1", "answer": "a1", "rating": -1, "correction": "fixed"}])
        conn.execute(insert(old), [{**row, "question": "q2", "answer": "a2", "rating": 1, "correction": None}])

    store = FeedbackStore(db)
    assert {"status", "target", "note", "reviewed"} <= {c["name"] for c in inspect(engine).get_columns("feedback")}
    FeedbackStore(db)  # idempotent: a second start adds nothing and fails nothing
    rows = store.list("counseling")
    assert [(r.question, r.status, r.target) for r in rows] == [("q1", "pending", None), ("q2", "pending", None)]
    assert store.review("counseling", rows[0].id, "sft").status == "accepted"
    assert store.counts("counseling") == {"up": 1, "down": 1, "corrected": 1, "total": 2}


def test_export_and_preferences_use_only_accepted_rows_once_reviewed(db: str, tmp_path: Path):
    from finetune.data.feedback_export import export_feedback
    from finetune.data.preferences import domain_preferences
    from vertical.core.spec import load_domain

    client = _client()
    ids = _seed(client)
    store = FeedbackStore(db)
    before = export_feedback("counseling", tmp_path / "before", store=store)
    assert before.sft == 3  # nothing reviewed yet: every correction, as before the queue existed

    _review(client, ids["sft"], "sft")
    _review(client, ids["pref"], "preference")
    _review(client, ids["bad_fix"], "reject")
    after = export_feedback("counseling", tmp_path / "after", store=store)
    sft = [json.loads(line) for line in (tmp_path / "after" / "feedback_sft.jsonl").read_text().splitlines()]
    pref = [json.loads(line) for line in (tmp_path / "after" / "feedback_preference.jsonl").read_text().splitlines()]
    assert [r["conversations"][-1]["value"] for r in sft] == ["A regular wake time; no caffeine after noon."]
    assert [(r["chosen"]["value"], r["rejected"]["value"]) for r in pref] == [
        ("Yes, grief is a normal response to loss.", "No.")
    ]  # the pending thumbs-down is not paired with the liked answer until accepted
    assert after.skipped["not accepted for sft in review"] == 3

    prefs = domain_preferences(load_domain(EXAMPLES / "counseling"), references=False)
    assert [(p.chosen, p.rejected) for p in prefs.pairs] == [("Yes, grief is a normal response to loss.", "No.")]
    assert [j.completion for j in prefs.judged] == ["Box breathing: 4 in, 4 hold, 4 out."]  # thumbs-up still count
