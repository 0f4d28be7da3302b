"""Load the generator, its tokenizer and the embedder once per process (cached).

Every package goes through here so a model is never loaded twice and the "not provisioned" error
is the same everywhere.
"""

from __future__ import annotations

import os
import threading
from functools import lru_cache
from typing import TYPE_CHECKING, Any

from vertical.core.provisioning import resolve_model
from vertical.core.settings import get_settings

if TYPE_CHECKING:  # pragma: no cover
    from sentence_transformers import SentenceTransformer

_lock = threading.Lock()


def pick_device() -> str:
    wanted = get_settings().device
    if wanted != "auto":
        return wanted
    import torch

    return "cuda" if torch.cuda.is_available() else "cpu"


def _quiet_transformers() -> None:
    import warnings

    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
    # peft touches a deprecated transformers property when loading an adapter; not the user's concern.
    warnings.filterwarnings("ignore", message=".*is_gradient_checkpointing.*", category=FutureWarning)
    from transformers.utils import logging as hf_logging

    hf_logging.set_verbosity_error()
    hf_logging.disable_progress_bar()


@lru_cache(maxsize=4)
def load_tokenizer(name: str) -> Any:
    from transformers import AutoTokenizer

    _quiet_transformers()
    tokenizer = AutoTokenizer.from_pretrained(resolve_model(name))
    if tokenizer.pad_token is None:
        tokenizer.pad_token = tokenizer.eos_token
    return tokenizer


@lru_cache(maxsize=2)
def load_generator(name: str, adapter: str | None = None) -> Any:
    """A causal LM in eval mode on the picked device, optionally with a peft adapter applied."""
    import torch
    from transformers import AutoModelForCausalLM

    _quiet_transformers()
    device = pick_device()
    dtype = torch.bfloat16 if device == "cuda" else torch.float32
    with _lock:
        model: Any = AutoModelForCausalLM.from_pretrained(resolve_model(name), dtype=dtype)  # or its PeftModel
        if adapter:
            from peft import PeftModel

            model = PeftModel.from_pretrained(model, adapter)
        model.to(device).eval()
    return model


@lru_cache(maxsize=2)
def load_embedder(name: str) -> SentenceTransformer:
    from sentence_transformers import SentenceTransformer

    _quiet_transformers()
    with _lock:
        return SentenceTransformer(resolve_model(name), device=pick_device())
