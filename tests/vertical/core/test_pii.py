"""PII scrubbing on Chinese and English counseling transcripts: what is replaced, what is left alone."""

from __future__ import annotations

import pytest

from vertical.core.pii import id_card_valid, scrub, scrub_all

ID_X = "44030519851120108X"  # valid checksum, ending in X
ID_OK = "320106199208152740"


@pytest.mark.parametrize(
    ("text", "expected", "counts"),
    [
        ("我13812345678今天打不通。", "我[PHONE]今天打不通。", {"phone": 1}),  # glued to Chinese on both sides
        ("手机+86 138 1234 5678或者0086-13912345678", "手机[PHONE]或者[PHONE]", {"phone": 2}),
        (
            "单位座机010-62345678，家里(021)5432-1098，深圳0755-8888 6666。",
            "单位座机[PHONE]，家里[PHONE]，深圳[PHONE]。",
            {"phone": 3},
        ),
        (
            "My sister is on +44 20 7946 0958 and my office is +1 415-555-2671.",
            "My sister is on [PHONE] and my office is [PHONE].",
            {"phone": 2},
        ),
        # the whole address, local part included, also right after a Chinese character
        ("我的邮箱是zhang.san_88@example.com，有事发邮件。", "我的邮箱是[EMAIL]，有事发邮件。", {"email": 1}),
        ("Write to jane.doe+therapy@mail.example.org.", "Write to [EMAIL].", {"email": 1}),
        (f"身份证号{ID_X}，我妈的是{ID_OK}。", "身份证号[ID]，我妈的是[ID]。", {"id_card": 2}),
        (
            "我叫张伟，住在北京市海淀区中关村大街27号3单元502室。",
            "我叫[NAME]，住在[ADDRESS]。",
            {"name": 1, "address": 1},
        ),
        ("我老公刘强总是加班，王老师也说我状态不好。", "我老公[NAME]总是加班，[NAME]老师也说我状态不好。", {"name": 2}),
        (
            "Hi, my name is Sarah Miller and I live at 42 Baker Street, Apt 3.",
            "Hi, my name is [NAME] and I live at [ADDRESS].",
            {"name": 1, "address": 1},
        ),
    ],
)
def test_pii_is_replaced(text: str, expected: str, counts: dict[str, int]) -> None:
    assert scrub(text) == (expected, counts)


@pytest.mark.parametrize(
    "text",
    [
        "如果有危险，请拨打12356心理援助热线，或者120急救、110报警。",  # hotlines must survive scrubbing
        "Call or text 988, or text HOME to 741741.",
        "我2023年10月1日开始失眠，每晚只睡3.5小时，看病花了12345678元。",
        "订单号110105199003071235不是身份证号。",  # 18 digits, wrong checksum
        "谢谢你愿意说出来。这段时间先把恢复放在第一位，白天小睡不超过三十分钟。",  # jieba tags 谢谢/段时间 as names
        "我妈妈每天都给我打电话，我觉得压力很大，想搬到上海工作。",
        "I slept 8 hours in 2023 and walked 10000 steps.",
    ],
)
def test_not_pii_is_left_alone(text: str) -> None:
    assert scrub(text) == (text, {})


def test_id_card_checksum() -> None:
    assert id_card_valid(ID_X) and id_card_valid(ID_X.lower()) and id_card_valid(ID_OK)
    assert not id_card_valid("110105199003071235") and not id_card_valid("12345")


def test_a_name_found_once_is_scrubbed_in_every_turn() -> None:
    turns = ["我闺蜜小雨最近很忙。", "小雨陪了我两个晚上。", "有小雨陪着你真好。"]
    out, counts = scrub_all(turns)
    assert out == ["我闺蜜[NAME]最近很忙。", "[NAME]陪了我两个晚上。", "有[NAME]陪着你真好。"]
    assert counts == {"name": 3}
    assert scrub_all(turns, types=("phone", "email")) == (turns, {})  # kinds can be switched off
