"""Pieces every page uses: the API client, the domain picker, the language toggle, job polling and errors."""

from __future__ import annotations

import os
import time
from collections.abc import Callable

import streamlit as st

from ui.client import ApiClient
from ui.i18n import LANGUAGES, set_default_language, t
from vertical.core.errors import ApiError, VerticalError
from vertical.core.settings import get_settings

JOB_ACTIVE = ("pending", "running", "queued")


def client() -> ApiClient:
    url = get_settings().api_url
    held = st.session_state.get("_client")
    if held is None or held.base_url != url.rstrip("/"):
        # the key the server was given in VERTICAL_API_KEYS, when it has any
        held = st.session_state["_client"] = ApiClient(url, api_key=os.environ.get("VERTICAL_API_KEY"))
    return held


def show_error(exc: VerticalError) -> None:
    hint = t("\n\n**What to do:** {hint}", "\n\n**怎么办：**{hint}", hint=exc.hint) if exc.hint else ""
    st.error(exc.message + hint)


def not_available(what: str, exc: ApiError) -> bool:
    """Render the 'server lacks this endpoint' message; True when that was the problem."""
    if exc.status in (404, 405, 501):
        st.info(
            t(
                "{what} is not available from this server ({message}).",
                "此服务器不提供{what}（{message}）。",
                what=what,
                message=exc.message,
            )
        )
        return True
    return False


def domain_language_default() -> None:
    """Start the UI in the selected domain's language (``GET /v1/domains``); the toggle overrides it."""
    if "ui_language" in st.session_state:
        return
    try:
        domains = client().domain_info()
    except ApiError:
        return  # the page itself shows why the API cannot be reached
    picked = st.session_state.get("domain") or str(st.session_state.get("model") or "").split(":", 1)[0]
    chosen = next((d for d in domains if d.get("name") == picked), domains[0] if domains else None)
    if chosen:
        set_default_language(chosen.get("language"))


def language_toggle() -> None:
    """Sidebar English / 中文 switch; it writes the session's language that ``t`` reads."""
    set_default_language("en")  # when the domain did not say
    st.sidebar.radio(
        t("Language", "语言"), list(LANGUAGES), format_func=LANGUAGES.get, key="ui_language", horizontal=True
    )


def pick_domain(with_adapters: bool = False) -> str | None:
    """Sidebar select box over ``GET /v1/models``; returns the chosen model id (or domain name)."""
    try:
        models = client().domains()
    except ApiError as exc:
        show_error(exc)
        return None
    choices = models if with_adapters else sorted({m.split(":", 1)[0] for m in models})
    if not choices:
        st.warning(
            t(
                "The API serves no domain yet. Start it with `vertical serve <domain folder>`.",
                "API 还没有提供任何领域。请用 `vertical serve <领域文件夹>` 启动。",
            )
        )
        return None
    key = "model" if with_adapters else "domain"
    current = st.session_state.get(key)
    index = choices.index(current) if current in choices else 0
    label = t("Domain model", "领域模型") if with_adapters else t("Domain", "领域")
    return st.sidebar.selectbox(label, choices, index=index, key=key)


def job_fraction(job: dict) -> tuple[float, str]:
    """Progress in [0, 1] and a short label, from the job's own counters (never invented)."""
    progress = job.get("progress") or {}
    done, total = progress.get("files_done"), progress.get("files_total")
    if done is None:
        done, total = progress.get("step"), progress.get("steps") or progress.get("total")
    label = f"{job.get('status', '?')}"
    if progress.get("stage"):
        label += f" · {progress['stage']}"
    if total:
        label += f" · {done}/{total}"
    if progress.get("chunks") is not None:
        label += t(" · {n} chunks", " · {n} 个片段", n=progress["chunks"])
    return (min(max((done or 0) / total, 0.0), 1.0) if total else 0.0), label


def follow_job(
    job_id: str, poll_s: float = 0.5, timeout_s: float = 600.0, on_update: Callable[[dict], None] | None = None
) -> dict:
    """Poll ``GET /v1/jobs/{id}`` with a live progress bar until the job ends; returns its last state."""
    bar = st.progress(0.0, text=t("starting…", "正在启动…"))
    deadline = time.monotonic() + timeout_s
    while True:
        job = client().job(job_id)
        fraction, label = job_fraction(job)
        bar.progress(fraction if job.get("status") in JOB_ACTIVE else 1.0, text=label)
        if on_update:
            on_update(job)
        if job.get("status") not in JOB_ACTIVE or time.monotonic() > deadline:
            return job
        time.sleep(poll_s)
