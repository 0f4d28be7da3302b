"""The shared text module on real Chinese (simplified, traditional, mixed) and English text."""

from __future__ import annotations

import time

import pytest

from vertical.core.text import (
    content_words,
    count_tokens,
    detect_language,
    is_cjk,
    normalize,
    sentences,
    shingles,
    to_simplified,
    words,
)

ZH = (
    "焦虑是人们在面对压力、不确定性或潜在威胁时产生的一种正常情绪反应。适度的焦虑可以帮助我们保持警觉，"
    "更好地应对挑战；但当焦虑持续时间过长、强度过大，并且开始影响睡眠、工作和人际关系时，就需要引起重视了。"
    "如果你出现了伤害自己的念头，请立即联系身边信任的人，并拨打心理援助热线400-161-9995。"
)
ZH_TRAD = "焦慮是人們在面對壓力時產生的一種正常情緒反應。如果你出現了傷害自己的念頭，請立即聯繫身邊信任的人。"
EN = (
    "Anxiety is a normal reaction to stress. Dr. Lee suggests slow breathing, e.g. four seconds in and six out. "
    "If the worry lasts for weeks, talk to someone you trust!"
)


@pytest.fixture(scope="module")
def smollm2_tokenizer(generator_name: str):
    from vertical.core.loaders import load_tokenizer

    return load_tokenizer(generator_name)


@pytest.mark.parametrize(
    ("text", "lang"),
    [
        ("我不想活了", "zh"),
        ("我最近很焦慮，睡不著覺", "zh"),
        ("我在用 Python 写 machine learning 代码", "zh"),
        ("Ich will nicht mehr leben", "de"),
        ("i want to die", "en"),
        ("hello", "en"),
        ("Je ne veux plus vivre", "fr"),
        ("tengo miedo", "es"),
        ("私は死にたい", "ja"),
        ("죽고 싶어요", "ko"),
        ("see 附录 A in the appendix of the report for details", "en"),
        (EN, "en"),
        (ZH, "zh"),
        ("123 456 !!", "und"),
        ("", "und"),
    ],
)
def test_detect_language(text: str, lang: str) -> None:
    assert detect_language(text) == lang


def test_detect_language_is_fast_on_chat_messages() -> None:
    detect_language("warm up the identifier")
    messages = ["I have been feeling really anxious lately and I cannot sleep, what should I do?", ZH[:40]]
    start = time.perf_counter()
    for _ in range(200):
        for m in messages:
            detect_language(m)
    per_call_ms = (time.perf_counter() - start) / 400 * 1000
    assert per_call_ms < 0.2


def test_is_cjk() -> None:
    assert is_cjk("abc 漢字") and is_cjk("カタカナ") and is_cjk("한국어")
    assert not is_cjk("plain ASCII, café") and not is_cjk("，。")  # punctuation alone is not a script


def test_words_chinese_simplified_traditional_and_mixed() -> None:
    assert words("我最近很焦虑，睡不着觉。") == ["我", "最近", "很", "焦虑", "睡不着", "觉"]
    trad = words(ZH_TRAD)
    assert "焦慮" in trad and "，" not in trad and "。" not in trad
    # jieba's dictionary is simplified: traditional text is cut as its simplified twin, words stay traditional
    assert words("如果你出現了傷害自己的念頭") == ["如果", "你", "出現", "了", "傷害", "自己", "的", "念頭"]
    assert to_simplified("焦慮症的治療") == "焦虑症的治疗"
    mixed = words("我在用Python写machine learning代码，花了3.5小时。I don't know.")
    assert {"python", "machine", "learning", "代码", "3.5", "don't", "know"} <= set(mixed)
    assert "焦虑" in words("焦虑症", search=True) and "焦虑症" in words("焦虑症", search=True)


def test_words_english() -> None:
    assert words("It's 3.5 hours; end.Next — well-being!") == ["it's", "3.5", "hours", "end", "next", "well", "being"]


def test_content_words_drop_stopwords_in_both_languages() -> None:
    assert content_words("我最近很焦虑，睡不着觉") == {"最近", "焦虑", "睡不着", "觉"}
    assert content_words("I want to die, I am so tired of everything") == {"want", "die", "tired", "everything"}
    assert "安全" in content_words("你现在安全吗？")  # a content word in counseling, unlike in bm25s' list


def test_sentences_chinese_punctuation_quotes_and_ellipsis() -> None:
    assert sentences("他说：“我不想去。”然后走了。我想想……算了吧！还是明天再说；你觉得呢？") == [
        "他说：“我不想去。”",
        "然后走了。",
        "我想想……",
        "算了吧！",
        "还是明天再说；",
        "你觉得呢？",
    ]
    assert sentences("她问：「你還好嗎？」我說：「還好。」") == ["她问：「你還好嗎？」", "我說：「還好。」"]
    assert sentences("I feel sad. 我很难过。Why?") == ["I feel sad.", "我很难过。", "Why?"]


def test_sentences_english_abbreviations_and_newlines() -> None:
    assert sentences(EN) == [
        "Anxiety is a normal reaction to stress.",
        "Dr. Lee suggests slow breathing, e.g. four seconds in and six out.",
        "If the worry lasts for weeks, talk to someone you trust!",
    ]
    assert sentences("A wrapped\nline of prose. Next.\n\n# Heading\n- item one\n- item two") == [
        "A wrapped line of prose.",
        "Next.",
        "# Heading",
        "- item one",
        "- item two",
    ]


def test_count_tokens_estimate_is_near_smollm2(smollm2_tokenizer) -> None:
    for text in (ZH, ZH_TRAD, EN):
        exact = count_tokens(text, smollm2_tokenizer)
        assert exact == len(smollm2_tokenizer.encode(text, add_special_tokens=False))
        assert abs(count_tokens(text) - exact) / exact < 0.2, text[:20]
    # The symptom: Chinese counted as space-separated words is ~20x too low.
    assert count_tokens(ZH) > 1.5 * len(ZH.replace("，", "").replace("。", ""))
    assert count_tokens("") == 0 and count_tokens("", smollm2_tokenizer) == 0


def test_normalize_keeps_cjk_punctuation() -> None:
    messy = "ＡＢＣ１２３，你好？！：；　世界\r\n\n\n\n  next   line  "
    assert normalize(messy) == "ABC123，你好？！：； 世界\n\nnext line"
    assert normalize("电话：１３８１２３４５６７８。") == "电话：13812345678。"


def test_shingles_catch_a_one_word_edit_in_chinese() -> None:
    a = "我最近工作压力很大，每天晚上都睡不着觉，白天也没有精神，不知道该怎么办才好。"
    b = a.replace("每天", "每晚")
    unrelated = "今天天气很好，我们一起去公园散步吧，顺便买点水果回来。"
    sa, sb, su = shingles(a), shingles(b), shingles(unrelated)
    assert len(sa & sb) / len(sa | sb) > 0.8
    assert len(sa & su) / len(sa | su) < 0.1
    assert shingles("I have been feeling very anxious") == {
        "i have been",
        "have been feeling",
        "been feeling very",
        "feeling very anxious",
    }
    assert shingles("你好") == {"你好"} and shingles("") == set()


def test_split_after_cjk_ends_keeps_every_character() -> None:
    from vertical.core.text.sentences import split_after_cjk_ends

    text = "他说：“我不想去。” 然后走了……\n好吧！It helps. 真的？"
    pieces = split_after_cjk_ends(text)
    assert "".join(pieces) == text
    assert pieces[:3] == ["他说：“我不想去。”", " 然后走了……", "\n好吧！"]
