"""Build history: one JSON line per finished build, read by the planner (how often the KB changes)."""

from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone
from typing import Any

from vertical.core.settings import get_settings

HISTORY_NAME = "history.jsonl"


def history_path(domain: str):
    return get_settings().domain_dir(domain) / HISTORY_NAME


def append_history(domain: str, record: dict[str, Any]) -> None:
    """Append one line; a torn last line is ignored by :func:`read_history`, so no temp file is needed."""
    path = history_path(domain)
    path.parent.mkdir(parents=True, exist_ok=True)
    record = {"at": datetime.now(timezone.utc).isoformat(timespec="seconds"), **record}
    with path.open("a", encoding="utf-8") as fh:
        fh.write(json.dumps(record, default=str) + "\n")


def read_history(domain: str) -> list[dict[str, Any]]:
    path = history_path(domain)
    if not path.is_file():
        return []
    rows = []
    for line in path.read_text(encoding="utf-8").splitlines():
        try:
            rows.append(json.loads(line))
        except json.JSONDecodeError:
            continue
    return rows


def kb_syncs_since(domain: str, days: int = 30) -> int:
    """Builds in the last ``days`` days whose ingest added, updated or deleted documents."""
    cutoff = datetime.now(timezone.utc) - timedelta(days=days)
    count = 0
    for row in read_history(domain):
        try:
            at = datetime.fromisoformat(row["at"])
        except (KeyError, ValueError):
            continue
        if at >= cutoff and row.get("kb_changed"):
            count += 1
    return count
