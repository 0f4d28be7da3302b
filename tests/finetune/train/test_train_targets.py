"""LoRA target modules are found by inspecting the model, for any architecture."""

from __future__ import annotations

import pytest


@pytest.mark.slow
def test_smollm2_targets_are_all_decoder_projections(generator_name: str) -> None:
    from finetune.train.targets import detect_lora_targets
    from vertical.core.loaders import load_generator

    targets = detect_lora_targets(load_generator(generator_name))
    assert targets == ["down_proj", "gate_proj", "k_proj", "o_proj", "q_proj", "up_proj", "v_proj"]


def test_gpt2_style_conv1d_projections_are_found_without_a_model_list() -> None:
    from transformers import GPT2Config, GPT2LMHeadModel

    from finetune.train.targets import detect_lora_targets

    tiny = GPT2LMHeadModel(GPT2Config(n_layer=1, n_embd=32, n_head=2, vocab_size=64, n_positions=32))
    assert detect_lora_targets(tiny) == ["c_attn", "c_fc", "c_proj"]


def test_a_model_without_linear_layers_is_a_clear_error() -> None:
    import torch.nn as nn

    from finetune.train.targets import detect_lora_targets
    from vertical.core.errors import TrainingError

    with pytest.raises(TrainingError, match="no linear projection") as exc:
        detect_lora_targets(nn.Sequential(nn.Embedding(4, 4)))
    assert "target_modules" in exc.value.hint
