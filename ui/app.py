"""The vertical domain assistant (Streamlit). Talks only to the REST API at settings.api_url.

Run with `vertical ui <domain folder>`, or `streamlit run ui/app.py` against a running API.
"""

from __future__ import annotations

from pathlib import Path

import streamlit as st

from ui.common import domain_language_default, language_toggle
from ui.i18n import t
from vertical.core.settings import get_settings

# not "pages/": Streamlit would auto-discover that folder and bypass st.navigation on deep links
PAGES = Path(__file__).resolve().parent / "views"

st.set_page_config(page_title="vertical assistant", page_icon=":material/chat:", layout="wide")
# the language decides the navigation titles, so it is settled before st.navigation draws them
domain_language_default()
language_toggle()
page = st.navigation(
    [
        st.Page(PAGES / "chat.py", title=t("Chat", "对话"), icon=":material/chat:", default=True),
        st.Page(PAGES / "knowledge.py", title=t("Knowledge", "知识库"), icon=":material/library_books:"),
        st.Page(PAGES / "review.py", title=t("Feedback review", "反馈审核"), icon=":material/rate_review:"),
        st.Page(PAGES / "build.py", title=t("Build & eval", "构建与评估"), icon=":material/build:"),
    ]
)
st.sidebar.caption(f"API: {get_settings().api_url}")
page.run()
