"""Sentence splitting for latin and CJK text without a model.

Ends: 。！？；… (and ASCII !? before CJK) end a sentence right away, with any closing quotes or
brackets kept on the sentence they close (他说：“我不想去。”); . ! ? end one when followed by
whitespace, unless the word before is a known abbreviation (Dr., e.g.) or a single initial (J. Smith),
or the next word starts lower-case. A blank line always ends a sentence; a single newline does
too, except inside wrapped latin prose (a line ending in a letter or comma followed by a lower-case one).
"""

from __future__ import annotations

import re

from vertical.core.text.scripts import CJK

CLOSERS = "\"'”’」』）)】》〉］]"
CJK_SENTENCE_END = re.compile(f"(?:[。！？；]|…+|\\.{{3,}}(?=[{CJK}]))+[{re.escape(CLOSERS)}]*")
_LATIN_END = re.compile(f"[.!?]+[{re.escape(CLOSERS)}]*(?=\\s|$|[{CJK}])")
ABBREVIATIONS = frozenset(
    "mr mrs ms dr prof sr jr st vs etc e.g i.e eg ie cf fig no nos vol approx dept inc ltd co corp jan feb mar apr "
    "jun jul aug sep sept oct nov dec mon tue wed thu fri sat sun a.m p.m u.s u.k ph.d al".split()
)
_WORD_BEFORE = re.compile(r"([\w.]+)$")


def _is_latin_end(text: str, match: re.Match[str]) -> bool:
    mark = match.group()
    after = text[match.end() :].lstrip()
    if mark.startswith("."):
        before = _WORD_BEFORE.search(text[: match.start()])
        word = before.group(1).lower() if before else ""
        if word in ABBREVIATIONS or (len(word) == 1 and word.isalpha()):
            return False
        if after[:1].islower():  # "approx. five", "e.g. the"
            return False
    return True


def _split_line(line: str) -> list[str]:
    cuts: list[int] = []
    for m in CJK_SENTENCE_END.finditer(line):
        cuts.append(m.end())
    for m in _LATIN_END.finditer(line):
        if _is_latin_end(line, m):
            cuts.append(m.end())
    out, start = [], 0
    for cut in sorted(set(cuts)):
        piece = line[start:cut].strip()
        if piece:
            out.append(piece)
        start = cut
    rest = line[start:].strip()
    if rest:
        out.append(rest)
    return out


def _paragraph_lines(text: str) -> list[str]:
    """Lines, re-joined where a latin sentence was hard-wrapped across them."""
    merged: list[str] = []
    for raw in text.splitlines():
        line = raw.strip()
        if not line:
            merged.append("")
            continue
        if merged and merged[-1] and re.search(r"[A-Za-z,]$", merged[-1]) and line[:1].islower():
            merged[-1] = merged[-1] + " " + line
        else:
            merged.append(line)
    return [m for m in merged if m]


def split_after_cjk_ends(text: str) -> list[str]:
    """Cut after each CJK sentence end (closing quotes included); the pieces join back to ``text`` exactly.

    For splitters that must keep every character (chunking), and that handle latin text themselves.
    """
    pieces, start = [], 0
    for m in CJK_SENTENCE_END.finditer(text):
        pieces.append(text[start : m.end()])
        start = m.end()
    if start < len(text):
        pieces.append(text[start:])
    return pieces


def sentences(text: str) -> list[str]:
    """Sentences, stripped, in order; no empty strings."""
    out: list[str] = []
    for line in _paragraph_lines(text):
        out.extend(_split_line(line))
    return out
