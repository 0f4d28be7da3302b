"""Word segmentation: jieba for Han runs, a Unicode word regex for everything else.

The text is cut into CJK runs and the rest first, so latin words inside Chinese text keep their
contractions and decimals ("don't", "3.5"), and jieba only ever sees Chinese. Traditional characters
are mapped to simplified ones (char by char, OpenCC's table) before jieba cuts a run, because its
dictionary is simplified (傷害 念頭 are cut as 伤害 念头); the words returned keep the original
characters, and ``to_simplified`` is public so an index can fold both scripts onto one vocabulary.
jieba's dictionary loads lazily on first use (0.6-1.5 s measured on 2 busy cores); a 28-character message
then takes ~0.1 ms. Japanese (Kana present) is cut at script changes (Kanji/Hiragana/Katakana runs):
crude, but no Japanese dictionary is shipped. Hangul is space-delimited and goes through the word regex.
"""

from __future__ import annotations

import logging
import re
from functools import lru_cache

from vertical.core.text.scripts import HAN, KANA
from vertical.core.text.stopwords import stopwords

_HAN_OR_KANA_RUN = re.compile(f"[{HAN}{KANA}]+")
# Letters/digits with inner apostrophes between letters and inner decimal marks between digits:
# don't, l'amour, 3.5, 1,000 stay whole; "end.next" is two words. (Applied to text without Han/Kana.)
_OTHER_WORD = re.compile(r"[^\W_]+(?:(?:(?<=[^\W\d_])['’](?=[^\W\d_])|(?<=\d)[.,](?=\d))[^\W_]+)*")
_JA_RUN = re.compile(f"[{HAN}]+|[\u3040-\u309f]+|[\u30a0-\u30ff\u31f0-\u31ff\uff66-\uff9f]+")
_HAS_KANA = re.compile(f"[{KANA}]")


@lru_cache(maxsize=1)
def _jieba():
    import jieba

    jieba.setLogLevel(logging.WARNING)
    jieba.initialize()
    return jieba


@lru_cache(maxsize=1)
def _traditional_to_simplified() -> dict[int, str]:
    """OpenCC's TSCharacters table, one-to-one entries only (lengths must not change)."""
    from importlib.resources import files

    table: dict[int, str] = {}
    text = files("opencc").joinpath("dictionary/TSCharacters.txt").read_text(encoding="utf-8")
    for line in text.splitlines():
        source, _, targets = line.partition("\t")
        target = targets.partition(" ")[0]
        if len(source) == 1 and len(target) == 1 and source != target:
            table[ord(source)] = target
    return table


def to_simplified(text: str) -> str:
    """Traditional → simplified Chinese, character by character (same length; ambiguous ones like 著 kept)."""
    return text.translate(_traditional_to_simplified())


def _cut_han(piece: str, search: bool) -> list[str]:
    simplified = to_simplified(piece)
    spans = _jieba().tokenize(simplified, mode="search" if search else "default")
    return [piece[start:end] for _, start, end in spans]


def _other_words(chunk: str) -> list[str]:
    return [w.replace("’", "'") for w in _OTHER_WORD.findall(chunk)]


def words(text: str, lang: str | None = None, *, search: bool = False) -> list[str]:
    """Lower-cased words, punctuation dropped.

    ``lang="ja"`` forces the Japanese cut (default: when Kana is present). ``search=True`` adds
    jieba's sub-words (焦虑症 → 焦虑, 焦虑症) for retrieval recall.
    """
    text = text.lower()
    japanese = lang == "ja" or (lang is None and _HAS_KANA.search(text) is not None)
    out: list[str] = []
    pos = 0
    for run in _HAN_OR_KANA_RUN.finditer(text):
        out.extend(_other_words(text[pos : run.start()]))
        piece = run.group()
        if japanese:
            out.extend(_JA_RUN.findall(piece))
        else:
            out.extend(_cut_han(piece, search))
        pos = run.end()
    out.extend(_other_words(text[pos:]))
    return out


def content_words(text: str, lang: str | None = None) -> set[str]:
    """Words minus en/zh stopwords and single latin letters: what overlap and grounding compare."""
    stop = stopwords()
    return {w for w in words(text, lang) if w not in stop and not (len(w) == 1 and w.isascii() and w.isalpha())}


DEFAULT_CJK_SHINGLE = 3
DEFAULT_WORD_SHINGLE = 3


def shingles(text: str, n: int | None = None) -> set[str]:
    """Character n-grams (default 3) for CJK-dominant text, word n-grams (default 3) otherwise.

    Punctuation and whitespace are ignored, so a re-punctuated copy is still a near-duplicate; a
    text shorter than n yields itself as one shingle (never an empty set for non-empty text).
    """
    from vertical.core.text.language import cjk_dominant

    if cjk_dominant(text):
        size = n or DEFAULT_CJK_SHINGLE
        chars = "".join(c for c in text.lower() if c.isalnum())
        units: list[str] = list(chars)
        joiner = ""
    else:
        size = n or DEFAULT_WORD_SHINGLE
        units = words(text)
        joiner = " "
    if not units:
        return set()
    if len(units) <= size:
        return {joiner.join(units)}
    return {joiner.join(units[i : i + size]) for i in range(len(units) - size + 1)}
