"""Post-hoc citation attribution: supported sentences get the right [n], unsupported ones none."""

from serving.citations import attribute_citations

SOURCES = [
    "Caffeine can stay in your system for many hours, so have your last coffee by early afternoon.",
    "If you lie awake for more than twenty minutes, get up and do something quiet until sleepy.",
]


def test_each_supported_sentence_cites_its_source():
    answer = (
        "Have your last coffee by early afternoon because caffeine stays for hours. "
        "If awake more than twenty minutes, get up and do something quiet. Bananas are yellow."
    )
    text, used = attribute_citations(answer, SOURCES)
    assert used == [1, 2]
    assert "hours [1]." in text
    assert "quiet [2]." in text
    assert text.endswith("Bananas are yellow.")


def test_answers_that_already_cite_are_left_alone():
    answer = "Avoid late coffee [2]."
    assert attribute_citations(answer, SOURCES) == (answer, [])
    assert attribute_citations("No sources here.", []) == ("No sources here.", [])


# --- Chinese (and mixed) text: words come from the shared text module, not an ASCII regex ---

from dataclasses import dataclass  # noqa: E402

from serving.citations import cited_numbers, extractive_answer, grounding  # noqa: E402

ZH_SOURCES = [
    "腹式呼吸可以缓解焦虑：用鼻子慢慢吸气四秒，让腹部鼓起，再用嘴缓缓呼气六秒，重复五到十次。",
    "每天尽量在同一时间起床和入睡，睡前一小时减少使用手机，有助于改善失眠。",
]


@dataclass
class _Hit:
    text: str


def test_grounding_of_a_verbatim_chinese_copy_is_full():
    score, reason = grounding(ZH_SOURCES[0], ZH_SOURCES, [1])
    assert score == 1.0 and "nothing to check" not in reason


def test_grounding_of_an_unrelated_chinese_answer_is_low():
    score, reason = grounding("今天天气很好，我们一起去公园散步吧，顺便买点水果回来。", ZH_SOURCES, [])
    assert score < 0.2 and "LOW" in reason


def test_grounding_of_a_traditional_chinese_copy_and_a_paraphrase():
    trad = "腹式呼吸可以緩解焦慮：用鼻子慢慢吸氣四秒，讓腹部鼓起。"
    assert grounding(trad, [trad], [1])[0] == 1.0
    assert grounding(trad, ZH_SOURCES, [1])[0] == 1.0  # traditional answer, simplified source
    paraphrase = "你可以试试腹式呼吸：慢慢吸气四秒，再缓缓呼气六秒。"
    assert grounding(paraphrase, ZH_SOURCES, [])[0] >= 0.5


def test_chinese_sentences_cite_their_sources_without_spaces():
    answer = (
        "焦虑的时候，可以用鼻子慢慢吸气四秒，再用嘴缓缓呼气六秒。"
        "睡前一小时减少使用手机，每天同一时间起床。香蕉是黄色的。"
    )
    text, used = attribute_citations(answer, ZH_SOURCES)
    assert used == [1, 2]
    assert "呼气六秒[1]。睡前" in text
    assert "起床[2]。香蕉是黄色的。" in text
    assert cited_numbers(text, 2) == ([1, 2], [])


def test_mixed_chinese_english_answer_is_grounded_on_its_words():
    source = "认知行为疗法（CBT）在焦虑障碍的治疗中有大量研究支持，一般需要八到十二次会谈。"
    assert grounding("CBT 治疗焦虑障碍一般需要八到十二次会谈。", [source], [1])[0] == 1.0


def test_extractive_answer_quotes_the_best_chinese_sentence():
    hits = [_Hit("# 放松\n腹式呼吸可以缓解焦虑。重复五到十次，每次都慢慢来。"), _Hit(ZH_SOURCES[1])]
    answer = extractive_answer("怎样用呼吸缓解焦虑？", hits)
    assert answer.startswith("腹式呼吸可以缓解焦虑[1]。")
    assert answer.endswith("有助于改善失眠[2]。")


def test_extractive_answer_in_english_keeps_its_format():
    hits = [_Hit(SOURCES[0]), _Hit(SOURCES[1])]
    answer = extractive_answer("When should I stop drinking coffee?", hits)
    assert answer == (
        "Caffeine can stay in your system for many hours, so have your last coffee by early afternoon [1]. "
        "If you lie awake for more than twenty minutes, get up and do something quiet until sleepy [2]."
    )
