"""Language guess for a text: script ratios first (CJK needs no model), then py3langid for the rest.

py3langid (langid.py's maintained fork) ships its model in the wheel (no download); loading it costs
~0.6 s once, a short message then takes ~0.01-0.02 ms. It is restricted to common languages, because
on three-word chats the full 97-language model picks languages nobody writes to a counseling bot
("i want to die" → pcm), and on 1-4 word texts English wins unless another language clearly leads.
Text without letters is "und".
"""

from __future__ import annotations

import re
from functools import lru_cache

from vertical.core.text.scripts import script_counts

# Languages the identifier may answer for non-CJK text.
LANGID_LANGUAGES = (
    "en de fr es it pt nl sv da no fi pl cs sk sl hr ro hu el tr ru uk bg ar he fa hi id ms vi th ca".split()
)
_WORD = re.compile(r"[^\W\d_]+")
# On 1-4 word messages the identifier's scores are close to noise ("hello" → fi, "bad day" → id): English
# (the framework's default) wins there unless another language leads by this much log-probability.
# "tengo miedo" (es, +19), "je suis triste" (fr, +17), "sehr traurig" (de, +12) still clear it.
SHORT_TEXT_WORDS = 4
SHORT_TEXT_EN_MARGIN = 6.0


@lru_cache(maxsize=1)
def _identifier():
    from py3langid.langid import MODEL_FILE, LanguageIdentifier

    identifier = LanguageIdentifier.from_model_file(MODEL_FILE, norm_probs=False)
    identifier.set_languages(list(LANGID_LANGUAGES))
    return identifier


def cjk_dominant(text: str) -> bool:
    """Han/Kana/Hangul outweigh other letters (one CJK character counted as a 4-letter word's worth)."""
    han, kana, hangul, other = script_counts(text)
    return bool(han + kana + hangul) and (han + kana + hangul) * 4 >= other


def detect_language(text: str) -> str:
    """ISO-639-1 guess: "zh" for Han-dominant text, "ja" when Kana is present, "ko" for Hangul, else py3langid."""
    han, kana, hangul, other = script_counts(text)
    cjk = han + kana + hangul
    # One CJK character carries about as much as a 4-letter latin word: weigh accordingly, so
    # "我在用 Python 写 machine learning 代码" is zh and an English sentence quoting 附录 stays en.
    if cjk and cjk * 4 >= other:
        if kana and kana * 5 >= han:  # Japanese mixes Kanji with Kana; Chinese has no Kana
            return "ja"
        if hangul >= han:
            return "ko"
        return "zh" if han else ("ja" if kana else "ko")
    if not other:
        return "und"
    scores = dict(_identifier().rank(text))
    best = max(scores, key=scores.__getitem__)
    if best != "en" and len(_WORD.findall(text)) <= SHORT_TEXT_WORDS:
        if scores[best] - scores["en"] <= SHORT_TEXT_EN_MARGIN:
            return "en"
    return best
