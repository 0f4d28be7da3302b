"""Feedback review page: thumbs-down and corrected answers, which a reviewer accepts into SFT or preference
data, or rejects. Counts on top; the decisions go through ``POST .../feedback/{id}/review``."""

from __future__ import annotations

import time

import streamlit as st

from ui.common import client, not_available, pick_domain, show_error
from ui.i18n import t
from vertical.core.errors import ApiError, VerticalError

STATUSES = ("pending", "accepted", "rejected", "all")
_DONE_KEY = "review-done"
_ERROR_KEY = "review-error"

st.title(t("Feedback review", "反馈审核"))
domain = pick_domain()


def status_label(status: str) -> str:
    return {
        "pending": t("pending", "待审核"),
        "accepted": t("accepted", "已采纳"),
        "rejected": t("rejected", "已拒绝"),
        "all": t("all", "全部"),
    }[status]


def counts_row(counts: dict) -> None:
    metrics = (
        ("pending", t("pending", "待审核")),
        ("accepted_sft", t("accepted as SFT", "采纳为 SFT")),
        ("accepted_preference", t("accepted as preference", "采纳为偏好")),
        ("rejected", t("rejected", "已拒绝")),
        ("down", t("thumbs down", "差评")),
        ("corrected", t("corrected", "有修正")),
        ("up", t("thumbs up", "好评")),
        ("total", t("total", "总计")),
    )
    for col, (key, label) in zip(st.columns(len(metrics)), metrics):
        col.metric(label, counts.get(key, 0))


def decide(item_id: int, decision: str) -> None:
    """Button callback: the decision, with the note typed for this item."""
    note = st.session_state.get(f"note-{item_id}") or None
    try:
        client().review_feedback(domain, item_id, decision, note)
    except VerticalError as exc:
        st.session_state[_ERROR_KEY] = (item_id, exc)
    else:
        st.session_state[_DONE_KEY] = t(
            "Feedback {id}: {d}.", "反馈 {id}：{d}。", id=item_id, d=decision_label(decision)
        )


def decision_label(decision: str) -> str:
    return {
        "sft": t("accepted as SFT data", "已采纳为 SFT 数据"),
        "preference": t("accepted as a preference pair", "已采纳为偏好对"),
        "reject": t("rejected", "已拒绝"),
    }[decision]


def item_card(item: dict) -> None:
    item_id = item["id"]
    rating = {1: "👍", -1: "👎"}.get(item.get("rating"), "✏️")
    created = item.get("created")
    when = time.strftime("%Y-%m-%d %H:%M", time.localtime(created)) if isinstance(created, (int, float)) else ""
    with st.container(border=True):
        head = f"{rating} **#{item_id}** · {when} · {status_label(item.get('status', 'pending'))}"
        if item.get("target"):
            head += f" · {item['target']}"
        st.markdown(head)
        st.markdown(t("**Question:** {q}", "**问题：**{q}", q=item.get("question", "")))
        st.markdown(t("**Answer:** {a}", "**回答：**{a}", a=item.get("answer", "")))
        if item.get("correction"):
            st.markdown(t("**Correction:** {c}", "**修正：**{c}", c=item["correction"]))
        else:
            st.caption(t("No correction: it can only be rejected.", "没有修正：只能拒绝。"))
        if item.get("sources"):
            st.caption(t("sources: {s}", "来源：{s}", s=", ".join(item["sources"])))
        held = st.session_state.get(_ERROR_KEY)
        if held and held[0] == item_id:
            show_error(st.session_state.pop(_ERROR_KEY)[1])
        st.text_input(t("Note (optional)", "备注（可选）"), key=f"note-{item_id}")
        col_sft, col_pref, col_reject = st.columns(3)
        for col, decision, label in (
            (col_sft, "sft", t("Accept as SFT", "采纳为 SFT")),
            (col_pref, "preference", t("Accept as preference", "采纳为偏好")),
            (col_reject, "reject", t("Reject", "拒绝")),
        ):
            col.button(label, key=f"{decision}-{item_id}", on_click=decide, args=(item_id, decision))


def queue_section() -> None:
    status = st.radio(t("Show", "显示"), STATUSES, format_func=status_label, horizontal=True, key="review-status")
    try:
        body = client().feedback_queue(domain, status=status, limit=50)
    except ApiError as exc:
        if not not_available(t("Feedback review", "反馈审核"), exc):
            show_error(exc)
        return
    counts_row(body.get("counts") or {})
    if st.session_state.get(_DONE_KEY):
        st.success(st.session_state.pop(_DONE_KEY))
    items = body.get("items") or []
    if not items:
        st.info(t("Nothing to review here.", "这里没有需要审核的内容。"))
        return
    st.caption(t("{n} items, newest first", "{n} 条，最新的在前", n=len(items)))
    for item in items:
        item_card(item)
    if st.session_state.get(_ERROR_KEY):  # its item is no longer in this list
        show_error(st.session_state.pop(_ERROR_KEY)[1])


if domain:
    queue_section()
