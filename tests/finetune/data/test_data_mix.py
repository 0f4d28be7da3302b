"""Mixing: SFT ratio, CPT domain-share guard, determinism, and prepare_sft/prepare_cpt end to end."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from finetune.data.mix import mix_cpt, mix_sft
from finetune.data.pipeline import prepare_cpt, prepare_sft
from vertical.core.errors import DataPolicyError
from vertical.core.settings import get_settings

CONV_TAGS = {"user_tag": "human", "assistant_tag": "gpt", "system_tag": "system"}


def test_mix_sft_ratio_and_determinism() -> None:
    domain, general = [f"d{i}" for i in range(200)], [f"g{i}" for i in range(70)]
    mixed, stats = mix_sft(domain, general, 1.0, seed=7)
    assert stats["general"] == 200 and stats["general_repeated"] == 130
    assert mix_sft(domain, general, 1.0, seed=7)[0] == mixed and mix_sft(domain, general, 1.0, seed=8)[0] != mixed
    assert mix_sft(domain, general, 0.5, seed=7)[1]["general"] == 100


def test_cpt_guard_refuses_30_percent_and_force_overrides() -> None:
    domain, general = [[1] * 8] * 30, [[2] * 8] * 70  # 30% domain, no more general text available
    with pytest.raises(DataPolicyError) as err:
        mix_cpt(domain, general, max_share=0.15)
    assert "30.0% domain" in err.value.message and "15%" in err.value.message and "--force" in err.value.hint
    mixed, stats = mix_cpt(domain, general, max_share=0.15, force=True)
    assert stats["domain_share"] == 0.3 and stats["forced"] and len(mixed) == 100


def test_cpt_uses_just_enough_general_to_meet_the_share() -> None:
    mixed, stats = mix_cpt([[1] * 4] * 15, [[2] * 4] * 500, max_share=0.15)
    assert stats["general_blocks"] == 85 and stats["domain_share"] == 0.15


def test_prepare_sft_on_counseling_mixes_one_to_one(
    make_domain, counseling_dir: Path, fixtures_dir: Path, tokenizer
) -> None:
    spec = make_domain(
        [{"name": "conversations", "file": "data/conversations.jsonl", "format": "sharegpt", "tags": CONV_TAGS}],
        {
            "data/conversations.jsonl": counseling_dir / "data" / "conversations.jsonl",
            "data/general.jsonl": fixtures_dir / "general.jsonl",
        },
        general="data/general.jsonl",
        max_length=256,
    )
    data = prepare_sft(spec, tokenizer)
    kinds = [w.kind for w in data.train]
    domain, general = kinds.count("domain"), kinds.count("general")
    assert domain > 100 and abs(general / domain - 1.0) <= 0.02
    assert all(len(w) <= 256 for w in data.train + data.eval) and data.eval
    assert all(w.kind == "domain" for w in data.eval)
    folder = get_settings().domain_dir("testdomain") / "data"
    manifest = json.loads((folder / "sft_manifest.json").read_text())
    assert manifest["files"][0]["sha256"] and manifest["output_sha256"] == data.manifest["output_sha256"]
    assert (folder / "sft_report_lengths.png").is_file()
    again = prepare_sft(spec, tokenizer, write=False)
    assert again.manifest["output_sha256"] == data.manifest["output_sha256"]  # deterministic from the seed


def _cpt_domain(make_domain, general_words: int):
    sentence = "Grounding brings attention back to the present by naming things you can see, hear and touch. "
    general = " ".join(
        json.loads(line)["prompt"]
        for line in (Path(__file__).parents[3] / "vertical/core/resources/general_prompts.jsonl")
        .read_text()
        .splitlines()
    )
    return make_domain(
        [{"name": "notes", "file": "data/notes.jsonl", "format": "text"}],
        {
            "data/notes.jsonl": [{"text": sentence * 6}, {"text": sentence.upper() * 4}],
            "data/general.txt": " ".join(general.split()[:general_words]),
        },
        general="data/general.txt",
    )


def test_prepare_cpt_guard_and_force(make_domain, tokenizer) -> None:
    spec = _cpt_domain(make_domain, general_words=300)
    with pytest.raises(DataPolicyError, match="above the 15% limit"):
        prepare_cpt(spec, tokenizer, block_size=32)
    forced = prepare_cpt(spec, tokenizer, block_size=32, force=True)
    assert forced.domain_share > 0.15 and forced.manifest["force"]
    assert all(len(b["input_ids"]) == 32 and b["labels"] == b["input_ids"] for b in forced.train)


def test_prepare_cpt_within_share(make_domain, tokenizer) -> None:
    spec = _cpt_domain(make_domain, general_words=2000)
    data = prepare_cpt(spec, tokenizer, block_size=32)
    assert data.domain_share <= 0.15 and data.report["mix"]["general_blocks"] > 0
