"""Preference data for DPO/ORPO (pairs) and KTO (single answers judged good or bad).

Three sources, cleaned and deduplicated like SFT data:
- feedback: a thumbs-down (or a rating of 0) with a correction → pair (correction over the answer);
  a thumbs-up answer over a thumbs-down answer to the same question → pair; thumbs alone → KTO examples.
  Once the review queue is in use, only rows accepted as ``preference`` (and plain thumbs-up) count.
- the domain's references: every QA record with an answer → pair (reference over the base model's own
  answer to the same prompt, generated once and cached per model and data hash).
- ranking files in LLaMA-Factory's format, declared in domain.yaml as datasets with ``ranking: true``:
  alpaca (``instruction``, ``input``, ``chosen``, ``rejected``) or sharegpt (``conversations`` + ``chosen``
  and ``rejected`` messages).
Rows leave here in TRL's conversational format, so the trainers apply the tokenizer's own chat template.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path

from finetune.data.feedback import Feedback, FeedbackStore, training_rows
from vertical.core.errors import DataFormatError
from vertical.core.fsutil import atomic_write_text
from vertical.core.settings import get_settings
from vertical.core.spec import DatasetSpec, DomainSpec

Messages = list[dict[str, str]]
ROLES = {"human": "user", "user": "user", "gpt": "assistant", "assistant": "assistant", "system": "system"}


@dataclass(frozen=True)
class PreferencePair:
    prompt: tuple[tuple[str, str], ...]  # (role, content) turns ending with the user's question
    chosen: str
    rejected: str
    source: str

    def to_trl(self) -> dict:
        return {
            "prompt": _messages(self.prompt),
            "chosen": [{"role": "assistant", "content": self.chosen}],
            "rejected": [{"role": "assistant", "content": self.rejected}],
        }


@dataclass(frozen=True)
class JudgedAnswer:
    prompt: tuple[tuple[str, str], ...]
    completion: str
    desirable: bool
    source: str

    def to_trl(self) -> dict:
        return {
            "prompt": _messages(self.prompt),
            "completion": [{"role": "assistant", "content": self.completion}],
            "label": self.desirable,
        }


@dataclass
class PreferenceSet:
    pairs: list[PreferencePair] = field(default_factory=list)
    judged: list[JudgedAnswer] = field(default_factory=list)
    counts: dict[str, int] = field(default_factory=dict)  # per source, and what was dropped and why

    def count(self, key: str, n: int = 1) -> None:
        self.counts[key] = self.counts.get(key, 0) + n

    def unpaired(self) -> list[JudgedAnswer]:
        """KTO examples: thumbs, plus both sides of every pair (chosen desirable, rejected not)."""
        from_pairs = [JudgedAnswer(p.prompt, p.chosen, True, p.source) for p in self.pairs]
        from_pairs += [JudgedAnswer(p.prompt, p.rejected, False, p.source) for p in self.pairs]
        return list(dict.fromkeys(self.judged + from_pairs))


def _messages(prompt: tuple[tuple[str, str], ...]) -> Messages:
    return [{"role": role, "content": content} for role, content in prompt]


def _prompt(turns: Iterable[dict], system: str | None) -> tuple[tuple[str, str], ...]:
    out = [("system", system.strip())] if system and system.strip() else []
    for turn in turns:
        role = ROLES.get(str(turn.get("role") or turn.get("from") or ""))
        content = str(turn.get("content") or turn.get("value") or "").strip()
        if role and content and not (role == "system" and out and out[0][0] == "system"):
            out.append((role, content))
    return tuple(out)


# ---- sources ----------------------------------------------------------------------------------
def from_feedback(rows: list[Feedback], system: str | None, out: PreferenceSet) -> None:
    liked: dict[tuple, list[Feedback]] = {}
    for row in rows:
        prompt = _prompt([*row.history, {"role": "user", "content": row.question}], system)
        if row.correction:
            add_pair(out, PreferencePair(prompt, row.correction, row.answer, "feedback-correction"))
        elif row.rating:
            add_judged(out, JudgedAnswer(prompt, row.answer, row.rating > 0, "feedback-thumbs"))
        if row.rating > 0:
            liked.setdefault(prompt, []).append(row)
    for row in rows:
        prompt = _prompt([*row.history, {"role": "user", "content": row.question}], system)
        if row.rating < 0:
            for good in liked.get(prompt, []):
                add_pair(out, PreferencePair(prompt, good.answer, row.answer, "feedback-thumbs-pair"))


def read_ranking(path: Path, dataset: DatasetSpec, system: str | None, out: PreferenceSet) -> None:
    """One LLaMA-Factory ranking file (JSON list or JSONL; alpaca or sharegpt columns)."""
    text = path.read_text(encoding="utf-8")
    try:
        records = (
            json.loads(text)
            if text.lstrip().startswith("[")
            else [json.loads(line) for line in text.splitlines() if line.strip()]
        )
    except json.JSONDecodeError as exc:
        raise DataFormatError(f"{path}: not JSON or JSONL ({exc})", "write one JSON object per line") from exc
    col = {
        "instruction": "instruction",
        "input": "input",
        "messages": "conversations",
        "system": "system",
        "chosen": "chosen",
        "rejected": "rejected",
        **dataset.columns,
    }
    for n, record in enumerate(records, 1):
        if not isinstance(record, dict):
            out.count(f"dropped: {path.name} record {n} is not an object")
            continue
        sys_prompt = record.get(col["system"]) or system
        if dataset.format == "sharegpt":
            turns = record.get(col["messages"]) or []
            chosen, rejected = record.get(col["chosen"]) or {}, record.get(col["rejected"]) or {}
            chosen = chosen.get("value") or chosen.get("content") if isinstance(chosen, dict) else chosen
            rejected = rejected.get("value") or rejected.get("content") if isinstance(rejected, dict) else rejected
        else:
            question = "\n".join(x for x in (record.get(col["instruction"]), record.get(col["input"])) if x)
            turns, chosen, rejected = (
                [{"role": "user", "content": question}],
                record.get(col["chosen"]),
                record.get(col["rejected"]),
            )
        prompt = _prompt(turns, sys_prompt)
        if not prompt or prompt[-1][0] != "user" or not isinstance(chosen, str) or not isinstance(rejected, str):
            out.count("dropped: ranking record without a user prompt and chosen/rejected text")
            continue
        add_pair(out, PreferencePair(prompt, chosen, rejected, f"ranking:{dataset.name}"))


def from_references(
    prompts_and_references: list[tuple[tuple[tuple[str, str], ...], str]],
    generate: Callable[[list[Messages]], list[str]],
    out: PreferenceSet,
) -> None:
    """Reference over the model's own answer: what the model says now is what alignment moves away from."""
    answers = generate([_messages(p) for p, _ in prompts_and_references])
    for (prompt, reference), own in zip(prompts_and_references, answers):
        add_pair(out, PreferencePair(prompt, reference, own, "reference"))


# ---- cleaning ---------------------------------------------------------------------------------
def _normal(text: str) -> str:
    from vertical.core.text import normalize

    return normalize(text).strip()


def add_pair(out: PreferenceSet, pair: PreferencePair) -> None:
    chosen, rejected = _normal(pair.chosen), _normal(pair.rejected)
    if not chosen or not rejected:
        out.count("dropped: empty chosen or rejected")
    elif chosen.casefold() == rejected.casefold():
        out.count("dropped: chosen equals rejected")
    else:
        clean = PreferencePair(pair.prompt, chosen, rejected, pair.source)
        if clean in set(out.pairs):
            out.count("dropped: duplicate pair")
        else:
            out.pairs.append(clean)
            out.count(f"pairs from {pair.source.split(':')[0]}")


def add_judged(out: PreferenceSet, item: JudgedAnswer) -> None:
    text = _normal(item.completion)
    clean = JudgedAnswer(item.prompt, text, item.desirable, item.source)
    if not text:
        out.count("dropped: empty answer")
    elif clean in set(out.judged):
        out.count("dropped: duplicate judged answer")
    else:
        out.judged.append(clean)
        out.count("thumbs up" if item.desirable else "thumbs down")


def split(items: list, eval_fraction: float = 0.2, minimum_eval: int = 2) -> tuple[list, list]:
    """Deterministic held-out split by content hash (stable when rows are added)."""

    def key(item: object) -> str:
        return hashlib.sha256(repr(item).encode()).hexdigest()

    ranked = sorted(items, key=key)
    n_eval = max(minimum_eval, round(len(ranked) * eval_fraction)) if len(ranked) > 2 * minimum_eval else 0
    return ranked[n_eval:], ranked[:n_eval]


# ---- the domain's preference data -------------------------------------------------------------
def _reference_prompts(spec: DomainSpec) -> list[tuple[tuple[tuple[str, str], ...], str]]:
    """(prompt, reference answer) from the domain's alpaca QA datasets (never the held-out eval set)."""
    from finetune.data.formats import read_dataset

    found = []
    for ds in spec.data.datasets:
        if ds.ranking or ds.format != "alpaca" or ds.split != "train":
            continue
        conversations, _problems = read_dataset(spec, ds)
        for conv in conversations:
            messages = conv.messages()
            users = [m for m in messages if m["role"] == "user"]
            if len(users) == 1 and messages[-1]["role"] == "assistant":
                found.append((_prompt(messages[:-1], spec.system_prompt), messages[-1]["content"]))
    return found


def _cached_generate(spec: DomainSpec, max_new_tokens: int) -> Callable[[list[Messages]], list[str]]:
    from vertical.core.generate import chat_generate

    def generate(conversations: list[Messages]) -> list[str]:
        key = hashlib.sha256(json.dumps([spec.base_model, max_new_tokens, conversations]).encode()).hexdigest()[:16]
        cache = get_settings().domain_dir(spec.name) / "data" / f"own-answers-{key}.json"
        if cache.is_file():
            return json.loads(cache.read_text(encoding="utf-8"))
        answers = chat_generate(spec.base_model, conversations, max_new_tokens=max_new_tokens)
        atomic_write_text(cache, json.dumps(answers, ensure_ascii=False))
        return answers

    return generate


def domain_preferences(
    spec: DomainSpec,
    references: bool = True,
    feedback: bool = True,
    limit: int | None = None,
    max_new_tokens: int = 96,
    generate: Callable[[list[Messages]], list[str]] | None = None,
) -> PreferenceSet:
    """Every preference source the domain has, cleaned and deduplicated."""
    out = PreferenceSet()
    for ds in spec.data.datasets:
        if ds.ranking:
            path = spec.path(ds.file)
            if not path.is_file():
                raise DataFormatError(
                    f"ranking dataset {ds.name!r}: {path} does not exist", "fix data.datasets[].file in domain.yaml"
                )
            read_ranking(path, ds, spec.system_prompt, out)
    if feedback:
        rows = FeedbackStore().list(spec.name)
        accepted = training_rows(rows, "preference")  # all rows until the review queue is used
        if len(accepted) < len(rows):
            out.count("dropped: feedback not accepted as preference in review", len(rows) - len(accepted))
        from_feedback(accepted, spec.system_prompt, out)
    if references:
        prompts = _reference_prompts(spec)[:limit] if limit else _reference_prompts(spec)
        if prompts:
            from_references(prompts, generate or _cached_generate(spec, max_new_tokens), out)
    return out
