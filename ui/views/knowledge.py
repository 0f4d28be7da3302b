"""Knowledge page: upload (ingest job with live progress and report), documents, each document's chunks
to inspect and curate (disable/enable, re-ingest), search with each retrieval arm's score, the job queue."""

from __future__ import annotations

import streamlit as st

from ui.common import JOB_ACTIVE, client, follow_job, pick_domain, show_error
from ui.i18n import t
from ui.views.knowledge_parts import chunk_preview, jobs_table, render_report, search_results
from vertical.core.errors import VerticalError

st.title(t("Knowledge base", "知识库"))
domain = pick_domain()


def upload_section() -> None:
    files = st.file_uploader(
        t("Add documents (md, txt, html, pdf, docx, …)", "添加文档（md、txt、html、pdf、docx 等）"),
        accept_multiple_files=True,
        key=f"upload-{domain}",
    )
    if st.button(t("Ingest", "导入"), disabled=not files, key="ingest"):
        try:
            st.session_state[f"job-{domain}"] = client().upload_documents(
                domain, [(f.name, f.getvalue()) for f in files]
            )
        except VerticalError as exc:
            show_error(exc)
    job_id = st.session_state.get(f"job-{domain}")
    if job_id:
        st.caption(t("job {id}", "任务 {id}", id=job_id))
        try:
            job = client().job(job_id)
            if job.get("status") in JOB_ACTIVE:
                cancel_slot = st.empty()  # the button goes away once the job has ended
                if cancel_slot.button(t("Cancel ingestion", "取消导入"), key="cancel"):
                    client().cancel_job(job_id)
                job = follow_job(job_id)
                cancel_slot.empty()
            render_report(job)
        except VerticalError as exc:
            show_error(exc)


def documents_section() -> list[dict]:
    st.header(t("Documents", "文档"))
    try:
        docs = client().documents(domain)
    except VerticalError as exc:
        show_error(exc)
        return []
    if not docs:
        st.info(t("No documents yet: upload some above.", "还没有文档：请在上方上传。"))
        return []
    st.dataframe(
        [
            {
                t("document", "文档"): d.get("source"),
                t("title", "标题"): d.get("title"),
                t("chunks", "片段"): d.get("chunks"),
                t("disabled", "已停用"): d.get("disabled", 0),
            }
            for d in docs
        ],
        hide_index=True,
        width="stretch",
    )
    col_pick, col_confirm, col_btn = st.columns([4, 2, 1])
    source = col_pick.selectbox(
        t("Document to delete", "要删除的文档"), [d.get("source") for d in docs], key="delete-pick"
    )
    confirm = col_confirm.checkbox(t("Yes, delete it", "确认删除"), key="delete-confirm")
    if col_btn.button(t("Delete", "删除"), disabled=not confirm, key="delete"):
        try:
            result = client().delete_document(domain, source)
            removed = (result or {}).get("deleted_chunks", "?")
            st.session_state["deleted-msg"] = t(
                "Deleted {s} ({n} chunks).", "已删除 {s}（{n} 个片段）。", s=source, n=removed
            )
        except VerticalError as exc:
            show_error(exc)
        else:
            st.session_state.pop("preview-pick", None)
            st.rerun()
    if st.session_state.get("deleted-msg"):
        st.success(st.session_state.pop("deleted-msg"))
    return docs


def preview_section(docs: list[dict]) -> None:
    st.header(t("Inspect and curate chunks", "查看与整理片段"))
    sources = [d.get("source") for d in docs]
    if st.session_state.get("preview-pick") not in sources:
        st.session_state.pop("preview-pick", None)  # deleted meanwhile
    source = st.selectbox(
        t("Document to preview", "要预览的文档"),
        sources,
        index=None,
        placeholder=t("Choose a document", "选择一篇文档"),
        key="preview-pick",
    )
    if source:
        chunk_preview(domain, source)
    else:
        st.caption(
            t(
                "Pick a document to see its chunks, switch single chunks off, or re-ingest it.",
                "选择一篇文档，查看其片段、停用单个片段或重新导入。",
            )
        )


def search_section() -> None:
    st.header(t("Search chunks", "检索片段"))
    query = st.text_input(t("Search the knowledge base", "检索知识库"), key="chunk-query")
    if not query.strip():
        st.caption(
            t(
                "Type a question or a few words to see the chunks retrieval would find.",
                "输入一个问题或几个词，查看检索会找到的片段。",
            )
        )
        return
    try:
        hits = client().chunks(domain, query, k=10)
    except VerticalError as exc:
        show_error(exc)
        return
    search_results(query, hits)


if domain:
    upload_section()
    documents = documents_section()
    if documents:
        preview_section(documents)
    search_section()
    jobs_table(domain)
