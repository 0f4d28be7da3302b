"""Import and export LLaMA-Factory's ``dataset_info.json`` registry.

Schema (LLaMA-Factory data/README.md): ``{name: {file_name, formatting: alpaca|sharegpt, columns:
{prompt, query, response, history, messages, system, tools}, tags: {role_tag, content_tag,
user_tag, assistant_tag, observation_tag, function_tag, system_tag}}}``. LLaMA-Factory reads OpenAI
``messages`` as sharegpt with role/content tags, and pretraining text as ``columns: {prompt: text}``;
we map those both ways.
"""

from __future__ import annotations

import json
from pathlib import Path

from finetune.data.formats import read_file, write_dataset
from finetune.data.problems import Problem
from vertical.core.errors import DataFormatError
from vertical.core.fsutil import atomic_write_json

OPENAI_AS_SHAREGPT_TAGS = {
    "role_tag": "role",
    "content_tag": "content",
    "user_tag": "user",
    "assistant_tag": "assistant",
    "system_tag": "system",
    "observation_tag": "tool",
    "function_tag": "function_call",
}


def import_dataset_info(path: Path) -> list[dict]:
    """``dataset_info.json`` → list of DatasetSpec-shaped dicts (``file`` absolute, next to the json)."""
    path = Path(path)
    try:
        info = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError) as exc:
        raise DataFormatError(f"cannot read {path}: {exc}", hint="pass LLaMA-Factory's data/dataset_info.json") from exc
    if not isinstance(info, dict):
        raise DataFormatError(f"{path}: expected an object of datasets", hint="see LLaMA-Factory data/README.md")
    out = []
    for name, entry in info.items():
        if not isinstance(entry, dict) or "file_name" not in entry:
            raise DataFormatError(
                f"{path}: dataset {name!r} has no file_name",
                hint="only local files can be imported (hf_hub_url/ms_hub_url datasets are not fetched offline)",
            )
        columns = dict(entry.get("columns") or {})
        tags = dict(entry.get("tags") or {})
        fmt = entry.get("formatting", "alpaca")
        if fmt == "sharegpt" and tags.get("role_tag") == "role" and tags.get("content_tag") == "content":
            fmt = "openai"
            tags = {}
        elif fmt == "alpaca" and set(columns) == {"prompt"} and "response" not in columns:
            fmt, columns = "text", {"text": columns["prompt"]}
        if fmt not in ("alpaca", "sharegpt", "openai", "text"):
            raise DataFormatError(f"{path}: dataset {name!r} has formatting {fmt!r}", hint="use alpaca or sharegpt")
        out.append(
            {
                "name": name,
                "file": (path.parent / entry["file_name"]).resolve(),
                "format": fmt,
                "columns": columns,
                "tags": tags,
            }
        )
    return out


def dataset_info_entry(name: str, file_name: str, fmt: str, columns: dict[str, str], tags: dict[str, str]) -> dict:
    """One LLaMA-Factory entry for a file written in ``fmt`` with our column/tag names."""
    if fmt == "openai":
        return {
            "file_name": file_name,
            "formatting": "sharegpt",
            "columns": {"messages": columns.get("messages", "messages")},
            "tags": OPENAI_AS_SHAREGPT_TAGS,
        }
    if fmt == "text":
        return {"file_name": file_name, "columns": {"prompt": columns.get("text", "text")}}
    entry: dict = {"file_name": file_name, "formatting": fmt}
    if columns:
        entry["columns"] = columns
    if tags and fmt == "sharegpt":
        entry["tags"] = tags
    return entry


def export_llamafactory(spec, out_dir: Path) -> tuple[Path, list[Problem]]:
    """Write each dataset of the domain as JSONL plus a ``dataset_info.json`` LLaMA-Factory can load."""
    out_dir = Path(out_dir)
    info: dict[str, dict] = {}
    problems: list[Problem] = []
    for ds in spec.data.datasets:
        if ds.ranking:  # already in LLaMA-Factory's ranking format; nothing to convert
            continue
        convs, probs = read_file(spec.path(ds.file), ds.format, ds.columns, ds.tags, ds.name)
        problems += probs
        file_name = f"{ds.name}.jsonl"
        write_dataset(convs, out_dir / file_name, ds.format, ds.columns, ds.tags)
        info[ds.name] = dataset_info_entry(ds.name, file_name, ds.format, dict(ds.columns), dict(ds.tags))
    return atomic_write_json(out_dir / "dataset_info.json", info), problems
