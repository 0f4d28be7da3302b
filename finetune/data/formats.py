"""Read and write training data in Alpaca, ShareGPT, OpenAI ``messages`` and plain-text formats.

Every reader produces the one internal :class:`~finetune.data.types.Conversation`; every writer
consumes it, so converting is read + write. Column and role-tag names follow LLaMA-Factory's
``dataset_info.json`` (``columns``: prompt/query/response/history/system/messages/text;
``tags``: role_tag/content_tag/user_tag/assistant_tag/system_tag/observation_tag/function_tag).

Public API (stable, used by finetune.train and the CLI):

- ``read_dataset(spec, dataset_spec) -> (list[Conversation], list[Problem])``: one entry of
  ``spec.data.datasets``. Malformed records are skipped and returned as Problems with ``file:line``
  and reason; with ``spec.data.strict`` they raise :class:`DataFormatError` instead.
- ``read_file(path, format, columns=None, tags=None, name="") -> (conversations, problems)``.
- ``write_dataset(conversations, path, format, columns=None, tags=None) -> Path`` (atomic JSONL).
- ``validate(conversation, text=False) -> str | None``: the reason a conversation is malformed.

Plain text becomes a Conversation with one assistant turn and ``meta["text"] = True`` (CPT only).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from finetune.data.file_records import iter_records
from finetune.data.problems import Problem, raise_if_strict
from finetune.data.types import ROLES, Conversation, Turn
from vertical.core.errors import DataFormatError
from vertical.core.fsutil import atomic_write_text
from vertical.core.spec import DomainSpec

FORMATS = ("alpaca", "sharegpt", "openai", "text")

DEFAULT_COLUMNS: dict[str, dict[str, str]] = {
    "alpaca": {
        "prompt": "instruction",
        "query": "input",
        "response": "output",
        "system": "system",
        "history": "history",
    },
    "sharegpt": {"messages": "conversations", "system": "system"},
    "openai": {"messages": "messages"},
    "text": {"text": "text"},
}
DEFAULT_TAGS = {
    "role_tag": "from",
    "content_tag": "value",
    "user_tag": "human",
    "assistant_tag": "gpt",
    "system_tag": "system",
    "observation_tag": "observation",
    "function_tag": "function_call",
}


class BadRecord(ValueError):
    """A record that cannot become a Conversation; ``reason`` is short and countable."""

    def __init__(self, reason: str, detail: str = "") -> None:
        super().__init__(reason)
        self.reason, self.detail = reason, detail


def _columns(fmt: str, columns: dict[str, str] | None) -> dict[str, str]:
    merged = dict(DEFAULT_COLUMNS[fmt])
    if fmt == "text" and columns and "prompt" in columns:  # LLaMA-Factory pretraining style
        merged["text"] = columns["prompt"]
    merged.update(columns or {})
    return merged


def _tags(tags: dict[str, str] | None) -> dict[str, str]:
    return {**DEFAULT_TAGS, **(tags or {})}


def _text(value: Any, what: str) -> str:
    if value is None:
        return ""
    if not isinstance(value, str):
        raise BadRecord("content is not text", f"{what} is {type(value).__name__}")
    return value


# ---------------------------------------------------------------- parsers: record → Conversation


def parse_alpaca(record: dict, columns: dict[str, str]) -> list[Turn]:
    turns: list[Turn] = []
    system = _text(record.get(columns["system"]), "system")
    if system.strip():
        turns.append(Turn("system", system))
    history = record.get(columns["history"]) or []
    if not isinstance(history, list):
        raise BadRecord("bad history", "history must be a list of [prompt, response] pairs")
    for pair in history:
        if not (isinstance(pair, (list, tuple)) and len(pair) == 2):
            raise BadRecord("bad history", "each history item must be [prompt, response]")
        turns += [Turn("user", _text(pair[0], "history prompt")), Turn("assistant", _text(pair[1], "history response"))]
    if columns["prompt"] not in record and columns["response"] not in record:
        raise BadRecord("missing fields", f"needs {columns['prompt']!r} and {columns['response']!r}")
    prompt = _text(record.get(columns["prompt"]), columns["prompt"])
    query = _text(record.get(columns["query"]), columns["query"])
    user = "\n".join(p for p in (prompt, query) if p.strip())
    turns += [Turn("user", user), Turn("assistant", _text(record.get(columns["response"]), columns["response"]))]
    return turns


def _sharegpt_role(tag: str, tags: dict[str, str]) -> tuple[str, bool]:
    table = {
        tags["user_tag"]: ("user", False),
        tags["assistant_tag"]: ("assistant", False),
        tags["system_tag"]: ("system", False),
        tags["observation_tag"]: ("tool", False),
        tags["function_tag"]: ("assistant", True),
    }
    if tag in table:
        return table[tag]
    if tag in ROLES:  # files that use plain role names despite the tags
        return tag, False
    raise BadRecord("unknown role", f"{tag!r} is none of {sorted(table)}")


def parse_sharegpt(record: dict, columns: dict[str, str], tags: dict[str, str]) -> list[Turn]:
    messages = record.get(columns["messages"])
    if not isinstance(messages, list):
        raise BadRecord("missing messages", f"needs a list under {columns['messages']!r}")
    turns: list[Turn] = []
    system = _text(record.get(columns["system"]), "system")
    if system.strip():
        turns.append(Turn("system", system))
    for msg in messages:
        if not isinstance(msg, dict) or tags["role_tag"] not in msg:
            raise BadRecord("missing role", f"each turn needs {tags['role_tag']!r}")
        role, is_call = _sharegpt_role(msg[tags["role_tag"]], tags)
        turns.append(Turn(role, _text(msg.get(tags["content_tag"]), tags["content_tag"]), tool_call=is_call))
    return turns


def parse_openai(record: dict, columns: dict[str, str]) -> list[Turn]:
    messages = record.get(columns["messages"])
    if not isinstance(messages, list):
        raise BadRecord("missing messages", f"needs a list under {columns['messages']!r}")
    turns: list[Turn] = []
    for msg in messages:
        if not isinstance(msg, dict) or "role" not in msg:
            raise BadRecord("missing role", "each message needs 'role'")
        role = "tool" if msg["role"] == "function" else msg["role"]
        if role not in ROLES:
            raise BadRecord("unknown role", repr(msg["role"]))
        if role == "assistant" and msg.get("tool_calls"):
            turns.append(Turn("assistant", json.dumps(msg["tool_calls"], ensure_ascii=False), tool_call=True))
        else:
            turns.append(Turn(role, _text(msg.get("content"), "content")))
    return turns


def parse_record(record: Any, fmt: str, columns: dict[str, str], tags: dict[str, str]) -> tuple[list[Turn], bool]:
    """Turns of one record, and whether it is plain text (CPT) rather than a dialogue."""
    if not isinstance(record, dict):
        raise BadRecord("not an object", f"got {type(record).__name__}")
    if fmt == "text":
        if columns["text"] not in record:
            raise BadRecord("missing fields", f"needs {columns['text']!r}")
        return [Turn("assistant", _text(record[columns["text"]], columns["text"]))], True
    if fmt == "alpaca":
        return parse_alpaca(record, columns), False
    if fmt == "sharegpt":
        return parse_sharegpt(record, columns, tags), False
    return parse_openai(record, columns), False


# ---------------------------------------------------------------- validation


def validate(conversation: Conversation, text: bool = False) -> str | None:
    """Why a conversation cannot be trained on, or None. Dialogues: optional system first, then
    user → assistant (→ tool → assistant)* … ending on an assistant turn."""
    turns = conversation.turns
    if not turns:
        return "no turns"
    if any(not t.content.strip() for t in turns):
        return "empty content"
    if text:
        return None
    body = turns[1:] if turns[0].role == "system" else turns
    if any(t.role == "system" for t in body):
        return "system turn not first"
    if not body or body[0].role != "user":
        return "does not start with a user turn"
    allowed = {"user": {"assistant"}, "assistant": {"user", "tool"}, "tool": {"assistant", "tool"}}
    for prev, cur in zip(body, body[1:]):
        if cur.role not in allowed[prev.role]:
            return "non-alternating turns"
    if body[-1].role != "assistant":
        return "no assistant answer at the end"
    return None


# ---------------------------------------------------------------- reading


def read_file(
    path: Path, fmt: str, columns: dict[str, str] | None = None, tags: dict[str, str] | None = None, name: str = ""
) -> tuple[list[Conversation], list[Problem]]:
    """All valid conversations in ``path`` and a Problem for every record skipped."""
    if fmt not in FORMATS:
        raise DataFormatError(f"unknown data format {fmt!r}", hint=f"use one of {', '.join(FORMATS)}")
    cols, tgs = _columns(fmt, columns), _tags(tags)
    name = name or Path(path).stem
    conversations: list[Conversation] = []
    problems: list[Problem] = []
    for item in iter_records(Path(path)):
        if isinstance(item, Problem):
            problems.append(item)
            continue
        source, record = item
        try:
            turns, is_text = parse_record(record, fmt, cols, tgs)
        except BadRecord as exc:
            problems.append(Problem(source, exc.reason, exc.detail))
            continue
        rid = record.get("id") if isinstance(record.get("id"), (str, int)) else None
        conv = Conversation(
            turns,
            id=str(rid) if rid is not None else f"{name}:{source.rsplit(':', 1)[-1]}",
            source=source,
            meta={"dataset": name, **({"text": True} if is_text else {})},
        )
        reason = validate(conv, text=is_text)
        if reason:
            problems.append(Problem(source, reason))
            continue
        conversations.append(conv)
    return conversations, problems


def read_dataset(spec: DomainSpec, dataset_spec: DomainSpec) -> tuple[list[Conversation], list[Problem]]:
    """Read one ``spec.data.datasets`` entry (path relative to the domain folder).

    Raises DataFormatError when the file is missing, or when ``spec.data.strict`` and any record is
    malformed (the message lists the first problems with file:line)."""
    convs, problems = read_file(
        spec.path(dataset_spec.file), dataset_spec.format, dataset_spec.columns, dataset_spec.tags, dataset_spec.name
    )
    for conv in convs:
        conv.meta["split"] = dataset_spec.split
    raise_if_strict(problems, spec.data.strict, f"dataset {dataset_spec.name!r}")
    return convs, problems


# ---------------------------------------------------------------- writing


def to_record(
    conv: Conversation, fmt: str, columns: dict[str, str] | None = None, tags: dict[str, str] | None = None
) -> dict:
    cols, tgs = _columns(fmt, columns), _tags(tags)
    head = {"id": conv.id} if conv.id else {}
    if fmt == "text":
        return {**head, cols["text"]: "\n\n".join(t.content for t in conv.turns)}
    if fmt == "openai":
        msgs = []
        for t in conv.turns:
            if t.tool_call:
                msgs.append({"role": "assistant", "content": None, "tool_calls": _json_or_text(t.content)})
            else:
                msgs.append({"role": t.role, "content": t.content})
        return {**head, cols["messages"]: msgs}
    if fmt == "sharegpt":
        role_tag = {
            "user": tgs["user_tag"],
            "assistant": tgs["assistant_tag"],
            "system": tgs["system_tag"],
            "tool": tgs["observation_tag"],
        }
        return {
            **head,
            cols["messages"]: [
                {
                    tgs["role_tag"]: tgs["function_tag"] if t.tool_call else role_tag[t.role],
                    tgs["content_tag"]: t.content,
                }
                for t in conv.turns
            ],
        }
    return {**head, **_alpaca_record(conv, cols)}


def _json_or_text(content: str) -> Any:
    try:
        return json.loads(content)
    except json.JSONDecodeError:
        return content


def _alpaca_record(conv: Conversation, cols: dict[str, str]) -> dict:
    body = [t for t in conv.turns if t.role != "system"]
    if any(t.role == "tool" or t.tool_call for t in body) or len(body) % 2:
        raise DataFormatError(
            f"{conv.source or conv.id}: alpaca cannot hold tool turns or unpaired turns",
            hint="convert to sharegpt or openai instead",
        )
    pairs = [[body[i].content, body[i + 1].content] for i in range(0, len(body), 2)]
    record: dict[str, Any] = {cols["prompt"]: pairs[-1][0], cols["query"]: "", cols["response"]: pairs[-1][1]}
    if conv.system:
        record[cols["system"]] = conv.system
    if len(pairs) > 1:
        record[cols["history"]] = pairs[:-1]
    return record


def write_dataset(
    conversations: list[Conversation],
    path: Path,
    fmt: str,
    columns: dict[str, str] | None = None,
    tags: dict[str, str] | None = None,
) -> Path:
    """Write conversations as JSON Lines in ``fmt`` (atomically: readers never see half a file)."""
    if fmt not in FORMATS:
        raise DataFormatError(f"unknown data format {fmt!r}", hint=f"use one of {', '.join(FORMATS)}")
    lines = [json.dumps(to_record(c, fmt, columns, tags), ensure_ascii=False) for c in conversations]
    return atomic_write_text(path, "\n".join(lines) + ("\n" if lines else ""))
