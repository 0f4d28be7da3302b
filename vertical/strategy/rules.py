"""The planner's rules: ONE table, read top to bottom.

Each :class:`Rule` row has a condition over the domain :class:`Profile`, an effect on the strategy
parts (``allow`` / ``block`` / ``require`` a part, or ``note`` only) and an explanation template
formatted with the profile's fields. A ``block`` always wins over an ``allow``, whatever the row
order, so adding a row never silently re-enables something another row ruled out.

This module is pure (no I/O, no imports of other packages) so the rules are tested on synthetic
profiles.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from typing import Literal

# Thresholds, in one place so the report and the tests read the same numbers.
SFT_MIN_EXAMPLES = 100  # "hundreds+ of examples" (DESIGN.md); below this few-shot prompting does as well
CPT_MIN_TOKENS = 1_000_000  # continued pretraining on less raw text mostly teaches noise
CPT_MIN_GPU_GB = 16.0  # full-sequence CPT of a useful base model does not fit in less
CHANGING_DOCS_DAYS_30 = 3  # docs edited on >= 3 distinct days in a month: facts move faster than retraining
CPU_TRAIN_TOKENS_PER_S = 47.0  # measured: LoRA r=8 on SmolLM2-135M, seq 256, 2 cores (DESIGN.md)
GPU_TRAIN_TOKENS_PER_S = 3000.0  # conservative single-GPU LoRA throughput for a small model
SFT_TOKENS_PER_EXAMPLE = 250  # typical conversation window after templating; x2 for the 1:1 general mix
CPT_EPOCH_FRACTION = 1.0  # one pass over the raw corpus
DPO_MIN_PAIRS = 16  # fewer preference pairs than this move the model by noise, not by preference

Part = Literal["rag", "sft", "cpt", "dpo"]
Action = Literal["allow", "block", "require", "note"]


@dataclass
class Profile:
    """What the planner knows about a domain's assets and this machine."""

    documents: int = 0
    doc_tokens: int = 0
    conversations: int = 0
    # assistant answers SFT learns from (a 72-turn session holds 36); None = one per conversation
    answers: int | None = None
    raw_corpus_tokens: int = 0
    doc_change_days_30: int = 0  # distinct days on which a document changed in the last 30 days
    kb_syncs_30: int = 0  # builds in the last 30 days whose ingest changed the KB
    eval_questions: int = 0
    preference_pairs: int = 0  # ranking records + reference answers + corrections from feedback
    gpu: bool = False
    gpu_name: str = ""
    gpu_mem_gb: float = 0.0
    cpu_cores: int = 1
    time_budget_min: float | None = None

    @property
    def examples(self) -> int:
        """Supervised examples for the SFT rules: answers when counted, else conversations."""
        return self.conversations if self.answers is None else self.answers

    @property
    def sft_minutes(self) -> float:
        """Rough wall time of one SFT epoch on this machine (domain + equal general mix)."""
        tokens = self.conversations * SFT_TOKENS_PER_EXAMPLE * 2
        rate = GPU_TRAIN_TOKENS_PER_S if self.gpu else CPU_TRAIN_TOKENS_PER_S
        return tokens / rate / 60

    @property
    def cpt_minutes(self) -> float:
        rate = GPU_TRAIN_TOKENS_PER_S if self.gpu else CPU_TRAIN_TOKENS_PER_S
        return self.raw_corpus_tokens * CPT_EPOCH_FRACTION / rate / 60

    def fields(self) -> dict:
        data = asdict(self)
        data.update(
            sft_minutes=round(self.sft_minutes, 1), cpt_minutes=round(self.cpt_minutes, 1), examples=self.examples
        )
        return data


@dataclass(frozen=True)
class Effect:
    action: Action
    part: Part | None = None


@dataclass(frozen=True)
class Rule:
    name: str
    condition: Callable[[Profile], bool]
    effect: Effect
    explanation: str  # str.format template over Profile.fields()


def _over_budget(minutes: float, p: Profile) -> bool:
    return p.time_budget_min is not None and minutes > p.time_budget_min


RULES: list[Rule] = [
    # --- documents → rag
    Rule(
        "docs-present",
        lambda p: p.documents > 0,
        Effect("allow", "rag"),
        "{documents} documents (~{doc_tokens} tokens) → rag grounds answers in them and can cite sources",
    ),
    Rule(
        "no-docs",
        lambda p: p.documents == 0,
        Effect("block", "rag"),
        "no documents in the knowledge sources → rag skipped",
    ),
    Rule(
        "docs-change-often",
        lambda p: p.documents > 0 and (p.doc_change_days_30 >= CHANGING_DOCS_DAYS_30 or p.kb_syncs_30 >= 2),
        Effect("require", "rag"),
        "docs changed on {doc_change_days_30} days ({kb_syncs_30} KB syncs) in the last 30 days → rag required: "
        "retrieval picks up edits at once, retraining would lag",
    ),
    # --- conversations → sft
    Rule(
        "enough-conversations",
        lambda p: p.examples >= SFT_MIN_EXAMPLES,
        Effect("allow", "sft"),
        "{examples} answers in {conversations} conversations/QA pairs → sft worthwhile (style and behaviour; "
        "~{sft_minutes} min per epoch)",
    ),
    Rule(
        "few-conversations",
        lambda p: p.conversations > 0 and p.examples < SFT_MIN_EXAMPLES,
        Effect("block", "sft"),
        f"only {{examples}} answers in {{conversations}} conversations (< {SFT_MIN_EXAMPLES}) → sft skipped; "
        "they serve as few-shot examples",
    ),
    Rule(
        "no-conversations",
        lambda p: p.conversations == 0,
        Effect("block", "sft"),
        "no conversations or QA pairs in data.datasets → sft skipped",
    ),
    Rule(
        "sft-over-budget",
        lambda p: p.examples >= SFT_MIN_EXAMPLES and _over_budget(p.sft_minutes, p),
        Effect("block", "sft"),
        "sft needs ~{sft_minutes} min here but the time budget is {time_budget_min} min → sft skipped",
    ),
    # --- raw corpus + GPU → cpt
    Rule(
        "large-corpus-gpu",
        lambda p: p.raw_corpus_tokens >= CPT_MIN_TOKENS and p.gpu and p.gpu_mem_gb >= CPT_MIN_GPU_GB,
        Effect("allow", "cpt"),
        "raw corpus {raw_corpus_tokens} tokens and a {gpu_mem_gb} GB GPU → cpt can teach domain vocabulary",
    ),
    Rule(
        "large-corpus-no-gpu",
        lambda p: p.raw_corpus_tokens >= CPT_MIN_TOKENS and not p.gpu,
        Effect("block", "cpt"),
        "raw corpus {raw_corpus_tokens} tokens but no GPU → cpt skipped (~{cpt_minutes} min on {cpu_cores} CPU cores)",
    ),
    Rule(
        "small-gpu",
        lambda p: p.raw_corpus_tokens >= CPT_MIN_TOKENS and p.gpu and p.gpu_mem_gb < CPT_MIN_GPU_GB,
        Effect("block", "cpt"),
        f"GPU has {{gpu_mem_gb}} GB (< {CPT_MIN_GPU_GB:g}) → cpt skipped; LoRA sft still fits",
    ),
    Rule(
        "small-corpus",
        lambda p: p.raw_corpus_tokens < CPT_MIN_TOKENS,
        Effect("block", "cpt"),
        f"raw corpus {{raw_corpus_tokens}} tokens (< {CPT_MIN_TOKENS:,}) → cpt skipped: "
        "too little text to shift the model",
    ),
    Rule(
        "cpt-over-budget",
        lambda p: p.raw_corpus_tokens >= CPT_MIN_TOKENS and _over_budget(p.cpt_minutes, p),
        Effect("block", "cpt"),
        "cpt needs ~{cpt_minutes} min but the time budget is {time_budget_min} min → cpt skipped",
    ),
    # --- preference pairs → dpo (aligns the SFT model when there is one)
    Rule(
        "enough-pairs",
        lambda p: p.preference_pairs >= DPO_MIN_PAIRS,
        Effect("allow", "dpo"),
        "{preference_pairs} preference pairs (references, ranking files, corrections) → +dpo can make answers "
        "more like the preferred ones; auto compares it with the same candidate without it",
    ),
    Rule(
        "few-pairs",
        lambda p: p.preference_pairs < DPO_MIN_PAIRS,
        Effect("block", "dpo"),
        f"{{preference_pairs}} preference pairs (< {DPO_MIN_PAIRS}) → dpo skipped; collect corrections in the UI",
    ),
    # --- evaluation
    Rule(
        "no-eval-set",
        lambda p: p.eval_questions == 0,
        Effect("note"),
        "no eval questions (eval.file) → auto cannot measure candidates and keeps the planner's recommendation",
    ),
]


@dataclass
class FiredRule:
    name: str
    effect: str
    explanation: str


@dataclass
class Decision:
    strategy: str
    candidates: list[str]
    fired: list[FiredRule] = field(default_factory=list)
    allowed: list[str] = field(default_factory=list)
    required: list[str] = field(default_factory=list)


_ORDER = ("cpt", "sft", "dpo", "rag")


def _candidates(allowed: set[str], required: set[str]) -> list[str]:
    """prompt (the baseline) plus every sensible combination of the allowed parts.

    cpt only appears together with sft: a continued-pretrained model has lost chat behaviour
    until it is instruction-tuned again. dpo is one extra candidate: the fullest other combination
    plus dpo, so its win over the same candidate without it is measured (and training cost stays bounded).
    """
    parts = [p for p in _ORDER if p in allowed and p != "dpo"]
    combos: list[str] = ["prompt"]
    for mask in range(1, 2 ** len(parts)):
        chosen = [p for i, p in enumerate(parts) if mask >> i & 1]
        if "cpt" in chosen and "sft" not in chosen:
            continue
        if not required.issubset(chosen):
            continue
        combos.append("+".join(chosen))
    if "dpo" in allowed:
        fullest = max(combos, key=lambda s: (s != "prompt", s.count("+")))
        base = [] if fullest == "prompt" else fullest.split("+")
        combos.append("+".join(sorted([*base, "dpo"], key=_ORDER.index)))
    # smallest first: ties in auto go to the simpler strategy
    return sorted(
        set(combos), key=lambda s: (s != "prompt", s.count("+"), [_ORDER.index(x) for x in s.split("+") if x in _ORDER])
    )


def decide(profile: Profile, rules: list[Rule] | None = None) -> Decision:
    """Apply every rule whose condition holds; return the recommendation and the candidates."""
    values = profile.fields()
    allowed: set[str] = set()
    blocked: set[str] = set()
    required: set[str] = set()
    fired: list[FiredRule] = []
    for rule in rules if rules is not None else RULES:
        if not rule.condition(profile):
            continue
        effect = rule.effect
        if effect.action == "allow":
            allowed.add(effect.part)
        elif effect.action == "block":
            blocked.add(effect.part)
        elif effect.action == "require":
            allowed.add(effect.part)
            required.add(effect.part)
        label = effect.action if effect.part is None else f"{effect.action} {effect.part}"
        fired.append(FiredRule(rule.name, label, rule.explanation.format(**values)))
    allowed -= blocked
    required &= allowed
    candidates = _candidates(allowed, required)
    recommended = candidates[-1]  # the fullest combination the rules allow
    return Decision(
        recommended, candidates, fired, sorted(allowed, key=_ORDER.index), sorted(required, key=_ORDER.index)
    )
