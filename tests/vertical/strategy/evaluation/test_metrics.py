"""Each eval metric on hand-made cases: right answers score high, wrong ones low."""

import json

import pytest

from vertical.core.spec import load_domain
from vertical.strategy.evaluation.citation import citation_correctness
from vertical.strategy.evaluation.composite import composite_score
from vertical.strategy.evaluation.dataset import load_eval_set
from vertical.strategy.evaluation.judge import parse_rating
from vertical.strategy.evaluation.keyword_recall import keyword_recall
from vertical.strategy.evaluation.retrieval import hit_at_k, reciprocal_rank
from vertical.strategy.evaluation.rouge_l import rouge_l
from vertical.strategy.evaluation.safety import gave_safety_response, safety_score

RESPONSE = (
    "I'm really sorry you're feeling this way. Please contact your local crisis line at {{CRISIS_LINE_NUMBER}} now."
)


def test_rouge_l_orders_answers_by_overlap():
    ref = "Keep the same wake time every day and avoid caffeine in the afternoon."
    assert rouge_l(ref, ref) == pytest.approx(1.0)
    close = rouge_l("Keep the same wake time daily and skip afternoon caffeine.", ref)
    far = rouge_l("Paris is the capital of France.", ref)
    assert close > 0.4 > far
    assert rouge_l("", ref) == 0.0


def test_keyword_recall_counts_whole_phrases_case_insensitively():
    assert keyword_recall(
        "Try a WIND-DOWN routine and cut caffeine.", ["wind-down", "caffeine", "screens"]
    ) == pytest.approx(2 / 3)
    assert keyword_recall("anything", []) is None
    assert keyword_recall("no match", ["clock"]) == 0.0


def test_hit_at_k_and_mrr_compare_document_names():
    retrieved = ["docs/panic-attacks.md", "sleep-hygiene.md", "burnout.md"]
    assert hit_at_k(retrieved, "sleep-hygiene.md", 2) == 1.0
    assert hit_at_k(retrieved, "sleep-hygiene.md", 1) == 0.0
    assert reciprocal_rank(retrieved, "sleep-hygiene.md") == pytest.approx(0.5)
    assert reciprocal_rank(retrieved, "panic-attacks.md") == 1.0
    assert reciprocal_rank(retrieved, "grief-and-loss.md") == 0.0
    assert reciprocal_rank([], "x.md") == 0.0


def test_citation_correctness_checks_where_each_marker_points():
    sources = ["burnout.md", "sleep-hygiene.md"]
    assert citation_correctness("Keep a wake time [2].", sources, "sleep-hygiene.md") == 1.0
    assert citation_correctness("Keep a wake time [1][2].", sources, "sleep-hygiene.md") == 0.5
    assert citation_correctness("Keep a wake time [7].", sources, "sleep-hygiene.md") == 0.0  # beyond the list
    assert citation_correctness("No citations at all.", sources, "sleep-hygiene.md") == 0.0


def test_safety_response_detected_with_placeholders_filled_in():
    filled = RESPONSE.replace("{{CRISIS_LINE_NUMBER}}", "988")
    assert gave_safety_response(filled, RESPONSE)
    assert not gave_safety_response("Try some breathing exercises.", RESPONSE)
    assert safety_score(filled, RESPONSE, is_crisis=True) == 1.0
    assert safety_score("Try breathing.", RESPONSE, is_crisis=True) == 0.0
    assert safety_score(filled, RESPONSE, is_crisis=False) == 0.0  # a false alarm is also wrong


def test_composite_weights_and_renormalises_missing_parts():
    """Component means → composite (per-item matrix, intervals and the auto rule: test_decision.py)."""
    perfect = {"correctness": 1.0, "faithfulness": 1.0, "safety": 1.0, "retention": 1.0}
    assert composite_score(perfect) == pytest.approx(1.0)
    assert composite_score({**perfect, "retention": 0.5}) == pytest.approx(1 - 0.15 * 0.5)
    assert composite_score({**perfect, "faithfulness": None}) == pytest.approx(1.0)  # no documents: drops out
    assert composite_score({"hit_at_k": 1.0, "citation": 1.0}) == 0.0  # retrieval diagnostics never count


def test_judge_rating_parsing():
    assert parse_rating("5") == 1.0 and parse_rating("Rating: 3/5") == 0.5 and parse_rating("n/a") is None


def test_eval_subset_is_type_balanced(counseling_dir):
    spec = load_domain(counseling_dir)
    items = load_eval_set(spec, 12)
    assert len(items) == 12
    types = {i.type for i in items}
    assert "crisis" in types and len(types) >= 2
    assert len({i.source for i in items if i.source}) >= 6  # spread over documents


def test_bad_eval_file_is_a_clear_error(tmp_path, counseling_dir):
    from vertical.core.errors import SpecError

    spec = load_domain(counseling_dir)
    bad = tmp_path / "q.jsonl"
    bad.write_text(json.dumps({"id": "x"}) + "\n")
    spec.eval.file = bad
    with pytest.raises(SpecError, match="q.jsonl:1"):
        load_eval_set(spec)


def test_answer_similarity_uses_the_embedder(embedder_name):
    from vertical.strategy.evaluation.answer_similarity import answer_similarity

    ref = "Get out of bed after about 20 minutes awake and do something boring in dim light."
    same, related, unrelated = answer_similarity(
        [ref, "If you can't sleep for 20 minutes, get up and do something dull elsewhere.", "Volcanoes erupt lava."],
        [ref, ref, ref],
        embedder_name,
    )
    assert same == pytest.approx(1.0, abs=1e-4)
    assert related > 0.5 > unrelated


@pytest.mark.slow
def test_retention_measures_the_base_model(generator_name):
    from vertical.strategy.evaluation.retention import choice_loglik, general_paragraphs, perplexity

    ppl = perplexity(generator_name, general_paragraphs(2), max_length=128)
    assert 1.0 < ppl < 100.0  # fluent English prose for a 135M instruct model
    words = general_paragraphs(1)[0].split()
    scrambled = " ".join(words[::-1])  # same words, no grammar
    assert perplexity(generator_name, [scrambled], max_length=128) > ppl * 3
    scores = choice_loglik(generator_name, "Question: What is the capital of France?\nAnswer:", ["Berlin", "Paris"])
    assert scores[1] > scores[0]


ZH_REF = "每天尽量在同一时间起床和入睡，睡前一小时减少使用手机，有助于改善失眠。"


def test_rouge_l_on_chinese_answers():
    assert rouge_l(ZH_REF, ZH_REF) == pytest.approx(1.0)  # rouge-score's own tokenizer gives 0.0 here
    close = rouge_l("睡前一小时不要用手机，每天同一时间起床。", ZH_REF)
    far = rouge_l("今天天气很好，我们去公园散步。", ZH_REF)
    assert close > 0.25 > far
    trad = "每天盡量在同一時間起床和入睡，睡前一小時減少使用手機，有助於改善失眠。"
    assert rouge_l(trad, trad) == pytest.approx(1.0)
    assert rouge_l(trad, ZH_REF) == pytest.approx(1.0)  # the same answer in traditional characters


def test_keyword_recall_on_chinese_and_mixed_answers():
    assert keyword_recall(ZH_REF, ["失眠", "手机", "起床"]) == 1.0
    assert keyword_recall("睡前少用手機", ["手机"]) == 1.0  # script-insensitive
    assert keyword_recall("我最近很焦虑，医生建议使用CBT治疗。", ["焦虑", "cbt", "药物"]) == pytest.approx(2 / 3)
    assert keyword_recall("电话：１２０", ["120"]) == 1.0  # full-width digits count
    assert keyword_recall("unscreened", ["screen"]) == 0.0
