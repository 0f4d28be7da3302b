"""`vertical data ...` commands and self-replay general data (generated once, then cached)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from vertical.core.settings import get_settings


def _domain(make_domain, fixtures_dir: Path):
    return make_domain(
        [
            {"name": "talks", "file": "data/talks.jsonl", "format": "sharegpt"},
            {"name": "faq", "file": "data/faq.json", "format": "alpaca"},
        ],
        {
            "data/talks.jsonl": fixtures_dir / "malformed.jsonl",
            "data/faq.json": fixtures_dir / "alpaca.json",
            "data/general.jsonl": fixtures_dir / "general.jsonl",
        },
        general="data/general.jsonl",
    )


def test_data_commands(make_domain, fixtures_dir: Path, tmp_path: Path, tokenizer, monkeypatch) -> None:
    from vertical.cli import app

    monkeypatch.setenv("COLUMNS", "250")  # rich would wrap file:line otherwise

    spec = _domain(make_domain, fixtures_dir)
    runner = CliRunner()
    result = runner.invoke(app, ["data", "inspect", str(spec.root)])
    assert result.exit_code == 0, result.output
    assert "talks.jsonl:2: bad JSON" in result.output and "talks.jsonl:7: no assistant answer" in result.output
    assert "answers in → trained" in result.output and "context turns/window" in result.output

    result = runner.invoke(
        app, ["data", "convert", str(spec.root), "--to", "llamafactory", "--out", str(tmp_path / "lf")]
    )
    assert result.exit_code == 0, result.output
    assert set(json.loads((tmp_path / "lf" / "dataset_info.json").read_text())) == {"talks", "faq"}

    result = runner.invoke(app, ["data", "mix", str(spec.root), "--tiny"])
    assert result.exit_code == 0, result.output
    assert "train windows" in result.output and "mix: ratio" in result.output
    assert "split train: " in result.output and "clean: " in result.output  # counts in logs, not only on a terminal
    assert "windows: context_turns_mean" in result.output
    assert (get_settings().domain_dir("testdomain") / "data" / "sft_manifest.json").is_file()

    result = runner.invoke(app, ["data", "clean", str(spec.root), "--out", str(tmp_path / "clean")])
    assert result.exit_code == 0, result.output
    assert (tmp_path / "clean" / "faq.clean.jsonl").is_file()


@pytest.mark.slow
def test_self_replay_generates_once_then_reads_the_cache(tmp_path: Path, generator_name, monkeypatch) -> None:
    from finetune.data import general

    convs = general.self_replay(generator_name, tmp_path, limit=2, max_new_tokens=12)
    assert len(convs) == 2 and all(c.turns[-1].content.strip() for c in convs)
    assert convs[0].turns[0].content == general.read_prompts()[0]["prompt"]

    def _no_generation(*args, **kwargs):
        raise AssertionError("self-replay generated again instead of using its cache")

    monkeypatch.setattr("vertical.core.generate.chat_generate", _no_generation)
    again = general.self_replay(generator_name, tmp_path, limit=2, max_new_tokens=12)
    assert [c.turns for c in again] == [c.turns for c in convs]
    assert len(list(tmp_path.glob("self_replay-*.jsonl"))) == 1
