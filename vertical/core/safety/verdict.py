"""The result of a safety assessment, shared by the answer policy, the evaluation and the UI."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Literal

Action = Literal["fixed_response", "answer_with_resources", "answer"]


@dataclass(frozen=True)
class SafetyVerdict:
    """What to do with a conversation.

    - ``action == "fixed_response"``: the LATEST user message shows risk. Reply with
      ``safety_response(spec, verdict.language)`` and do not call the model.
    - ``action == "answer_with_resources"``: risk earlier in the conversation (it persists) or the
      user worries about someone else (``concern``). Answer, and add ``resources_note(spec, lang)``.
    - ``action == "answer"``: nothing found.
    """

    risk: bool  # the user's own crisis risk, anywhere in the conversation
    action: Action = "answer"
    latest: bool = False  # the latest user message itself shows risk
    category: str | None = None  # self_harm | danger_from_others | harm_to_others | concern
    kind: str | None = None  # direct, means, goodbye, ... (the rule's kind), or "classifier"
    language: str = "en"  # language of the latest user message: pick the response with it
    message_index: int | None = None  # index in `messages` of the message that showed the risk
    matched: tuple[str, ...] = ()  # rule ids (and "classifier:<label>")
    concern: bool = False  # a third party's risk told by the user (not the user's own crisis)
    source: str = ""  # rules | classifier | rules+classifier
    score: float | None = None  # classifier score, when one ran
    reason: str = "safety: no risk found"
    dropped: tuple[str, ...] = field(default=(), compare=False)  # matches cancelled by negation/hyperbole

    def to_dict(self) -> dict:
        return asdict(self)
