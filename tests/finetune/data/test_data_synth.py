"""KB → SFT synthesis on the real store and the local SmolLM2: pairs cite existing chunks."""

from __future__ import annotations

import random
import re
from pathlib import Path
from types import SimpleNamespace

import pytest

from finetune.data.report import DataReport
from finetune.data.synth import build_example, clean_question, synthesize_for_spec


def _chunk(cid: str, text: str, source: str = "a.md") -> SimpleNamespace:
    return SimpleNamespace(chunk_id=cid, text=text, source=source)


ORACLE = _chunk(
    "c1",
    "Box breathing is a simple way to calm the body. You breathe in for four counts, hold for four, "
    "breathe out for four and hold again for four. Repeating this for two minutes slows the heart rate.",
)
OTHERS = [
    _chunk("c2", "Grief comes in waves and has no fixed timetable.", "b.md"),
    _chunk("c3", "A thought record helps you notice automatic thoughts.", "c.md"),
]


def test_filters_count_bad_generations_by_reason() -> None:
    import random

    rng = random.Random(0)
    assert build_example("", ORACLE, OTHERS, "", rng)[1] == "empty question"
    assert (
        build_example("What does the passage say about breathing?", ORACLE, OTHERS, "", rng)[1] == "refers to the text"
    )
    assert (
        build_example("Who won the football match?", ORACLE, OTHERS, "", rng)[1] == "question not grounded in the chunk"
    )
    conv, reason = build_example(
        "How long should you repeat box breathing?", ORACLE, OTHERS, "Repeat it for two minutes.", rng
    )
    assert reason is None and conv.meta["chunk_id"] == "c1"
    number = conv.meta["oracle_position"]
    assert f'According to [{number}]: "Repeating this for two minutes slows the heart rate."' in conv.turns[-1].content
    assert f"[{number}] {ORACLE.text}" in conv.turns[0].content  # oracle among the numbered sources
    assert (
        clean_question("Sure! Here it is:\nHow can I calm\ndown quickly? Because...") == "How can I calm down quickly?"
    )


@pytest.mark.slow
def test_synth_pairs_cite_existing_chunks(make_domain, counseling_dir: Path, generator_name, embedder_name) -> None:
    from knowledge.jobs import IngestJob
    from knowledge.store import KnowledgeBase

    docs = counseling_dir / "docs"
    spec = make_domain(
        [],
        {
            "docs/breathing-exercises.md": docs / "breathing-exercises.md",
            "docs/sleep-hygiene.md": docs / "sleep-hygiene.md",
        },
    )
    IngestJob(spec).run()
    kb = KnowledgeBase.for_domain(spec)
    chunks = {h.chunk_id: h.text for h in kb.all_chunks()}
    assert len(chunks) >= 3
    report = DataReport()
    pairs = synthesize_for_spec(spec, n_pairs=2, report=report)
    dropped = sum(n for reason, n in report.dropped.items() if reason.startswith("synth:"))
    assert pairs, f"no pair survived the filters: {report.to_dict()['dropped']} {report.examples}"
    assert len(pairs) + dropped >= 2  # every generation is either kept or counted by reason
    for conv in pairs:
        oracle = chunks[conv.meta["chunk_id"]]  # cites a chunk that exists in the store
        assert all(d in chunks for d in conv.meta["distractor_ids"]) and len(conv.meta["distractor_ids"]) == 2
        quote = re.search(r'"(.+)"$', conv.turns[-1].content).group(1)
        assert quote in " ".join(oracle.split())
        assert conv.turns[-2].content.rstrip().endswith("?")
    again = synthesize_for_spec(spec, n_pairs=2)  # cached: same pairs without generating again
    assert [c.turns for c in again] == [c.turns for c in pairs]


ZH_CHUNKS = [
    _chunk(
        "z1",
        "## 睡眠卫生\n\n每天尽量在同一时间起床，周末也不要相差超过一小时。"
        "固定的起床时间比早点上床更能稳定生物钟。"
        "如果躺下二十分钟还睡不着，可以起床到另一个房间做些安静的事，有困意再回到床上。",
        "sleep.md",
    ),
    _chunk(
        "z2",
        "惊恐发作时心跳加快、呼吸急促，很多人会以为自己心脏出了问题。惊恐发作通常在十分钟左右达到高峰，"
        "然后慢慢减弱。缓慢地呼气、感受双脚踩在地面上，可以帮助身体平静下来。",
        "panic.md",
    ),
    _chunk(
        "z3",
        "哀伤没有固定的时间表，它常常像潮水一样一阵一阵地来。允许自己想念逝去的人，和信任的人谈谈他，"
        "都是哀伤过程中自然的一部分。",
        "grief.md",
    ),
    _chunk("z4", "谢谢你的分享。", "short.md"),
]


def test_chinese_chunks_are_measured_in_tokens_and_prompted_in_chinese() -> None:
    from finetune.data.synth import question_problem, sentences, usable_chunks
    from finetune.data.synth_prompts import ZH, language_of

    report = DataReport()
    usable = usable_chunks(ZH_CHUNKS, report)
    assert [c.chunk_id for c in usable] == ["z1", "z2", "z3"]  # whitespace words would call all of them "too short"
    assert report.counts["synth chunks too short"] == 1
    assert sentences(ZH_CHUNKS[0].text)[0] == "每天尽量在同一时间起床，周末也不要相差超过一小时。"  # heading dropped
    lang = language_of(ZH_CHUNKS[1].text)
    assert lang is ZH
    prompt = lang.question_prompt(ZH_CHUNKS[1].text)
    asked = prompt[-1]["content"]
    assert asked.startswith("资料：惊恐发作") and asked.endswith("请写一个这段资料能够回答的问题。")
    assert all(m["content"].isascii() is False for m in prompt)  # the worked examples are Chinese too
    assert lang.clean_question("好的。\n问题：惊恐发作通常多久达到高峰?然后呢") == "惊恐发作通常多久达到高峰？"
    assert question_problem("这段资料讲了什么？", ZH_CHUNKS[1]) == "refers to the text"
    assert question_problem("怎样才能考好英语？", ZH_CHUNKS[1]) == "question not grounded in the chunk"
    conv, reason = build_example("惊恐发作多久会达到高峰？", ZH_CHUNKS[1], ZH_CHUNKS[2:3], "", random.Random(0))
    assert reason is None
    number = conv.meta["oracle_position"]
    assert conv.turns[-1].content == f"根据[{number}]：“惊恐发作通常在十分钟左右达到高峰，然后慢慢减弱。”"
    user = conv.turns[0].content
    assert user.startswith("资料：\n[1] ") and "\n\n问题：惊恐发作多久会达到高峰？" in user


def test_zero_pairs_says_why_and_exits_2(make_domain) -> None:
    import subprocess
    import sys

    from finetune.data.synth import require_pairs
    from vertical.core.errors import DataFormatError

    report = DataReport()
    report.count("synth chunks considered", 3)
    report.count("synth candidates", 3)
    report.drop("synth: empty question")
    report.drop("synth: empty question")
    report.drop("synth: refers to the text")
    with pytest.raises(DataFormatError, match=r"from 3 candidate chunks \(2 empty question, 1 refers to the text\)"):
        require_pairs([], report)
    spec = make_domain([])  # no documents ingested: an empty knowledge base
    out = subprocess.run(
        [sys.executable, "-m", "vertical.cli", "data", "synth", str(spec.root), "--n", "2"],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert out.returncode == 2, out.stdout + out.stderr
    assert "the knowledge base has no chunks" in out.stderr and "vertical kb ingest" in out.stderr


@pytest.mark.slow
def test_synth_on_chinese_chunks_runs_the_chinese_path(generator_name) -> None:
    from finetune.data.synth import synthesize
    from vertical.core.generate import chat_generate
    from vertical.core.text import is_cjk

    prompts, budgets = [], []

    def generate(convs, max_new_tokens):  # the real local model; records what it was asked
        prompts.extend(convs)
        budgets.append(max_new_tokens)
        return chat_generate(generator_name, convs, max_new_tokens=max_new_tokens)

    report = DataReport()
    pairs = synthesize(ZH_CHUNKS[1:], generate, n_pairs=1, report=report)  # 2 usable chunks: one batch of 2
    assert report.counts["synth chunks considered"] == 3 and report.counts["synth candidates"] == 2
    assert prompts and all(is_cjk(p[-1]["content"]) and p[-1]["content"].startswith("资料：") for p in prompts)
    assert budgets[0] == 64  # Chinese budget: about two tokens per character
    dropped = sum(n for reason, n in report.dropped.items() if reason.startswith("synth:"))
    surplus = report.counts["synth pairs beyond n (unused)"]
    assert len(pairs) + dropped + surplus == 2  # every candidate is kept or counted by reason
    for conv in pairs:  # the 135M model writes poor Chinese: the path is asserted, not the quality
        assert conv.meta["language"] == "zh" and conv.turns[-1].content.startswith("根据[")
