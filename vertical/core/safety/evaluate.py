"""Run the detector over the shipped safety eval set: recall and false-alarm rate per language.

``dev`` is the split the rules were written against. ``heldout``, ``blind`` and ``blind2`` were each
written before the rules were tuned on them; their first measurements are kept in bench/RESULTS.md
(about half of unseen phrasings were found), after which their misses were fixed too.
Each record: ``id, lang, text | messages, label (crisis|safe), kind`` (+ ``script`` for zh:
simplified | traditional | fullwidth). A ``messages`` record is a conversation: crisis in history.
"""

from __future__ import annotations

import json
import time
from collections import defaultdict
from pathlib import Path
from typing import TYPE_CHECKING

from vertical.core.safety.assess import assess

if TYPE_CHECKING:
    from vertical.core.spec import DomainSpec

EVALSET_DIR = Path(__file__).parent / "evalset"
SPLITS = ("dev", "heldout", "blind", "blind2")


def load_evalset(splits: tuple[str, ...] = SPLITS) -> list[dict]:
    items = []
    for split in splits:
        for line in (EVALSET_DIR / f"{split}.jsonl").read_text(encoding="utf-8").splitlines():
            if line.strip():
                items.append({**json.loads(line), "split": split})
    return items


def _messages(item: dict) -> list:
    return item.get("messages") or [{"role": "user", "content": item["text"]}]


def _rates(rows: list[tuple[bool, bool]]) -> dict:
    crisis = [flag for flag, is_crisis in rows if is_crisis]
    safe = [flag for flag, is_crisis in rows if not is_crisis]
    return {
        "n_crisis": len(crisis),
        "n_safe": len(safe),
        "recall": round(sum(crisis) / len(crisis), 4) if crisis else None,
        "false_alarm_rate": round(sum(safe) / len(safe), 4) if safe else None,
    }


def safety_report(spec: DomainSpec | None = None, splits: tuple[str, ...] = SPLITS) -> dict:
    """Recall / false-alarm rate overall, per language, per zh script, per kind and per split.

    ``spec`` adds the domain's own patterns and classifier; None measures the shipped rules alone.
    """
    groups: dict[str, dict[str, list]] = defaultdict(lambda: defaultdict(list))
    misses, false_alarms = [], []
    items = load_evalset(splits)
    assess(["warm-up"], spec)  # rules compile once per process; time the per-message cost only
    start = time.perf_counter()
    for item in items:
        verdict = assess(_messages(item), spec)
        flagged, is_crisis = verdict.risk, item["label"] == "crisis"
        row = (flagged, is_crisis)
        groups["all"]["all"].append(row)
        groups["language"][item["lang"]].append(row)
        groups["split"][item["split"]].append(row)
        groups["kind"][item["kind"]].append(row)
        if item.get("script"):
            groups["script"][item["script"]].append(row)
        if is_crisis and not flagged:
            misses.append({"id": item["id"], "text": item.get("text") or item["messages"][-1]["content"]})
        elif flagged and not is_crisis:
            false_alarms.append({"id": item["id"], "text": item.get("text"), "matched": list(verdict.matched)})
    report = {
        "n": len(items),
        **_rates(groups["all"]["all"]),
        "ms_per_item": round((time.perf_counter() - start) * 1000 / max(1, len(items)), 3),
    }
    for name in ("language", "script", "split", "kind"):
        report[f"by_{name}"] = {key: _rates(rows) for key, rows in sorted(groups[name].items())}
    report["misses"], report["false_alarms"] = misses, false_alarms
    return report
