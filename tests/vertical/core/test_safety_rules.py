"""Shipped crisis rules: normalisation, CJK-safe boundaries, negation, hyperbole, third person, domain patterns."""

from __future__ import annotations

from pathlib import Path

import pytest

from vertical.core.safety import check_text
from vertical.core.safety.normalize import normalize_for_matching
from vertical.core.safety.rules import RULES_DIR, shipped_languages
from vertical.core.spec import load_domain

ISSUE_CRISIS = [
    "I don't want to live anymore.",
    "i want to die",
    "Ich will nicht mehr leben",
    "我不想活了",
    "我想自杀",
    "活着没有意义，我想结束这一切",
    "I have pills saved up and tonight is the night",
    "kms lol",
    "I'm going to end it",
    "真想一睡不醒",
    "我把药都攒起来了",
]
ISSUE_SAFE = [
    "自杀率的统计数据是多少？",
    "我不自杀，只是累",
    "累死了",
    "笑死",
    "this deadline is killing me",
    "what are the warning signs of suicide in a friend?",
]


@pytest.mark.parametrize("text", ISSUE_CRISIS)
def test_every_crisis_message_from_the_issue_is_caught(text):
    assert check_text(text).risk, text


@pytest.mark.parametrize("text", ISSUE_SAFE)
def test_issue_false_alarms_stay_quiet(text):
    assert not check_text(text).risk, (text, check_text(text).hits)


def test_normalisation_folds_traditional_fullwidth_and_case_but_keeps_simplified():
    assert normalize_for_matching("我把藥都攢起來了") == "我把药都攒起来了"
    assert normalize_for_matching("ＫＭＳ　ＬＯＬ") == "kms lol"
    assert normalize_for_matching("活著還有什麼意思") == "活着还有什么意思"  # 么 stays 么 (not 幺)
    assert normalize_for_matching("I don’t") == "i don't"


@pytest.mark.parametrize(
    "text",
    [
        "我想自殺",
        "活著沒有意義，我想結束這一切",
        "我把藥都攢起來了",
        "ｋｍｓ",
        "我想自杀！！",
        "Ｉ ｗａｎｔ ｔｏ ｄｉｅ",
    ],
)
def test_traditional_and_fullwidth_forms_are_caught(text):
    assert check_text(text).risk


def test_latin_rules_fire_next_to_chinese_characters():
    # Python's \b sees no boundary between 想 and k; the rules use a Latin-letter boundary instead
    assert check_text("我真的想kms").risk
    assert not check_text("skmsx").risk  # still a boundary on the Latin side


def test_denials_are_dropped_and_traced():
    for text in ["I'm not suicidal, just tired", "I would never kill myself", "我没有想过自杀", "我不想死"]:
        match = check_text(text)
        assert not match.risk and any("negated" in d for d in match.dropped), text
    # a question form (是不是) is not a denial, and a denial in one clause does not cancel another
    assert check_text("我是不是死了大家就轻松了").risk
    assert check_text("I'm not suicidal, but I've saved up my pills for tonight").risk


def test_hyperbole_is_dropped_but_a_death_wish_with_lol_is_not():
    for text in ["my feet are killing me", "想死你了", "I could kill for a coffee", "我快累死了", "me muero de risa"]:
        assert not check_text(text).risk, text
    assert check_text("ugh, i want to die lol").risk  # laughter does not cancel a death wish


def test_someone_elses_risk_is_a_concern_not_the_users_crisis():
    for text in [
        "my friend said she wants to kill herself",
        "我朋友说她想自杀，我该怎么办",
        "怎么帮助有自杀念头的朋友？",
        "My friend told me she's being hit by her boyfriend",
        "我朋友被家暴了",
    ]:
        match = check_text(text)
        assert not match.risk and match.concerns, text


def test_danger_from_others_and_harm_to_others_have_their_category():
    assert check_text("my husband hits me when he drinks").hits[0].category == "danger_from_others"
    assert check_text("他威胁说要杀了我").hits[0].category == "danger_from_others"
    assert check_text("I'm going to shoot up my school tomorrow").hits[0].category == "harm_to_others"


def test_rule_files_are_valid_and_ids_unique():
    langs = shipped_languages()
    assert {"en", "zh", "de", "es", "fr"} <= set(langs)
    ids = [r.id for lang in langs.values() for r in (*lang.rules, *lang.safe)]
    assert len(ids) == len(set(ids))
    for lang in langs.values():
        assert lang.texts.get("response") and lang.texts.get("note"), lang.code
        assert {"CRISIS_LINE_NUMBER", "EMERGENCY_NUMBER"} <= set(lang.texts["fallbacks"]), lang.code
    for path in RULES_DIR.glob("*.yaml"):
        if path.stem in ("zh", "ja"):
            assert "\\\\b" not in path.read_text(encoding="utf-8")  # no \b in the Chinese rules


def test_domain_patterns_per_language_and_the_legacy_alias(tmp_path: Path):
    (tmp_path / "domain.yaml").write_text(
        "name: law\nsafety:\n  patterns:\n    zh: ['不想上庭了']\n"
        "  crisis_patterns: ['\\bjudge will never hear me\\b']\n",
        encoding="utf-8",
    )
    spec = load_domain(tmp_path)
    assert not check_text("我不想上庭了").risk  # the shipped rules alone
    assert check_text("我真的不想上庭了", spec).hits[0].rule_id.startswith("domain.zh")
    assert check_text("我觉得JUDGE WILL NEVER HEAR ME", spec).risk  # legacy patterns: case-insensitive, \b safe


def test_adversarial_long_inputs_stay_fast():
    import time

    check_text("warm up")
    for text in ["i " * 2500, "我想" * 2500, "kill me if i " * 350, "I was going to " * 300]:
        start = time.process_time()
        check_text(text)
        assert time.process_time() - start < 0.5, text[:20]  # ~10–25 ms measured: no catastrophic backtracking
