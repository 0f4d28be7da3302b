"""Each Streamlit page driven by streamlit.testing (AppTest) against a real API server (tests/ui/conftest.py)."""

from __future__ import annotations

from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from finetune.data.feedback import FeedbackStore
from ui.client import ApiClient
from vertical.core.errors import ApiError

PAGES = Path(__file__).resolve().parents[2] / "ui" / "views"


def _page(name: str) -> AppTest:
    at = AppTest.from_file(str(PAGES / name), default_timeout=240)
    at.run()
    assert not at.exception, at.exception
    return at


def _texts(at: AppTest) -> str:
    parts = [
        e.value
        for kind in ("markdown", "caption", "text", "info", "success", "error", "warning")
        for e in getattr(at, kind)
    ]
    return "\n".join(str(p) for p in parts)


@pytest.mark.slow
def test_chat_streams_an_answer_with_sources_trace_and_stores_feedback(ui_api: dict):
    api_db = f"sqlite:///{(ui_api['workspace'] / 'vertical.sqlite').resolve()}"  # the API stores feedback
    before = len(FeedbackStore(api_db).list("counseling"))  # the session's API is shared with other UI tests
    at = _page("chat.py")
    assert at.sidebar.selectbox(key="model").options == ["counseling"]
    at.chat_input[0].set_value("How can I sleep better when I am anxious?").run()
    assert not at.exception, at.exception
    assert len(at.chat_message) == 2 and at.chat_message[1].name == "assistant"
    answer = at.chat_message[1].markdown[0].value
    assert len(answer.split()) >= 3
    sources = [e for e in at.expander if e.label.startswith("Sources (")]
    assert sources, "the answer shows no sources"
    assert "sleep-hygiene.md" in "\n".join(m.value for m in sources[0].markdown)
    # base+rag, or extractive when counseling's grounding policy replaced a poorly grounded answer
    assert any(
        c.value.startswith(("path: base+rag", "path: extractive")) and "retrieval" in c.value for c in at.caption
    )
    if any(c.value.startswith("path: extractive") for c in at.caption):  # the streamed answer's grounding verdict
        assert any("not supported by the sources" in i.value for i in at.info), [i.value for i in at.info]

    at.button(key="up-counseling-1").click().run()
    at.text_area(key="fix-counseling-1").input("Keep a fixed wake time and wind down without screens [1].").run()
    at.button(key="save-fix-counseling-1").click().run()
    assert not at.exception, at.exception
    rows = FeedbackStore(api_db).list("counseling")[before:]
    assert [r.rating for r in rows] == [1, 0]
    assert rows[0].answer == answer and rows[0].question.startswith("How can I sleep better")
    assert rows[1].correction.startswith("Keep a fixed wake time") and "sleep-hygiene.md" in rows[1].sources
    assert "correction saved" in _texts(at)


def test_chat_page_says_how_to_start_a_missing_server(monkeypatch: pytest.MonkeyPatch):
    from vertical.core.net import free_port
    from vertical.core.settings import reset_settings

    monkeypatch.setenv("VERTICAL_API_URL", f"http://127.0.0.1:{free_port()}")
    reset_settings()
    at = _page("chat.py")
    assert "cannot reach the vertical API" in at.error[0].value and "vertical serve" in at.error[0].value
    assert not at.chat_input  # nothing to chat with


@pytest.mark.slow  # needs the live API fixture (a model and an ingest): the full suite runs it
def test_knowledge_page_follows_an_upload_job_to_its_report_then_searches_and_deletes(ui_api: dict):
    client = ApiClient(ui_api["url"])
    job_id = client.upload_documents(
        "counseling",
        [
            (
                "panic-attacks.md",
                (Path(__file__).resolve().parents[2] / "examples/counseling/docs/panic-attacks.md").read_bytes(),
            ),
            ("broken.pdf", b"%PDF-1.4 this is not really a pdf"),
        ],
    )
    at = AppTest.from_file(str(PAGES / "knowledge.py"), default_timeout=240)
    at.session_state["job-counseling"] = job_id
    at.run()
    assert not at.exception, at.exception
    job = client.job(job_id)
    assert job["status"] == "done"
    metrics = {m.label: m.value for m in at.metric}
    assert metrics["added"] == "1" and metrics["skipped"] == "1"
    problems = at.table[0].value
    assert list(problems["file"]) == ["broken.pdf"] and "corrupt PDF" in problems["reason"].iloc[0]
    docs = at.dataframe[0].value
    assert "panic-attacks.md" in list(docs["document"])

    at.text_input(key="chunk-query").input("what to do during a panic attack").run()
    labels = [e.label for e in at.expander]
    assert labels and labels[0].startswith("panic-attacks.md")

    at.selectbox(key="delete-pick").select("panic-attacks.md").run()
    assert at.button(key="delete").disabled  # needs the confirmation first
    at.checkbox(key="delete-confirm").check().run()
    at.button(key="delete").click().run()
    assert not at.exception, at.exception
    assert "panic-attacks.md" not in [d["source"] for d in client.documents("counseling")]
    assert any("Deleted panic-attacks.md" in s.value for s in at.success)


@pytest.mark.slow  # needs the live API fixture (a model and an ingest): the full suite runs it
def test_build_page_shows_plan_and_reports_missing_endpoints_clearly(ui_api: dict):
    client = ApiClient(ui_api["url"])
    at = _page("build.py")
    try:
        plan = client.plan("counseling")
    except ApiError as exc:
        assert exc.status == 404
        assert "The planner is not available from this server" in _texts(at)
    else:
        assert at.metric[0].value == plan["strategy"]
        for reason in plan.get("reasons", []):
            assert reason in _texts(at)
    try:
        client.training_log("counseling")
    except ApiError as exc:
        if exc.status == 404:
            assert "The training log (loss curve) is not available from this server" in _texts(at)
    try:
        client.eval_report("counseling")
    except ApiError:  # no eval endpoint, or nothing built: the manifest decides
        assert "No eval report yet: build the domain first." in _texts(at)


@pytest.mark.slow  # needs the live API fixture (a model and an ingest): the full suite runs it
def test_build_page_charts_the_eval_scores_of_a_built_domain(ui_api: dict, monkeypatch: pytest.MonkeyPatch):
    """A build manifest in the server's workspace (as `vertical build --strategy auto` leaves it) is charted."""
    from vertical.core.manifest import Manifest, save_manifest
    from vertical.core.settings import reset_settings

    monkeypatch.setenv("VERTICAL_WORKSPACE", str(ui_api["workspace"]))
    reset_settings()
    scores = {
        "rag": {"composite": 0.62, "hit_at_k": 0.9, "citation": 0.5},
        "prompt": {"composite": 0.31, "hit_at_k": 0.0, "citation": 0.0},
    }
    save_manifest(
        Manifest(
            domain="counseling",
            domain_root=str(ui_api["domain_dir"]),
            strategy="rag",
            base_model="smollm2-135m-instruct",
            embedder="all-minilm-l6-v2",
            eval={"strategy": "rag", "scores": scores["rag"]},
            candidates=[{"strategy": k, "composite": v["composite"], "scores": v} for k, v in scores.items()],
            reasons=["auto: kept rag (composite 0.620) out of rag, prompt"],
        )
    )
    try:
        at = _page("build.py")
        table = at.dataframe[0].value
        assert list(table.index) == ["rag", "prompt"] and table.loc["prompt", "hit_at_k"] == 0.0
        assert {c.value for c in at.caption} >= {"composite", "hit_at_k", "citation"}
        assert len(at.get("vega_lite_chart")) == 3  # one bar chart per headline metric
        assert "auto: kept rag" in _texts(at) and "built strategy:** rag" in _texts(at)
    finally:
        (ui_api["workspace"] / "counseling" / "manifest.json").unlink()
