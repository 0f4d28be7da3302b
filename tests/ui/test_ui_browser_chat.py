"""Chat in a real browser: a conversation survives a reload, a flagged answer shows its grounding warning, and
the language toggle switches the page titles. Screenshots: chat.png, grounding.png (VERTICAL_SCREENSHOT_DIR)."""

from __future__ import annotations

import re
from pathlib import Path

from browser import BROWSER_MARKS, screenshot_path, streamlit_page

from ui.client import ApiClient

pytestmark = BROWSER_MARKS
QUESTION = "How can I sleep better when I feel anxious?"


def _ask(page, question: str) -> None:
    box = page.get_by_test_id("stChatInputTextArea")
    box.wait_for(timeout=60_000)
    box.fill(question)
    box.press("Enter")
    page.get_by_role("button", name="Helpful", exact=True).wait_for(timeout=180_000)
    page.get_by_test_id("stStatusWidget").wait_for(state="hidden", timeout=30_000)


def test_browser_reload_reopens_the_conversation_from_the_server(ui_api: dict, tmp_path: Path):
    client = ApiClient(ui_api["url"])
    with streamlit_page(ui_api["url"], tmp_path) as page:
        _ask(page, QUESTION)
        match = re.search(r"[?&]c=([^&]+)", page.url)
        assert match, f"the conversation id is not in the URL: {page.url}"
        cid = match.group(1)
        page.reload(wait_until="domcontentloaded")
        # after the reload the page has nothing in memory: what it shows came from GET .../conversations/{id}
        page.get_by_test_id("stChatMessage").first.wait_for(timeout=60_000)
        page.get_by_role("button", name="Helpful", exact=True).wait_for(timeout=60_000)
        messages = page.get_by_test_id("stChatMessage")
        assert messages.count() == 2 and QUESTION in messages.nth(0).inner_text()
        shown_answer = messages.nth(1).inner_text()
        sidebar = page.get_by_test_id("stSidebar")
        assert QUESTION[:40] in sidebar.inner_text()  # listed among the past conversations
        page.get_by_test_id("stStatusWidget").wait_for(state="hidden", timeout=30_000)
        page.wait_for_timeout(500)
        shot = screenshot_path(tmp_path, "chat.png")
        page.screenshot(path=str(shot), full_page=True)
    stored = client.conversation("counseling", cid)
    assert [m["role"] for m in stored["messages"]] == ["user", "assistant"] and stored["messages"][0][
        "content"
    ] == QUESTION
    first_words = " ".join(stored["messages"][1]["content"].split()[:4])
    assert first_words and first_words in " ".join(shown_answer.split())  # the reloaded page shows the stored answer
    assert shot.stat().st_size > 10_000


def test_browser_flagged_answer_shows_the_grounding_warning(flag_api: dict, tmp_path: Path):
    with streamlit_page(flag_api["url"], tmp_path) as page:
        _ask(page, QUESTION)
        warning = page.get_by_text("This answer may not be supported by its sources", exact=False).first
        warning.wait_for(timeout=30_000)
        assert re.search(r"grounding 0\.\d\d < 0\.95", warning.inner_text())
        page.wait_for_timeout(500)
        shot = screenshot_path(tmp_path, "grounding.png")
        page.screenshot(path=str(shot), full_page=True)
    assert shot.stat().st_size > 10_000


def test_browser_chinese_toggle_switches_the_page_titles(ui_api: dict, tmp_path: Path):
    with streamlit_page(ui_api["url"], tmp_path) as page:
        nav = page.get_by_test_id("stSidebarNav")
        nav.wait_for(timeout=60_000)
        page.get_by_text("Ask the domain assistant", exact=True).wait_for(timeout=60_000)  # counseling is English
        assert "Build & eval" in nav.inner_text()
        page.get_by_test_id("stSidebar").get_by_text("中文", exact=True).click()
        page.get_by_text("向领域助手提问", exact=True).wait_for(timeout=30_000)
        titles = nav.inner_text()
        assert "对话" in titles and "知识库" in titles and "构建与评估" in titles and "Build & eval" not in titles
        page.wait_for_timeout(300)
        page.screenshot(path=str(screenshot_path(tmp_path, "chat-zh.png")), full_page=True)
