"""Load the base model for a training method and wrap it with peft when the method asks for it."""

from __future__ import annotations

import os
from typing import Any

from finetune.train.config import RunConfig, check_hardware
from finetune.train.targets import detect_lora_targets


def use_cuda() -> bool:
    import torch

    from vertical.core.loaders import pick_device

    return pick_device() == "cuda" and torch.cuda.is_available()


def load_training_model(base_model: str, cfg: RunConfig) -> Any:
    """The model the Trainer will train: a peft model for lora/qlora, the plain model for full."""
    import torch
    from transformers import AutoModelForCausalLM, set_seed

    from vertical.core.loaders import _quiet_transformers
    from vertical.core.provisioning import resolve_model

    method = cfg.training.method
    check_hardware(method)
    _quiet_transformers()
    set_seed(cfg.training.seed)  # LoRA init draws from the RNG: same seed, same starting adapter
    cuda = use_cuda()
    kwargs: dict[str, Any] = {}
    if method == "qlora":
        from transformers import BitsAndBytesConfig

        kwargs["quantization_config"] = BitsAndBytesConfig(
            load_in_4bit=True,
            bnb_4bit_quant_type="nf4",
            bnb_4bit_use_double_quant=True,
            bnb_4bit_compute_dtype=torch.bfloat16,
        )
        kwargs["device_map"] = {"": int(os.environ.get("LOCAL_RANK", 0))}
        kwargs["dtype"] = torch.bfloat16
    elif method == "lora" and cuda:
        kwargs["dtype"] = torch.bfloat16  # frozen base in bf16; peft keeps the adapter in fp32
    else:
        kwargs["dtype"] = torch.float32  # CPU, and full fine-tuning's master weights (bf16 autocast on GPU)
    model = AutoModelForCausalLM.from_pretrained(resolve_model(base_model), **kwargs)
    model.config.use_cache = False  # a KV cache disables the packed-sequence mask and wastes memory in training
    if method == "full":
        return model

    from peft import LoraConfig, get_peft_model, prepare_model_for_kbit_training

    if method == "qlora":
        model = prepare_model_for_kbit_training(model, use_gradient_checkpointing=cfg.training.gradient_checkpointing)
    elif cfg.training.gradient_checkpointing:
        model.enable_input_require_grads()  # frozen embeddings: checkpointed blocks still need a grad input
    targets = cfg.training.target_modules
    lora = LoraConfig(
        r=cfg.training.lora_r,
        lora_alpha=cfg.training.lora_alpha,
        lora_dropout=cfg.training.lora_dropout,
        target_modules=detect_lora_targets(model) if targets == "auto" else list(targets),
        task_type="CAUSAL_LM",
    )
    return get_peft_model(model, lora)
