"""Chat page: conversations kept by the server, streamed answers with their sources, grounding verdict and
trace, thumbs up/down and corrections.

The open conversation's id is in the URL (``?c=<id>``), so a reload or a shared link reopens it from the
server; what the page shows is always what ``GET .../conversations/{id}`` returns.
"""

from __future__ import annotations

import streamlit as st

from ui.common import client, not_available, pick_domain, show_error
from ui.i18n import t
from vertical.core.errors import ApiError, VerticalError

TITLE_CHARS = 60  # a new conversation is titled with the start of its first question

st.title(t("Ask the domain assistant", "向领域助手提问"))
model = pick_domain(with_adapters=True)
domain = model.split(":", 1)[0] if model else None


def current_id() -> str | None:
    return st.query_params.get("c") or None


def open_conversation(conversation_id: str | None) -> None:
    if conversation_id:
        st.query_params["c"] = conversation_id
    else:
        st.query_params.pop("c", None)


def load_turns(conversation_id: str | None) -> list[dict]:
    """The server's messages of the open conversation as turns (``role``, ``content`` and the answer's meta)."""
    if not conversation_id:
        return []
    try:
        conversation = client().conversation(domain, conversation_id)
    except ApiError as exc:
        if exc.status == 404:  # deleted elsewhere, or a stale link: start afresh instead of failing
            st.info(t("That conversation no longer exists; starting a new one.", "该对话已不存在，将开始新的对话。"))
            open_conversation(None)
            return []
        raise
    return [{**(m.get("meta") or {}), "role": m["role"], "content": m["content"]} for m in conversation["messages"]]


def sidebar(conversations: list[dict]) -> None:
    """Past conversations (newest first), a new one, and deletion behind a confirmation."""
    bar = st.sidebar
    bar.subheader(t("Conversations", "对话记录"))
    if bar.button(t("New conversation", "新对话"), icon=":material/add:", key="conv-new", width="stretch"):
        open_conversation(None)
        st.rerun()
    opened = current_id()
    for conv in conversations:
        label = conv.get("title") or t("(untitled)", "（无标题）")
        if bar.button(
            f"{label} · {conv.get('turns', 0)}",
            key=f"conv-open-{conv['id']}",
            type="primary" if conv["id"] == opened else "secondary",
            width="stretch",
        ):
            open_conversation(conv["id"])
            st.rerun()
    if not conversations:
        bar.caption(t("No saved conversations yet.", "还没有保存的对话。"))
        return
    if opened and any(c["id"] == opened for c in conversations):
        with bar.expander(t("Delete this conversation", "删除此对话")):
            sure = st.checkbox(t("Yes, delete it", "确认删除"), key=f"conv-del-confirm-{opened}")
            if st.button(t("Delete", "删除"), key="conv-del", disabled=not sure):
                client().delete_conversation(domain, opened)
                open_conversation(None)
                st.rerun()
    with bar.expander(t("Delete all my conversations", "删除我的全部对话")):
        sure = st.checkbox(
            t("Yes, delete all {n}", "确认删除全部 {n} 个", n=len(conversations)), key="conv-del-all-confirm"
        )
        if st.button(t("Delete all", "全部删除"), key="conv-del-all", disabled=not sure):
            st.session_state["conv-deleted"] = client().delete_conversations(domain)
            open_conversation(None)
            st.rerun()


def _save(turns: list[dict], index: int, rating: int) -> None:
    """Store feedback for answer ``index`` (called from a button, so it runs once per click)."""
    answer = turns[index]
    key = f"{current_id()}-{index}"
    correction = st.session_state.get(f"fix-{key}", "").strip() or None
    body = {
        "model": model,
        "question": turns[index - 1]["content"],
        "answer": answer["content"],
        "rating": rating,
        "correction": correction,
        "history": [{"role": x["role"], "content": x["content"]} for x in turns[: index - 1]],
        "sources": [s.get("source", "") for s in answer.get("sources", [])],
        "trace": answer.get("trace", []),
    }
    try:
        client().feedback(domain, body)
        saved = {
            1: t("thumbs up saved", "已记录：有帮助"),
            -1: t("thumbs down saved", "已记录：没有帮助"),
            0: t("correction saved", "已保存修改建议"),
        }[rating]
        if correction and rating != 0:
            saved += t(" with your correction", "（含你的修改建议）")
        st.session_state[f"fb-{key}"] = saved
    except VerticalError as exc:
        st.session_state[f"fb-error-{key}"] = exc.message


def render_sources(sources: list[dict]) -> None:
    if not sources:
        st.caption(t("No sources: this answer did not use the knowledge base.", "无来源：此回答没有使用知识库。"))
        return
    with st.expander(t("Sources ({n})", "来源（{n}）", n=len(sources))):
        for i, src in enumerate(sources, 1):
            where = src.get("source") or "?"
            heading = f" — {src['heading']}" if src.get("heading") else ""
            score = (
                t(" · score {s:.3f}", " · 得分 {s:.3f}", s=src["score"])
                if isinstance(src.get("score"), (int, float))
                else ""
            )
            st.markdown(f"**[{i}] {where}**{heading}{score}")
            st.text(src.get("text", ""))


def render_grounding(grounding: dict | None) -> None:
    """The answer policy's verdict, the same for streamed and unstreamed answers."""
    if not grounding or grounding.get("verdict") != "low":
        return
    fmt = {"score": grounding.get("score") or 0.0, "min": grounding.get("min") or 0.0}
    action = grounding.get("action")
    if action == "extractive":
        st.info(
            t(
                "The model's answer was not supported by the sources (grounding {score:.2f} < {min:.2f}); "
                "these are the sources' own sentences.",
                "模型的回答没有得到资料的支持（依据度 {score:.2f} < {min:.2f}），以下是资料中的原句。",
                **fmt,
            )
        )
    elif action == "refused":
        st.warning(
            t(
                "No answer: the model's answer was not supported by the sources ({score:.2f} < {min:.2f}).",
                "未给出回答：模型的回答没有得到资料的支持（{score:.2f} < {min:.2f}）。",
                **fmt,
            )
        )
    else:
        st.warning(
            t(
                "This answer may not be supported by its sources (grounding {score:.2f} < {min:.2f}).",
                "此回答可能缺乏资料依据（依据度 {score:.2f} < {min:.2f}），请谨慎参考。",
                **fmt,
            )
        )


def render_answer(turns: list[dict], index: int) -> None:
    turn = turns[index]
    if turn.get("path") == "safety":
        st.warning(
            t(
                "This is the safety reply: the message looked like a crisis, so the model was not asked.",
                "这是安全回复：该消息疑似危机情况，因此没有调用模型。",
            )
        )
    render_grounding(turn.get("grounding"))
    render_sources(turn.get("sources", []))
    trace = turn.get("trace") or []
    path = turn.get("path")
    if trace or path:
        label = t("path: ", "路径：")
        st.caption(label + (path or "") + (" · " if path and trace else "") + " → ".join(map(str, trace)))
    key = f"{current_id()}-{index}"
    if st.session_state.get(f"fb-{key}"):
        st.caption(st.session_state[f"fb-{key}"])
    if st.session_state.get(f"fb-error-{key}"):
        st.error(st.session_state[f"fb-error-{key}"])
    up, down, _ = st.columns([1, 1, 4])
    # material icons ship with Streamlit's web font; emoji need a system font the browser may lack
    up.button(
        t("Helpful", "有帮助"), icon=":material/thumb_up:", key=f"up-{key}", on_click=_save, args=(turns, index, 1)
    )
    down.button(
        t("Not helpful", "没有帮助"),
        icon=":material/thumb_down:",
        key=f"down-{key}",
        on_click=_save,
        args=(turns, index, -1),
    )
    with st.expander(t("Suggest a better answer", "提出更好的回答")):
        st.text_area(t("Corrected answer", "修改后的回答"), key=f"fix-{key}")
        st.button(t("Save correction", "保存修改"), key=f"save-fix-{key}", on_click=_save, args=(turns, index, 0))


def stream_answer(messages: list[dict]) -> tuple[str, dict]:
    """Write tokens as they arrive; return the text and what the final chunk said about it."""
    meta: dict = {}

    def tokens():
        for kind, value in client().stream_chat(model, messages):
            if kind == "delta":
                yield value
            else:
                meta.update(value)

    text = st.write_stream(tokens())
    text = text if isinstance(text, str) else "".join(map(str, text))
    path = meta.get("path")
    kept = {
        "sources": meta.get("sources") or [],
        "grounding": meta.get("grounding"),
        "trace": meta.get("trace") or [],
        "path": path,
        "citations": meta.get("citations"),
        # the stream's final chunk says how the answer was made; "safety" = the crisis reply, no model call
        "safety": {"crisis_reply": path == "safety"},
    }
    return text, kept


def ask(question: str, turns: list[dict]) -> None:
    """Stream the answer, then store the question and the answer in the conversation (created on first use)."""
    with st.chat_message("user"):
        st.markdown(question)
    messages = [{"role": x["role"], "content": x["content"]} for x in turns] + [{"role": "user", "content": question}]
    with st.chat_message("assistant"):
        try:
            text, meta = stream_answer(messages)
        except VerticalError as exc:
            show_error(exc)
            return
    try:
        conversation_id = current_id()
        if not conversation_id:
            conversation_id = client().new_conversation(domain, question.strip()[:TITLE_CHARS])["id"]
            open_conversation(conversation_id)
        client().add_message(domain, conversation_id, "user", question)
        client().add_message(domain, conversation_id, "assistant", text, meta)
    except VerticalError as exc:
        show_error(exc)
        st.warning(t("The answer above was not saved to the conversation.", "上面的回答没有保存到对话中。"))
        return
    st.rerun()  # show the conversation as the server stored it


if domain:
    turns, conversations = [], None
    try:
        turns = load_turns(current_id())
        conversations = client().conversations(domain)
    except ApiError as exc:
        if not not_available(t("Saved conversations", "对话记录"), exc):
            show_error(exc)
    if conversations is not None:
        sidebar(conversations)
    if st.session_state.get("conv-deleted") is not None:
        st.success(t("Deleted {n} conversations.", "已删除 {n} 个对话。", n=st.session_state.pop("conv-deleted")))
    for i, turn in enumerate(turns):
        with st.chat_message(turn["role"]):
            st.markdown(turn["content"])
            if turn["role"] == "assistant":
                render_answer(turns, i)
    question = st.chat_input(t("Ask {d} a question", "向 {d} 提问", d=domain))
    if question:
        ask(question, turns)
