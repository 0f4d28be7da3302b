"""Build orchestration: steps run in order, unchanged steps are skipped, a failed step keeps the old manifest."""

import json
import shutil
from pathlib import Path

import pytest
import yaml

from vertical.core.errors import BuildError
from vertical.core.manifest import load_manifest, manifest_path
from vertical.core.spec import load_domain
from vertical.strategy.build import build


def make_domain(
    tmp_path: Path, counseling_dir: Path, docs=("sleep-hygiene.md", "panic-attacks.md"), datasets=None
) -> Path:
    root = tmp_path / "mini"
    (root / "docs").mkdir(parents=True)
    for name in docs:
        shutil.copy(counseling_dir / "docs" / name, root / "docs" / name)
    spec = yaml.safe_load((counseling_dir / "domain.yaml").read_text())
    spec["name"] = "mini"
    spec["data"]["datasets"] = datasets or []
    spec["eval"] = {"file": None, "k": 3}
    (root / "domain.yaml").write_text(yaml.safe_dump(spec))
    return root


def test_rag_build_writes_manifest_then_skips_unchanged_steps(tmp_path, counseling_dir, embedder_name):
    root = make_domain(tmp_path, counseling_dir)
    first = build(load_domain(root), "rag", evaluate=False)
    assert manifest_path("mini").is_file()
    assert [s.name for s in first.steps] == ["ingest", "prompt"]
    assert first.kb is not None and first.kb.documents == 2 and first.kb.chunks > 2
    assert first.strategy == "rag" and first.base_model == "smollm2-135m-instruct"
    assert not any(s.skipped for s in first.steps)

    second = build(load_domain(root), "rag", evaluate=False)
    assert all(s.skipped for s in second.steps)
    assert second.kb.content_hash == first.kb.content_hash

    # a changed document re-runs ingest (content, not the file name or mtime, decides)
    doc = root / "docs" / "sleep-hygiene.md"
    doc.write_text(doc.read_text() + "\n\nA new paragraph about keeping a regular morning walk for better sleep.\n")
    third = build(load_domain(root), "rag", evaluate=False)
    assert not third.step("ingest").skipped and third.step("prompt").skipped
    assert third.kb.content_hash != first.kb.content_hash
    assert load_manifest("mini").kb.content_hash == third.kb.content_hash


def test_failed_step_raises_build_error_and_keeps_previous_manifest(tmp_path, counseling_dir, embedder_name):
    root = make_domain(tmp_path, counseling_dir)
    good = build(load_domain(root), "rag", evaluate=False)
    before = manifest_path("mini").read_bytes()

    spec_file = root / "domain.yaml"
    spec = yaml.safe_load(spec_file.read_text())
    spec["data"]["datasets"] = [{"name": "missing", "file": "data/nowhere.jsonl", "format": "sharegpt"}]
    spec_file.write_text(yaml.safe_dump(spec))
    with pytest.raises(BuildError) as err:
        build(load_domain(root), "sft+rag", evaluate=False)
    assert "'data'" in err.value.message and "nowhere.jsonl" in err.value.message
    assert manifest_path("mini").read_bytes() == before
    assert load_manifest("mini").strategy == good.strategy == "rag"


def test_unknown_strategy_is_a_clear_error(tmp_path, counseling_dir):
    root = make_domain(tmp_path, counseling_dir)
    with pytest.raises(BuildError, match="unknown strategy"):
        build(load_domain(root), "finetune", evaluate=False)
    assert not manifest_path("mini").exists()


def test_prompt_build_selects_few_shot_examples_by_similarity(tmp_path, counseling_dir, embedder_name):
    from serving.few_shot import select_few_shot

    data = tmp_path / "mini" / "data"
    data.mkdir(parents=True)
    rows = [
        ("How do I sleep better?", "Keep a fixed wake time."),
        ("What helps with panic?", "Slow breathing."),
        ("How can I deal with grief?", "Let yourself feel it."),
        ("Tips for insomnia at night?", "Get up after 20 minutes."),
    ]
    (data / "qa.jsonl").write_text("".join(json.dumps({"instruction": q, "output": a}) + "\n" for q, a in rows))
    root = make_domain(tmp_path, counseling_dir, datasets=[{"name": "qa", "file": "data/qa.jsonl", "format": "alpaca"}])
    manifest = build(load_domain(root), "prompt", evaluate=False)
    assert [s.name for s in manifest.steps] == ["prompt"] and manifest.kb is None and manifest.adapter_path is None
    assert len(manifest.few_shot) == 4
    chosen = select_few_shot(
        "I can't fall asleep at night", manifest.few_shot, embedder_name, token_budget=40, max_examples=2
    )
    assert {c["question"] for c in chosen} <= {"How do I sleep better?", "Tips for insomnia at night?"} and chosen
    assert select_few_shot("sleep", manifest.few_shot, embedder_name, token_budget=3) == []  # nothing fits


# ---- auto: the decision rule on two tiny domains (prompt vs rag only, no training) --------------------------
FACTS = {
    "zorblat-festival.md": "# The Zorblat festival\n\nThe Zorblat festival of Quenville is held every year on the "
    "ninth of Brumaire. Visitors pay 42 florins for a ticket. The festival ends with the lantern parade of Mirrowgate "
    "Bridge, led by the Keeper of Owls.\n",
    "velm-tea.md": "# Velm tea\n\nVelm tea is brewed from the silver leaves of the krellberry shrub. It must steep "
    "for exactly seven minutes in water at 71 degrees. Velm tea was first served by the monks of Ostravel.\n",
    "harbour-of-tesk.md": "# The harbour of Tesk\n\nThe harbour of Tesk has three lighthouses painted cobalt blue. "
    "Its harbourmaster is Ilsa Varrow. Ships must pay the anchor tax of 17 crowns before they unload grain.\n",
    "glass-foxes.md": "# Glass foxes\n\nThe glass fox of the Pellan marshes eats only frostcap mushrooms. It "
    "sleeps in hollow birch trunks and has a lifespan of about 31 years.\n",
}
FACT_QUESTIONS = [
    (
        "When is the Zorblat festival held?",
        "The Zorblat festival is held every year on the ninth of Brumaire.",
        "zorblat-festival.md",
        ["ninth of Brumaire"],
    ),
    (
        "How much does a ticket to the Zorblat festival cost?",
        "A ticket costs 42 florins.",
        "zorblat-festival.md",
        ["42 florins"],
    ),
    (
        "How does the Zorblat festival end?",
        "It ends with the lantern parade of Mirrowgate Bridge, led by the Keeper of Owls.",
        "zorblat-festival.md",
        ["lantern parade", "Mirrowgate", "Keeper of Owls"],
    ),
    (
        "What is velm tea brewed from?",
        "Velm tea is brewed from the silver leaves of the krellberry shrub.",
        "velm-tea.md",
        ["silver leaves", "krellberry"],
    ),
    (
        "How long must velm tea steep?",
        "Velm tea must steep for exactly seven minutes in water at 71 degrees.",
        "velm-tea.md",
        ["seven minutes", "71 degrees"],
    ),
    (
        "Who first served velm tea?",
        "Velm tea was first served by the monks of Ostravel.",
        "velm-tea.md",
        ["monks", "Ostravel"],
    ),
    (
        "How many lighthouses does the harbour of Tesk have?",
        "The harbour of Tesk has three lighthouses painted cobalt blue.",
        "harbour-of-tesk.md",
        ["three lighthouses", "cobalt blue"],
    ),
    (
        "Who is the harbourmaster of Tesk?",
        "The harbourmaster of Tesk is Ilsa Varrow.",
        "harbour-of-tesk.md",
        ["Ilsa Varrow"],
    ),
    (
        "What tax do ships pay in the harbour of Tesk?",
        "Ships pay the anchor tax of 17 crowns before they unload grain.",
        "harbour-of-tesk.md",
        ["anchor tax", "17 crowns"],
    ),
    (
        "What does the glass fox eat?",
        "The glass fox of the Pellan marshes eats only frostcap mushrooms.",
        "glass-foxes.md",
        ["frostcap mushrooms"],
    ),
    (
        "Where does the glass fox sleep?",
        "The glass fox sleeps in hollow birch trunks.",
        "glass-foxes.md",
        ["hollow birch"],
    ),
    (
        "How long does a glass fox live?",
        "A glass fox has a lifespan of about 31 years.",
        "glass-foxes.md",
        ["31 years"],
    ),
    (
        "Where does the glass fox live?",
        "The glass fox lives in the Pellan marshes.",
        "glass-foxes.md",
        ["Pellan marshes"],
    ),
    (
        "What colour are the lighthouses of Tesk?",
        "The lighthouses of Tesk are painted cobalt blue.",
        "harbour-of-tesk.md",
        ["cobalt blue"],
    ),
]
UNHELPFUL_DOCS = {
    "glazes.md": "# Pottery glazes\n\nCeladon glazes get their green from small amounts of iron fired in a reduction "
    "kiln. Tenmoku glazes turn dark brown with more iron. Apply glaze to bisque ware and wipe the foot ring clean.\n",
    "kilns.md": "# Kiln firing\n\nA bisque firing reaches about cone 04. A glaze firing for stoneware reaches cone 6 "
    "to cone 10. Let the kiln cool slowly to avoid cracking the pots.\n",
    "clay.md": "# Clay bodies\n\nEarthenware is porous after firing; stoneware and porcelain vitrify. Wedge clay well "
    "to remove air bubbles before throwing on the wheel.\n",
}
UNHELPFUL_QUESTIONS = [
    ("What is the capital of France?", "The capital of France is Paris.", ["Paris"]),
    ("How many days are in a week?", "A week has seven days.", ["seven"]),
    ("What colour is the sky on a clear day?", "The sky is blue on a clear day.", ["blue"]),
    ("What do bees make?", "Bees make honey.", ["honey"]),
    ("What is the opposite of hot?", "The opposite of hot is cold.", ["cold"]),
    ("How many legs does a spider have?", "A spider has eight legs.", ["eight"]),
    ("What is frozen water called?", "Frozen water is called ice.", ["ice"]),
    ("Which planet do we live on?", "We live on Earth.", ["Earth"]),
    ("What do you use to write on paper?", "You write on paper with a pen or a pencil.", ["pen", "pencil"]),
    ("What is the largest ocean?", "The Pacific Ocean is the largest ocean.", ["Pacific"]),
    ("What animal says moo?", "A cow says moo.", ["cow"]),
    ("How many hours are in a day?", "A day has 24 hours.", ["24"]),
]


def tiny_domain(tmp_path: Path, name: str, docs: dict[str, str], questions: list[dict]) -> Path:
    root = tmp_path / name
    (root / "docs").mkdir(parents=True)
    (root / "eval").mkdir()
    for file, text in docs.items():
        (root / "docs" / file).write_text(text)
    (root / "eval" / "questions.jsonl").write_text("".join(json.dumps(q) + "\n" for q in questions))
    spec = {
        "name": name,
        "system_prompt": "You are a helpful assistant. Answer briefly, using the sources when given.",
        "strategy": "auto",
        "knowledge": {"sources": ["docs"], "chunk_size": 120, "chunk_overlap": 0},
        "safety": {"response": "Please call your local emergency number now."},
        "eval": {"file": "eval/questions.jsonl", "k": 3},
    }
    (root / "domain.yaml").write_text(yaml.safe_dump(spec))
    return root


def _candidates(manifest) -> dict:
    return {row["strategy"]: row for row in manifest.candidates}


@pytest.mark.slow
def test_auto_keeps_rag_when_the_facts_live_only_in_the_docs(tmp_path, generator_name, embedder_name):
    questions = [
        {"id": f"f{n:02d}", "question": q, "reference": r, "source": s, "keywords": k, "type": "factual"}
        for n, (q, r, s, k) in enumerate(FACT_QUESTIONS)
    ]
    root = tiny_domain(tmp_path, "facts", FACTS, questions)
    progress = []
    manifest = build(
        load_domain(root),
        "auto",
        tiny=True,
        eval_limit=len(questions),
        report=lambda text, done, total: progress.append((text, done, total)),
    )
    rows = _candidates(manifest)
    # answering reports done/total (what the CLI bar, the API job's progress and the UI show)
    n = len(questions)
    assert ("eval rag: answered 0/14", 0, n) in progress and any(p[1:] == (n, n) for p in progress)
    assert set(rows) == {"prompt", "rag"}
    assert manifest.strategy == "rag" and manifest.verdict["verdict"] == "significant", manifest.verdict
    pair = next(p for p in manifest.verdict["pairs"] if p["other"] == "prompt")
    assert pair["significant"] and pair["difference"]["low"] > 0
    for row in rows.values():  # every candidate carries its interval around its composite
        low, high = row["interval"]
        assert low <= row["composite"] <= high
    # like for like: the prompt answers were checked against the documents too (evidence retrieved afterwards)
    assert rows["prompt"]["scores"]["faithfulness"] is not None
    assert rows["rag"]["scores"]["faithfulness"] > rows["prompt"]["scores"]["faithfulness"]
    assert rows["prompt"]["scores"]["hit_at_k"] is None and rows["rag"]["scores"]["hit_at_k"] >= 0.8  # diagnostics
    report = json.loads(Path(manifest.eval["report"]["json"]).read_text())
    assert report["verdict"]["chosen"] == "rag" and len(report["results"][0]["items"]) == len(questions)
    md = Path(manifest.eval["report"]["markdown"]).read_text()
    html = Path(manifest.eval["report"]["html"]).read_text()
    for text in ("significant", "Every question, answers side by side", "Ilsa Varrow"):
        assert text in md and text in html


@pytest.mark.slow
def test_auto_does_not_keep_rag_when_the_docs_cannot_help(tmp_path, generator_name, embedder_name):
    questions = [
        {"id": f"u{n:02d}", "question": q, "reference": r, "keywords": k, "type": "factual"}
        for n, (q, r, k) in enumerate(UNHELPFUL_QUESTIONS)
    ]
    root = tiny_domain(tmp_path, "nohelp", UNHELPFUL_DOCS, questions)
    manifest = build(load_domain(root), "auto", tiny=True)
    assert set(_candidates(manifest)) == {"prompt", "rag"}
    assert manifest.strategy == "prompt", manifest.verdict
    assert manifest.verdict["verdict"] in ("inconclusive", "best is cheapest")
    if manifest.verdict["verdict"] == "inconclusive":
        assert "12 questions cannot separate rag from prompt" in manifest.verdict["reason"]
        assert "drop --tiny" in manifest.verdict["reason"]
    assert any("auto: kept prompt" in r for r in manifest.reasons)
