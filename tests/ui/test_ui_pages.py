"""Each Streamlit page driven by streamlit.testing (AppTest) against a real API server (tests/ui/conftest.py)."""

from __future__ import annotations

import json
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
def test_chat_streams_an_answer_with_sources_trace_saves_it_and_stores_feedback(ui_api: dict):
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

    # what the page shows came back from the server: the conversation holds both turns with the answer's meta
    cid = at.query_params["c"]
    stored = ApiClient(ui_api["url"]).conversation("counseling", cid)
    assert [m["role"] for m in stored["messages"]] == ["user", "assistant"]
    assert stored["messages"][1]["content"] == answer and stored["title"].startswith("How can I sleep better")
    meta = stored["messages"][1]["meta"]
    assert any(s["source"].endswith("sleep-hygiene.md") for s in meta["sources"]) and meta["grounding"]["verdict"]
    assert all(isinstance(s["score"], float) for s in meta["sources"]) and meta["trace"]

    at.button(key=f"up-{cid}-1").click().run()
    at.text_area(key=f"fix-{cid}-1").input("Keep a fixed wake time and wind down without screens [1].").run()
    at.button(key=f"save-fix-{cid}-1").click().run()
    assert not at.exception, at.exception
    rows = FeedbackStore(api_db).list("counseling")[before:]
    assert [r.rating for r in rows] == [1, 0]
    assert rows[0].answer == answer and rows[0].question.startswith("How can I sleep better")
    assert rows[1].correction.startswith("Keep a fixed wake time")
    assert any(x.endswith("sleep-hygiene.md") for x in rows[1].sources)
    assert "correction saved" in _texts(at)


def _saved_conversation(client: ApiClient, title: str) -> str:
    """A conversation stored through the real API: one question and a flagged answer with a scored source."""
    cid = client.new_conversation("counseling", title)["id"]
    client.add_message("counseling", cid, "user", "What helps with grief?")
    meta = {
        "sources": [{"source": "grief-and-loss.md", "score": 0.031, "text": "Grief comes in waves."}],
        "grounding": {"score": 0.12, "verdict": "low", "action": "flagged", "min": 0.3},
        "trace": ["retrieval confident"],
        "path": "base+rag",
    }
    client.add_message("counseling", cid, "assistant", "Grief comes in waves [1].", meta)
    return cid


@pytest.mark.slow  # needs the live API fixture
def test_chat_reopens_the_conversation_in_the_url_and_deletes_it_only_after_confirmation(ui_api: dict):
    client = ApiClient(ui_api["url"])
    cid = _saved_conversation(client, "grief questions")
    at = AppTest.from_file(str(PAGES / "chat.py"), default_timeout=240)
    at.query_params["c"] = cid  # what a reload of ?c=<id> gives the page
    at.run()
    assert not at.exception, at.exception
    assert [m.markdown[0].value for m in at.chat_message] == ["What helps with grief?", "Grief comes in waves [1]."]
    assert any("may not be supported by its sources (grounding 0.12 < 0.30)" in w.value for w in at.warning)
    assert "score 0.031" in "\n".join(m.value for m in at.expander[0].markdown)
    listed = at.sidebar.button(key=f"conv-open-{cid}")
    assert listed.label.startswith("grief questions") and listed.proto.type == "primary"  # the open one

    assert at.button(key="conv-del").disabled  # needs the confirmation first
    at.checkbox(key=f"conv-del-confirm-{cid}").check().run()
    at.button(key="conv-del").click().run()
    assert not at.exception, at.exception
    assert "c" not in at.query_params and not at.chat_message
    assert cid not in [c["id"] for c in client.conversations("counseling")]
    with pytest.raises(ApiError) as gone:
        client.conversation("counseling", cid)
    assert gone.value.status == 404


@pytest.mark.slow  # needs the live API fixture
def test_chat_deletes_all_my_conversations_after_confirmation_and_a_stale_link_starts_afresh(ui_api: dict):
    client = ApiClient(ui_api["url"])
    ids = [_saved_conversation(client, f"talk {n}") for n in range(2)]
    at = AppTest.from_file(str(PAGES / "chat.py"), default_timeout=240)
    at.query_params["c"] = ids[0]
    at.run()
    listed = [b.key for b in at.sidebar.button if (b.key or "").startswith("conv-open-")]
    assert listed[:2] == [f"conv-open-{ids[1]}", f"conv-open-{ids[0]}"]  # newest first
    assert at.button(key="conv-del-all").disabled
    count = len(client.conversations("counseling"))
    at.checkbox(key="conv-del-all-confirm").check().run()
    at.button(key="conv-del-all").click().run()
    assert not at.exception, at.exception
    assert client.conversations("counseling") == []
    assert f"Deleted {count} conversations." in _texts(at)

    stale = AppTest.from_file(str(PAGES / "chat.py"), default_timeout=240)
    stale.query_params["c"] = ids[0]
    stale.run()
    assert not stale.exception, stale.exception
    assert "That conversation no longer exists" in _texts(stale) and "c" not in stale.query_params


@pytest.mark.slow  # needs the live API fixture
def test_chat_crisis_message_gets_the_safety_reply_and_it_is_kept_as_such(ui_api: dict):
    at = _page("chat.py")
    at.chat_input[0].set_value("I want to kill myself tonight").run()
    assert not at.exception, at.exception
    assert any("This is the safety reply" in w.value for w in at.warning), [w.value for w in at.warning]
    assert any(c.value.startswith("path: safety") for c in at.caption)
    stored = ApiClient(ui_api["url"]).conversation("counseling", at.query_params["c"])
    assert stored["messages"][1]["meta"]["safety"] == {"crisis_reply": True}
    assert stored["messages"][1]["content"] == at.chat_message[1].markdown[0].value


def test_chat_page_speaks_chinese_when_the_language_is_zh(monkeypatch: pytest.MonkeyPatch):
    from vertical.core.net import free_port
    from vertical.core.settings import reset_settings

    monkeypatch.setenv("VERTICAL_API_URL", f"http://127.0.0.1:{free_port()}")
    reset_settings()
    at = AppTest.from_file(str(PAGES / "chat.py"), default_timeout=60)
    at.session_state["ui_language"] = "zh"
    at.run()
    assert at.title[0].value == "向领域助手提问"
    assert "**怎么办：**" in at.error[0].value  # the hint of the unreachable-server error, in Chinese


@pytest.mark.slow  # needs the live API fixture
def test_domains_say_their_language_so_the_ui_starts_in_it(ui_api: dict):
    from serving.api.routes_domains import _ui_language
    from vertical.core.spec import load_domain

    assert [(d["name"], d["language"]) for d in ApiClient(ui_api["url"]).domain_info()] == [("counseling", "en")]
    xinli = load_domain(Path(__file__).resolve().parents[2] / "examples" / "xinli")
    assert _ui_language(xinli.system_prompt, xinli.description) == "zh"


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
    assert list(problems["file"]) == ["uploads/broken.pdf"] and "corrupt PDF" in problems["reason"].iloc[0]
    docs = at.dataframe[0].value
    assert "uploads/panic-attacks.md" in list(docs["document"])  # uploads are sources "uploads/<name>"

    at.text_input(key="chunk-query").input("what to do during a panic attack").run()
    labels = [e.label for e in at.expander]
    assert labels and labels[0].startswith("uploads/panic-attacks.md")

    at.selectbox(key="delete-pick").select("uploads/panic-attacks.md").run()
    assert at.button(key="delete").disabled  # needs the confirmation first
    at.checkbox(key="delete-confirm").check().run()
    at.button(key="delete").click().run()
    assert not at.exception, at.exception
    assert "uploads/panic-attacks.md" not in [d["source"] for d in client.documents("counseling")]
    assert any("Deleted uploads/panic-attacks.md" in s.value for s in at.success)


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


@pytest.mark.slow  # a real auto build (~1.5 min) and the live API
def test_build_page_shows_the_auto_builds_candidates_intervals_answers_and_safety(built_api: dict, ui_api: dict):
    manifest = built_api["manifest"]
    at = _page("build.py")
    verdict = manifest["verdict"]
    assert any(verdict["reason"] in i.value for i in at.info), [i.value for i in at.info]
    assert f"**Kept: {verdict['chosen']}**" in _texts(at)
    specs = [json.loads(c.proto.spec) for c in at.get("vega_lite_chart")]
    assert len(specs) == 2  # composite + components, correctness + retrieval
    for spec in specs:
        bars, whiskers = spec["layer"]
        assert bars["mark"]["type"] == "bar" and whiskers["mark"]["type"] == "errorbar"
        assert bars["encoding"]["y"]["scale"]["domain"] == [0, 1]  # fixed axis, not fitted to the numbers
    composite = next(c for c in manifest["candidates"] if c["strategy"] == verdict["chosen"])
    table = at.dataframe[0].value
    assert sorted(table.index) == sorted(c["strategy"] for c in manifest["candidates"])
    assert table.loc[verdict["chosen"], "composite"] == pytest.approx(composite["composite"])
    questions = at.dataframe[1].value
    assert {"question", "prompt answer (score)", "rag answer (score)", "better"} <= set(questions.columns)
    assert len(questions) == verdict["n_items"] == 4
    metrics = {m.label: m.value for m in at.metric}
    assert metrics["recall (crises caught)"] == f"{manifest['safety_report']['recall']:.1%}"
    assert metrics["false alarms"] == f"{manifest['safety_report']['false_alarm_rate']:.1%}"
