"""assess(): whole conversation, risk persists, the latest message decides the action, the trace says why."""

from __future__ import annotations

from pathlib import Path

from vertical.core.safety import SafetyVerdict, assess
from vertical.core.spec import load_domain


def conv(*turns: str) -> list[dict]:
    roles = ["user", "assistant"]
    return [{"role": roles[i % 2], "content": t} for i, t in enumerate(turns)]


def test_crisis_in_the_latest_message_means_fixed_response(counseling_dir):
    v = assess(conv("I want to die"), load_domain(counseling_dir))
    assert isinstance(v, SafetyVerdict)
    assert v.risk and v.latest and v.action == "fixed_response" and v.message_index == 0
    assert v.category == "self_harm" and v.language == "en" and v.source == "rules"
    assert "en.self.want-to-die" in v.matched and "no model call" in v.reason


def test_risk_in_history_persists_with_resources_and_says_from_where(counseling_dir):
    v = assess(conv("我想自杀，药都准备好了", "我在这里陪着你。", "你还在吗？"), load_domain(counseling_dir))
    assert v.risk and not v.latest and v.action == "answer_with_resources"
    assert v.message_index == 0 and v.language == "zh"
    assert "persisting from message 0" in v.reason


def test_the_latest_crisis_message_is_reported_when_history_had_one_too():
    v = assess(conv("I have pills saved up", "...", "the weather is nice", "...", "kms"))
    assert v.action == "fixed_response" and v.message_index == 4


def test_assistant_turns_are_not_checked_and_neutral_talk_is_answered():
    v = assess(conv("how do I sleep better?", "If you ever want to kill yourself, call 988.", "thanks!"))
    assert not v.risk and v.action == "answer" and v.message_index is None
    assert assess([]).action == "answer"


def test_a_denial_after_a_disclosure_does_not_clear_the_risk():
    v = assess(conv("I want to kill myself", "I'm worried about you.", "I'm not going to kill myself, forget it"))
    assert v.risk and v.action == "answer_with_resources" and v.message_index == 0


def test_worried_third_party_gets_an_answer_with_resources():
    v = assess(conv("my friend said she wants to kill herself, what do I do?"))
    assert not v.risk and v.concern and v.action == "answer_with_resources" and v.category == "concern"


def test_message_shapes_strings_objects_and_content_parts():
    class Msg:
        role, content = "user", "我不想活了"

    assert assess(["我不想活了"]).risk
    assert assess([Msg()]).risk
    assert assess([{"role": "user", "content": [{"type": "text", "text": "kms"}]}]).risk


def test_safety_can_be_disabled_per_domain(tmp_path: Path):
    (tmp_path / "domain.yaml").write_text("name: law\nsafety:\n  enabled: false\n", encoding="utf-8")
    v = assess(conv("I want to die"), load_domain(tmp_path))
    assert not v.risk and "disabled" in v.reason


def test_verdict_serialises_for_the_api():
    d = assess(conv("kms lol")).to_dict()
    assert d["risk"] is True and d["action"] == "fixed_response" and isinstance(d["matched"], tuple | list)


def test_a_question_about_getting_help_is_answered_with_resources_unless_it_states_the_crisis():
    v = assess(conv("Where can I get help right now if I feel I can't keep myself safe?"))
    assert not v.risk and v.action == "answer_with_resources" and "en.concern.help-seeking" in v.matched
    assert assess(conv("I want to kill myself, where can I get help?")).action == "fixed_response"
