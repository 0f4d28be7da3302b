"""VERTICAL_CHROMA_URL: the same ingest/search/delete through a real Chroma server (`chroma run`,
shipped with the chromadb package) instead of the local PersistentClient."""

from __future__ import annotations

import shutil
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

from knowledge.jobs import IngestJob
from knowledge.store import KnowledgeBase
from vertical.core.errors import KnowledgeError
from vertical.core.settings import get_settings, reset_settings


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def chroma_url(tmp_path_factory: pytest.TempPathFactory):
    import httpx

    chroma = Path(sys.executable).parent / "chroma"
    if not chroma.is_file():
        chroma = Path(shutil.which("chroma") or "chroma")
    port = _free_port()
    data = tmp_path_factory.mktemp("chroma-server")
    log = (data / "server.log").open("wb")
    proc = subprocess.Popen(
        [str(chroma), "run", "--path", str(data / "db"), "--host", "127.0.0.1", "--port", str(port)],
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            if httpx.get(url + "/api/v2/heartbeat", timeout=1).status_code == 200:
                break
        except httpx.HTTPError:
            time.sleep(0.2)
    else:
        proc.kill()
        pytest.fail("chroma run did not start: " + (data / "server.log").read_text(errors="replace")[-2000:])
    yield url
    proc.terminate()
    proc.wait(timeout=30)


def test_ingest_search_and_isolation_through_a_chroma_server(make_domain, chroma_url: str, monkeypatch) -> None:
    monkeypatch.setenv("VERTICAL_CHROMA_URL", chroma_url)
    reset_settings()
    sleep = make_domain("srv-sleep", {"sleep.md": "# Sleep\n\nKeep the same wake time every day, even on weekends."})
    grief = make_domain("srv-grief", {"grief.md": "# Grief\n\nGrief comes in waves; let friends help with meals."})
    assert IngestJob(sleep).run().added == ["sleep.md"]
    assert IngestJob(grief).run().added == ["grief.md"]

    kb = KnowledgeBase.for_domain(sleep)
    hits = kb.search("what time should I wake up?", k=3)
    assert hits and {h.source for h in hits} == {"sleep.md"}  # never the other domain's chunks
    assert not (get_settings().domain_dir("srv-sleep") / "chroma" / "chroma.sqlite3").exists()  # not stored locally
    again = IngestJob(sleep).run()
    assert again.unchanged == ["sleep.md"] and again.chunks_written == 0
    kb.delete_document("sleep.md")
    assert kb.count() == 0 and KnowledgeBase.for_domain(grief).count() > 0


def test_an_unreachable_chroma_server_is_a_clear_error(make_domain, monkeypatch) -> None:
    monkeypatch.setenv("VERTICAL_CHROMA_URL", f"http://127.0.0.1:{_free_port()}")
    reset_settings()
    spec = make_domain("srv-down", {"a.md": "# A\n\nSome text."})
    with pytest.raises(KnowledgeError) as err:
        IngestJob(spec).run()
    assert "VERTICAL_CHROMA_URL" in err.value.hint
