"""Safety for people in crisis: one module for the answer policy, the evaluation and the UI.

    from vertical.core.safety import assess, safety_response, resources_note, unfilled_placeholders
    verdict = assess(messages, spec)          # whole conversation, OpenAI-style messages
    if verdict.action == "fixed_response":    # latest message shows risk: no model call
        text = safety_response(spec, verdict.language)
    elif verdict.action == "answer_with_resources":  # risk earlier (persists) or a worried third party
        answer += "\\n\\n" + resources_note(spec, verdict.language)
    trace.append(verdict.reason)

Rules ship per language in ``rules/*.yaml`` (en, zh incl. traditional/full-width, de, es, fr, ja, pt);
domains add patterns in ``safety.patterns.<lang>``. The eval set is ``evalset/*.jsonl``.
"""

from typing import TYPE_CHECKING

from vertical.core.safety.assess import assess, check_text, message_language
from vertical.core.safety.checks import placeholder_warning, require_filled_placeholders, safety_checks
from vertical.core.safety.evaluate import safety_report
from vertical.core.safety.responses import fill_placeholders, resources_note, safety_response, unfilled_placeholders
from vertical.core.safety.verdict import SafetyVerdict

if TYPE_CHECKING:
    from vertical.core.spec import DomainSpec


def warm_up(spec: "DomainSpec | None" = None) -> None:
    """Load and compile the rules, tables (and the domain's classifier) now, e.g. when a server starts."""
    assess(["warm-up"], spec)


__all__ = [
    "SafetyVerdict",
    "assess",
    "check_text",
    "fill_placeholders",
    "message_language",
    "placeholder_warning",
    "require_filled_placeholders",
    "resources_note",
    "safety_checks",
    "safety_report",
    "safety_response",
    "unfilled_placeholders",
    "warm_up",
]
