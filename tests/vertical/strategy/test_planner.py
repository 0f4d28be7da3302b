"""Planner rules on synthetic profiles: each rule fires exactly when its condition holds."""

import pytest

from vertical.strategy.planner import plan
from vertical.strategy.rules import CPT_MIN_TOKENS, RULES, SFT_MIN_EXAMPLES, Profile, decide


def fired(profile: Profile) -> set[str]:
    return {f.name for f in decide(profile).fired}


BASE = dict(documents=30, doc_tokens=20_000, raw_corpus_tokens=20_000, conversations=0, eval_questions=50, cpu_cores=2)


@pytest.mark.parametrize(
    "rule, fires, does_not",
    [
        ("docs-present", dict(), dict(documents=0)),
        ("no-docs", dict(documents=0), dict()),
        ("docs-change-often", dict(doc_change_days_30=4), dict(doc_change_days_30=1)),
        ("enough-conversations", dict(conversations=SFT_MIN_EXAMPLES), dict(conversations=SFT_MIN_EXAMPLES - 1)),
        ("few-conversations", dict(conversations=20), dict(conversations=0)),
        ("no-conversations", dict(), dict(conversations=5)),
        (
            "sft-over-budget",
            dict(conversations=2000, time_budget_min=5),
            dict(conversations=2000, time_budget_min=10_000),
        ),
        (
            "large-corpus-gpu",
            dict(raw_corpus_tokens=3 * CPT_MIN_TOKENS, gpu=True, gpu_mem_gb=80),
            dict(raw_corpus_tokens=3 * CPT_MIN_TOKENS),
        ),
        (
            "large-corpus-no-gpu",
            dict(raw_corpus_tokens=3 * CPT_MIN_TOKENS),
            dict(raw_corpus_tokens=3 * CPT_MIN_TOKENS, gpu=True, gpu_mem_gb=80),
        ),
        (
            "small-gpu",
            dict(raw_corpus_tokens=3 * CPT_MIN_TOKENS, gpu=True, gpu_mem_gb=8),
            dict(raw_corpus_tokens=3 * CPT_MIN_TOKENS, gpu=True, gpu_mem_gb=40),
        ),
        ("small-corpus", dict(), dict(raw_corpus_tokens=CPT_MIN_TOKENS)),
        (
            "cpt-over-budget",
            dict(raw_corpus_tokens=3 * CPT_MIN_TOKENS, gpu=True, gpu_mem_gb=80, time_budget_min=1),
            dict(raw_corpus_tokens=3 * CPT_MIN_TOKENS, gpu=True, gpu_mem_gb=80, time_budget_min=10_000),
        ),
        ("no-eval-set", dict(eval_questions=0), dict()),
    ],
)
def test_each_rule_fires_only_when_its_condition_holds(rule, fires, does_not):
    assert rule in fired(Profile(**{**BASE, **fires}))
    assert rule not in fired(Profile(**{**BASE, **does_not}))


def test_every_rule_is_covered_and_explained():
    names = [r.name for r in RULES]
    assert len(names) == len(set(names))
    for rule in RULES:  # every template formats with a profile's fields
        rule.explanation.format(**Profile().fields())


def test_docs_and_conversations_recommend_sft_plus_rag():
    d = decide(Profile(**{**BASE, "conversations": 420}))
    assert d.strategy == "sft+rag"
    assert d.candidates == ["prompt", "sft", "rag", "sft+rag"]
    why = " ".join(f.explanation for f in d.fired)
    assert "420 conversations" in why and "sft worthwhile" in why


def test_big_corpus_without_gpu_explains_why_cpt_is_skipped():
    d = decide(Profile(**{**BASE, "raw_corpus_tokens": 3_000_000, "conversations": 500}))
    assert "cpt" not in d.strategy
    assert any("3000000 tokens but no GPU" in f.explanation for f in d.fired)


def test_big_corpus_with_gpu_builds_cpt_only_together_with_sft():
    d = decide(Profile(**{**BASE, "raw_corpus_tokens": 3_000_000, "conversations": 500, "gpu": True, "gpu_mem_gb": 80}))
    assert d.strategy == "cpt+sft+rag"
    assert all("sft" in c for c in d.candidates if "cpt" in c)


def test_changing_docs_require_rag_in_every_trained_candidate():
    d = decide(Profile(**{**BASE, "conversations": 500, "doc_change_days_30": 6}))
    assert d.candidates == ["prompt", "rag", "sft+rag"]


def test_block_wins_over_allow_regardless_of_order():
    d = decide(Profile(**{**BASE, "conversations": 5000, "time_budget_min": 1}))
    assert "sft" not in d.strategy and {"enough-conversations", "sft-over-budget"} <= {f.name for f in d.fired}


def test_nothing_usable_falls_back_to_prompt():
    d = decide(Profile(documents=0, conversations=3))
    assert d.strategy == "prompt" and d.candidates == ["prompt"]


def test_plan_profiles_the_counseling_domain(counseling_dir):
    from vertical.core.spec import load_domain

    result = plan(load_domain(counseling_dir), time_budget_min=60)
    p = result.profile
    assert p.documents >= 30 and p.doc_tokens > 10_000 and p.eval_questions > 0
    assert "rag" in result.strategy and "cpt" not in result.strategy
    assert result.candidates[0] == "prompt" and result.strategy in result.candidates
    assert any(r.startswith("small-corpus") for r in result.reasons)


def test_plan_cli_prints_the_rules(counseling_dir):
    import subprocess
    import sys

    out = subprocess.run(
        [sys.executable, "-m", "vertical.cli", "plan", str(counseling_dir)], capture_output=True, text=True, timeout=120
    )
    assert out.returncode == 0, out.stderr
    assert "recommended strategy" in out.stdout and "docs-present" in out.stdout


ZH_DOC = (
    "焦虑是人们在面对压力、不确定性或潜在威胁时产生的一种正常情绪反应。适度的焦虑可以帮助我们保持警觉，"
    "更好地应对挑战；但当焦虑持续时间过长、强度过大，并且开始影响睡眠、工作和人际关系时，就需要引起重视了。"
    "如果你出现了伤害自己的念头，请立即联系身边信任的人，并拨打心理援助热线。"
)


def test_chinese_doc_tokens_are_counted_with_the_domain_tokenizer(tmp_path, counseling_dir, generator_name):
    from vertical.core.loaders import load_tokenizer
    from vertical.core.spec import load_domain
    from vertical.strategy.planner import TokenCounter, _domain_tokenizer, count_file_tokens

    tokenizer = _domain_tokenizer(load_domain(counseling_dir))  # smollm2's tokenizer.json
    assert tokenizer is not None
    files = []
    for i in range(8):
        path = tmp_path / f"doc{i}.md"
        path.write_text(f"# 第{i}篇\n\n" + ZH_DOC * (i + 1), encoding="utf-8")
        files.append(path)
    hf = load_tokenizer(generator_name)
    exact = sum(len(hf.encode(p.read_text(encoding="utf-8"), add_special_tokens=False)) for p in files)
    words = sum(len(p.read_text(encoding="utf-8").split()) for p in files)
    assert exact > 20 * words  # what a space split misses
    assert count_file_tokens(files, tokenizer) == exact  # small corpus: every file counted exactly
    assert abs(count_file_tokens(files, None) - exact) / exact < 0.15  # no tokenizer: calibrated estimate
    sampled = TokenCounter(tokenizer, len(files), sample_chars=800)  # large corpus: sampled heads scale the estimate
    for p in files:
        sampled.add(p.read_text(encoding="utf-8"))
    assert abs(sampled.total() - exact) / exact < 0.05


def test_uploaded_documents_count_like_curated_ones(counseling_dir):
    # uploads live in the workspace, not the domain folder: the planner must still see them
    from knowledge.sources import uploads_dir
    from vertical.core.spec import load_domain

    spec = load_domain(counseling_dir)
    before = plan(spec, time_budget_min=60).profile.documents
    folder = uploads_dir(spec)
    folder.mkdir(parents=True)
    (folder / "失眠.md").write_text("# 失眠\n\n睡前一小时放下手机，固定起床时间。\n", encoding="utf-8")
    assert plan(spec, time_budget_min=60).profile.documents == before + 1


def test_long_sessions_count_as_many_answers_for_sft():
    # xinli has 40 conversations (42-, 58- and 72-turn sessions among them) and 30 QA pairs: 70 records
    # but 260 supervised answers; counting records told this Chinese team that SFT was not worth it
    from pathlib import Path

    from vertical.core.spec import load_domain

    xinli = Path(__file__).resolve().parents[3] / "examples" / "xinli"
    p = plan(load_domain(xinli), time_budget_min=60).profile
    assert p.conversations == 70 and p.answers == 260
    assert "enough-conversations" in fired(p) and "few-conversations" not in fired(p)
    assert "few-conversations" in fired(Profile(conversations=70, answers=60))  # answers decide, not records


def test_reviewed_feedback_counts_only_accepted_preference_pairs(counseling_dir):
    from finetune.data.feedback import Feedback, store_for
    from vertical.core.spec import load_domain

    spec = load_domain(counseling_dir)
    before = plan(spec, time_budget_min=60).profile.preference_pairs
    store = store_for()
    ids = [
        store.add(Feedback(spec.name, f"question {i}?", "a weak answer", -1, correction=f"a better answer {i}"))
        for i in range(2)
    ]
    assert plan(spec, time_budget_min=60).profile.preference_pairs == before + 2  # nobody reviewed yet: all count
    store.review(spec.name, ids[0], "preference")
    store.review(spec.name, ids[1], "reject")
    assert plan(spec, time_budget_min=60).profile.preference_pairs == before + 1
