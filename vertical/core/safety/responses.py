"""Localised safety texts with their ``{{PLACEHOLDER}}`` resources filled.

``safety_response(spec, lang)`` picks, in order: the domain's response for that language
(``safety.responses.<lang>``, or the legacy ``safety.response`` when it is in that language), the
framework's response for that language (``rules/<lang>.yaml``), the domain's default response, the
framework's English one. ``{{NAME}}`` is filled from ``safety.resources``; a name the domain left
unfilled gets the shipped phrase for it ("your local emergency number"), so a raw ``{{…}}`` never
reaches a person. ``unfilled_placeholders(spec)`` lists what the domain still has to fill;
``doctor``/``build`` warn about it and ``serve`` on a non-loopback host refuses to start.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from vertical.core.safety.rules import shipped_languages

if TYPE_CHECKING:
    from vertical.core.spec import DomainSpec

PLACEHOLDER = re.compile(r"\{\{\s*([A-Za-z0-9_]+)\s*\}\}")
GENERIC = "_default"  # shipped fallback key for placeholders the framework does not know


def _base(lang: str) -> str:
    return (lang or "en").lower().replace("_", "-").split("-")[0]


def _shipped_text(lang: str, key: str) -> str | None:
    language = shipped_languages().get(_base(lang))
    return language.texts.get(key) if language else None


def _domain_texts(spec: DomainSpec | None, key: str) -> tuple[dict[str, str], str | None]:
    """({lang: text}, default text) from ``safety.responses``/``notes`` and the legacy ``response``."""
    if spec is None:
        return {}, None
    safety = spec.safety
    texts = {_base(k): v.strip() for k, v in (getattr(safety, key + "s", None) or {}).items() if v and v.strip()}
    default = texts.pop("default", None)
    legacy = (getattr(safety, key, None) or "").strip() if key == "response" else ""
    if legacy:
        from vertical.core.safety.assess import message_language

        texts.setdefault(_base(message_language(PLACEHOLDER.sub(" ", legacy))), legacy)
        default = default or legacy
    return texts, default


def resource_value(spec: DomainSpec | None, name: str, lang: str) -> str:
    """``safety.resources.NAME``: a string, or per language ``{zh: ..., en: ..., default: ...}``."""
    value = (getattr(spec.safety, "resources", None) or {}).get(name) if spec is not None else None
    if isinstance(value, dict):
        value = value.get(_base(lang)) or value.get("default") or next(iter(value.values()), "")
    return str(value or "").strip()


def fill_placeholders(text: str, spec: DomainSpec | None, lang: str) -> str:
    own = (shipped_languages().get(_base(lang)) or shipped_languages()["en"]).texts.get("fallbacks", {})
    english = shipped_languages()["en"].texts.get("fallbacks", {})

    def value(m: re.Match[str]) -> str:
        name = m.group(1)
        return (
            resource_value(spec, name, lang)
            or own.get(name)
            or english.get(name)
            or own.get(GENERIC)
            or english.get(GENERIC, "")
        )

    return PLACEHOLDER.sub(value, text)


def _pick(spec: DomainSpec | None, lang: str, key: str) -> tuple[str, str]:
    texts, default = _domain_texts(spec, key)
    base = _base(lang)
    if base in texts:
        return texts[base], base
    shipped = _shipped_text(base, key)
    if shipped:
        return shipped, base
    if default:
        return default, base
    if "en" in texts:  # an unknown or undetected language: the domain's own English text
        return texts["en"], "en"
    return _shipped_text("en", key) or "", "en"


def safety_response(spec: DomainSpec | None, lang: str) -> str:
    """The fixed crisis response for a message in ``lang``, placeholders filled."""
    text, used = _pick(spec, lang, "response")
    return fill_placeholders(text.strip(), spec, used)


def resources_note(spec: DomainSpec | None, lang: str) -> str:
    """A short line with the crisis resources, added to an answer when risk persists from history."""
    text, used = _pick(spec, lang, "note")
    return fill_placeholders(text.strip(), spec, used)


def unfilled_placeholders(spec: DomainSpec) -> list[str]:
    """``{{NAME}}`` used by the domain's own safety texts with no value in ``safety.resources``."""
    safety = spec.safety
    texts = [getattr(safety, "response", "") or ""]
    for key in ("responses", "notes"):
        texts += list((getattr(safety, key, None) or {}).values())
    names = {n for t in texts for n in PLACEHOLDER.findall(t)}
    return sorted(n for n in names if not resource_value(spec, n, "default"))
