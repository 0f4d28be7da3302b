"""Normalisation that keeps the text's own punctuation.

NFKC would rewrite every full-width ，？！：； to ASCII in Chinese text; here only full-width letters
and digits become ASCII (Ａ１ → A1), on top of NFC. Whitespace: runs of spaces/tabs (including the
ideographic space U+3000 and NBSP) become one space, lines are stripped, \\r\\n becomes \\n, and more
than one blank line becomes one: paragraph and list structure survive.
"""

from __future__ import annotations

import re
import unicodedata

_FULLWIDTH_ALNUM = {
    **{0xFF10 + i: ord("0") + i for i in range(10)},
    **{0xFF21 + i: ord("A") + i for i in range(26)},
    **{0xFF41 + i: ord("a") + i for i in range(26)},
}
_INLINE_SPACE = re.compile(r"[^\S\n]+")
_BLANK_LINES = re.compile(r"\n{3,}")


def normalize(text: str) -> str:
    text = unicodedata.normalize("NFC", text).translate(_FULLWIDTH_ALNUM)
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    lines = [_INLINE_SPACE.sub(" ", line).strip() for line in text.split("\n")]
    return _BLANK_LINES.sub("\n\n", "\n".join(lines)).strip()
