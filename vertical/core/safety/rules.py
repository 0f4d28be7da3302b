"""Curated safety rules: one YAML file per language in ``rules/``, compiled once.

A rule file holds ``rules`` (crisis phrasings, each with an id, a category and a kind), ``safe``
patterns (hyperbole and idioms such as 累死了 / "this deadline is killing me"; a crisis match that
overlaps a safe match is dropped), a ``negation`` cue and a ``third_person`` cue. Both cues are
matched against the END of the clause that precedes a rule match: "I would never | kill myself",
"我不 | 自杀" is a denial; "my friend wants to | kill herself" is someone else's risk (a concern).

Patterns run on :func:`normalize_for_matching` output (NFKC, case-folded, simplified Chinese, a
space wherever CJK meets Latin). Python's ``\\b`` treats Han characters as word characters and so
never fires between 想 and "kms"; the inserted space makes ``\\b`` in Latin rules safe next to CJK.
Chinese rules never use ``\\b``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

import yaml

RULES_DIR = Path(__file__).parent / "rules"
CATEGORIES = ("self_harm", "danger_from_others", "harm_to_others", "concern")
# Clause ends: sentence punctuation (Latin and CJK) and "but"-like turns that start a new thought.
CLAUSE_BREAK = re.compile(
    r"[.!?;,:\n。！？；，、…]|\b(?:but|though|although|however|aber|pero|mais|sino)\b"
    r"|但是|可是|不过|但|只是|然而"
)
PREFIX_CHARS = 60  # a negation/third-person cue must sit close to the match
# A match whose core starts with the speaker ("i love him and i'm sorry") is about the speaker,
# whoever the clause before it names ("i texted my brother that | i love him and i'm sorry").
FIRST_PERSON = re.compile(r"(?:i|i'm|im|i've|ive|i'd|i'll|my|me|myself|ich|mich|je|j'|yo|我|俺)(?![a-z])")
# A danger-from-others match with no "me" in it ("being hit by her boyfriend") may be about someone else.
MENTIONS_SPEAKER = re.compile(r"\b(?:me|my|myself|i|mich|mir|moi|me|mí|mi)\b|我")
SCRIPTS = {"cjk": re.compile("[\u3040-\u30ff\u3400-\u9fff\uf900-\ufaff\uac00-\ud7af]"), "latin": re.compile("[a-z]")}
CJK_LANGUAGES = ("zh", "ja", "ko")


def compile_pattern(pattern: str, flags: int = 0) -> re.Pattern[str]:
    """Rules use plain ``\\b``: normalisation puts a space where CJK meets Latin, so it fires there too."""
    return re.compile(pattern, flags)


@dataclass(frozen=True)
class Rule:
    id: str
    category: str
    kind: str
    regex: re.Pattern[str]
    language: str
    negatable: bool = True


@dataclass(frozen=True)
class Language:
    code: str
    rules: tuple[Rule, ...]
    safe: tuple[Rule, ...]
    negation: re.Pattern[str] | None
    third_person: re.Pattern[str] | None
    texts: dict = field(default_factory=dict)  # response, note, fallbacks (placeholder → phrase)
    script: re.Pattern[str] | None = None  # every rule needs a character of this script; None: always run


@dataclass(frozen=True)
class Hit:
    rule_id: str
    category: str
    kind: str
    language: str
    span: tuple[int, int]


@dataclass
class MessageMatch:
    """What the rules found in one message (already normalised)."""

    hits: list[Hit] = field(default_factory=list)  # the user's own risk
    concerns: list[Hit] = field(default_factory=list)  # someone else's risk, told by the user
    dropped: list[str] = field(default_factory=list)  # "rule-id: negated|safe:<id>" for the trace

    @property
    def risk(self) -> bool:
        return bool(self.hits)


def _cue(pattern: str | None) -> re.Pattern[str] | None:
    return compile_pattern(f"(?:{pattern})\\s*$") if pattern else None


def _expand(pattern: str, macros: dict[str, str]) -> str:
    return re.sub(r"%(\w+)%", lambda m: f"(?:{macros[m.group(1)]})", pattern)


def _rules(
    entries: list[dict], lang: str, macros: dict[str, str], default_category: str | None = None
) -> tuple[Rule, ...]:
    out = []
    for e in entries or []:
        category = e.get("category", default_category)
        if category not in CATEGORIES and default_category is None:
            raise ValueError(f"rule {e.get('id')}: unknown category {category!r}")
        regex = compile_pattern(_expand(e["pattern"], macros))
        out.append(Rule(e["id"], category or "safe", e.get("kind", ""), regex, lang, e.get("negatable", True)))
    return tuple(out)


def _han_to_matching_form(data: dict) -> dict:
    """CJK rule files: convert their Han characters the way messages are converted (殺 → 杀, 貯 → 贮),
    so a Japanese or traditional-Chinese author writes patterns in their own script. Han only: regex
    syntax is ASCII and stays untouched (case-folding a pattern would turn \\S into \\s)."""
    from vertical.core.safety.normalize import han_to_simplified

    def convert(value):
        if isinstance(value, str):
            return han_to_simplified(value)
        if isinstance(value, list):
            return [convert(v) for v in value]
        if isinstance(value, dict):
            return {
                k: (v if k in ("response", "note", "fallbacks", "id", "kind", "category") else convert(v))
                for k, v in value.items()
            }
        return value

    return convert(data)


def parse_language(data: dict, code: str) -> Language:
    if code in CJK_LANGUAGES:
        data = _han_to_matching_form(data)
    macros = data.get("macros") or {}
    cue = {k: _expand(data[k], macros) if data.get(k) else None for k in ("negation", "third_person")}
    return Language(
        code,
        _rules(data.get("rules") or [], code, macros),
        _rules(data.get("safe") or [], code, macros, "safe"),
        _cue(cue["negation"]),
        _cue(cue["third_person"]),
        {k: data[k] for k in ("response", "note", "fallbacks") if k in data},
        SCRIPTS["cjk" if code in CJK_LANGUAGES else "latin"],
    )


@lru_cache(maxsize=1)
def shipped_languages() -> dict[str, Language]:
    """The framework's rule files, compiled once per process."""
    return {
        p.stem: parse_language(yaml.safe_load(p.read_text(encoding="utf-8")), p.stem)
        for p in sorted(RULES_DIR.glob("*.yaml"))
    }


def extra_language(code: str, patterns: tuple[str, ...], base: Language | None) -> Language:
    """Domain patterns (``safety.patterns.<lang>``): self-harm rules that share the language's cues."""
    rules = tuple(
        Rule(f"domain.{code}.{i}", "self_harm", "domain", compile_pattern(p, re.IGNORECASE), code)
        for i, p in enumerate(patterns)
    )
    return Language(code, rules, (), base.negation if base else None, base.third_person if base else None)


def _clause_prefix(text: str, start: int) -> str:
    window = text[max(0, start - PREFIX_CHARS) : start]
    breaks = list(CLAUSE_BREAK.finditer(window))
    return window[breaks[-1].end() :] if breaks else window


def match_message(text: str, languages: list[Language]) -> MessageMatch:
    """Run every language's rules over one normalised message (people mix languages; rules are disjoint)."""
    result = MessageMatch()
    # a language's rules cannot match a text without its script (exact, not a language guess): skip them
    languages = [lang for lang in languages if lang.script is None or lang.script.search(text)]
    safe_spans = [(m.span(), r.id) for lang in languages for r in lang.safe for m in r.regex.finditer(text)]
    for lang in languages:
        for rule in lang.rules:
            for m in rule.regex.finditer(text):
                # A rule may mark its core with (?P<core>...): "i'm not | suicidal" negates the core only.
                start, end = m.span("core") if "core" in rule.regex.groupindex and m.group("core") else m.span()
                hit = Hit(rule.id, rule.category, rule.kind, lang.code, (start, end))
                covering = next((sid for (s, e), sid in safe_spans if s < end and start < e), None)
                if covering and rule.category != "concern":
                    result.dropped.append(f"{rule.id}: safe:{covering}")
                    continue
                prefix = _clause_prefix(text, start)
                # the cue may sit before the core ("i'm not | suicidal") or before the whole match ("我不 | 想今晚跳楼")
                if (
                    rule.negatable
                    and lang.negation
                    and (lang.negation.search(prefix) or lang.negation.search(_clause_prefix(text, m.start())))
                ):
                    result.dropped.append(f"{rule.id}: negated")
                    continue
                could_be_other = rule.category in ("self_harm", "harm_to_others") or (
                    rule.category == "danger_from_others" and not MENTIONS_SPEAKER.search(text, start, end)
                )
                about_someone_else = (
                    could_be_other
                    and lang.third_person is not None
                    and not FIRST_PERSON.match(text, start)
                    and lang.third_person.search(prefix) is not None
                )
                if rule.category == "concern" or about_someone_else:
                    result.concerns.append(Hit(rule.id, "concern", rule.kind, lang.code, (start, end)))
                    continue
                result.hits.append(hit)
    return result
