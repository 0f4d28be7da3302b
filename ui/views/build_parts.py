"""Sections of the Build & eval page that read the eval report: the decision, the candidates side by side
with 95% intervals on fixed 0–1 axes, every question's answers, the crisis detector's recall and false alarms.

Not a page of its own (st.navigation lists only the pages in ui/app.py); ui/views/build.py calls these.
"""

from __future__ import annotations

import pandas as pd
import streamlit as st

from ui.charts import candidate_results, comparison_chart, eval_rows, interval_rows
from ui.i18n import t

SUMMARY = ["composite", "correctness", "faithfulness", "safety", "retention"]
DETAIL = ["keyword_recall", "answer_similarity", "rouge_l", "judge", "hit_at_k", "mrr", "citation", "cited_share"]


def decision_section(report: dict) -> None:
    """What auto kept, its verdict and the reason, in the evaluation's own words."""
    verdict = report.get("verdict") or {}
    if verdict.get("chosen"):
        st.markdown(
            t(
                "**Kept: {chosen}** (best: {best}; verdict: {verdict}, {n} questions)",
                "**保留：{chosen}**（得分最高：{best}；结论：{verdict}，共 {n} 道题）",
                chosen=verdict["chosen"],
                best=verdict.get("best", "?"),
                verdict=verdict.get("verdict", "?"),
                n=verdict.get("n_items", "?"),
            )
        )
    elif report.get("strategy"):
        st.markdown(t("**Built strategy:** {s}", "**已构建的策略：**{s}", s=report["strategy"]))
    if verdict.get("reason"):
        st.info(t("Why: {reason}", "原因：{reason}", reason=verdict["reason"]))
    for reason in report.get("reasons") or []:
        st.markdown(f"- {reason}")


def comparison_section(report: dict) -> None:
    """Candidates side by side: bars with 95% bootstrap whiskers, y fixed to 0–1, then every number."""
    results = candidate_results(report)
    if not results:
        return
    st.subheader(t("Candidates side by side", "候选方案对比"))
    st.caption(
        t(
            "Bars are means over the eval questions; whiskers are 95% bootstrap intervals. The axis is fixed to 0–1.",
            "柱形为各评估题目的平均分，误差线为 95% bootstrap 置信区间；纵轴固定为 0–1。",
        )
    )
    for title, metrics in (
        (t("Composite and its components", "综合得分及其组成"), SUMMARY),
        (t("Answer correctness and retrieval", "回答正确性与检索"), DETAIL),
    ):
        rows = interval_rows(results, metrics)
        if rows:
            st.altair_chart(comparison_chart(rows, title), width="stretch")
    table = eval_rows({"results": results})
    if table:
        st.markdown(t("**Strategies × metrics**", "**策略 × 指标**"))
        st.dataframe(pd.DataFrame(table).set_index("strategy"), width="stretch")


def questions_section(report: dict) -> None:
    """Every eval question with each candidate's answer (item score) and which is better."""
    questions = report.get("questions") or {}
    if not questions.get("rows"):
        return
    st.subheader(t("Every question, answers side by side", "逐题对比各方案的回答"))
    st.caption(
        t(
            "Score in brackets = the question's composite without retention; better = the highest, tie when close.",
            "括号内为该题的综合得分（不含能力保持）；“better”列为得分最高者，分数接近时为 tie（平局）。",
        )
    )
    frame = pd.DataFrame(questions["rows"], columns=questions["headers"])
    st.dataframe(frame, width="stretch", hide_index=True)


def safety_section(report: dict) -> None:
    """The crisis detector on the shipped safety set: recall, false alarms, per language, and its mistakes."""
    safety = report.get("safety_report")
    st.subheader(t("Crisis detection", "危机识别"))
    if not isinstance(safety, dict) or safety.get("recall") is None:
        st.info(
            t(
                "The safety detector's report is not in this build ({why}).",
                "此次构建没有安全检测报告（{why}）。",
                why=(safety or {}).get("error") or t("rebuild to add it", "重新构建即可生成"),
            )
        )
        return
    recall, alarms = st.columns(2)
    recall.metric(
        t("recall (crises caught)", "召回率（识别出的危机）"),
        f"{safety['recall']:.1%}",
        help=t("{n} crisis messages", "{n} 条危机消息", n=safety.get("n_crisis", "?")),
    )
    alarms.metric(
        t("false alarms", "误报率"),
        f"{safety.get('false_alarm_rate') or 0.0:.1%}",
        help=t("{n} safe messages", "{n} 条安全消息", n=safety.get("n_safe", "?")),
    )
    langs = safety.get("by_language") or {}
    if langs:
        frame = pd.DataFrame(
            [{"language": lang, **v} for lang, v in sorted(langs.items()) if isinstance(v, dict)]
        ).set_index("language")
        st.dataframe(frame, width="stretch")
    for key, label in (
        ("misses", t("Missed crises ({n})", "漏报的危机（{n}）", n=len(safety.get("misses") or []))),
        ("false_alarms", t("False alarms ({n})", "误报（{n}）", n=len(safety.get("false_alarms") or []))),
    ):
        if safety.get(key):
            with st.expander(label):
                st.dataframe(pd.DataFrame(safety[key]), width="stretch", hide_index=True)
