"""From a link's text to the Answer: citations, grounding, the domain's grounding policy, safety resources.

``serving.min_grounding`` / ``serving.below_grounding`` (domain.yaml) decide what happens to an
answer given from sources whose grounding score (share of its content words found in the cited
sources) is below the minimum: ``flag`` keeps it and marks it, ``extractive`` replaces it with the
best source sentences (quoted, cited), ``refuse`` replaces it with a short localized refusal and
keeps the sources listed. Answers without sources, and answers with fewer than ``MIN_JUDGED_WORDS``
content words (a score over two words is noise, e.g. ``max_tokens: 3``), are not judged (verdict
"unchecked"). Quoted source sentences honour ``max_new_tokens`` like a model answer; the fixed texts
(refusal, safety response) are never cut.
"""

from __future__ import annotations

from typing import Any

from serving.answer.links import MAX_SOURCES, Link, LinkCall, describe_call, source_dict
from serving.answer.prepare import Prepared
from serving.answer.types import Answer, no_grounding
from serving.budget import wrapper_language
from serving.citations import attribute_citations, cited_numbers, content_words, extractive_answer, grounding
from serving.engines.base import Completion, first_stop

MIN_JUDGED_WORDS = 5
REFUSALS = {
    "en": "I could not find enough support in this assistant's sources to answer that reliably. "
    "The passages listed with this answer are the closest ones I found.",
    "zh": "抱歉，我在资料中没有找到足够可靠的依据来回答这个问题。随回答列出的是最相关的资料。",
}


def holds_tokens(state: Prepared, link: Link) -> bool:
    """Whether a stream must hold this link's tokens back until grounding is known."""
    return link.with_sources and not link.extractive and state.runtime.spec.serving.below_grounding != "flag"


def _check(text: str, hits: list[Any], minimum: float) -> tuple[str, dict[str, Any], dict[str, list[int]], list[str]]:
    """(text with attributed citations, grounding dict, citations dict, trace lines)."""
    if not hits:
        return text, no_grounding(), {"written": [], "attributed": []}, []
    written, _ = cited_numbers(text, len(hits))
    text, attributed = attribute_citations(text, [h.text for h in hits])
    lines = []
    if attributed:
        lines.append(f"citations: model wrote none; attributed {attributed} by word overlap per sentence")
    cited, bad = cited_numbers(text, len(hits))
    score, line = grounding(text, [h.text for h in hits], cited, minimum)
    lines.append(line)
    if bad:
        lines.append(f"citations: {bad} do not match any source")
    verdict = "ok" if score >= minimum else "low"
    if len(content_words(text)) < MIN_JUDGED_WORDS:
        verdict = "unchecked"
        lines.append(f"grounding policy: fewer than {MIN_JUDGED_WORDS} content words; not judged")
    return (
        text,
        {"score": round(score, 4), "verdict": verdict, "action": "none", "min": minimum},
        {"written": written, "attributed": attributed},
        lines,
    )


def finish_model(state: Prepared, link: Link, call: LinkCall, text: str, completion: Completion | None) -> Answer:
    """The Answer for a model link's full text (the grounding policy applied; resources not yet added)."""
    serving = state.runtime.spec.serving
    trace = list(state.trace) + call.notes + [describe_call(state, link, call)]
    text, ground, citations, lines = _check(text.strip(), call.hits, serving.min_grounding)
    trace += lines
    usage = {
        "prompt_tokens": completion.prompt_tokens if completion else call.budget.prompt_tokens,
        "completion_tokens": completion.completion_tokens if completion else 0,
    }
    answer = Answer(
        text,
        [source_dict(i, h) for i, h in enumerate(call.hits, 1)],
        trace,
        link.path,
        usage,
        completion.finish_reason if completion else "stop",
        ground,
        citations,
        state.safety.to_dict(),
    )
    if ground["verdict"] == "low":
        _apply_policy(state, answer, call.hits)
    return answer


def _apply_policy(state: Prepared, answer: Answer, hits: list[Any]) -> None:
    serving = state.runtime.spec.serving
    why = f"grounding policy: {answer.grounding['score']:.2f} < min_grounding {serving.min_grounding:.2f}"
    if serving.below_grounding == "flag":
        answer.grounding["action"] = "flagged"
        answer.trace.append(f"{why}: answer kept and flagged (serving.below_grounding: flag)")
        return
    if serving.below_grounding == "extractive":
        quoted = Answer(extractive_answer(state.question, hits))
        finish = within_limit(state, quoted)
        if quoted.answer:
            answer.grounding["action"] = "extractive"
            answer.trace.append(f"{why}: replaced by the best source sentences (serving.below_grounding: extractive)")
            answer.answer, answer.path, answer.finish_reason = quoted.answer, "extractive", finish
            answer.citations = {"written": cited_numbers(answer.answer, len(hits))[0], "attributed": []}
            return
    answer.grounding["action"] = "refused"
    answer.trace.append(
        f"{why}: refused (serving.below_grounding: {serving.below_grounding}"
        + (", no source sentence to quote" if serving.below_grounding == "extractive" else "")
        + ")"
    )
    answer.answer = REFUSALS.get(wrapper_language(state.question), REFUSALS["en"])  # fixed text: never cut
    answer.finish_reason = "stop"
    answer.citations = {"written": [], "attributed": []}


def within_limit(state: Prepared, answer: Answer) -> str:
    """Cut quoted text at the client's stop sequences and to max_new_tokens, like a model answer; its finish_reason."""
    stops = tuple(s for s in state.request.stop if s)
    cut = first_stop(answer.answer, stops) if stops else None
    if cut is not None and answer.answer[:cut].strip():
        answer.answer = answer.answer[:cut].strip()
        return "stop"
    if cut is not None:  # a quote is the last resort: an empty one would answer nothing at all
        answer.trace.append("stop sequence at the very start of the quoted text: not applied to it")
    tokenizer = state.runtime.tokenizer
    ids = tokenizer(answer.answer, add_special_tokens=False)["input_ids"]
    if len(ids) <= state.max_new_tokens:
        return "stop"
    answer.answer = tokenizer.decode(ids[: state.max_new_tokens], skip_special_tokens=True).strip()
    return "length"


def finish_extractive(state: Prepared) -> Answer | None:
    """The no-model answer: best sentences of the top chunks, cited; None when there is nothing to quote."""
    hits = state.hits[:MAX_SOURCES]
    text = extractive_answer(state.question, hits)
    if not text:
        return None
    trace = list(state.trace) + ["answered by: extractive (top retrieved sentences, no model)"]
    if not state.confident:
        trace.append("warning: retrieval confidence is low; these passages may not answer the question")
    _, ground, _, lines = _check(text, hits, state.runtime.spec.serving.min_grounding)
    answer = Answer(
        text,
        [source_dict(i, h) for i, h in enumerate(hits, 1)],
        trace + lines,
        "extractive",
        {"prompt_tokens": 0, "completion_tokens": 0},
        "stop",
        ground,
        {"written": [], "attributed": []},
        state.safety.to_dict(),
    )
    answer.finish_reason = within_limit(state, answer)
    answer.citations["written"] = cited_numbers(answer.answer, len(hits))[0]
    return answer


def safety_answer(state: Prepared) -> Answer:
    """The fixed, localized crisis response: written by us, never by the model."""
    from vertical.core.safety import safety_response

    text = safety_response(state.runtime.spec, state.safety.language)
    return Answer(
        text,
        [],
        list(state.trace),
        "safety",
        {"prompt_tokens": 0, "completion_tokens": 0},
        "stop",
        no_grounding(),
        {"written": [], "attributed": []},
        state.safety.to_dict(),
    )


def add_resources(state: Prepared, answer: Answer) -> str:
    """Risk earlier in the conversation (or a worried third party): append the localized crisis
    resources to the answer; returns the appended text ("" when none is due)."""
    if state.safety.action != "answer_with_resources":
        return ""
    from vertical.core.safety import resources_note

    note = resources_note(state.runtime.spec, state.safety.language).strip()
    if not note:
        return ""
    suffix = "\n\n" + note
    answer.answer += suffix
    answer.trace.append(
        "safety: crisis resources appended to the answer (" + state.safety.reason.removeprefix("safety: ") + ")"
    )
    return suffix
