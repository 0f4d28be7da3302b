"""Raw records out of data files, each with the line it starts on (for ``file:line`` reports).

JSON Lines: one record per line (blank lines skipped; bad JSON becomes a Problem, the rest still
loads). A JSON array: we walk it with ``raw_decode`` so each element still knows its line. Plain
text files (.txt/.md) are one record ``{"text": ...}`` each.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from finetune.data.problems import Problem
from vertical.core.errors import DataFormatError

TEXT_SUFFIXES = {".txt", ".md", ".markdown", ".text"}
_decoder = json.JSONDecoder()


def iter_records(path: Path) -> Iterator[tuple[str, Any] | Problem]:
    """Yield ``("file:line", record)`` for each record, or a Problem for one that cannot be parsed."""
    if not path.is_file():
        raise DataFormatError(
            f"training data file not found: {path}",
            hint="check data.datasets[].file in domain.yaml (paths are relative to the domain folder)",
        )
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError as exc:
        raise DataFormatError(f"{path}: not UTF-8 text ({exc})", hint="re-save the file as UTF-8") from exc
    if path.suffix.lower() in TEXT_SUFFIXES:
        yield f"{path}:1", {"text": text}
        return
    stripped = text.lstrip()
    if path.suffix.lower() == ".json" or (stripped.startswith("[") and path.suffix.lower() != ".jsonl"):
        yield from _iter_json_array(path, text)
        return
    for lineno, line in enumerate(text.splitlines(), 1):
        if not line.strip():
            continue
        try:
            yield f"{path}:{lineno}", json.loads(line)
        except json.JSONDecodeError as exc:
            yield Problem(f"{path}:{lineno}", "bad JSON", exc.msg)


def _iter_json_array(path: Path, text: str) -> Iterator[tuple[str, Any] | Problem]:
    pos = len(text) - len(text.lstrip())
    if not text.startswith("[", pos):
        # A single JSON object file: treat it as one record.
        try:
            yield f"{path}:1", json.loads(text)
        except json.JSONDecodeError as exc:
            yield Problem(f"{path}:{exc.lineno}", "bad JSON", exc.msg)
        return
    pos += 1
    line = 1 + text.count("\n", 0, pos)
    last = pos
    while True:
        while pos < len(text) and text[pos] in " \t\r\n,":
            pos += 1
        if pos >= len(text) or text[pos] == "]":
            return
        line += text.count("\n", last, pos)
        last = pos
        try:
            obj, end = _decoder.raw_decode(text, pos)
        except json.JSONDecodeError as exc:
            # Cannot resync inside a JSON array: report and stop reading this file.
            yield Problem(f"{path}:{exc.lineno}", "bad JSON", exc.msg + "; rest of the array not read")
            return
        yield f"{path}:{line}", obj
        pos = end


def sniff_format(path: Path) -> str:
    """Guess a file's format from its first record: conversations→sharegpt, messages→openai, …"""
    if path.suffix.lower() in TEXT_SUFFIXES:
        return "text"
    for item in iter_records(path):
        if isinstance(item, Problem) or not isinstance(item[1], dict):
            continue
        record = item[1]
        if "conversations" in record:
            return "sharegpt"
        if "messages" in record:
            return "openai"
        if "instruction" in record or "output" in record:
            return "alpaca"
        if "text" in record:
            return "text"
        break
    raise DataFormatError(
        f"cannot tell the format of {path}",
        hint="records need 'conversations' (sharegpt), 'messages' (openai), 'instruction'/'output' (alpaca) or 'text'",
    )
