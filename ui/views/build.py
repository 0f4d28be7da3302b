"""Build & eval page: the planner's recommendation, starting a build, eval charts and the loss curve."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from ui.charts import eval_rows, loss_points, metric_names
from ui.common import JOB_ACTIVE, client, follow_job, not_available, pick_domain, show_error
from vertical.core.errors import ApiError, VerticalError

HEADLINE = [
    "composite",
    "hit_at_k",
    "keyword_recall",
    "citation",
    "safety",
    "answer_similarity",
    "rouge_l",
    "general_mc_accuracy",
]
STRATEGIES = ["auto", "prompt", "rag", "sft", "sft+rag", "cpt+sft+rag"]

st.title("Build & evaluate")
domain = pick_domain()


def plan_section() -> str | None:
    st.header("Recommended strategy")
    try:
        plan = client().plan(domain)
    except ApiError as exc:
        if not not_available("The planner", exc):
            show_error(exc)
        return None
    st.metric("planner recommends", plan.get("strategy", "?"))
    for reason in plan.get("reasons") or []:
        st.markdown(f"- {reason}")
    if plan.get("profile"):
        with st.expander("What the planner measured"):
            st.json(plan["profile"])
    return plan.get("strategy")


def build_section(recommended: str | None) -> None:
    st.header("Build")
    options = STRATEGIES if recommended in STRATEGIES or not recommended else [recommended, *STRATEGIES]
    strategy = st.selectbox(
        "Strategy", options, index=options.index(recommended) if recommended in options else 0, key="build-strategy"
    )
    tiny = st.checkbox("Tiny CPU settings (few training steps, eval on a subset)", value=True, key="build-tiny")
    if st.button("Start build", key="start-build"):
        try:
            started = client().build(domain, strategy, tiny=tiny)
            st.session_state[f"build-{domain}"] = started.get("job_id")
            if not started.get("job_id"):
                st.success("Build finished.")
                st.json(started)
        except ApiError as exc:
            if not not_available("Building", exc):
                show_error(exc)
    job_id = st.session_state.get(f"build-{domain}")
    if job_id:
        st.caption(f"build job {job_id}")
        try:
            job = client().job(job_id)
            if job.get("status") in JOB_ACTIVE:
                detail = st.empty()  # the current step's own count and time left, e.g. "eval rag: answered 5/16, …"
                job = follow_job(
                    job_id,
                    poll_s=1.0,
                    timeout_s=3600,
                    on_update=lambda j: detail.caption((j.get("progress") or {}).get("detail") or ""),
                )
            status = job.get("status")
            (st.success if status == "done" else st.error)(
                f"build {status}" + (f": {job['error']}" if job.get("error") else "")
            )
        except VerticalError as exc:
            show_error(exc)


def load_eval_report() -> dict:
    """``GET .../eval``; on a server without it, the eval report and candidates kept in the build manifest."""
    try:
        return client().eval_report(domain)
    except ApiError as exc:
        if exc.status not in (404, 405, 501):
            raise
    manifest = client().manifest(domain)
    return {
        **(manifest.get("eval") or {}),
        "strategy": manifest.get("strategy"),
        "candidates": manifest.get("candidates") or [],
        "reasons": manifest.get("reasons") or [],
    }


def eval_section() -> None:
    st.header("Evaluation")
    try:
        report = load_eval_report()
    except ApiError as exc:
        if exc.status == 409:
            st.info("No eval report yet: build the domain first.")
        elif not not_available("The eval report", exc):
            show_error(exc)
        return
    rows = eval_rows(report or {})
    if not rows:
        st.info("The eval report has no scores yet.")
        with st.expander("raw report"):
            st.json(report)
        return
    if report.get("strategy"):
        st.markdown(f"**built strategy:** {report['strategy']}")
    if (report.get("verdict") or {}).get("reason"):
        st.info(f"auto verdict: {report['verdict']['reason']}")
    for reason in report.get("reasons") or []:
        st.markdown(f"- {reason}")
    frame = pd.DataFrame(rows).set_index("strategy")
    st.dataframe(frame, width="stretch")
    names = metric_names(rows)
    # chart the headline metrics; the table above has every number
    metrics = [m for m in HEADLINE if m in names] or names[:6]
    cols = st.columns(max(min(len(metrics), 3), 1))
    for i, metric in enumerate(metrics):
        with cols[i % len(cols)]:
            st.caption(metric)
            st.bar_chart(frame[[metric]], height=220)


def loss_section() -> None:
    st.header("Last training run")
    try:
        log = client().training_log(domain)
    except ApiError as exc:
        if not not_available("The training log (loss curve)", exc):
            show_error(exc)
        return
    points = loss_points(log or {})
    if not points:
        st.info("No training run recorded for this domain yet.")
        return
    if log.get("run"):
        st.caption(f"run {log['run']}")
    st.line_chart(pd.DataFrame(points).set_index("step"))


if domain:
    recommended = plan_section()
    build_section(recommended)
    eval_section()
    loss_section()
