"""General-ability retention: does the model (+adapter) still handle everyday text after sft/cpt?

- perplexity on ``vertical/core/resources/general_heldout.txt`` (encyclopedic prose, out of domain):
  exp(mean token NLL) over the paragraphs; lower is better.
- accuracy on ``general_mc.jsonl``: the choice whose tokens get the highest summed log-likelihood
  after "Question: …\\nAnswer:" wins (lm-eval-harness style, no generation needed).
Comparing both against the base model makes forgetting visible.
"""

from __future__ import annotations

import json
import math
from pathlib import Path

RESOURCES = Path(__file__).resolve().parents[2] / "core" / "resources"


def general_paragraphs(limit: int | None = None) -> list[str]:
    text = (RESOURCES / "general_heldout.txt").read_text(encoding="utf-8")
    paragraphs = [p.strip() for p in text.split("\n\n") if p.strip()]
    return paragraphs[:limit] if limit else paragraphs


def general_mc(limit: int | None = None) -> list[dict]:
    rows = [
        json.loads(line)
        for line in (RESOURCES / "general_mc.jsonl").read_text(encoding="utf-8").splitlines()
        if line.strip()
    ]
    return rows[:limit] if limit else rows


def perplexity(model_name: str, texts: list[str], adapter: str | None = None, max_length: int = 512) -> float:
    """Token-weighted perplexity of the texts (each truncated to ``max_length`` tokens)."""
    import torch

    from vertical.core.loaders import load_generator, load_tokenizer

    tokenizer = load_tokenizer(model_name)
    model = load_generator(model_name, adapter)
    total_nll, total_tokens = 0.0, 0
    with torch.inference_mode():
        for text in texts:
            ids = tokenizer(text, return_tensors="pt", truncation=True, max_length=max_length)["input_ids"].to(
                model.device
            )
            if ids.shape[1] < 2:
                continue
            loss = model(input_ids=ids, labels=ids).loss  # mean NLL over ids.shape[1]-1 predicted tokens
            total_nll += float(loss) * (ids.shape[1] - 1)
            total_tokens += ids.shape[1] - 1
    return math.exp(total_nll / total_tokens) if total_tokens else float("nan")


def choice_loglik(model_name: str, prompt: str, choices: list[str], adapter: str | None = None) -> list[float]:
    """Summed log-probability of each choice's tokens given the prompt (one batch per question)."""
    import torch

    from vertical.core.loaders import load_generator, load_tokenizer

    tokenizer = load_tokenizer(model_name)
    model = load_generator(model_name, adapter)
    prompt_ids = tokenizer(prompt, add_special_tokens=False)["input_ids"]
    seqs = [prompt_ids + tokenizer(" " + c, add_special_tokens=False)["input_ids"] for c in choices]
    width = max(len(s) for s in seqs)
    pad = tokenizer.pad_token_id
    input_ids = torch.tensor([s + [pad] * (width - len(s)) for s in seqs], device=model.device)
    attention = torch.tensor([[1] * len(s) + [0] * (width - len(s)) for s in seqs], device=model.device)
    with torch.inference_mode():
        logprobs = torch.log_softmax(model(input_ids=input_ids, attention_mask=attention).logits.float(), dim=-1)
    scores = []
    for row, seq in enumerate(seqs):
        total = 0.0
        for pos in range(len(prompt_ids), len(seq)):
            total += float(logprobs[row, pos - 1, seq[pos]])
        scores.append(total)
    return scores


def mc_accuracy(model_name: str, questions: list[dict], adapter: str | None = None) -> float:
    if not questions:
        return float("nan")
    correct = 0
    for q in questions:
        scores = choice_loglik(model_name, f"Question: {q['question']}\nAnswer:", q["choices"], adapter)
        correct += int(max(range(len(scores)), key=scores.__getitem__) == q["answer"])
    return correct / len(questions)


def retention(model_name: str, adapter: str | None = None, tiny: bool = False) -> dict[str, float]:
    """Perplexity and MC accuracy of the model (+adapter); tiny uses a subset (seconds on 2 cores)."""
    paragraphs = general_paragraphs(4 if tiny else None)
    questions = general_mc(20 if tiny else None)
    return {
        "general_perplexity": round(perplexity(model_name, paragraphs, adapter, max_length=256 if tiny else 512), 3),
        "general_mc_accuracy": round(mc_accuracy(model_name, questions, adapter), 4),
    }
