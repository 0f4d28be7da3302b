"""Preference alignment on CPU with the tiny model: DPO/ORPO on pairs, KTO on thumbs only, kill + resume.

The pairs (fixtures/preference_pairs.jsonl, written by hand) share one learnable difference: the
chosen answer acknowledges the feeling and gives one concrete step, the rejected one dismisses it.
Held-out pairs are never trained on, so a rising reward accuracy there is real preference learning.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import yaml

from finetune.data.feedback import Feedback, FeedbackStore
from finetune.train.preference import preference_data, run_preference
from vertical.core.spec import load_domain

FIXTURE = Path(__file__).parent / "fixtures" / "preference_pairs.jsonl"
TRAINING = {
    "method": "lora",
    "lora_r": 8,
    "batch_size": 4,
    "save_steps": 2,
    "preference": {"beta": 0.1, "learning_rate": 5e-4, "max_steps": 6, "references": False, "feedback": False},
}


def make_domain(root: Path, training: dict = TRAINING) -> Path:
    (root / "data").mkdir(parents=True)
    (root / "data" / "prefs.jsonl").write_text(FIXTURE.read_text(encoding="utf-8"), encoding="utf-8")
    spec = {
        "name": "prefs",
        "system_prompt": "You are a kind listener.",
        "data": {
            "datasets": [{"name": "prefs", "file": "data/prefs.jsonl", "format": "alpaca", "ranking": True}],
            "general": "none",
            "max_length": 128,
        },
        "training": training,
        "eval": {"file": None},
    }
    (root / "domain.yaml").write_text(yaml.safe_dump(spec), encoding="utf-8")
    return root


def test_ranking_file_gives_train_and_held_out_pairs(tmp_path):
    spec = load_domain(make_domain(tmp_path / "d"))
    data = preference_data(spec, "dpo")
    assert data.manifest["rows"] == 20 and len(data.eval) == 4 and len(data.train) == 16
    row = data.train[0]
    assert row["prompt"][0] == {"role": "system", "content": "You are a kind listener."}
    assert row["prompt"][-1]["role"] == "user" and row["chosen"][0]["role"] == "assistant"
    assert not {json.dumps(r) for r in data.train} & {json.dumps(r) for r in data.eval}


def test_no_pairs_is_a_clear_error(tmp_path):
    from vertical.core.errors import DataFormatError

    root = make_domain(tmp_path / "d")
    (root / "data" / "prefs.jsonl").write_text("", encoding="utf-8")
    with pytest.raises(DataFormatError, match="needs preference pairs"):
        preference_data(load_domain(root), "dpo")


@pytest.mark.slow
def test_dpo_raises_held_out_reward_accuracy_over_the_reference(tmp_path):
    spec = load_domain(make_domain(tmp_path / "d"))
    result = run_preference(spec, "dpo", tmp_path / "adapters" / "dpo")
    before, after = result.metrics["eval_rewards_before"], result.metrics["eval_rewards"]
    assert before["rewards/margins"] == pytest.approx(0.0, abs=1e-6)  # the untrained adapter is the reference
    assert after["rewards/margins"] > 0.05
    assert after["rewards/accuracies"] >= 0.75
    assert (result.adapter_dir / "adapter_config.json").is_file()
    assert (result.adapter_dir / "vertical_train.json").is_file() and result.plot_path.is_file()


@pytest.mark.slow
def test_orpo_trains_without_a_reference_model(tmp_path):
    spec = load_domain(make_domain(tmp_path / "d"))
    result = run_preference(spec, "orpo", tmp_path / "adapters" / "orpo", overrides={"max_steps": 2})
    assert result.metrics["steps"] == 2 and "rewards/accuracies" in result.metrics["eval_rewards"]


@pytest.mark.slow
def test_kto_on_thumbs_only_feedback(tmp_path):
    root = make_domain(tmp_path / "d", {**TRAINING, "preference": {**TRAINING["preference"], "feedback": True}})
    (root / "data" / "prefs.jsonl").write_text("", encoding="utf-8")  # thumbs are the only data
    store = FeedbackStore()
    for line in FIXTURE.read_text(encoding="utf-8").splitlines()[:12]:
        pair = json.loads(line)
        store.add(Feedback("prefs", pair["instruction"], pair["chosen"], rating=1))
        store.add(Feedback("prefs", pair["instruction"] + " Any tips?", pair["rejected"], rating=-1))
    spec = load_domain(root)
    data = preference_data(spec, "kto")
    assert {r["label"] for r in data.train} == {True, False}
    result = run_preference(spec, "kto", tmp_path / "adapters" / "kto", data=data, overrides={"max_steps": 2})
    assert result.metrics["steps"] == 2 and (result.adapter_dir / "adapter_config.json").is_file()
    assert "rewards/chosen" in result.metrics["eval_rewards"]


RESUME_SCRIPT = """
import sys
from pathlib import Path
from finetune.train.preference import run_preference
from vertical.core.spec import load_domain
run_preference(load_domain(sys.argv[1]), "dpo", Path(sys.argv[2]), resume=sys.argv[3] == "1")
"""


@pytest.mark.slow
def test_dpo_killed_after_a_checkpoint_resumes_to_the_end(tmp_path):
    root = make_domain(tmp_path / "d", {**TRAINING, "preference": {**TRAINING["preference"], "max_steps": 4}})
    out = tmp_path / "adapters" / "dpo"
    env = {**os.environ, "VERTICAL_WORKSPACE": str(tmp_path / "workspace")}
    proc = subprocess.Popen([sys.executable, "-c", RESUME_SCRIPT, str(root), str(out), "0"], env=env)
    checkpoints = tmp_path / "workspace" / "prefs" / "runs" / "dpo" / "checkpoints"
    deadline = time.monotonic() + 600
    while time.monotonic() < deadline and not (checkpoints / "checkpoint-2" / "trainer_state.json").is_file():
        assert proc.poll() is None, "the run ended before its first checkpoint"
        time.sleep(0.5)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    assert not (out / "adapter_config.json").is_file()
    resumed = subprocess.run([sys.executable, "-c", RESUME_SCRIPT, str(root), str(out), "1"], env=env, timeout=900)
    assert resumed.returncode == 0
    record = json.loads((out / "vertical_train.json").read_text())
    assert record["resumed_from"].endswith("checkpoint-2")  # the kill came before checkpoint-4 was written
    assert record["metrics"]["steps"] == 4
