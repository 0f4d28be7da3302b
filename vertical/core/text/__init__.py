"""The shared, language-aware text functions: every module that counts, matches or splits words uses these.

Never ``str.split()`` or regex ``\\b`` for words: both break on Chinese, which has no spaces
(``tests/test_no_space_split.py`` keeps it so).
"""

from vertical.core.text.language import detect_language
from vertical.core.text.normalize import normalize
from vertical.core.text.scripts import is_cjk
from vertical.core.text.segment import content_words, shingles, to_simplified, words
from vertical.core.text.sentences import sentences
from vertical.core.text.stopwords import stopwords
from vertical.core.text.tokens import count_tokens, estimate_tokens

__all__ = [
    "content_words",
    "count_tokens",
    "detect_language",
    "estimate_tokens",
    "is_cjk",
    "normalize",
    "sentences",
    "shingles",
    "stopwords",
    "to_simplified",
    "words",
]
