"""Whole-conversation safety assessment: ``assess(messages, spec) -> SafetyVerdict``.

Every USER message is checked (assistant turns are not: they quote the safety response). Risk
persists: once any user message showed crisis risk, the verdict keeps ``risk=True`` for the rest of
the conversation. The latest message decides the action: risk there → fixed response, no model
call; risk only earlier → answer with the resources added. Rules are authoritative; the optional
classifier can only add risk, never cancel a rule match (block beats allow).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import replace
from functools import lru_cache
from typing import TYPE_CHECKING, Any

from vertical.core.safety.normalize import normalize_for_matching
from vertical.core.safety.rules import Language, MessageMatch, extra_language, match_message, shipped_languages
from vertical.core.safety.verdict import Action, SafetyVerdict

if TYPE_CHECKING:
    from vertical.core.spec import DomainSpec

_HAN = re.compile(r"[\u3400-\u9fff\uf900-\ufaff]")
_KANA = re.compile(r"[\u3040-\u30ff]")


def message_language(text: str) -> str:
    """Language of a message, through the shared text module when it is there."""
    try:
        from vertical.core.text import detect_language
    except ImportError:  # pragma: no cover - the text module is written in parallel
        letters = [c for c in text if c.isalpha()]
        if _KANA.search(text):
            return "ja"
        if letters and sum(bool(_HAN.match(c)) for c in letters) / len(letters) > 0.3:
            return "zh"
        return "en"
    return detect_language(text)


def _content(message: Any) -> tuple[str, str]:
    """(role, text) for an OpenAI-style dict, an object with .role/.content, or a bare string (user)."""
    if isinstance(message, str):
        return "user", message
    role = message.get("role", "user") if isinstance(message, dict) else getattr(message, "role", "user")
    content = message.get("content", "") if isinstance(message, dict) else getattr(message, "content", "")
    if isinstance(content, list):  # OpenAI content parts
        content = " ".join(p.get("text", "") for p in content if isinstance(p, dict))
    return role or "user", content or ""


@lru_cache(maxsize=64)
def _languages_for(patterns: tuple[tuple[str, tuple[str, ...]], ...]) -> tuple[Language, ...]:
    shipped = shipped_languages()
    extra = [extra_language(code, pats, shipped.get(code)) for code, pats in patterns if pats]
    return tuple(shipped.values()) + tuple(extra)


def _domain_patterns(spec: DomainSpec | None) -> tuple[tuple[str, tuple[str, ...]], ...]:
    if spec is None:
        return ()
    safety = spec.safety
    pats = {code: tuple(p) for code, p in (getattr(safety, "patterns", None) or {}).items()}
    legacy = tuple(getattr(safety, "crisis_patterns", None) or ())
    if legacy:
        pats["any"] = pats.get("any", ()) + legacy
    return tuple(sorted(pats.items()))


def languages(spec: DomainSpec | None = None) -> tuple[Language, ...]:
    return _languages_for(_domain_patterns(spec))


@lru_cache(maxsize=4096)
def _match(text: str, patterns: tuple[tuple[str, tuple[str, ...]], ...]) -> MessageMatch:
    # cached: every request re-sends the whole history, so earlier turns are matched once (read-only result)
    return match_message(normalize_for_matching(text), list(_languages_for(patterns)))


CACHE_MAX_CHARS = 4_000  # the texts are the cache's keys: 4096 turns of ≤ 4k chars stay under ~64 MB


def _matched(text: str, patterns: tuple[tuple[str, tuple[str, ...]], ...]) -> MessageMatch:
    # a long turn is matched each time (ms) rather than held: 4096 cached 200k-char turns were GBs
    return _match(text, patterns) if len(text) <= CACHE_MAX_CHARS else _match.__wrapped__(text, patterns)


def check_text(text: str, spec: DomainSpec | None = None) -> MessageMatch:
    """Rules only, one message (the eval set and the benchmark use this)."""
    return _matched(text, _domain_patterns(spec))


def _enabled(spec: DomainSpec | None) -> bool:
    return spec is None or getattr(spec.safety, "enabled", True)


def assess(messages: Iterable[Any], spec: DomainSpec | None = None) -> SafetyVerdict:
    """Assess a conversation (OpenAI-style messages, oldest first; the last user message is "latest")."""
    verdict, errors = _assess(messages, spec)
    if errors:  # the rules decided alone; the trace must say the classifier did not run
        return replace(verdict, reason=f"{verdict.reason}; classifier unavailable ({errors[0]}), rules only")
    return verdict


def _assess(messages: Iterable[Any], spec: DomainSpec | None) -> tuple[SafetyVerdict, list[str]]:
    turns = [(i, *_content(m)) for i, m in enumerate(messages)]
    users = [(i, text) for i, role, text in turns if role == "user" and text.strip()]
    if not users:
        return SafetyVerdict(risk=False, reason="safety: no user message"), []
    latest_index, latest_text = users[-1]
    lang = message_language(latest_text)
    if not _enabled(spec):
        return SafetyVerdict(risk=False, language=lang, reason="safety: disabled in domain.yaml (safety.enabled)"), []
    patterns = _domain_patterns(spec)
    matches = {i: _matched(text, patterns) for i, text in users}
    from vertical.core.safety.classifier import classifier_for

    classifier = classifier_for(spec)
    flagged = classifier.flag([text for _, text in users]) if classifier else [None] * len(users)
    by_index = dict(zip([i for i, _ in users], flagged))
    dropped = tuple(d for m in matches.values() for d in m.dropped)
    errors = [f.error for f in flagged if f is not None and f.error]

    def risky(i: int) -> bool:
        flag = by_index[i]
        return matches[i].risk or bool(flag and flag.flagged)

    first_risky = next((i for i, _ in users if risky(i)), None)
    if first_risky is not None:
        trigger = latest_index if risky(latest_index) else first_risky
        lang = _response_language(lang, matches[latest_index])
        verdict = _risk_verdict(trigger, trigger == latest_index, matches[trigger], by_index[trigger], lang, dropped)
        return verdict, errors
    concern = matches[latest_index].concerns
    if concern:
        ids = tuple(h.rule_id for h in concern)
        return SafetyVerdict(
            risk=False,
            action="answer_with_resources",
            category="concern",
            kind=concern[0].kind,
            language=lang,
            message_index=latest_index,
            matched=ids,
            concern=True,
            source="rules",
            reason=f"safety: the user worries about someone else ({', '.join(ids)}); "
            "answer and add the crisis resources",
            dropped=dropped,
        ), errors
    latest_flag = by_index[latest_index]
    score = latest_flag.score if latest_flag else None
    note = f" (dropped: {'; '.join(dropped)})" if dropped else ""
    return SafetyVerdict(
        risk=False, language=lang, score=score, reason=f"safety: no risk found{note}", dropped=dropped
    ), errors


def _response_language(detected: str, match: MessageMatch) -> str:
    """Short messages fool language id ("Quero morrer" → it); a shipped rule that fired knows better."""
    shipped = shipped_languages()
    if detected in shipped or not match.hits:
        return detected
    return next((h.language for h in match.hits if h.language in shipped), detected)


def _risk_verdict(
    index: int, latest: bool, match: MessageMatch, flag: Any, lang: str, dropped: tuple[str, ...]
) -> SafetyVerdict:
    ids = [h.rule_id for h in match.hits]
    by_classifier = bool(flag and flag.flagged)
    if by_classifier:
        ids.append(f"classifier:{flag.label}")
    source = "+".join(s for s, on in (("rules", bool(match.hits)), ("classifier", by_classifier)) if on)
    first = match.hits[0] if match.hits else None
    category = first.category if first else "self_harm"
    kind = first.kind if first else "classifier"
    what = f"{category}/{kind} ({', '.join(ids)})"
    action: Action
    if latest:
        action, reason = (
            "fixed_response",
            f"safety: crisis risk in the latest message [{index}]: {what}; fixed response, no model call",
        )
    else:
        action, reason = (
            "answer_with_resources",
            f"safety: risk persisting from message {index}: {what}; answer with the crisis resources added",
        )
    return SafetyVerdict(
        risk=True,
        action=action,
        latest=latest,
        category=category,
        kind=kind,
        language=lang,
        message_index=index,
        matched=tuple(ids),
        source=source,
        score=flag.score if flag else None,
        reason=reason,
        dropped=dropped,
    )
