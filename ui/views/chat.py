"""Chat page: streamed answers with their sources and trace, thumbs up/down and corrections."""

from __future__ import annotations

import streamlit as st

from ui.common import client, pick_domain, show_error
from vertical.core.errors import VerticalError

st.title("Ask the domain assistant")
model = pick_domain(with_adapters=True)
history_key = f"chat::{model}"
turns: list[dict] = st.session_state.setdefault(history_key, [])  # {"role","content",...meta}


def _save(index: int, rating: int) -> None:
    """Store feedback for answer ``index`` (called from a button, so it runs once per click)."""
    answer = turns[index]
    correction = st.session_state.get(f"fix-{model}-{index}", "").strip() or None
    body = {
        "model": model,
        "question": turns[index - 1]["content"],
        "answer": answer["content"],
        "rating": rating,
        "correction": correction,
        "history": [{"role": t["role"], "content": t["content"]} for t in turns[: index - 1]],
        "sources": [s.get("source", "") for s in answer.get("sources", [])],
        "trace": answer.get("trace", []),
    }
    try:
        client().feedback(model.split(":", 1)[0], body)
        answer["feedback"] = {1: "thumbs up saved", -1: "thumbs down saved", 0: "correction saved"}[rating]
        if correction:
            answer["feedback"] += " with your correction"
    except VerticalError as exc:
        answer["feedback_error"] = exc.message


def render_sources(sources: list[dict]) -> None:
    if not sources:
        st.caption("No sources: this answer did not use the knowledge base.")
        return
    with st.expander(f"Sources ({len(sources)})"):
        for i, src in enumerate(sources, 1):
            where = src.get("source") or "?"
            heading = f" — {src['heading']}" if src.get("heading") else ""
            score = f" · score {src['score']:.3f}" if isinstance(src.get("score"), (int, float)) else ""
            st.markdown(f"**[{i}] {where}**{heading}{score}")
            st.text(src.get("text", ""))


def render_grounding(grounding: dict | None) -> None:
    """The answer policy's verdict, the same for streamed and unstreamed answers."""
    if not grounding or grounding.get("verdict") != "low":
        return
    score, minimum = grounding.get("score", 0.0), grounding.get("min", 0.0)
    action = grounding.get("action")
    if action == "extractive":
        st.info(
            f"The model's answer was not supported by the sources (grounding {score:.2f} < {minimum:.2f}); "
            "these are the sources' own sentences."
        )
    elif action == "refused":
        st.warning(f"No answer: the model's answer was not supported by the sources ({score:.2f} < {minimum:.2f}).")
    else:
        st.warning(f"This answer may not be supported by its sources (grounding {score:.2f} < {minimum:.2f}).")


def render_answer(index: int, turn: dict) -> None:
    render_grounding(turn.get("grounding"))
    render_sources(turn.get("sources", []))
    trace = turn.get("trace") or []
    path = turn.get("path")
    if trace or path:
        st.caption("path: " + (path or "") + (" · " if path and trace else "") + " → ".join(map(str, trace)))
    if turn.get("feedback"):
        st.caption(turn["feedback"])
    if turn.get("feedback_error"):
        st.error(turn["feedback_error"])
    up, down, _ = st.columns([1, 1, 4])
    # material icons ship with Streamlit's web font; emoji need a system font the browser may lack
    up.button("Helpful", icon=":material/thumb_up:", key=f"up-{model}-{index}", on_click=_save, args=(index, 1))
    down.button(
        "Not helpful", icon=":material/thumb_down:", key=f"down-{model}-{index}", on_click=_save, args=(index, -1)
    )
    with st.expander("Suggest a better answer"):
        st.text_area("Corrected answer", key=f"fix-{model}-{index}")
        st.button("Save correction", key=f"save-fix-{model}-{index}", on_click=_save, args=(index, 0))


def stream_answer(messages: list[dict]) -> dict:
    """Write tokens as they arrive; return the finished turn with its sources and trace."""
    meta: dict = {}

    def tokens():
        for kind, value in client().stream_chat(model, messages):
            if kind == "delta":
                yield value
            else:
                meta.update(value)

    text = st.write_stream(tokens())
    return {
        "role": "assistant",
        "content": text if isinstance(text, str) else "".join(map(str, text)),
        "sources": meta.get("sources") or [],
        "trace": meta.get("trace") or [],
        "path": meta.get("path"),
        "grounding": meta.get("grounding"),
    }


if model:
    for i, turn in enumerate(turns):
        with st.chat_message(turn["role"]):
            st.markdown(turn["content"])
            if turn["role"] == "assistant":
                render_answer(i, turn)

    question = st.chat_input(f"Ask {model.split(':', 1)[0]} a question")
    if question:
        with st.chat_message("user"):
            st.markdown(question)
        messages = [{"role": t["role"], "content": t["content"]} for t in turns] + [
            {"role": "user", "content": question}
        ]
        with st.chat_message("assistant"):
            try:
                answer = stream_answer(messages)
            except VerticalError as exc:
                show_error(exc)
            else:
                turns += [{"role": "user", "content": question}, answer]
                render_answer(len(turns) - 1, answer)
