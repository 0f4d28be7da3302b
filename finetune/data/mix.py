"""Mixing domain with general data, deterministically from a seed.

SFT: ``ratio`` general examples per domain example (``spec.data.sft_general_ratio``, default 1:1);
a general pool smaller than needed is repeated, and the report says how often.
Continued pretraining: the domain share of tokens may not exceed ``spec.data.cpt_max_domain_share``
(15%) — more domain text than that erodes general abilities — unless ``force=True``.
"""

from __future__ import annotations

import math
import random
from typing import Any, TypeVar

from vertical.core.errors import DataPolicyError

T = TypeVar("T")


def apply_weight(items: list[T], weight: float, rng: random.Random) -> list[T]:
    """Up/down-sample a dataset by ``weight`` (2.0 → every item twice; 0.5 → a random half)."""
    whole, frac = int(weight), weight - int(weight)
    out = list(items) * whole
    if frac > 0:
        out += rng.sample(items, round(frac * len(items)))
    return out


def mix_sft(domain: list[T], general: list[T], ratio: float, seed: int = 42) -> tuple[list[T], dict[str, Any]]:
    """Shuffle ``domain`` together with ``round(ratio * len(domain))`` general examples."""
    rng = random.Random(seed)
    target = round(ratio * len(domain)) if general else 0
    picked: list[T] = []
    while len(picked) < target:  # whole shuffled passes, then a partial one: repeats spread evenly
        pool = list(general)
        rng.shuffle(pool)
        picked += pool[: target - len(picked)]
    mixed = list(domain) + picked
    rng.shuffle(mixed)
    stats = {
        "domain": len(domain),
        "general": len(picked),
        "general_pool": len(general),
        "general_repeated": max(0, len(picked) - len(general)),
        "target_ratio": ratio,
        "ratio": round(len(picked) / len(domain), 4) if domain else 0.0,
    }
    return mixed, stats


def guard_cpt_share(domain_tokens: int, general_tokens: int, max_share: float, force: bool = False) -> float:
    """The domain share of a CPT mix; raises DataPolicyError above ``max_share`` unless forced."""
    total = domain_tokens + general_tokens
    share = domain_tokens / total if total else 0.0
    if share > max_share + 1e-9 and not force:
        needed = math.ceil(domain_tokens * (1 - max_share) / max_share)
        raise DataPolicyError(
            f"continued pretraining would be {share:.1%} domain text ({domain_tokens} domain vs {general_tokens} "
            f"general tokens), above the {max_share:.0%} limit (data.cpt_max_domain_share)",
            hint=f"add general text (data.general: a file with ≥ {needed} tokens), reduce the domain corpus, "
            "or pass --force if you accept the risk of forgetting general abilities",
        )
    return share


def mix_cpt(
    domain_blocks: list[T], general_blocks: list[T], max_share: float, force: bool = False, seed: int = 42
) -> tuple[list[T], dict[str, Any]]:
    """Blocks are equal-length, so shares in blocks are shares in tokens. Uses just enough general
    blocks to bring the domain share down to ``max_share``; refuses (DataPolicyError) if there are
    too few, unless ``force``."""
    rng = random.Random(seed)
    n_dom = len(domain_blocks)
    needed = math.ceil(n_dom * (1 - max_share) / max_share) if n_dom else 0
    general = rng.sample(general_blocks, needed) if len(general_blocks) >= needed else list(general_blocks)
    block = len(domain_blocks[0]) if domain_blocks else 0
    share = guard_cpt_share(n_dom * block, len(general) * block, max_share, force)
    mixed = list(domain_blocks) + general
    rng.shuffle(mixed)
    return mixed, {
        "domain_blocks": n_dom,
        "general_blocks": len(general),
        "general_available": len(general_blocks),
        "domain_share": round(share, 4),
        "max_domain_share": max_share,
        "forced": bool(force and share > max_share),
    }
