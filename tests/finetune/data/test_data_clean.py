"""Cleaning: normalisation, PII placeholders, exact and near dedupe, length filter, atomic report."""

from __future__ import annotations

import json
from pathlib import Path

from finetune.data.clean import CleanOptions, clean_conversations, normalize_text, scrub_pii
from finetune.data.report import DataReport
from finetune.data.types import Conversation, Turn

BASE = (
    "When worry keeps you awake, try writing the worries on paper an hour before bed, then set a short "
    "worry time for tomorrow afternoon so your mind knows they will be dealt with later."
)


def _conv(user: str, answer: str, cid: str) -> Conversation:
    return Conversation([Turn("user", user), Turn("assistant", answer)], id=cid, source=f"f.jsonl:{cid}")


def test_normalize_keeps_chinese_punctuation_and_fixes_width_and_whitespace() -> None:
    assert normalize_text("Ｆｕｌｌ\u00a0width  text \r\n\n\n\nnext\u200b line  ") == "Full width text\n\nnext line"
    zh = "我最近睡不好，怎么办？试试：放松；呼吸！"
    assert normalize_text(zh) == zh  # full-width ，？：；！ stay as the text wrote them
    assert normalize_text("我每天睡５小时\u3000\u3000还是很累。") == "我每天睡5小时 还是很累。"


def test_pii_becomes_placeholders() -> None:
    text, n = scrub_pii(
        "Mail jane.doe@example.org or call +44 20 7946 0958 or (415) 555-2671; I slept 8 hours in 2023."
    )
    assert text == "Mail [EMAIL] or call [PHONE] or [PHONE]; I slept 8 hours in 2023."
    assert n == 3


def test_pii_counted_per_type_in_the_report() -> None:
    conv = Conversation(
        [
            Turn("user", "我叫张伟，手机13812345678，邮箱zhang.wei@example.com，可以联系我。"),
            Turn("assistant", "谢谢你告诉我。这些个人信息不需要发在这里，你可以先说说最近的感受。"),
            Turn("user", "我闺蜜小雨陪了我两个晚上，小雨说我应该去医院看看。"),
            Turn("assistant", "有小雨陪着你真好。如果需要，可以拨打12356心理援助热线。"),
        ],
        id="zh-pii",
    )
    report = DataReport()
    kept = clean_conversations([conv], report, CleanOptions(scrub_pii=True))
    turns = [t.content for t in kept[0].turns]
    assert turns[0] == "我叫[NAME]，手机[PHONE]，邮箱[EMAIL]，可以联系我。"
    assert turns[2] == "我闺蜜[NAME]陪了我两个晚上，[NAME]说我应该去医院看看。"
    assert turns[3] == "有[NAME]陪着你真好。如果需要，可以拨打12356心理援助热线。"  # the hotline is not PII
    assert turns[1] == conv.turns[1].content  # 谢谢 is not a name although jieba tags it nr
    assert {k: v for k, v in report.counts.items() if k.startswith("pii")} == {
        "pii: name": 4,
        "pii: phone": 1,
        "pii: email": 1,
        "pii replaced": 6,
    }


ZH_ANSWER = (
    "失眠的时候不要一直躺在床上看手机。如果二十分钟还睡不着，可以起床到另一个房间，在暗一点的灯光下看几页书，"
    "等有了困意再回到床上。每天尽量在同一时间起床，周末也不要睡到中午。"
)


def test_chinese_one_word_edit_is_a_near_duplicate_at_the_default_threshold() -> None:
    from finetune.data.clean import conversation_shingles, jaccard

    original = _conv("晚上总是睡不着怎么办？", ZH_ANSWER, "zh-1")
    edited = _conv("晚上总是睡不着怎么办？", ZH_ANSWER.replace("看几页书", "听听音乐"), "zh-2")  # one phrase changed
    other = _conv(
        "考试前特别紧张怎么办？",
        "紧张是身体在为挑战做准备。可以把复习计划拆成小块，每完成一块就休息五分钟，"
        "考前一晚早点睡，进考场前做几次缓慢的深呼吸。",
        "zh-3",
    )
    similarity = jaccard(conversation_shingles(original), conversation_shingles(edited))
    assert 0.85 <= similarity < 0.95
    report = DataReport()
    kept = clean_conversations([original, edited, other], report, CleanOptions())  # default threshold 0.85
    assert [c.id for c in kept] == ["zh-1", "zh-3"] and report.dropped["near duplicate"] == 1


def test_dedupe_removes_planted_near_duplicates_and_keeps_distinct() -> None:
    distinct = [
        _conv("How do I stop worrying at night?", BASE, "1"),
        _conv(
            "What is box breathing?",
            "Box breathing means breathing in for four counts, holding for four, out for four "
            "and holding again for four, repeated for a few minutes to steady the body.",
            "2",
        ),
        _conv(
            "How can I support a grieving friend?",
            "Stay in touch after the funeral, say the name of the person who died, "
            "offer practical help like meals, and let your friend talk without trying to fix the grief.",
            "3",
        ),
    ]
    planted = [
        _conv("How do I stop worrying at night?", BASE, "exact"),  # exact copy
        _conv("how do I stop  worrying at night?", BASE.upper().lower(), "case"),  # same after normalising/case-folding
        _conv("How do I stop worrying at night?", BASE.replace("short", "brief"), "near"),  # one word changed
    ]
    report = DataReport()
    kept = clean_conversations(distinct + planted, report, CleanOptions(dedupe_threshold=0.8))
    assert [c.id for c in kept] == ["1", "2", "3"]
    assert report.dropped["exact duplicate"] == 2 and report.dropped["near duplicate"] == 1


def test_length_filter_and_empty_after_cleaning_are_counted() -> None:
    convs = [_conv("Hi", "Ok", "short"), _conv("Hello", "\u200b \u00a0", "empty"), _conv("Hey", BASE, "good")]
    report = DataReport()
    kept = clean_conversations(convs, report, CleanOptions(min_tokens=3))
    assert [c.id for c in kept] == ["good"]
    assert report.dropped == {"empty after cleaning": 1, "shorter than 3 tokens": 1}


def test_report_written_atomically_with_histogram(tmp_path: Path) -> None:
    report = DataReport()
    report.drop("near duplicate", _conv("a", "b", "x"))
    report.lengths = {"domain": [10, 20, 30, 400]}
    paths = report.write(tmp_path / "out", "sft_report")
    data = json.loads(paths["json"].read_text())
    assert data["dropped"] == {"near duplicate": 1} and data["token_lengths"]["domain"]["max"] == 400
    assert paths["histogram"].read_bytes().startswith(b"\x89PNG")
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == ["sft_report.json", "sft_report_lengths.png"]
