"""ROUGE-L F1 between answer and reference (rouge-score's LCS, over the shared text module's words).

rouge-score's default tokenizer keeps only [a-z0-9] and so drops every CJK character (a Chinese
answer equal to its reference scored 0.0); words() segments Chinese with jieba, after folding
traditional characters onto simplified ones. Latin words are Porter-stemmed as rouge-score does
(only words longer than 3 letters).
"""

from __future__ import annotations

from functools import lru_cache

from vertical.core.text import to_simplified, words


class _WordsTokenizer:
    """rouge-score's Tokenizer protocol over ``words()``: one ``tokenize(text) -> list[str]``."""

    def __init__(self) -> None:
        from nltk.stem import porter

        self._stemmer = porter.PorterStemmer()

    def tokenize(self, text: str) -> list[str]:
        tokens = words(to_simplified(text))
        return [self._stemmer.stem(w) if len(w) > 3 and w.isascii() and w.isalpha() else w for w in tokens]


@lru_cache(maxsize=1)
def _scorer():
    from rouge_score import rouge_scorer

    return rouge_scorer.RougeScorer(["rougeL"], tokenizer=_WordsTokenizer())


def rouge_l(answer: str, reference: str) -> float:
    if not answer.strip() or not reference.strip():
        return 0.0
    return float(_scorer().score(reference, answer)["rougeL"].fmeasure)
