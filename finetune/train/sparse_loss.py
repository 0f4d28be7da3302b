"""Causal-LM loss computed only where there is something to learn.

SFT trains on assistant tokens only, yet a stock forward pass projects every position through the
LM head (576 × 49 152 for SmolLM2: about a fifth of the model's FLOPs) and takes a softmax over the
whole vocabulary there, only for the loss to ignore most of it. Here the backbone runs as usual,
then only the hidden states whose next token is a label go through the head and the cross-entropy.
The loss is the same number as the stock one (a test holds them within 1e-5); it is just cheaper.

Models whose head does more than a linear projection (logit soft-capping, logit scaling) or
whose backbone cannot be found fall back to the stock forward, so nothing silently changes.
"""

from __future__ import annotations

from typing import Any

from finetune.data.types import IGNORE_INDEX

_HEAD_EXTRAS = ("final_logit_softcapping", "logit_scale", "output_multiplier_scale", "logits_scaling")


def _parts(model: Any) -> tuple[Any, Any] | None:
    """(backbone, head) of a causal LM (through a peft wrapper), or None when it has another shape."""
    base = model.get_base_model() if hasattr(model, "get_base_model") else model
    config = getattr(base, "config", None)
    if config is None or any(getattr(config, name, None) not in (None, 1, 1.0) for name in _HEAD_EXTRAS):
        return None
    backbone = getattr(base, getattr(base, "base_model_prefix", ""), None)
    head = base.get_output_embeddings() if hasattr(base, "get_output_embeddings") else None
    if backbone is None or head is None or backbone is base:
        return None
    return backbone, head


def supports_sparse_loss(model: Any) -> bool:
    return _parts(model) is not None


def sparse_causal_lm_loss(model: Any, inputs: dict[str, Any], num_items_in_batch: Any = None) -> Any:
    """Mean (or sum / ``num_items_in_batch``) next-token cross-entropy over the labelled positions."""
    import torch
    import torch.nn.functional as F

    parts = _parts(model)
    if parts is None:
        raise ValueError("this model's head is not a plain projection; use the stock loss")
    backbone, head = parts
    labels = inputs["labels"]
    features = {k: v for k, v in inputs.items() if k != "labels"}
    hidden = backbone(**features, use_cache=False).last_hidden_state  # [batch, seq, hidden]
    targets = labels[:, 1:]
    keep = targets != IGNORE_INDEX  # position t predicts token t + 1
    if not bool(keep.any()):
        return hidden.sum() * 0.0  # a batch with nothing to learn: zero loss, graph intact
    logits = head(hidden[:, :-1][keep]).float()  # [n_labels, vocab]
    loss = F.cross_entropy(logits, targets[keep], reduction="sum")
    if num_items_in_batch is not None:
        divisor = num_items_in_batch.to(loss.device) if torch.is_tensor(num_items_in_batch) else num_items_in_batch
        return loss / divisor
    return loss / keep.sum()
