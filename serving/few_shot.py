"""Prompt strategy: the system prompt plus few-shot examples picked per question.

At build time :func:`example_pool` takes single-exchange examples (first user turn, first
assistant reply) from the domain's training data; the manifest stores that pool
(``manifest.few_shot``). At answer time :func:`select_few_shot` embeds the question, ranks the pool
by cosine similarity (same embedder as the KB) and keeps the most similar examples that fit a token
budget, so a long example never pushes the question or the retrieved context out of the window.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from vertical.core.spec import DomainSpec

Example = dict[str, str]  # {"question": ..., "answer": ...}
POOL_SIZE = 64  # examples stored in the manifest; embedding 64 short texts takes well under a second
MAX_EXAMPLE_TOKENS = 160  # longer exchanges eat the budget of a small model's context


def example_pool(spec: DomainSpec, size: int = POOL_SIZE) -> list[Example]:
    """Short single-turn examples from the domain's train datasets, spread across the files."""
    from finetune.data.formats import read_dataset

    per_dataset: list[list[Example]] = []
    for ds in spec.data.datasets:
        if ds.split != "train" or ds.format == "text" or not spec.path(ds.file).is_file():
            continue
        conversations, _problems = read_dataset(spec, ds)
        examples = []
        for conv in conversations:
            user = next((t.content for t in conv.turns if t.role == "user"), None)
            reply = next((t.content for t in conv.turns if t.role == "assistant"), None)
            if user and reply and _rough_tokens(user) + _rough_tokens(reply) <= MAX_EXAMPLE_TOKENS:
                examples.append({"question": user.strip(), "answer": reply.strip()})
        per_dataset.append(examples)
    # round-robin over datasets so conversations and QA pairs are both represented
    pool: list[Example] = []
    seen: set[str] = set()
    for i in range(max((len(x) for x in per_dataset), default=0)):
        for examples in per_dataset:
            if i < len(examples) and examples[i]["question"] not in seen and len(pool) < size:
                seen.add(examples[i]["question"])
                pool.append(examples[i])
    return pool


def _rough_tokens(text: str) -> int:
    """Language-aware estimate (CJK ≈ one token per character); callers with a tokenizer pass an exact count."""
    from vertical.core.text import count_tokens

    return count_tokens(text)


def select_few_shot(
    question: str,
    pool: Sequence[Example],
    embedder: str,
    token_budget: int = 300,
    max_examples: int = 3,
    count_tokens: Callable[[str], int] | None = None,
) -> list[Example]:
    """The pool examples most similar to ``question`` that fit ``token_budget`` (most similar first)."""
    if not pool or max_examples <= 0 or token_budget <= 0:
        return []
    from vertical.core.loaders import load_embedder

    count = count_tokens or _rough_tokens
    model = load_embedder(embedder)
    vectors = model.encode([question, *[e["question"] for e in pool]], normalize_embeddings=True)
    sims = vectors[1:] @ vectors[0]
    chosen: list[Example] = []
    used = 0
    for idx in sims.argsort()[::-1]:
        example = pool[int(idx)]
        cost = count(example["question"]) + count(example["answer"])
        if used + cost > token_budget:
            continue
        chosen.append(example)
        used += cost
        if len(chosen) == max_examples:
            break
    return chosen


def few_shot_messages(examples: Sequence[Example]) -> list[dict[str, str]]:
    """Examples as alternating user/assistant turns (what chat templates expect)."""
    messages: list[dict[str, str]] = []
    for e in examples:
        messages += [{"role": "user", "content": e["question"]}, {"role": "assistant", "content": e["answer"]}]
    return messages
