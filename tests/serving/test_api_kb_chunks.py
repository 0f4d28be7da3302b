"""Knowledge curation over the REST API: chunk preview, disable/enable chunks and documents, re-ingest one."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

pytestmark = pytest.mark.slow  # an engine, an embedder and an ingest

COUNSELING = Path(__file__).resolve().parents[2] / "examples" / "counseling"
DOMAIN = "curation"
SLEEP, PANIC = "sleep-hygiene.md", "panic-attacks.md"
QUERY = "stop drinking coffee caffeine by early afternoon"  # words of one sleep-hygiene chunk: both arms find it


@pytest.fixture(scope="module")
def curated(tmp_path_factory: pytest.TempPathFactory, serve_workspace: Path, engine) -> dict:
    """Its own 2-document domain (the session KB of the other serving tests stays untouched)."""
    from knowledge.jobs import IngestJob
    from serving.api import create_app
    from serving.api.config import ServeSettings
    from serving.domains import load_runtime
    from vertical.core.settings import reset_settings
    from vertical.core.spec import load_domain

    os.environ["VERTICAL_WORKSPACE"] = str(serve_workspace)  # module fixtures run before the autouse one
    reset_settings()
    root = tmp_path_factory.mktemp("curation")
    (root / "docs").mkdir()
    for name in (SLEEP, PANIC):
        shutil.copy(COUNSELING / "docs" / name, root / "docs" / name)
    yaml = (COUNSELING / "domain.yaml").read_text(encoding="utf-8")
    (root / "domain.yaml").write_text(yaml.replace("name: counseling", f"name: {DOMAIN}", 1), encoding="utf-8")
    assert IngestJob(load_domain(root)).run().to_dict()["added"] == 2
    runtime = load_runtime(root, engine)
    with TestClient(create_app([], ServeSettings(), runtimes={DOMAIN: runtime})) as client:  # runs the ingest queue
        yield {"root": root, "client": client, "kb": runtime.kb(), "spec": load_domain(root)}


@pytest.fixture
def api(curated: dict):
    """Each test starts and ends with every chunk enabled."""
    yield curated
    for doc in curated["kb"].list_documents():
        curated["client"].post(f"/v1/domains/{DOMAIN}/documents/{doc['source']}/enable")


def _chunks(client: TestClient, source: str) -> dict:
    r = client.get(f"/v1/domains/{DOMAIN}/documents/{source}/chunks")
    assert r.status_code == 200, r.text
    return r.json()


def _search(client: TestClient, query: str = QUERY, k: int = 10) -> list[dict]:
    r = client.get(f"/v1/domains/{DOMAIN}/chunks", params={"q": query, "k": k})
    assert r.status_code == 200, r.text
    return r.json()["hits"]


def _caffeine_chunk(client: TestClient) -> dict:
    return next(c for c in _chunks(client, SLEEP)["chunks"] if "Caffeine can stay" in c["text"])


def test_preview_lists_chunks_in_document_order_with_embedder_token_counts(api: dict):
    from vertical.core.loaders import load_tokenizer
    from vertical.core.text import count_tokens

    body = _chunks(api["client"], SLEEP)
    assert body["source"] == SLEEP and body["title"].startswith("Sleep Hygiene")
    chunks = body["chunks"]
    assert [c["position"] for c in chunks] == list(range(len(chunks))) and len(chunks) >= 3
    assert [c["id"] for c in chunks] == list(api["kb"].records.get(SLEEP).chunk_ids)  # the order ingest wrote
    tokenizer = load_tokenizer(api["spec"].embedder)  # what chunking sized them with
    for c in chunks:
        assert c["tokens"] == count_tokens(c["text"], tokenizer) and 0 < c["tokens"] <= api["spec"].knowledge.chunk_size
        assert c["disabled"] is False and set(c) == {"id", "text", "heading", "position", "tokens", "disabled"}
    assert chunks[0]["text"].startswith("Anxiety and sleep affect each other")
    assert any("Keep a consistent wake time" in c["heading"] for c in chunks)
    hit = _search(api["client"])[0]  # the search the UI shows: all three scores side by side
    assert hit["chunk_id"] == _caffeine_chunk(api["client"])["id"]
    assert hit["dense_score"] is not None and hit["bm25_score"] is not None and hit["score"] > 0


def test_a_disabled_chunk_leaves_dense_and_bm25_search_and_survives_a_restart(api: dict):
    from knowledge.store import KnowledgeBase

    client, kb = api["client"], api["kb"]
    target = _caffeine_chunk(client)["id"]
    r = client.post(f"/v1/domains/{DOMAIN}/chunks/{target}/disable")
    assert r.status_code == 200 and r.json() == {"chunk_id": target, "source": SLEEP, "disabled": 1, "changed": 1}
    assert target not in [h["chunk_id"] for h in _search(client)]
    assert _caffeine_chunk(client)["disabled"] is True
    assert {d["source"]: d["disabled"] for d in client.get(f"/v1/domains/{DOMAIN}/documents").json()["documents"]} == {
        SLEEP: 1,
        PANIC: 0,
    }
    # each arm alone (another weight set off): neither returns it; a fresh instance reads the flag from Chroma
    for weights in ({"dense_weight": 0.0}, {"bm25_weight": 0.0}):
        retrieval = kb.knowledge.retrieval.model_copy(update=weights)
        knowledge = kb.knowledge.model_copy(update={"retrieval": retrieval})
        fresh = KnowledgeBase(kb.domain, kb.embedder, knowledge, kb.folder)
        ids = [h.chunk_id for h in fresh.search(QUERY, k=10)]
        assert ids and target not in ids, weights
    # a new process (a server restart) sees it disabled
    probe = (
        "import json; from knowledge.store import KnowledgeBase; from knowledge.curation import disabled_ids;"
        "from vertical.core.spec import load_domain;"
        f"kb = KnowledgeBase.for_domain(load_domain({str(api['root'])!r}));"
        "print(json.dumps(sorted(disabled_ids(kb))))"
    )
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, timeout=120, env=os.environ)
    assert out.returncode == 0, out.stderr
    assert json.loads(out.stdout.strip().splitlines()[-1]) == [target]
    # enabled again: search finds it first, as before
    assert client.post(f"/v1/domains/{DOMAIN}/chunks/{target}/enable").json()["disabled"] == 0
    assert _search(client)[0]["chunk_id"] == target


def test_disabling_a_whole_document_then_enabling_it(api: dict):
    client = api["client"]
    n = len(_chunks(client, PANIC)["chunks"])
    question = "what to do during a panic attack"
    assert any(h["source"] == PANIC for h in _search(client, question))
    r = client.post(f"/v1/domains/{DOMAIN}/documents/{PANIC}/disable")
    assert r.status_code == 200 and r.json() == {"source": PANIC, "disabled": n, "changed": n}
    hits = _search(client, question)
    assert hits and all(h["source"] == SLEEP for h in hits)  # nothing lost: the other document still answers
    assert all(c["disabled"] for c in _chunks(client, PANIC)["chunks"])
    docs = {d["source"]: d for d in client.get(f"/v1/domains/{DOMAIN}/documents").json()["documents"]}
    assert docs[PANIC]["disabled"] == n and docs[PANIC]["chunks"] == n  # disabled, not deleted
    kb = api["kb"]  # training data synthesis reads all_chunks: a disabled chunk is not trained on either
    assert not any(h.source == PANIC for h in kb.all_chunks())
    assert sum(h.source == PANIC for h in kb.all_chunks(include_disabled=True)) == n
    assert client.post(f"/v1/domains/{DOMAIN}/documents/{PANIC}/enable").json()["disabled"] == 0
    assert any(h["source"] == PANIC for h in _search(client, question))


def test_many_disabled_chunks_are_filtered_inside_chroma(api: dict, monkeypatch: pytest.MonkeyPatch):
    """Past the over-fetch bound the dense arm filters with a Chroma ``where``: same outcome."""
    from knowledge import curation

    monkeypatch.setattr(curation, "_OVERFETCH_MAX", 0)
    kb = api["kb"]
    target = _caffeine_chunk(api["client"])["id"]
    curation.set_chunk_disabled(kb, target, True)
    flt = curation.enabled_filter(kb, {"source": SLEEP}, 10)
    assert flt.where == {"$and": [{"source": SLEEP}, {"disabled": {"$ne": True}}]}
    hits = kb.search(QUERY, k=10, where={"source": SLEEP})
    assert hits and target not in [h.chunk_id for h in hits] and {h.source for h in hits} == {SLEEP}


def test_unknown_document_or_chunk_is_404_with_a_hint(api: dict):
    client = api["client"]
    for method, path in (
        ("GET", "documents/nope.md/chunks"),
        ("POST", "documents/nope.md/disable"),
        ("POST", "documents/nope.md/reingest"),
        ("POST", "chunks/0123456789abcdef/disable"),
    ):
        r = client.request(method, f"/v1/domains/{DOMAIN}/{path}")
        assert r.status_code == 404, (path, r.text)
        err = r.json()["error"]
        assert err["hint"] and ("nope.md" in err["message"] or "0123456789abcdef" in err["message"])
    assert client.post(f"/v1/domains/{DOMAIN}/chunks/0123456789abcdef/enable").json()["error"]["code"] == (
        "chunk_not_found"
    )


def _run_job(client: TestClient, job_id: str) -> dict:
    deadline = time.monotonic() + 120
    while (job := client.get(f"/v1/jobs/{job_id}").json())["status"] in ("pending", "running", "queued"):
        assert time.monotonic() < deadline, job
        time.sleep(0.2)
    assert job["status"] == "done", job
    return job


def test_reingest_keeps_flags_of_unchanged_text_and_a_rewritten_chunk_starts_enabled(api: dict):
    client, root = api["client"], api["root"]
    chunks = _chunks(client, SLEEP)["chunks"]
    kept, rewritten = chunks[0], _caffeine_chunk(client)
    for c in (kept, rewritten):
        assert client.post(f"/v1/domains/{DOMAIN}/chunks/{c['id']}/disable").json()["disabled"] == 1
    r = client.post(f"/v1/domains/{DOMAIN}/documents/{SLEEP}/reingest")  # file unchanged: nothing to do
    assert r.status_code == 200 and r.json()["files"] == [SLEEP]
    assert _run_job(client, r.json()["job_id"])["report"]["unchanged"] == 1
    assert {c["id"] for c in _chunks(client, SLEEP)["chunks"] if c["disabled"]} == {kept["id"], rewritten["id"]}

    path = root / "docs" / SLEEP
    original = path.read_text(encoding="utf-8")
    try:
        path.write_text(original.replace("Caffeine can stay", "Caffeine really can stay"), encoding="utf-8")
        job = _run_job(client, client.post(f"/v1/domains/{DOMAIN}/documents/{SLEEP}/reingest").json()["job_id"])
        assert job["report"]["updated"] == 1
        after = {c["id"]: c for c in _chunks(client, SLEEP)["chunks"]}
        assert after[kept["id"]]["disabled"] is True  # same text → same id → flag kept
        assert rewritten["id"] not in after  # its text changed: a new chunk replaced it, enabled
        new = next(c for c in after.values() if "Caffeine really can stay" in c["text"])
        assert new["disabled"] is False
        assert new["id"] in [h["chunk_id"] for h in _search(client)]
    finally:
        path.write_text(original, encoding="utf-8")
        _run_job(client, client.post(f"/v1/domains/{DOMAIN}/documents/{SLEEP}/reingest").json()["job_id"])


def test_reingest_of_a_file_gone_from_disk_says_so_and_keeps_the_document(api: dict):
    client, root = api["client"], api["root"]
    path = root / "docs" / PANIC
    moved = path.with_suffix(".bak")
    path.rename(moved)
    try:
        r = client.post(f"/v1/domains/{DOMAIN}/documents/{PANIC}/reingest")
        assert r.status_code == 400 and "is gone" in r.json()["error"]["message"]
        assert "upload the document again" in r.json()["error"]["hint"]
        assert len(_chunks(client, PANIC)["chunks"]) > 0  # nothing lost
    finally:
        moved.rename(path)
