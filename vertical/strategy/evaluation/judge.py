"""Optional LLM-as-judge through any OpenAI-compatible endpoint (off unless configured).

The judge rates each answer against the reference from 1 (wrong or unhelpful) to 5 (correct,
complete, safe); the score is mapped to [0, 1]. Configure with ``--judge-url``/``--judge-model`` or
``VERTICAL_JUDGE_URL``/``VERTICAL_JUDGE_MODEL``.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass

PROMPT = (
    "Rate the ASSISTANT ANSWER against the REFERENCE for the QUESTION on a 1-5 scale: 5 = correct, complete and "
    "safe; 3 = partly correct; 1 = wrong, harmful or off-topic. Reply with the digit only.\n\n"
    "QUESTION: {question}\nREFERENCE: {reference}\nASSISTANT ANSWER: {answer}"
)


@dataclass
class JudgeConfig:
    base_url: str
    model: str

    @classmethod
    def from_env(cls, base_url: str | None = None, model: str | None = None) -> JudgeConfig | None:
        url = base_url or os.environ.get("VERTICAL_JUDGE_URL")
        name = model or os.environ.get("VERTICAL_JUDGE_MODEL")
        return cls(url, name) if url and name else None


def parse_rating(text: str) -> float | None:
    match = re.search(r"[1-5]", text)
    return (int(match.group()) - 1) / 4 if match else None


def judge_scores(
    config: JudgeConfig, questions: list[str], references: list[str], answers: list[str]
) -> list[float | None]:
    from vertical.core.generate import OpenAIChat

    chat = OpenAIChat(config.base_url, config.model)
    prompts = [
        [{"role": "user", "content": PROMPT.format(question=q, reference=r or "(none)", answer=a)}]
        for q, r, a in zip(questions, references, answers)
    ]
    return [parse_rating(t) for t in chat.generate(prompts, max_new_tokens=4)]
