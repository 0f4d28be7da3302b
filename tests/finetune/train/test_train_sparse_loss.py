"""The sparse loss (LM head only at labelled positions) is the stock loss, value and gradients."""

from __future__ import annotations

import pytest

pytestmark = pytest.mark.slow


def _packed_batch(tokenizer):
    from finetune.train.packing import PackedCollator, Window, pack_windows

    def window(user: str, answer: str) -> Window:
        prompt = list(
            tokenizer.apply_chat_template(
                [{"role": "user", "content": user}], add_generation_prompt=True, tokenize=True, return_dict=True
            )["input_ids"]
        )
        reply = tokenizer(answer + tokenizer.eos_token, add_special_tokens=False)["input_ids"]
        return Window(prompt + reply, [-100] * len(prompt) + reply)

    windows = [
        window("How can I sleep better?", "Keep a regular wake time and dim the lights at night."),
        window("What is a thought record?", "A worksheet to question an automatic thought."),
        window("Hi", "Hello! How are you feeling today?"),
    ]
    return PackedCollator(tokenizer.pad_token_id)(pack_windows(windows, 64) + pack_windows(windows[:1], 64))


def test_sparse_loss_equals_the_stock_loss_and_its_gradients(generator_name: str) -> None:
    import torch

    from finetune.train.config import resolve_config
    from finetune.train.modeling import load_training_model
    from finetune.train.sparse_loss import sparse_causal_lm_loss, supports_sparse_loss
    from vertical.core.loaders import load_tokenizer
    from vertical.core.spec import DomainSpec

    spec = DomainSpec(name="sparse-loss", base_model=generator_name)
    model = load_training_model(generator_name, resolve_config(spec, {"method": "lora"}))
    with torch.no_grad():  # a non-zero adapter, so the gradients below are not trivially equal
        for name, p in model.named_parameters():
            if "lora_B" in name:
                p.normal_(0, 0.02)
    model.eval()  # no LoRA dropout: both losses must see the same network
    assert supports_sparse_loss(model)
    batch = _packed_batch(load_tokenizer(generator_name))
    batch.pop("real_tokens")
    n_items = (batch["labels"][:, 1:] != -100).sum()

    stock = model(**batch).loss
    stock.backward()
    stock_grads = {n: p.grad.clone() for n, p in model.named_parameters() if p.grad is not None}
    model.zero_grad()
    sparse = sparse_causal_lm_loss(model, batch)
    sparse.backward()
    assert torch.allclose(sparse, stock, rtol=1e-5), (sparse.item(), stock.item())
    for name, grad in stock_grads.items():
        assert torch.allclose(dict(model.named_parameters())[name].grad, grad, rtol=1e-4, atol=1e-7), name

    # gradient accumulation form: sum over the labelled tokens / the count the Trainer passes in
    summed = sparse_causal_lm_loss(model, batch, num_items_in_batch=n_items * 2)
    assert torch.allclose(summed * 2, stock, rtol=1e-5)


def test_models_with_a_scaled_head_keep_the_stock_loss() -> None:
    from types import SimpleNamespace

    from finetune.train.sparse_loss import supports_sparse_loss

    class Capped:
        config = SimpleNamespace(final_logit_softcapping=30.0)
        base_model_prefix = "model"
        model = object()

        def get_output_embeddings(self):
            return object()

    assert not supports_sparse_loss(Capped())
