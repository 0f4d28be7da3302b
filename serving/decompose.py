"""Split a complex question into sub-questions; never lose the original question.

The model is asked for a numbered list. Its output is parsed strictly: every non-empty line must
be ``1. ...`` / ``1) ...``, with 2-4 items. Anything else (prose, one item, a refusal) is a parse
failure and the whole question is used as the only sub-question. On success the original
question is kept as well, so retrieval for it always runs.
"""

from __future__ import annotations

import re

from serving.engines.base import Engine, GenerationParams

_ITEM = re.compile(r"^\s*(\d+)[.)]\s+(\S.*?)\s*$")
PROMPT = (
    "Split the question into 2 to 4 short, self-contained sub-questions. "
    "Reply with a numbered list only, one per line.\n\nQuestion: {question}"
)


def parse_subquestions(text: str, min_items: int = 2, max_items: int = 4) -> list[str] | None:
    """Numbered lines → sub-questions, or None when the output is not exactly such a list."""
    lines = [ln for ln in text.strip().splitlines() if ln.strip()]
    items = []
    for expected, line in enumerate(lines, 1):
        m = _ITEM.match(line)
        if not m or int(m.group(1)) != expected:
            return None
        items.append(m.group(2))
    return items if min_items <= len(items) <= max_items else None


def decompose(engine: Engine, question: str, adapter: str | None = None) -> tuple[list[str], str]:
    """(questions to retrieve for, trace line). The original question always comes first."""
    reply = engine.generate(
        [{"role": "user", "content": PROMPT.format(question=question)}],
        GenerationParams(max_new_tokens=96, adapter=adapter),
    )
    subs = parse_subquestions(reply.text)
    if subs is None:
        return [question], "decompose: model output was not a numbered list; using the whole question"
    unique = [s for s in subs if s.strip().lower() != question.strip().lower()]
    return [question, *unique], f"decompose: {len(unique)} sub-questions: " + " | ".join(unique)
