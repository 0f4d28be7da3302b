"""Knowledge page: upload documents (ingestion job with live progress and report), browse, search, delete."""

from __future__ import annotations

import streamlit as st

from ui.common import JOB_ACTIVE, client, follow_job, pick_domain, show_error
from vertical.core.errors import VerticalError

st.title("Knowledge base")
domain = pick_domain()


def render_report(job: dict) -> None:
    """The job's report: counts, then every failed or skipped file with its reason."""
    status = job.get("status")
    report = job.get("report") or job.get("result") or {}
    if status == "failed":
        st.error(f"Ingestion failed: {job.get('error') or 'see the report below'}")
    elif status == "cancelled":
        st.warning("Ingestion was cancelled; files finished before the cancel are kept.")
    else:
        st.success("Ingestion finished.")
    if not report:
        return
    keys = ("added", "updated", "unchanged", "deleted", "skipped", "failed")
    for col, key in zip(st.columns(len(keys)), keys):
        value = report.get(key, 0)
        col.metric(key, len(value) if isinstance(value, list) else value)
    if report.get("chunks_written") is not None:
        st.caption(
            f"{report.get('chunks_written')} chunks written · {report.get('chunks_total', '?')} in the KB"
            + (f" · {report['seconds']:.1f} s" if isinstance(report.get("seconds"), (int, float)) else "")
        )
    problems = [
        {"file": r.get("path", "?"), "outcome": outcome, "reason": r.get("reason", "?")}
        for outcome in ("failed", "skipped")
        for r in report.get(outcome) or []
        if isinstance(r, dict)
    ]
    if problems:
        st.subheader("Files not ingested")
        st.table(problems)


def upload_section() -> None:
    files = st.file_uploader(
        "Add documents (md, txt, html, pdf, docx, …)", accept_multiple_files=True, key=f"upload-{domain}"
    )
    if st.button("Ingest", disabled=not files, key="ingest"):
        try:
            st.session_state[f"job-{domain}"] = client().upload_documents(
                domain, [(f.name, f.getvalue()) for f in files]
            )
        except VerticalError as exc:
            show_error(exc)
    job_id = st.session_state.get(f"job-{domain}")
    if job_id:
        st.caption(f"job {job_id}")
        try:
            job = client().job(job_id)
            if job.get("status") in JOB_ACTIVE:
                cancel_slot = st.empty()  # the button goes away once the job has ended
                if cancel_slot.button("Cancel ingestion", key="cancel"):
                    client().cancel_job(job_id)
                job = follow_job(job_id)
                cancel_slot.empty()
            render_report(job)
        except VerticalError as exc:
            show_error(exc)


def documents_section() -> None:
    st.header("Documents")
    try:
        docs = client().documents(domain)
    except VerticalError as exc:
        show_error(exc)
        return
    if not docs:
        st.info("No documents yet: upload some above.")
        return
    st.dataframe(
        [{"document": d.get("source"), "title": d.get("title"), "chunks": d.get("chunks")} for d in docs],
        hide_index=True,
        width="stretch",
    )
    col_pick, col_confirm, col_btn = st.columns([4, 2, 1])
    source = col_pick.selectbox("Document to delete", [d.get("source") for d in docs], key="delete-pick")
    confirm = col_confirm.checkbox("Yes, delete it", key="delete-confirm")
    if col_btn.button("Delete", disabled=not confirm, key="delete"):
        try:
            result = client().delete_document(domain, source)
            removed = (result or {}).get("deleted_chunks", "?")
            st.session_state["deleted-msg"] = f"Deleted {source} ({removed} chunks)."
        except VerticalError as exc:
            show_error(exc)
        else:
            st.rerun()
    if st.session_state.get("deleted-msg"):
        st.success(st.session_state.pop("deleted-msg"))


def search_section() -> None:
    st.header("Search chunks")
    query = st.text_input("Search the knowledge base", key="chunk-query")
    if not query.strip():
        st.caption("Type a question or a few words to see the chunks retrieval would find.")
        return
    try:
        chunks = client().chunks(domain, query, k=10)
    except VerticalError as exc:
        show_error(exc)
        return
    st.caption(f"{len(chunks)} best-matching chunks for “{query}”")
    for hit in chunks:
        score = f" · {hit['score']:.3f}" if isinstance(hit.get("score"), (int, float)) else ""
        heading = f" — {hit['heading']}" if hit.get("heading") else ""
        with st.expander(f"{hit.get('source', '?')}{heading}{score}"):
            st.text(hit.get("text", ""))


if domain:
    upload_section()
    documents_section()
    search_section()
