"""Pieces of the knowledge page: the ingest report, a document's chunk preview (curation), the job queue,
and the search results with each retrieval arm's score."""

from __future__ import annotations

import time

import streamlit as st

from ui.common import JOB_ACTIVE, client, follow_job, not_available, show_error
from ui.i18n import t
from vertical.core.errors import ApiError, VerticalError

_ERROR_KEY = "curation-error"  # a callback cannot draw where the page is; the page shows it next run


def render_report(job: dict) -> None:
    """The job's report: counts, then every failed or skipped file with its reason."""
    status = job.get("status")
    report = job.get("report") or job.get("result") or {}
    if status == "failed":
        st.error(
            t("Ingestion failed: {e}", "导入失败：{e}", e=job.get("error") or t("see the report below", "见下方报告"))
        )
    elif status == "cancelled":
        st.warning(
            t(
                "Ingestion was cancelled; files finished before the cancel are kept.",
                "导入已取消；取消前完成的文件已保留。",
            )
        )
    else:
        st.success(t("Ingestion finished.", "导入完成。"))
    if not report:
        return
    labels = {
        "added": t("added", "新增"),
        "updated": t("updated", "更新"),
        "unchanged": t("unchanged", "未变"),
        "deleted": t("deleted", "删除"),
        "skipped": t("skipped", "跳过"),
        "failed": t("failed", "失败"),
    }
    for col, (key, label) in zip(st.columns(len(labels)), labels.items()):
        value = report.get(key, 0)
        col.metric(label, len(value) if isinstance(value, list) else value)
    if report.get("chunks_written") is not None:
        seconds = report.get("seconds")
        st.caption(
            t(
                "{w} chunks written · {n} in the KB",
                "写入 {w} 个片段 · 知识库共 {n} 个",
                w=report.get("chunks_written"),
                n=report.get("chunks_total", "?"),
            )
            + (f" · {seconds:.1f} s" if isinstance(seconds, (int, float)) else "")
        )
    problems = [
        {
            t("file", "文件"): r.get("path", "?"),
            t("outcome", "结果"): labels[outcome],
            t("reason", "原因"): r.get("reason", "?"),
        }
        for outcome in ("failed", "skipped")
        for r in report.get(outcome) or []
        if isinstance(r, dict)
    ]
    if problems:
        st.subheader(t("Files not ingested", "未导入的文件"))
        st.table(problems)


# ---- chunk preview and curation -----------------------------------------------------------------
def _switch_chunk(domain: str, chunk_id: str, key: str) -> None:
    """Toggle callback: the toggle says "use in answers", so off = disabled."""
    try:
        client().set_chunk_disabled(domain, chunk_id, not st.session_state[key])
    except VerticalError as exc:
        st.session_state[_ERROR_KEY] = exc


def _switch_document(domain: str, source: str, disabled: bool) -> None:
    try:
        client().set_document_disabled(domain, source, disabled)
    except VerticalError as exc:
        st.session_state[_ERROR_KEY] = exc


def chunk_preview(domain: str, source: str) -> None:
    """One document's chunks in order: heading path, token count, text, and a switch per chunk."""
    if isinstance(st.session_state.get(_ERROR_KEY), VerticalError):
        show_error(st.session_state.pop(_ERROR_KEY))
    try:
        doc = client().document_chunks(domain, source)
    except VerticalError as exc:
        show_error(exc)
        return
    chunks = doc.get("chunks") or []
    off = sum(1 for c in chunks if c.get("disabled"))
    st.caption(
        t(
            "{title} · {n} chunks · {off} disabled · {tokens} tokens",
            "{title} · {n} 个片段 · {off} 个已停用 · {tokens} 个词元",
            title=doc.get("title") or source,
            n=len(chunks),
            off=off,
            tokens=sum(c.get("tokens") or 0 for c in chunks),
        )
    )
    col_off, col_on, col_re = st.columns(3)
    col_off.button(
        t("Disable whole document", "停用整篇文档"),
        key="doc-disable",
        disabled=off == len(chunks),
        on_click=_switch_document,
        args=(domain, source, True),
    )
    col_on.button(
        t("Enable whole document", "启用整篇文档"),
        key="doc-enable",
        disabled=off == 0,
        on_click=_switch_document,
        args=(domain, source, False),
    )
    if col_re.button(t("Re-ingest", "重新导入"), key="reingest"):
        try:
            st.session_state[f"reingest-{domain}"] = client().reingest(domain, source)
        except VerticalError as exc:
            show_error(exc)
    _follow_reingest(domain)
    for chunk in chunks:
        key = f"use-{chunk['id']}"
        st.session_state[key] = not chunk.get("disabled")  # the server's state, every run
        state = t(" · disabled", " · 已停用") if chunk.get("disabled") else ""
        label = t(
            "#{p} · {h} · {n} tokens{s}",
            "#{p} · {h} · {n} 个词元{s}",
            p=chunk.get("position", 0) + 1,
            h=chunk.get("heading") or t("(no heading)", "（无标题）"),
            n=chunk.get("tokens", "?"),
            s=state,
        )
        with st.expander(label):
            st.toggle(
                t("Use in answers", "用于回答"),
                key=key,
                on_change=_switch_chunk,
                args=(domain, chunk["id"], key),
                help=t(
                    "Off: search never returns this chunk; it stays stored.", "关闭：检索不再返回此片段，但它仍被保存。"
                ),
            )
            st.text(chunk.get("text", ""))


def _follow_reingest(domain: str) -> None:
    job_id = st.session_state.get(f"reingest-{domain}")
    if not job_id:
        return
    try:
        job = client().job(job_id)
        if job.get("status") in JOB_ACTIVE:
            job = follow_job(job_id)
        render_report(job)
    except VerticalError as exc:
        show_error(exc)


# ---- the ingest job queue -----------------------------------------------------------------------
def jobs_table(domain: str) -> None:
    st.header(t("Ingest jobs", "导入任务"))
    try:
        jobs = client().jobs(domain)
    except ApiError as exc:
        if not not_available(t("The ingest job queue", "导入任务队列"), exc):
            show_error(exc)
        return
    if not jobs:
        st.caption(t("No ingest jobs yet.", "还没有导入任务。"))
        return
    rows = []
    for job in jobs:
        progress = job.get("progress") or {}
        done, total = progress.get("files_done"), progress.get("files_total")
        created = job.get("created")
        rows.append(
            {
                t("job", "任务"): job.get("id"),
                t("status", "状态"): job.get("status"),
                t("files", "文件"): ", ".join(job.get("files") or []),
                t("progress", "进度"): f"{done}/{total}" if total else "",
                t("created", "创建时间"): time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(created))
                if isinstance(created, (int, float))
                else "",
                t("error", "错误"): job.get("error") or "",
            }
        )
    st.dataframe(rows, hide_index=True, width="stretch")


# ---- search results -----------------------------------------------------------------------------
def _score(value: object) -> float | None:
    return round(float(value), 4) if isinstance(value, (int, float)) else None


def search_results(query: str, hits: list[dict]) -> None:
    """Hits in fused order: each arm's score side by side (None: that arm did not find it), then the texts."""
    st.caption(t("{n} best-matching chunks for “{q}”", "“{q}” 的 {n} 个最佳匹配片段", n=len(hits), q=query))
    if not hits:
        return
    st.dataframe(
        [
            {
                "#": rank,
                t("document", "文档"): hit.get("source"),
                t("heading", "标题"): hit.get("heading"),
                t("fused", "融合"): _score(hit.get("score")),
                t("dense (cosine)", "向量（余弦）"): _score(hit.get("dense_score")),
                "BM25": _score(hit.get("bm25_score")),
            }
            for rank, hit in enumerate(hits, 1)
        ],
        hide_index=True,
        width="stretch",
    )
    for hit in hits:
        score = f" · {hit['score']:.3f}" if isinstance(hit.get("score"), (int, float)) else ""
        heading = f" — {hit['heading']}" if hit.get("heading") else ""
        with st.expander(f"{hit.get('source', '?')}{heading}{score}"):
            st.text(hit.get("text", ""))
