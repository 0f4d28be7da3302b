"""The data stats report: counts, dropped-by-reason, warnings, malformed records, token lengths.

Written atomically as ``<name>.json`` plus a token-length histogram ``<name>_lengths.png``.
"""

from __future__ import annotations

import io
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from finetune.data.problems import Problem, count_by_reason
from vertical.core.fsutil import atomic_write_bytes, atomic_write_json

KEEP_EXAMPLES = 20  # per reason, so a report stays readable on one screen


@dataclass
class DataReport:
    counts: Counter = field(default_factory=Counter)  # "read", "kept", "windows", "pii replaced", …
    dropped: Counter = field(default_factory=Counter)  # reason → records dropped by cleaning/filters
    warnings: Counter = field(default_factory=Counter)  # e.g. "turn truncated to fit max_length"
    problems: list[Problem] = field(default_factory=list)  # malformed records skipped while reading
    examples: dict[str, list[str]] = field(default_factory=dict)  # reason → first sources
    lengths: dict[str, list[int]] = field(default_factory=dict)  # series name → token lengths
    extra: dict[str, Any] = field(default_factory=dict)

    def count(self, key: str, n: int = 1) -> None:
        if n:
            self.counts[key] += n

    def drop(self, reason: str, conv: Any = None) -> None:
        self.dropped[reason] += 1
        self.example(reason, getattr(conv, "source", "") or getattr(conv, "id", ""))

    def warn(self, reason: str, where: str = "") -> None:
        self.warnings[reason] += 1
        self.example(reason, where)

    def add_problems(self, problems: list[Problem]) -> None:
        self.problems.extend(problems)

    def example(self, reason: str, where: str) -> None:
        seen = self.examples.setdefault(reason, [])
        if where and len(seen) < KEEP_EXAMPLES:
            seen.append(where)

    def to_dict(self) -> dict[str, Any]:
        return {
            "counts": dict(self.counts),
            "malformed": {
                "total": len(self.problems),
                "by_reason": count_by_reason(self.problems),
                "first": [p.to_dict() for p in self.problems[:KEEP_EXAMPLES]],
            },
            "dropped": dict(self.dropped.most_common()),
            "warnings": dict(self.warnings.most_common()),
            "examples": self.examples,
            "token_lengths": {name: _summary(vals) for name, vals in self.lengths.items()},
            **self.extra,
        }

    def write(self, directory: Path, name: str = "report") -> dict[str, Path]:
        """Write ``<name>.json`` and ``<name>_lengths.png`` atomically; returns their paths."""
        directory = Path(directory)
        paths = {"json": atomic_write_json(directory / f"{name}.json", self.to_dict())}
        if any(self.lengths.values()):
            paths["histogram"] = atomic_write_bytes(directory / f"{name}_lengths.png", self.histogram_png())
        return paths

    def histogram_png(self) -> bytes:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt

        fig, ax = plt.subplots(figsize=(7, 4))
        for name, vals in self.lengths.items():
            if vals:
                ax.hist(vals, bins=40, alpha=0.6, label=f"{name} (n={len(vals)})")
        ax.set_xlabel("tokens per example")
        ax.set_ylabel("examples")
        ax.legend()
        fig.tight_layout()
        buf = io.BytesIO()
        fig.savefig(buf, format="png", dpi=100)
        plt.close(fig)
        return buf.getvalue()


def _summary(vals: list[int]) -> dict[str, float]:
    if not vals:
        return {"n": 0}
    s = sorted(vals)
    pick = lambda q: s[min(len(s) - 1, int(q * len(s)))]  # noqa: E731
    return {
        "n": len(s),
        "min": s[0],
        "p50": pick(0.5),
        "p90": pick(0.9),
        "max": s[-1],
        "mean": round(sum(s) / len(s), 1),
        "total": sum(s),
    }
