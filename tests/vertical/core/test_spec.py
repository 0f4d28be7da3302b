from pathlib import Path

import pytest

from vertical.core.errors import SpecError
from vertical.core.spec import load_domain, parse_strategy


def write(tmp_path: Path, text: str) -> Path:
    (tmp_path / "domain.yaml").write_text(text)
    return tmp_path


def test_counseling_example_is_valid(counseling_dir):
    spec = load_domain(counseling_dir)
    assert spec.name == "counseling"
    assert spec.strategy == "sft+rag"
    assert spec.source_paths == [counseling_dir.resolve() / "docs"]
    assert spec.safety.responses["en"] and spec.safety.resources  # crisis rules ship with the framework


def test_minimal_spec_gets_defaults(tmp_path):
    spec = load_domain(write(tmp_path, "name: law\n"))
    assert spec.base_model == "smollm2-135m-instruct"
    assert spec.knowledge.retrieval.rrf_k == 60
    assert spec.data.cpt_max_domain_share == 0.15


def test_error_names_file_and_field(tmp_path):
    write(tmp_path, "name: law\nknowledge:\n  chunk_size: 10\n  retrieval:\n    top_k: 0\n")
    with pytest.raises(SpecError) as info:
        load_domain(tmp_path)
    msg = info.value.message
    assert str(tmp_path / "domain.yaml") in msg
    assert "knowledge.retrieval.top_k" in msg
    assert "knowledge.chunk_size" in msg


def test_unknown_field_is_rejected(tmp_path):
    write(tmp_path, "name: law\nbase_modle: gpt\n")
    with pytest.raises(SpecError, match="base_modle"):
        load_domain(tmp_path)


def test_bad_yaml_and_missing_file(tmp_path):
    with pytest.raises(SpecError, match="vertical init"):
        load_domain(tmp_path)
    write(tmp_path, "name: [unclosed\n")
    with pytest.raises(SpecError, match="not valid YAML"):
        load_domain(tmp_path)


def test_bad_regex_and_missing_safety_response(tmp_path):
    write(tmp_path, "name: law\nsafety:\n  crisis_patterns: ['(unclosed']\n  response: x\n")
    with pytest.raises(SpecError, match="safety.crisis_patterns"):
        load_domain(tmp_path)
    write(tmp_path, "name: law\nsafety:\n  patterns: {zh: ['(unclosed']}\n")
    with pytest.raises(SpecError, match="safety.patterns"):
        load_domain(tmp_path)


@pytest.mark.parametrize(
    "raw,canonical",
    [
        ("rag+sft", "sft+rag"),
        ("SFT + RAG", "sft+rag"),
        ("rag+sft+cpt", "cpt+sft+rag"),
        ("auto", "auto"),
        ("prompt", "prompt"),
        ("sft+", "sft"),
    ],
)
def test_strategy_is_canonicalised(raw, canonical):
    assert parse_strategy(raw) == canonical


@pytest.mark.parametrize("raw", ["rga", "prompt+rag", "", "+"])
def test_bad_strategy_is_rejected(raw):
    with pytest.raises(ValueError):
        parse_strategy(raw)
