"""The real thing: `streamlit run ui/app.py` + the API, driven by Debian chromium through Playwright."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

from browser import BROWSER_MARKS, REPO, streamlit_page

from finetune.data.feedback import FeedbackStore
from ui.client import ApiClient

BENCH_OUT = REPO / "bench" / "out"

pytestmark = BROWSER_MARKS


def test_browser_chat_question_gets_streamed_answer_with_sources(ui_api: dict, tmp_path: Path):
    with streamlit_page(ui_api["url"], tmp_path) as page:
        box = page.get_by_test_id("stChatInputTextArea")
        box.wait_for(timeout=60_000)
        box.fill("How can I sleep better when I feel anxious?")
        box.press("Enter")
        sources = page.get_by_text("Sources (", exact=False)
        sources.wait_for(timeout=180_000)
        answer = page.get_by_test_id("stChatMessage").nth(1)
        assert len(answer.inner_text().split()) > 5
        helpful = page.get_by_role("button", name="Helpful", exact=True)
        helpful.wait_for(timeout=30_000)  # the run that streamed the answer has finished
        page.get_by_test_id("stStatusWidget").wait_for(state="hidden", timeout=30_000)
        sources.click()
        page.get_by_text("sleep-hygiene.md", exact=False).first.wait_for(timeout=10_000)
        page.wait_for_timeout(500)  # let the expander finish opening before the screenshot
        # base+rag, or extractive when counseling's grounding policy replaced a poorly grounded answer
        assert page.get_by_text(re.compile(r"path: (base\+rag|extractive)")).count() == 1
        shot = tmp_path / "ui-chat.png"
        page.screenshot(path=str(shot), full_page=True)
        helpful.click()
        page.get_by_text("thumbs up saved", exact=False).wait_for(timeout=30_000)
    assert shot.stat().st_size > 10_000
    api_db = f"sqlite:///{(ui_api['workspace'] / 'vertical.sqlite').resolve()}"  # the API stores feedback
    rows = FeedbackStore(api_db).list("counseling")
    assert [r.rating for r in rows] == [1] and rows[0].sources[0] == "uploads/sleep-hygiene.md"  # uploaded via the API
    BENCH_OUT.mkdir(parents=True, exist_ok=True)
    shutil.copy(shot, BENCH_OUT / "ui-chat.png")


def test_browser_upload_shows_live_job_and_report(ui_api: dict, tmp_path: Path):
    BENCH_OUT.mkdir(parents=True, exist_ok=True)
    upload = tmp_path / "upload"
    upload.mkdir()
    shutil.copy(REPO / "examples/counseling/docs/loneliness.txt", upload / "loneliness.txt")
    (upload / "scan.docx").write_bytes(b"not a zip at all")
    with streamlit_page(ui_api["url"], tmp_path, "knowledge") as page:
        page.get_by_text("Add documents", exact=False).wait_for(timeout=60_000)
        # a deep link keeps the app's navigation (titles, not file names)
        assert "Build & eval" in page.get_by_test_id("stSidebarNav").inner_text()
        page.locator("input[type=file]").set_input_files([str(upload / "loneliness.txt"), str(upload / "scan.docx")])
        page.get_by_role("button", name="Ingest", exact=True).click()
        page.get_by_text("Ingestion finished.", exact=False).wait_for(timeout=120_000)
        page.get_by_text("Files not ingested", exact=False).wait_for(timeout=10_000)
        page.get_by_test_id("stStatusWidget").wait_for(state="hidden", timeout=30_000)
        page.get_by_text("corrupt DOCX", exact=False).first.wait_for(timeout=10_000)
        page.wait_for_timeout(500)
        page.screenshot(path=str(tmp_path / "ui-knowledge.png"), full_page=True)
        shutil.copy(tmp_path / "ui-knowledge.png", BENCH_OUT / "ui-knowledge.png")
        assert page.get_by_text("corrupt DOCX", exact=False).count() == 1
    assert "uploads/loneliness.txt" in [d["source"] for d in ApiClient(ui_api["url"]).documents("counseling")]
