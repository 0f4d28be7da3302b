"""KB → SFT synthesis on the real store and the local SmolLM2: pairs cite existing chunks."""

from __future__ import annotations

import re
from pathlib import Path
from types import SimpleNamespace

import pytest

from finetune.data.report import DataReport
from finetune.data.synth import build_example, clean_question, synthesize_for_spec


def _chunk(cid: str, text: str, source: str = "a.md") -> SimpleNamespace:
    return SimpleNamespace(chunk_id=cid, text=text, source=source)


ORACLE = _chunk("c1", "Box breathing is a simple way to calm the body. You breathe in for four counts, hold for four, "
                "breathe out for four and hold again for four. Repeating this for two minutes slows the heart rate.")
OTHERS = [_chunk("c2", "Grief comes in waves and has no fixed timetable.", "b.md"),
          _chunk("c3", "A thought record helps you notice automatic thoughts.", "c.md")]


def test_filters_count_bad_generations_by_reason() -> None:
    import random

    rng = random.Random(0)
    assert build_example("", ORACLE, OTHERS, "", rng)[1] == "empty question"
    assert build_example("What does the passage say about breathing?", ORACLE, OTHERS, "", rng)[1] == "refers to the text"
    assert build_example("Who won the football match?", ORACLE, OTHERS, "", rng)[1] == "question not grounded in the chunk"
    conv, reason = build_example("How long should you repeat box breathing?", ORACLE, OTHERS,
                                 "Repeat it for two minutes.", rng)
    assert reason is None and conv.meta["chunk_id"] == "c1"
    number = conv.meta["oracle_position"]
    assert f'According to [{number}]: "Repeating this for two minutes slows the heart rate."' in conv.turns[-1].content
    assert f"[{number}] {ORACLE.text}" in conv.turns[0].content  # oracle among the numbered sources
    assert clean_question("Sure! Here it is:\nHow can I calm\ndown quickly? Because...") == "How can I calm down quickly?"


@pytest.mark.slow
def test_synth_pairs_cite_existing_chunks(make_domain, counseling_dir: Path, generator_name, embedder_name) -> None:
    from knowledge.jobs import IngestJob
    from knowledge.store import KnowledgeBase

    docs = counseling_dir / "docs"
    spec = make_domain([], {"docs/breathing-exercises.md": docs / "breathing-exercises.md",
                            "docs/sleep-hygiene.md": docs / "sleep-hygiene.md"})
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
