"""Server-side conversations through the API, on SQLite and a real PostgreSQL (skipped without its binaries).

The app serves two real domain specs over an OpenAI engine nobody listens to: these routes never
generate, so no model loads and each test takes well under a second.
"""

from __future__ import annotations

import time
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from postgres import database_url

from serving import conversations
from vertical.core.settings import reset_settings

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"
BASE = "/v1/domains/counseling/conversations"
A, B = {"Authorization": "Bearer a"}, {"Authorization": "Bearer b"}


@pytest.fixture(params=["sqlite", "postgresql"])
def db(request: pytest.FixtureRequest, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    server = request.getfixturevalue("pg_server") if request.param == "postgresql" else None
    url = database_url(request.param, tmp_path, server)
    monkeypatch.setenv("VERTICAL_DATABASE_URL", url)
    reset_settings()
    return url


def _client(keys: str = "") -> TestClient:
    from serving.api import create_app
    from serving.api.config import ServeSettings
    from serving.domains import DomainRuntime
    from serving.engines.openai_engine import OpenAIEngine
    from vertical.core.spec import load_domain

    engine = OpenAIEngine("http://127.0.0.1:9/v1", "none")  # port 9: nothing listens, nothing is asked
    runtimes = {
        name: DomainRuntime(spec=load_domain(EXAMPLES / name), engine=engine) for name in ("counseling", "xinli")
    }
    return TestClient(create_app([], ServeSettings(api_keys=keys), runtimes=runtimes))


def _error(resp, status: int, code: str) -> dict:
    assert resp.status_code == status, resp.text
    error = resp.json()["error"]
    assert error["code"] == code and error["message"] and error["type"], error
    return error


def _message_rows(url: str) -> int:
    from sqlalchemy import func, select

    store = conversations.ConversationStore(url)
    with store.engine.connect() as conn:
        return conn.execute(select(func.count()).select_from(store.messages)).scalar_one()


def test_create_append_get_list_and_rename(db: str):
    client = _client()
    made = client.post(BASE, json={})
    assert made.status_code == 201, made.text
    conv = made.json()
    assert set(conv) == {"id", "title", "created", "updated", "messages"} and conv["messages"] == []
    question = "I keep waking at 3 am and cannot get back to sleep, what can I do about it tonight?"
    sources = [{"n": 1, "source": "sleep-hygiene.md", "text": "Keep a regular wake time."}]
    user = client.post(f"{BASE}/{conv['id']}/messages", json={"role": "user", "content": question})
    assert user.status_code == 201 and user.json()["role"] == "user" and user.json()["meta"] == {}
    meta = {"sources": sources, "grounding": {"verdict": "ok", "score": 0.8}, "trace": ["retrieve", "generate"]}
    reply = client.post(
        f"{BASE}/{conv['id']}/messages",
        json={"role": "assistant", "content": "Try a regular wake time [1].", "meta": meta},
    )
    assert reply.status_code == 201 and reply.json()["meta"] == meta

    got = client.get(f"{BASE}/{conv['id']}").json()
    assert [(m["role"], m["content"]) for m in got["messages"]] == [
        ("user", question),
        ("assistant", "Try a regular wake time [1]."),
    ]
    assert got["messages"][1]["meta"] == meta and got["updated"] >= got["created"]
    assert len(got["title"]) <= 60 and got["title"].startswith("I keep waking at 3 am")  # from the first question

    second = client.post(BASE, json={"title": "睡眠问题"}).json()
    listed = client.get(BASE).json()["conversations"]
    assert [c["id"] for c in listed] == [second["id"], conv["id"]]  # most recently updated first
    assert listed[1]["turns"] == 1 and listed[0]["turns"] == 0 and listed[0]["title"] == "睡眠问题"

    renamed = client.patch(f"{BASE}/{conv['id']}", json={"title": "Sleep"})
    assert renamed.status_code == 200 and renamed.json()["title"] == "Sleep" and renamed.json()["turns"] == 1
    assert client.get(BASE).json()["conversations"][0]["id"] == conv["id"]  # renaming counts as an update


def test_a_restarted_app_continues_the_same_conversation(db: str, monkeypatch: pytest.MonkeyPatch):
    first = _client("a=counseling")
    conv = first.post(BASE, json={"title": "Panic"}, headers=A).json()
    first.post(f"{BASE}/{conv['id']}/messages", json={"role": "user", "content": "My heart races."}, headers=A)
    first.post(f"{BASE}/{conv['id']}/messages", json={"role": "assistant", "content": "Breathe slowly."}, headers=A)

    monkeypatch.setattr(conversations, "_stores", {})  # a new process: nothing cached
    again = _client("a=counseling")
    listed = again.get(BASE, headers=A).json()["conversations"]
    assert [(c["id"], c["title"], c["turns"]) for c in listed] == [(conv["id"], "Panic", 1)]
    more = again.post(f"{BASE}/{conv['id']}/messages", json={"role": "user", "content": "It helps."}, headers=A)
    assert more.status_code == 201
    contents = [m["content"] for m in again.get(f"{BASE}/{conv['id']}", headers=A).json()["messages"]]
    assert contents == ["My heart races.", "Breathe slowly.", "It helps."]


def test_another_key_or_domain_cannot_see_change_or_delete(db: str):
    client = _client("a=counseling,xinli;b=counseling,xinli")
    conv = client.post(BASE, json={"title": "mine"}, headers=A).json()
    client.post(f"{BASE}/{conv['id']}/messages", json={"role": "user", "content": "private"}, headers=A)

    assert client.get(BASE, headers=B).json() == {"conversations": []}
    url = f"{BASE}/{conv['id']}"
    _error(client.get(url, headers=B), 404, "conversation_not_found")
    _error(client.patch(url, json={"title": "stolen"}, headers=B), 404, "conversation_not_found")
    _error(
        client.post(f"{url}/messages", json={"role": "user", "content": "x"}, headers=B), 404, "conversation_not_found"
    )
    _error(client.delete(url, headers=B), 404, "conversation_not_found")
    assert client.delete(BASE, headers=B).json() == {"deleted": 0}
    other_domain = f"/v1/domains/xinli/conversations/{conv['id']}"
    _error(client.get(other_domain, headers=A), 404, "conversation_not_found")
    _error(client.get(BASE), 401, "auth")  # no key at all

    mine = client.get(url, headers=A).json()
    assert mine["title"] == "mine" and [m["content"] for m in mine["messages"]] == ["private"]


def test_delete_one_then_all_removes_messages_too(db: str):
    client = _client()
    ids = [client.post(BASE, json={"title": f"c{i}"}).json()["id"] for i in range(3)]
    for cid in ids:
        client.post(f"{BASE}/{cid}/messages", json={"role": "user", "content": f"hello {cid}"})
    assert _message_rows(db) == 3

    assert client.delete(f"{BASE}/{ids[0]}").json() == {"deleted": True}
    _error(client.get(f"{BASE}/{ids[0]}"), 404, "conversation_not_found")
    _error(client.delete(f"{BASE}/{ids[0]}"), 404, "conversation_not_found")  # already gone
    assert _message_rows(db) == 2 and len(client.get(BASE).json()["conversations"]) == 2

    assert client.delete(BASE).json() == {"deleted": 2}
    assert client.get(BASE).json() == {"conversations": []} and _message_rows(db) == 0


def test_retention_deletes_conversations_not_updated_within_it(db: str, monkeypatch: pytest.MonkeyPatch):
    from sqlalchemy import update

    monkeypatch.setenv("VERTICAL_CONVERSATION_RETENTION_DAYS", "1")
    reset_settings()
    client = _client()
    old, fresh = (client.post(BASE, json={"title": t}).json()["id"] for t in ("old", "fresh"))
    for cid in (old, fresh):
        client.post(f"{BASE}/{cid}/messages", json={"role": "user", "content": "hi"})
    store = conversations.ConversationStore(db)
    with store.engine.begin() as conn:  # as if last used two days ago
        c = store.conversations
        conn.execute(update(c).where(c.c.id == old).values(updated=time.time() - 2 * 86_400))

    assert [c["id"] for c in client.get(BASE).json()["conversations"]] == [fresh]  # invisible at once
    _error(client.get(f"{BASE}/{old}"), 404, "conversation_not_found")
    conversations.ConversationStore(db)  # start-up of another process purges
    assert _message_rows(db) == 1
    assert client.get(f"{BASE}/{fresh}").json()["messages"][0]["content"] == "hi"

    kept = conversations.ConversationStore(db, retention_days=0)
    with kept.engine.begin() as conn:
        conn.execute(update(kept.conversations).values(updated=0.0))
    assert kept.purge_expired() == 0 and len(kept.list("counseling", "local")) == 1  # 0 = forever


def test_bounds_and_bad_input_get_clear_errors_and_change_nothing(db: str):
    from sqlalchemy import insert

    client = _client()
    cid = client.post(BASE, json={}).json()["id"]
    url = f"{BASE}/{cid}/messages"
    err = _error(client.post(url, json={"role": "user", "content": "x" * 32_001}), 400, "conversation_limit")
    assert err["param"] == "content" and "32000" in err["message"] and err["hint"]
    _error(client.post(url, json={"role": "user", "content": "  "}), 400, "conversation_limit")
    assert _error(client.post(url, json={"role": "system", "content": "x"}), 400, "invalid_value")["param"] == "role"
    _error(client.post(url, json={"role": "user", "content": "x", "extra": 1}), 400, "invalid_value")
    assert _error(client.post(BASE, json={"title": "t" * 201}), 400, "conversation_limit")["param"] == "title"
    _error(client.patch(f"{BASE}/{cid}", json={"title": ""}), 400, "conversation_limit")
    _error(client.get(f"{BASE}/nosuch"), 404, "conversation_not_found")
    _error(client.get("/v1/domains/nosuch/conversations"), 404, "domain_not_found")
    assert client.get(f"{BASE}/{cid}").json()["messages"] == []  # nothing stored by the refused writes

    store = conversations.ConversationStore(db)
    rows = [
        {"conversation_id": cid, "position": i, "role": "user", "content": f"m{i}", "meta": "{}", "created": 1.0}
        for i in range(conversations.MAX_MESSAGES)
    ]
    with store.engine.begin() as conn:
        conn.execute(insert(store.messages), rows)
    full = _error(client.post(url, json={"role": "user", "content": "one more"}), 400, "conversation_limit")
    assert "1000" in full["message"] and "new conversation" in full["hint"]
    assert _message_rows(db) == conversations.MAX_MESSAGES


def test_concurrent_appends_from_two_writers_lose_nothing(db: str):
    import threading

    writers = [conversations.ConversationStore(db), conversations.ConversationStore(db)]
    cid = writers[0].create("counseling", "local", "busy").id

    def write(store: conversations.ConversationStore, tag: str) -> None:
        for i in range(15):
            store.append("counseling", "local", cid, "user", f"{tag}{i}")

    threads = [threading.Thread(target=write, args=(s, t)) for s, t in zip(writers, "ab")]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    contents = [m.content for m in writers[1].get("counseling", "local", cid).messages]
    assert sorted(contents) == sorted([f"{t}{i}" for t in "ab" for i in range(15)])
    assert [c for c in contents if c.startswith("a")] == [f"a{i}" for i in range(15)]  # each writer's order kept
