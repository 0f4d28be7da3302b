"""``domain.yaml`` → validated pydantic models.

The domain spec is the single source of truth for a domain. Paths inside it are relative to the
folder holding ``domain.yaml``; :func:`load_domain` resolves them. Validation errors name the
file and the dotted field path so the user can fix the YAML directly.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from vertical.core.errors import SpecError

SPEC_FILENAME = "domain.yaml"
STRATEGY_PARTS = ("prompt", "rag", "sft", "cpt", "dpo")
STRATEGY_CHOICES = f"auto, or parts of {'/'.join(STRATEGY_PARTS)} joined by '+' (e.g. sft+rag, sft+dpo+rag)"
DEFAULT_GENERATOR = "smollm2-135m-instruct"
DEFAULT_EMBEDDER = "all-minilm-l6-v2"


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class RetrievalSpec(_Strict):
    top_k: int = Field(4, ge=1, le=100)
    dense_weight: float = Field(1.0, ge=0)
    bm25_weight: float = Field(1.0, ge=0)
    fusion: Literal["score", "rrf"] = Field(
        "score",
        description="How dense and BM25 rankings combine: score = distribution-based score fusion (each arm's "
        "scores scaled by mean ± 3 sd; +4.1 nDCG@10 over dense alone on the man-page benchmark), rrf = weighted "
        "reciprocal rank fusion with rrf_k.",
    )
    rrf_k: int = Field(60, ge=1, description="RRF constant (fusion: rrf only).")
    score_threshold: float | None = Field(
        None, description="Drop hits whose fused score is below this (score fusion: ~0..2 with both arms on)."
    )
    min_confidence: float = Field(
        0.2,
        ge=-1.0,
        le=1.0,
        description="Dense evidence: best cosine at or above this is confident "
        "(only when the embedder reads the text).",
    )
    min_lexical_confidence: float | None = Field(
        None,
        ge=0.0,
        le=1.0,
        description="Lexical evidence: query-term coverage at or above this is confident; None = calibrated at ingest.",
    )
    adapt_dense_weight: bool = Field(
        True, description="Scale dense_weight down by the embedder's unknown-token rate on the KB (0 at >= 40% [UNK])."
    )
    mmr: bool = False
    mmr_lambda: float = Field(0.5, ge=0, le=1)


class KnowledgeSpec(_Strict):
    sources: list[Path] = Field(default_factory=lambda: [Path("docs")])
    chunk_size: int = Field(200, ge=16, description="Chunk size in embedder tokens.")
    chunk_overlap: int = Field(30, ge=0)
    json_field: str = Field(
        "text",
        description="Field holding the text in json/jsonl/yaml records; without it, all fields as 'field: value'.",
    )
    csv_column: str | None = Field(
        None, description="Column holding the text in csv/xlsx rows; all columns as 'column: value' if unset."
    )
    max_file_mb: float = Field(50.0, gt=0, description="Larger files are skipped with a reason.")
    max_unzipped_mb: float = Field(
        200.0, gt=0, description="DOCX/XLSX/EPUB whose entries inflate past this are skipped before parsing."
    )
    max_zip_entries: int = Field(10_000, ge=1, description="DOCX/XLSX/EPUB with more zip entries are skipped.")
    max_file_seconds: float = Field(
        120.0, gt=0, description="Per-file time budget for parsing and chunking; slower files are skipped."
    )
    retrieval: RetrievalSpec = Field(default_factory=RetrievalSpec)

    @model_validator(mode="after")
    def _overlap_below_size(self) -> KnowledgeSpec:
        if self.chunk_overlap >= self.chunk_size:
            raise ValueError("chunk_overlap must be smaller than chunk_size")
        return self


PIIType = Literal["email", "id_card", "phone", "address", "name"]
ALL_PII_TYPES: tuple[PIIType, ...] = ("email", "id_card", "phone", "address", "name")
DataFormat = Literal["alpaca", "sharegpt", "openai", "text"]


class DatasetSpec(_Strict):
    """One training data file, LLaMA-Factory ``dataset_info.json`` style."""

    name: str
    file: Path
    format: DataFormat = "sharegpt"
    columns: dict[str, str] = Field(default_factory=dict, description="Internal name → column in the file.")
    tags: dict[str, str] = Field(default_factory=dict, description="Role tags, e.g. user_tag: human.")
    weight: float = Field(1.0, gt=0)
    split: Literal["train", "eval"] = "train"
    ranking: bool = Field(False, description="Preference pairs (chosen/rejected) for DPO/ORPO/KTO, not SFT.")


class DataSpec(_Strict):
    datasets: list[DatasetSpec] = Field(default_factory=list)
    strict: bool = Field(False, description="Fail the build on the first malformed record instead of skipping it.")
    general: Literal["self-replay", "none"] | Path = Field(
        "self-replay", description="General data to mix in: a file, self-replay, or none."
    )
    sft_general_ratio: float = Field(1.0, ge=0, description="General examples per domain example for SFT.")
    cpt_max_domain_share: float = Field(0.15, gt=0, le=1)
    max_length: int = Field(512, ge=32, description="Token budget per training window.")
    dedupe_threshold: float = Field(
        0.85, gt=0, le=1, description="MinHash Jaccard above which records are near-duplicates."
    )
    scrub_pii: bool = Field(False, description="Replace PII with placeholders before training (vertical.core.pii).")
    pii_types: list[PIIType] = Field(
        default_factory=lambda: list(ALL_PII_TYPES),
        description="Which PII kinds scrub_pii replaces "
        "(names/addresses are pattern based: drop them if they over-match).",
    )
    synth_pairs: int = Field(0, ge=0, description="Q/A pairs synthesized from the KB for SFT (RAFT-style).")


class PreferenceSpec(_Strict):
    """Preference alignment (DPO/ORPO/KTO) on top of the base model or the domain's SFT adapter."""

    method: Literal["dpo", "orpo", "kto"] = "dpo"
    beta: float = Field(0.1, gt=0, description="Strength of the pull towards the reference model (DPO/KTO).")
    learning_rate: float = Field(5e-5, gt=0)
    epochs: float = Field(1.0, gt=0)
    max_steps: int = Field(-1, description="Overrides epochs when > 0.")
    min_pairs: int = Field(16, ge=1, description="Below this many pairs the planner does not suggest +dpo.")
    references: bool = Field(True, description="Use reference answers over the base model's own answers as pairs.")
    feedback: bool = Field(True, description="Use stored feedback (corrections, thumbs) as preference data.")


class TrainingSpec(_Strict):
    method: Literal["lora", "qlora", "full"] = "lora"
    lora_r: int = Field(8, ge=1)
    lora_alpha: int = Field(16, ge=1)
    lora_dropout: float = Field(0.05, ge=0, lt=1)
    target_modules: list[str] | Literal["auto"] = "auto"
    learning_rate: float = Field(2e-4, gt=0)
    epochs: float = Field(1.0, gt=0)
    max_steps: int = Field(-1, description="Overrides epochs when > 0.")
    batch_size: int = Field(4, ge=1)
    gradient_accumulation_steps: int = Field(1, ge=1)
    save_steps: int = Field(20, ge=1)
    packing: bool = True
    sparse_loss: bool = Field(True, description="LM head + loss only at labelled positions (same loss, less work).")
    gradient_checkpointing: bool = False
    seed: int = 42
    preference: PreferenceSpec = Field(default_factory=PreferenceSpec)


class ServingSpec(_Strict):
    engine: Literal["transformers", "vllm", "openai"] = "transformers"
    max_model_len: int = Field(2048, ge=128)
    max_new_tokens: int = Field(160, ge=1)
    temperature: float = Field(0.0, ge=0)
    decompose: bool = False
    openai_base_url: str | None = None
    openai_api_key_env: str = "OPENAI_API_KEY"
    openai_model: str | None = None
    # grounding policy (serving/answer/grounding_policy.py): below min_grounding, an answer given from
    # sources is flagged, replaced by the extractive quote, or refused; the same in streamed answers
    min_grounding: float = Field(0.3, ge=0, le=1)  # 80 % of reference answers reach it (docs/DESIGN-NOTES.md)
    below_grounding: Literal["flag", "extractive", "refuse"] = "flag"


class SafetyClassifierSpec(_Strict):
    """Optional classifier next to the shipped rules; it can only add risk (vertical/core/safety/classifier.py)."""

    kind: Literal["hf", "moderation", "chat"]
    model: str = Field("", description="HF text-classification folder (hf), or the endpoint's model name.")
    base_url: str | None = Field(None, description="OpenAI-compatible base URL incl. /v1 (moderation, chat).")
    api_key_env: str = "OPENAI_API_KEY"
    labels: list[str] = Field(default_factory=list, description="Labels that count as risk (defaults per kind).")
    threshold: float = Field(0.5, ge=0, le=1)
    timeout_s: float = Field(5.0, gt=0)

    @model_validator(mode="after")
    def _target_given(self) -> SafetyClassifierSpec:
        if self.kind == "hf" and not self.model:
            raise ValueError("safety.classifier.model (a local text-classification folder) is required for kind hf")
        if self.kind != "hf" and not self.base_url:
            raise ValueError(f"safety.classifier.base_url is required for kind {self.kind}")
        return self


class SafetySpec(_Strict):
    """Crisis safety. The framework ships multilingual rules (vertical/core/safety/rules/); this adds to them."""

    enabled: bool = True
    patterns: dict[str, list[str]] = Field(
        default_factory=dict, description="Extra crisis regexes per language (en, zh, ..., any); case-insensitive."
    )
    responses: dict[str, str] = Field(default_factory=dict, description="Fixed crisis response per language.")
    notes: dict[str, str] = Field(default_factory=dict, description="Resources line added when risk is in history.")
    resources: dict[str, str | dict[str, str]] = Field(
        default_factory=dict, description="Values for {{NAME}} in the texts: a string or {lang: str, default: str}."
    )
    classifier: SafetyClassifierSpec | None = None
    crisis_patterns: list[str] = Field(default_factory=list, description="Deprecated: same as patterns.any.")
    response: str = Field("", description="Deprecated: default response (use responses.<lang>).")

    @field_validator("crisis_patterns")
    @classmethod
    def _patterns_compile(cls, patterns: list[str]) -> list[str]:
        _check_regexes(patterns)
        return patterns

    @field_validator("patterns")
    @classmethod
    def _language_patterns_compile(cls, patterns: dict[str, list[str]]) -> dict[str, list[str]]:
        for items in patterns.values():
            _check_regexes(items)
        return patterns


def _check_regexes(patterns: list[str]) -> None:
    for p in patterns:
        try:
            re.compile(p)
        except re.error as exc:
            raise ValueError(f"invalid regex {p!r}: {exc}") from exc


class EvalSpec(_Strict):
    file: Path | None = Path("eval/questions.jsonl")
    k: int = Field(5, ge=1)


class DomainSpec(_Strict):
    name: str = Field(pattern=r"^[a-z0-9][a-z0-9_-]{1,62}$")
    description: str = ""
    system_prompt: str = "You are a helpful domain assistant."
    base_model: str = DEFAULT_GENERATOR
    embedder: str = DEFAULT_EMBEDDER
    strategy: str = "auto"
    knowledge: KnowledgeSpec = Field(default_factory=KnowledgeSpec)
    data: DataSpec = Field(default_factory=DataSpec)
    training: TrainingSpec = Field(default_factory=TrainingSpec)
    serving: ServingSpec = Field(default_factory=ServingSpec)
    safety: SafetySpec = Field(default_factory=SafetySpec)
    eval: EvalSpec = Field(default_factory=EvalSpec)

    # Set by load_domain, not by YAML.
    root: Path = Field(default=Path("."), exclude=True)

    @field_validator("strategy")
    @classmethod
    def _strategy_known(cls, value: str) -> str:
        return parse_strategy(value, allow_auto=True)

    def path(self, relative: Path | str) -> Path:
        """Resolve a spec-relative path against the domain folder."""
        p = Path(relative)
        return p if p.is_absolute() else (self.root / p)

    @property
    def source_paths(self) -> list[Path]:
        return [self.path(s) for s in self.knowledge.sources]


def parse_strategy(value: str, allow_auto: bool = True) -> str:
    """Normalise ``"rag+sft"`` → ``"sft+rag"`` (canonical order) and reject unknown parts."""
    value = value.strip().lower()
    if value == "auto":
        if not allow_auto:
            raise ValueError("'auto' is not allowed here")
        return value
    parts = [p.strip() for p in value.split("+") if p.strip()]
    unknown = [p for p in parts if p not in STRATEGY_PARTS]
    if not parts or unknown:
        raise ValueError(f"unknown strategy {value!r}: use auto or parts of {'/'.join(STRATEGY_PARTS)} joined by '+'")
    if "prompt" in parts and len(parts) > 1:
        raise ValueError("'prompt' is a strategy on its own; rag/sft/cpt already include the system prompt")
    # dpo aligns the model the parts before it produced (the SFT adapter, else the base model)
    order = {"cpt": 0, "sft": 1, "dpo": 2, "rag": 3, "prompt": 4}
    return "+".join(sorted(set(parts), key=order.__getitem__))


def _format_validation_error(exc: ValidationError, file: Path) -> str:
    lines = []
    for err in exc.errors():
        loc = ".".join(str(x) for x in err["loc"]) or "(top level)"
        lines.append(f"  {loc}: {err['msg']}")
    return f"{file}: invalid domain spec\n" + "\n".join(lines)


def find_spec_file(domain: str | Path) -> Path:
    p = Path(domain)
    candidate = p / SPEC_FILENAME if p.is_dir() else p
    if not candidate.is_file():
        raise SpecError(
            f"no {SPEC_FILENAME} at {candidate}",
            hint=f"pass a domain folder that holds {SPEC_FILENAME}, or create one with `vertical init {p}`",
        )
    return candidate


def load_domain(domain: str | Path) -> DomainSpec:
    """Load and validate a domain from its folder (or the path of its domain.yaml)."""
    file = find_spec_file(domain)
    try:
        raw = yaml.safe_load(file.read_text(encoding="utf-8"))
    except yaml.YAMLError as exc:
        raise SpecError(f"{file}: not valid YAML: {exc}", hint="fix the YAML syntax at the line shown") from exc
    if not isinstance(raw, dict):
        raise SpecError(f"{file}: expected a mapping of fields at the top level, got {type(raw).__name__}")
    try:
        spec = DomainSpec.model_validate(raw)
    except ValidationError as exc:
        raise SpecError(_format_validation_error(exc, file), hint="fix the fields listed above") from exc
    spec.root = file.parent.resolve()
    return spec


def dump_domain(spec: DomainSpec) -> str:
    data = spec.model_dump(mode="json", exclude={"root"}, exclude_defaults=False)
    return yaml.safe_dump(data, sort_keys=False, allow_unicode=True)
