"""The Build & eval page in a real browser on a real auto build: the candidates' comparison chart renders.
Screenshot: build.png (VERTICAL_SCREENSHOT_DIR)."""

from __future__ import annotations

from pathlib import Path

from browser import BROWSER_MARKS, screenshot_path, streamlit_page

pytestmark = BROWSER_MARKS


def test_browser_build_page_draws_the_candidates_with_intervals(built_api: dict, tmp_path: Path):
    verdict = built_api["manifest"]["verdict"]
    with streamlit_page(built_api["url"], tmp_path, "build") as page:
        page.get_by_text("Candidates side by side", exact=True).wait_for(timeout=120_000)
        charts = page.locator(".vega-embed")
        charts.first.wait_for(timeout=60_000)
        page.get_by_test_id("stStatusWidget").wait_for(state="hidden", timeout=60_000)
        assert charts.count() == 2
        # vega draws into a canvas or svg: a rendered chart has a real size, an empty spec does not
        box = charts.first.bounding_box()
        assert box and box["width"] > 300 and box["height"] > 150
        assert page.get_by_text(verdict["reason"][:60], exact=False).count() >= 1
        page.get_by_text("Crisis detection", exact=True).wait_for(timeout=30_000)
        # Streamlit scrolls inside its own container (full_page sees one screen): show the evaluation from its top
        page.set_viewport_size({"width": 1280, "height": 1400})
        page.get_by_text("Evaluation", exact=True).evaluate("e => e.scrollIntoView({block: 'start'})")
        page.wait_for_timeout(1_000)  # let vega finish drawing before the screenshot
        shot = screenshot_path(tmp_path, "build.png")
        page.screenshot(path=str(shot))
    assert shot.stat().st_size > 20_000
