"""UI text in English and Chinese: each call site passes both strings, so no table can drift.

The language starts from the domain's language (``GET /v1/domains`` reports it) and the sidebar
toggle overrides it for the session.
"""

from __future__ import annotations

import streamlit as st

LANGUAGES = {"en": "English", "zh": "中文"}
_KEY = "ui_language"


def language() -> str:
    """The session's UI language code ("en" or "zh")."""
    return st.session_state.get(_KEY, "en")


def t(en: str, zh: str, **fmt: object) -> str:
    """``en`` or ``zh`` for the session's language, formatted with ``fmt``."""
    text = zh if language() == "zh" else en
    return text.format(**fmt) if fmt else text


def set_default_language(code: str | None) -> None:
    """Use the domain's language until the user picks one with the toggle."""
    if _KEY not in st.session_state and code in LANGUAGES:
        st.session_state[_KEY] = code
