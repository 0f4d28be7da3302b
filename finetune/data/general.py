"""General (out-of-domain) data mixed into training so the model keeps its general abilities.

``spec.data.general`` is a user file (any supported format; sniffed), ``self-replay`` (the base
model's own answers to ``vertical/core/resources/general_prompts.jsonl``, generated once and cached
under ``<domain_dir>/data/`` keyed by model name + prompts hash + generation length), or ``none``.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from pathlib import Path

import vertical
from finetune.data.file_records import sniff_format
from finetune.data.formats import read_file, write_dataset
from finetune.data.report import DataReport
from finetune.data.types import Conversation, Turn
from vertical.core.errors import DataFormatError
from vertical.core.settings import get_settings
from vertical.core.spec import DomainSpec

PROMPTS_FILE = Path(vertical.__file__).parent / "core" / "resources" / "general_prompts.jsonl"
Progress = Callable[[str, int, int], None]


def read_prompts(path: Path = PROMPTS_FILE) -> list[dict[str, str]]:
    prompts = []
    for lineno, line in enumerate(Path(path).read_text(encoding="utf-8").splitlines(), 1):
        if not line.strip():
            continue
        try:
            record = json.loads(line)
            prompts.append({"id": str(record.get("id", lineno)), "prompt": str(record["prompt"])})
        except (json.JSONDecodeError, KeyError, TypeError) as exc:
            raise DataFormatError(
                f"{path}:{lineno}: bad prompt record ({exc})", hint='one {"id", "prompt"} object per line'
            ) from exc
    return prompts


def replay_cache_path(cache_dir: Path, model_name: str, prompts: list[dict], max_new_tokens: int) -> Path:
    payload = json.dumps([model_name, max_new_tokens, prompts], ensure_ascii=False, sort_keys=True)
    return Path(cache_dir) / f"self_replay-{hashlib.sha256(payload.encode()).hexdigest()[:16]}.jsonl"


def self_replay(
    model_name: str,
    cache_dir: Path,
    prompts_file: Path = PROMPTS_FILE,
    limit: int | None = None,
    max_new_tokens: int = 160,
    batch_size: int = 8,
    report: DataReport | None = None,
    on_progress: Progress | None = None,
) -> list[Conversation]:
    """The base model's answers to the general prompts (cached: generated once per model+prompts)."""
    from vertical.core.generate import chat_generate

    report = report or DataReport()
    prompts = read_prompts(prompts_file)[:limit]
    cache = replay_cache_path(cache_dir, model_name, prompts, max_new_tokens)
    if cache.is_file():
        convs, problems = read_file(cache, "openai", name="self-replay")
        report.add_problems(problems)
        report.count("self-replay cached", len(convs))
    else:
        convs = []
        if on_progress:  # the first batch takes a while: show the total before it starts
            on_progress("self-replay (general answers)", 0, len(prompts))
        for start in range(0, len(prompts), batch_size):
            batch = prompts[start : start + batch_size]
            answers = chat_generate(
                model_name,
                [[{"role": "user", "content": p["prompt"]}] for p in batch],
                max_new_tokens=max_new_tokens,
                batch_size=batch_size,
            )
            for p, answer in zip(batch, answers):
                if answer.strip():
                    convs.append(
                        Conversation([Turn("user", p["prompt"]), Turn("assistant", answer)], id=f"replay-{p['id']}")
                    )
                else:
                    report.drop("self-replay answer empty")
            if on_progress:
                on_progress("self-replay (general answers)", min(start + batch_size, len(prompts)), len(prompts))
        write_dataset(convs, cache, "openai")
        report.count("self-replay generated", len(convs))
    for conv in convs:
        conv.meta.update(kind="general", dataset="self-replay")
    return convs


def load_general(
    spec: DomainSpec, report: DataReport | None = None, limit: int | None = None, on_progress: Progress | None = None
) -> list[Conversation]:
    """General conversations for SFT mixing, per ``spec.data.general``."""
    report = report or DataReport()
    source = spec.data.general
    if str(source) == "none":
        return []
    if str(source) == "self-replay":
        cache_dir = get_settings().domain_dir(spec.name) / "data"
        return self_replay(spec.base_model, cache_dir, limit=limit, report=report, on_progress=on_progress)
    path = spec.path(source)
    convs, problems = read_file(path, sniff_format(path), name="general")
    report.add_problems(problems)
    for conv in convs[:limit]:
        conv.meta["kind"] = "general"
    return convs[:limit]


def general_texts(spec: DomainSpec, report: DataReport | None = None, on_progress: Progress | None = None) -> list[str]:
    """General plain text for continued pretraining: the user's file, or prompt+answer of self-replay."""
    convs = load_general(spec, report, on_progress=on_progress)
    return ["\n\n".join(t.content for t in c.turns if t.role != "system") for c in convs]
