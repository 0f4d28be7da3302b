"""The knowledge page's curation (AppTest against the real API of tests/ui/conftest.py): chunk preview,
per-chunk and per-document disable/enable through the API, re-ingest with its report, scores per arm."""

from __future__ import annotations

from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from ui.client import ApiClient

pytestmark = pytest.mark.slow  # the live API fixture (a model and an ingest)

PAGE = Path(__file__).resolve().parents[2] / "ui" / "views" / "knowledge.py"
QUERY = "caffeine coffee early afternoon"


def _source(client: ApiClient, name: str) -> str:
    return next(d["source"] for d in client.documents("counseling") if d["source"].endswith(name))


@pytest.fixture
def page(ui_api: dict):
    """The page with sleep-hygiene.md picked for preview; every chunk enabled again afterwards."""
    client = ApiClient(ui_api["url"])
    source = _source(client, "sleep-hygiene.md")
    at = AppTest.from_file(str(PAGE), default_timeout=240)
    at.run()
    assert not at.exception, at.exception
    at.selectbox(key="preview-pick").select(source).run()
    assert not at.exception, at.exception
    try:
        yield at, client, source
    finally:
        client.set_document_disabled("counseling", source, False)


def test_preview_shows_each_chunk_with_heading_and_tokens_and_a_toggle_disables_it(page):
    at, client, source = page
    chunks = client.document_chunks("counseling", source)["chunks"]
    labels = [e.label for e in at.expander]
    assert len(labels) == len(chunks)
    for label, chunk in zip(labels, chunks):  # document order, heading path and token count in the label
        assert label.startswith(f"#{chunk['position'] + 1} · ") and f"· {chunk['tokens']} tokens" in label
    assert [e.text[0].value for e in at.expander] == [c["text"] for c in chunks]

    target = next(c for c in chunks if "Caffeine can stay" in c["text"])
    assert target["id"] in [h["chunk_id"] for h in client.chunks("counseling", QUERY, k=10)]
    at.toggle(key=f"use-{target['id']}").set_value(False).run()
    assert not at.exception, at.exception
    after = {c["id"]: c for c in client.document_chunks("counseling", source)["chunks"]}
    assert after[target["id"]]["disabled"] is True and sum(c["disabled"] for c in after.values()) == 1
    assert target["id"] not in [h["chunk_id"] for h in client.chunks("counseling", QUERY, k=10)]
    assert any(e.label.endswith("· disabled") for e in at.expander)
    assert at.toggle(key=f"use-{target['id']}").value is False  # the page shows the server's state

    at.toggle(key=f"use-{target['id']}").set_value(True).run()
    assert client.document_chunks("counseling", source)["chunks"][target["position"]]["disabled"] is False


def test_whole_document_switch_and_reingest_follow_the_api(page):
    at, client, source = page
    n = len(client.document_chunks("counseling", source)["chunks"])
    at.button(key="doc-disable").click().run()
    assert not at.exception, at.exception
    docs = {d["source"]: d for d in client.documents("counseling")}
    assert docs[source]["disabled"] == n
    table = at.dataframe[0].value  # the documents table counts them
    assert int(table.loc[table["document"] == source, "disabled"].iloc[0]) == n
    assert at.button(key="doc-disable").disabled and not at.button(key="doc-enable").disabled
    at.button(key="doc-enable").click().run()
    assert (
        client.documents("counseling")
        and {d["source"]: d for d in client.documents("counseling")}[source]["disabled"] == 0
    )

    at.button(key="reingest").click().run()  # the page follows the job to its report
    assert not at.exception, at.exception
    assert any("Ingestion finished." in s.value for s in at.success)
    metrics = {m.label: m.value for m in at.metric}
    assert metrics["unchanged"] == "1" and metrics["failed"] == "0"


def test_search_shows_fused_dense_and_bm25_scores_side_by_side(page):
    at, client, _ = page
    at.text_input(key="chunk-query").input(QUERY).run()
    assert not at.exception, at.exception
    hits = client.chunks("counseling", QUERY, k=10)
    table = at.dataframe[1].value
    assert list(table.columns) == ["#", "document", "heading", "fused", "dense (cosine)", "BM25"]
    assert list(table["document"]) == [h["source"] for h in hits]  # fused order, as the API returned it
    assert table["fused"].iloc[0] == round(hits[0]["score"], 4)
    assert table["BM25"].iloc[0] == round(hits[0]["bm25_score"], 4)
    jobs = at.dataframe[2].value  # the ingest queue: the fixture's upload is there
    assert "done" in list(jobs["status"])


def test_the_page_speaks_chinese_when_the_session_language_is_zh(ui_api: dict):
    client = ApiClient(ui_api["url"])
    source = _source(client, "sleep-hygiene.md")
    at = AppTest.from_file(str(PAGE), default_timeout=240)
    at.session_state["ui_language"] = "zh"
    at.session_state["preview-pick"] = source
    at.run()
    assert not at.exception, at.exception
    assert at.title[0].value == "知识库"
    assert at.expander and all("个词元" in e.label for e in at.expander)
    assert at.toggle[0].label == "用于回答" and at.button(key="reingest").label == "重新导入"
