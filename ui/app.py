"""The vertical domain assistant (Streamlit). Talks only to the REST API at settings.api_url.

Run with `vertical ui <domain folder>`, or `streamlit run ui/app.py` against a running API.
"""

from __future__ import annotations

from pathlib import Path

import streamlit as st

from vertical.core.settings import get_settings

# not "pages/": Streamlit would auto-discover that folder and bypass st.navigation on deep links
PAGES = Path(__file__).resolve().parent / "views"

st.set_page_config(page_title="vertical assistant", page_icon=":material/chat:", layout="wide")
page = st.navigation(
    [
        st.Page(PAGES / "chat.py", title="Chat", icon=":material/chat:", default=True),
        st.Page(PAGES / "knowledge.py", title="Knowledge", icon=":material/library_books:"),
        st.Page(PAGES / "build.py", title="Build & eval", icon=":material/build:"),
    ]
)
st.sidebar.caption(f"API: {get_settings().api_url}")
page.run()
