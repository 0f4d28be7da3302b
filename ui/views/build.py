"""Build & eval page: the planner's recommendation, starting a build, the auto build's candidates side by side
(ui/views/build_parts.py), the crisis detector's report and the training curves."""

from __future__ import annotations

import streamlit as st

from ui.charts import loss_chart, loss_points
from ui.common import JOB_ACTIVE, client, follow_job, not_available, pick_domain, show_error
from ui.i18n import t
from ui.views.build_parts import comparison_section, decision_section, questions_section, safety_section
from vertical.core.errors import ApiError, VerticalError

STRATEGIES = ["auto", "prompt", "rag", "sft", "sft+rag", "cpt+sft+rag"]

st.title(t("Build & evaluate", "构建与评估"))
domain = pick_domain()


def plan_section() -> str | None:
    st.header(t("Recommended strategy", "推荐策略"))
    try:
        plan = client().plan(domain)
    except ApiError as exc:
        if not not_available(t("The planner", "策略规划"), exc):
            show_error(exc)
        return None
    st.metric(t("planner recommends", "规划器推荐"), plan.get("strategy", "?"))
    for reason in plan.get("reasons") or []:
        st.markdown(f"- {reason}")
    if plan.get("profile"):
        with st.expander(t("What the planner measured", "规划器的测量数据")):
            st.json(plan["profile"])
    return plan.get("strategy")


def build_section(recommended: str | None) -> None:
    st.header(t("Build", "构建"))
    options = STRATEGIES if recommended in STRATEGIES or not recommended else [recommended, *STRATEGIES]
    strategy = st.selectbox(
        t("Strategy", "策略"),
        options,
        index=options.index(recommended) if recommended in options else 0,
        key="build-strategy",
    )
    tiny = st.checkbox(
        t("Tiny CPU settings (few training steps, eval on a subset)", "CPU 精简设置（训练步数少，只评估部分题目）"),
        value=True,
        key="build-tiny",
    )
    if st.button(t("Start build", "开始构建"), key="start-build"):
        try:
            started = client().build(domain, strategy, tiny=tiny)
            st.session_state[f"build-{domain}"] = started.get("job_id")
            if not started.get("job_id"):
                st.success(t("Build finished.", "构建完成。"))
                st.json(started)
        except ApiError as exc:
            if not not_available(t("Building", "构建"), exc):
                show_error(exc)
    job_id = st.session_state.get(f"build-{domain}")
    if job_id:
        st.caption(t("build job {id}", "构建任务 {id}", id=job_id))
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
                t("build {status}", "构建{status}", status=status) + (f": {job['error']}" if job.get("error") else "")
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
        "verdict": manifest.get("verdict") or {},
        "reasons": manifest.get("reasons") or [],
        "safety_report": manifest.get("safety_report"),
    }


def eval_section() -> None:
    st.header(t("Evaluation", "评估"))
    try:
        report = load_eval_report()
    except ApiError as exc:
        if exc.status == 409:
            st.info(t("No eval report yet: build the domain first.", "还没有评估报告：请先构建该领域。"))
        elif not not_available(t("The eval report", "评估报告"), exc):
            show_error(exc)
        return
    report = report or {}
    decision_section(report)
    comparison_section(report)
    questions_section(report)
    safety_section(report)


def loss_section() -> None:
    st.header(t("Last training run", "最近一次训练"))
    try:
        log = client().training_log(domain)
    except ApiError as exc:
        if exc.status == 409:
            st.info(t("No training run recorded for this domain yet.", "该领域还没有训练记录。"))
        elif not not_available(t("The training log (loss curve)", "训练日志（损失曲线）"), exc):
            show_error(exc)
        return
    points = loss_points(log or {})
    if not points:
        st.info(t("No training run recorded for this domain yet.", "该领域还没有训练记录。"))
        return
    if log.get("run"):
        st.caption(t("run {run}", "训练运行 {run}", run=log["run"]))
    st.altair_chart(loss_chart(points, t("train loss", "训练损失"), t("eval loss", "验证损失")), width="stretch")


if domain:
    recommended = plan_section()
    build_section(recommended)
    eval_section()
    loss_section()
