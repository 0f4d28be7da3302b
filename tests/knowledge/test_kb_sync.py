"""Incremental, idempotent ingestion: unchanged → no writes; changed → only its chunks; --sync deletes."""

from __future__ import annotations

from pathlib import Path

import pytest

from knowledge.jobs import IngestJob
from knowledge.store import KnowledgeBase
from vertical.core.errors import DocumentNotFoundError
from vertical.core.settings import get_settings

DOCS = {
    "sleep.md": "# Sleep\n\nKeep the same wake time every day, even on weekends.\n\n## Screens\n\n"
    "Put phones away an hour before bed.",
    "grief.txt": "Grief comes in waves. Let friends help with meals and errands in the first weeks.",
    "panic.md": "# Panic\n\nA panic attack peaks within about ten minutes and then passes.",
    "notes/anger.md": "# Anger\n\nAnger often signals a crossed boundary. Pause and breathe before replying.",
    "broken.pdf": b"%PDF-1.4 this is not a real pdf",
    "empty.txt": "",
}


def _snapshot(folder: Path) -> dict[str, tuple[float, int]]:
    return {
        str(p.relative_to(folder)): (p.stat().st_mtime_ns, p.stat().st_size)
        for p in folder.rglob("*")
        if p.is_file() and p.name != "ingest.lock"
    }


def _stored_ids(kb: KnowledgeBase, source: str) -> set[str]:
    return set(kb.vectors.ids(where={"source": source}))


def test_first_ingest_reports_and_second_ingest_writes_nothing(make_domain) -> None:
    spec = make_domain("sync-a", DOCS)
    progress: list[dict] = []
    report = IngestJob(spec).run(on_progress=progress.append).to_dict()
    assert report["added"] == 4 and report["updated"] == 0 and report["failed"] == []
    assert {s["path"]: s["reason"] for s in report["skipped"]} == {
        "broken.pdf": report["skipped"][0]["reason"],
        "empty.txt": "empty file",
    }
    assert "corrupt PDF" in report["skipped"][0]["reason"] or "no extractable" in report["skipped"][0]["reason"]
    assert progress[-1]["files_done"] == progress[-1]["files_total"] == 6
    kb = KnowledgeBase.for_domain(spec)
    assert kb.count() == report["chunks_total"] == len(kb.vectors.ids()) > 0
    assert {d["source"] for d in kb.list_documents()} == {"sleep.md", "grief.txt", "panic.md", "notes/anger.md"}
    hit = kb.get_chunks(sorted(kb.records.get("sleep.md").chunk_ids))[0]
    assert (
        hit.title == "Sleep"
        and {"source", "title", "heading", "position", "hash", "ingested_at"} <= hit.metadata.keys()
    )

    folder = get_settings().domain_dir(spec.name)
    before, hash_before = _snapshot(folder), kb.content_hash()
    again = IngestJob(spec).run().to_dict()
    assert again["added"] == again["updated"] == again["chunks_written"] == 0
    assert again["unchanged"] == 4
    assert _snapshot(folder) == before  # no byte of the store was rewritten
    assert kb.content_hash() == hash_before


def test_changed_file_replaces_only_its_chunks_and_sync_removes_deleted(make_domain) -> None:
    spec = make_domain("sync-b", DOCS)
    IngestJob(spec).run()
    kb = KnowledgeBase.for_domain(spec)
    untouched = {s: _stored_ids(kb, s) for s in ("grief.txt", "panic.md", "notes/anger.md")}
    old_sleep, old_hash = _stored_ids(kb, "sleep.md"), kb.content_hash()

    docs = spec.root / "docs"
    (docs / "sleep.md").write_text(DOCS["sleep.md"] + "\n\n## Caffeine\n\nHave the last coffee by early afternoon.")
    report = IngestJob(spec).run()
    assert report.updated == ["sleep.md"] and report.added == []
    new_sleep = _stored_ids(kb, "sleep.md")
    assert new_sleep != old_sleep and len(new_sleep) == len(kb.records.get("sleep.md").chunk_ids)
    assert {s: _stored_ids(kb, s) for s in untouched} == untouched
    assert kb.content_hash() != old_hash
    assert any("coffee" in h.text for h in kb.search("when should I stop drinking coffee", k=2))

    (docs / "panic.md").unlink()
    without_sync = IngestJob(spec).run()
    assert without_sync.deleted == [] and _stored_ids(kb, "panic.md")  # kept until --sync
    synced = IngestJob(spec, sync=True).run()
    assert synced.deleted == ["panic.md"]
    assert _stored_ids(kb, "panic.md") == set()
    assert all(h.source != "panic.md" for h in kb.search("panic attack peaks within ten minutes", k=5))
    assert kb.count() == len(kb.vectors.ids())


def test_delete_document_and_unknown_document(make_domain) -> None:
    spec = make_domain("sync-c", {k: v for k, v in DOCS.items() if k.endswith(".md")})
    IngestJob(spec).run()
    kb = KnowledgeBase.for_domain(spec)
    n = len(kb.records.get("panic.md").chunk_ids)
    assert kb.delete_document("panic.md") == n
    assert "panic.md" not in {d["source"] for d in kb.list_documents()}
    assert all(h.source != "panic.md" for h in kb.search("panic attack", k=5))
    with pytest.raises(DocumentNotFoundError, match="no document 'panic.md'"):
        kb.delete_document("panic.md")


def test_domains_are_isolated(make_domain) -> None:
    a = make_domain("iso-a", {"a.md": "# Tides\n\nThe tide tables for the harbour are posted at the pier."})
    b = make_domain("iso-b", {"b.md": "# Tax\n\nFile the quarterly tax return before the fifteenth."})
    IngestJob(a).run()
    IngestJob(b).run()
    kb_a, kb_b = KnowledgeBase.for_domain(a), KnowledgeBase.for_domain(b)
    assert [h.source for h in kb_a.search("quarterly tax return", k=5)] == ["a.md"]
    assert [h.source for h in kb_b.search("harbour tide tables", k=5)] == ["b.md"]
    assert kb_a.collection_name != kb_b.collection_name


def test_cancel_stops_between_groups_and_keeps_committed_work(make_domain, monkeypatch) -> None:
    import knowledge.jobs

    monkeypatch.setattr(knowledge.jobs, "EMBED_GROUP_CHUNKS", 1)  # one file per embed+commit group
    files = {f"doc{i:02d}.md": f"# Doc {i}\n\nFact number {i} is about topic {i}." for i in range(6)}
    spec = make_domain("cancel", files)
    job = IngestJob(spec)

    def cancel_after_two(p: dict) -> None:
        if p["files_done"] >= 2:
            job.cancel()

    report = job.run(on_progress=cancel_after_two)
    assert job.status == "cancelled" and report.cancelled
    assert 2 <= len(report.added) < 6
    kb = KnowledgeBase.for_domain(spec)
    assert {d["source"] for d in kb.list_documents()} == set(report.added)
    rest = IngestJob(spec).run()
    assert sorted(rest.added + rest.unchanged) == sorted(files) and len(rest.unchanged) == len(report.added)


def test_a_file_the_store_rejects_fails_alone_and_its_group_is_kept(make_domain, monkeypatch) -> None:
    from knowledge.vector_store import ChromaStore as VectorStore

    files = {f"doc{i}.md": f"# Doc {i}\n\nFact number {i} is about topic {i}." for i in range(4)}
    spec = make_domain("group-fail", files)
    original = VectorStore.upsert

    def reject_doc2(self, ids, embeddings, documents, metadatas):
        if any(m["source"] == "doc2.md" for m in metadatas):
            raise ValueError("metadata rejected by the store")
        return original(self, ids, embeddings, documents, metadatas)

    monkeypatch.setattr(VectorStore, "upsert", reject_doc2)
    report = IngestJob(spec).run()
    assert [f["path"] for f in report.failed] == ["doc2.md"] and "metadata rejected" in report.failed[0]["reason"]
    assert sorted(report.added) == ["doc0.md", "doc1.md", "doc3.md"]
    kb = KnowledgeBase.for_domain(spec)
    assert {d["source"] for d in kb.list_documents()} == {"doc0.md", "doc1.md", "doc3.md"}
    assert kb.records.pending() == []  # nothing half-done left behind
    monkeypatch.setattr(VectorStore, "upsert", original)
    assert IngestJob(spec).run().added == ["doc2.md"]  # the next run picks it up


def test_a_changed_embedder_re_embeds_every_chunk(make_domain) -> None:
    import json
    import sqlite3

    spec = make_domain("reembed", {k: v for k, v in DOCS.items() if k.endswith(".md")})
    first = IngestJob(spec).run()
    kb = KnowledgeBase.for_domain(spec)
    with sqlite3.connect(kb.records.path) as conn:  # pretend the stored vectors came from another model
        for source, config in conn.execute("SELECT source, config FROM files").fetchall():
            conn.execute(
                "UPDATE files SET config = ? WHERE source = ?",
                (json.dumps({**json.loads(config), "embedder": "old-embedder"}), source),
            )
    again = IngestJob(spec).run()
    assert any("embedder changed (old-embedder -> all-minilm-l6-v2)" in n["note"] for n in again.notes)
    assert again.chunks_written == first.chunks_total == again.chunks_total == kb.vectors.count()
    assert kb.search("wake time weekends", k=1)[0].source == "sleep.md"
    assert IngestJob(spec).run().chunks_written == 0  # and then it is settled
