"""The knowledge page in a real browser: pick a document, open one of its chunks, read its text."""

from __future__ import annotations

from pathlib import Path

from browser import BROWSER_MARKS, screenshot_path, streamlit_page

from ui.client import ApiClient

pytestmark = BROWSER_MARKS


def test_browser_knowledge_page_previews_a_documents_chunks(ui_api: dict, tmp_path: Path):
    client = ApiClient(ui_api["url"])
    source = next(d["source"] for d in client.documents("counseling") if d["source"].endswith("sleep-hygiene.md"))
    first = client.document_chunks("counseling", source)["chunks"][0]
    with streamlit_page(ui_api["url"], tmp_path, "knowledge") as page:
        picker = page.get_by_test_id("stSelectbox").filter(has_text="Document to preview")
        picker.wait_for(timeout=120_000)
        picker.click()
        page.get_by_role("option", name=source, exact=True).click()
        chunk = page.get_by_test_id("stExpander").filter(has_text=f"#1 · {first['heading']}").first
        chunk.wait_for(timeout=60_000)
        assert f"{first['tokens']} tokens" in chunk.inner_text()
        chunk.get_by_text(f"#1 · {first['heading']}", exact=False).click()
        page.get_by_text(first["text"][:60], exact=False).first.wait_for(timeout=30_000)
        assert page.get_by_text("Use in answers", exact=True).first.is_visible()
        page.get_by_test_id("stStatusWidget").wait_for(state="hidden", timeout=30_000)
        page.wait_for_timeout(500)  # let the expander finish opening before the screenshot
        page.get_by_text(first["text"][:60], exact=False).first.scroll_into_view_if_needed()  # the text in the shot
        shot = screenshot_path(tmp_path, "knowledge.png")
        page.screenshot(path=str(shot), full_page=True)
    assert shot.stat().st_size > 10_000
