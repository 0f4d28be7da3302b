"""Normalisation used ONLY for matching safety rules (the user's text is never changed).

One pass, a few microseconds per message:
  NFKC (full-width ＡＢＣ１２３ → ABC123, compatibility forms) → case-fold → traditional → simplified
  Chinese, character by character → curly quotes/apostrophes → ASCII → a space where CJK meets
  Latin letters or digits → whitespace collapsed.

Traditional → simplified uses OpenCC's own character tables (the ``opencc-python-reimplemented``
package ships them); we only build a ``str.translate`` table from them once. Character level is
enough for matching (phrase-level conversion matters for display, not for finding 想死/自殺).
"""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache
from pathlib import Path

# Characters OpenCC leaves alone because they are also valid simplified, but which people write
# for the simplified form in crisis phrases (活著 = 活着).
_EXTRA_T2S = {"著": "着", "妳": "你", "祢": "你", "纔": "才"}
_QUOTES = {"\u2018": "'", "\u2019": "'", "\u02bc": "'", "\u201c": '"', "\u201d": '"', "\u00b4": "'", "`": "'"}
_SPACES = re.compile(r"\s+")
_CJK = "\u3040-\u30ff\u3400-\u9fff\uf900-\ufaff\uac00-\ud7af"
# A space where Han/Kana/Hangul meets a Latin letter or digit: "我想kms" → "我想 kms", so the rules'
# \b (which sees Han as a word character and never fires between 想 and k) works next to CJK.
_SCRIPT_GAP = re.compile(rf"(?<=[{_CJK}])(?=[^\W_{_CJK}])|(?<=[^\W_{_CJK}])(?=[{_CJK}])")


def _read_pairs(path: Path) -> dict[str, str]:
    table: dict[str, str] = {}
    if not path.is_file():
        return table
    for line in path.read_text(encoding="utf-8").splitlines():
        src, _, targets = line.partition("\t")  # OpenCC's TSV: "藥<TAB>药", candidates space-separated
        if len(src) == 1 and targets:
            table[src] = targets.partition(" ")[0]
    return table


@lru_cache(maxsize=1)
def _translate_table() -> dict[int, str]:
    table: dict[int, str] = {ord(k): v for k, v in _QUOTES.items()}
    try:
        import opencc
    except ImportError:  # matching still works for simplified text; traditional needs the package
        return {**table, **{ord(k): v for k, v in _EXTRA_T2S.items()}}
    folder = Path(opencc.__file__).parent / "dictionary"
    chars = _read_pairs(folder / "TSCharacters.txt")
    variants = {**_read_pairs(folder / "HKVariantsRev.txt"), **_read_pairs(folder / "TWVariantsRev.txt")}
    simplified = set(chars.values())  # never re-map a character that is already a simplified form (么 ↛ 幺)
    for src in (set(chars) | set(variants)) - simplified:
        std = variants.get(src, src)
        simp = chars.get(std, chars.get(src, std))
        if len(simp) == 1 and simp != src:
            table[ord(src)] = simp
    table.update({ord(k): v for k, v in _EXTRA_T2S.items()})
    return table


def han_to_simplified(text: str) -> str:
    """Only the traditional → simplified Han mapping (used on CJK rule patterns at load time)."""
    table = {k: v for k, v in _translate_table().items() if 0x3400 <= k <= 0x9FFF or 0xF900 <= k <= 0xFAFF}
    return text.translate(table)


def normalize_for_matching(text: str) -> str:
    """NFKC + case-fold + traditional→simplified + ASCII quotes + a space between CJK and Latin + single spaces."""
    text = unicodedata.normalize("NFKC", text).casefold().translate(_translate_table())
    return _SPACES.sub(" ", _SCRIPT_GAP.sub(" ", text)).strip()
