"""Split a loaded document into sentence-aware chunks sized in embedder tokens.

LlamaIndex's ``SentenceSplitter`` does the packing (size/overlap in tokens of the tokenizer we give
it); we feed it one markdown section at a time so each chunk knows its heading path, and a sentence
splitter that also ends sentences at CJK punctuation (。！？；…, closing quotes kept with their
sentence: the shared text module's rule), which punkt does not know.
Chunk ids hash (source, content): re-ingesting the same text yields the same ids.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Callable
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from knowledge import budget
from knowledge.document import LoadedDocument
from vertical.core.text.sentences import split_after_cjk_ends

_HEADING = re.compile(r"^(#{1,6})\s+(.+?)\s*#*\s*$")
_FENCE = re.compile(r"^\s*(```|~~~)")
_LATIN_END = re.compile(r"[.!?]")
HEADING_SEPARATOR = " > "
# Text is cut into pieces of at most this many characters before sentence splitting, preferring a
# paragraph, line, sentence or word boundary in the piece's last quarter: a 12 MB single-line file
# then costs linear time and bounded memory. Sections of ordinary documents are far shorter.
HARD_SPLIT_CHARS = 20_000
# No chunk is longer than chunk_size x this many characters: a WordPiece [UNK] can stand for a
# 100+-character "word", so a 300k-character string without spaces used to be one 1-token chunk.
MAX_CHARS_PER_TOKEN = 16
_BOUNDARIES = ("\n\n", "\n", "。", "！", "？", ". ", "! ", "? ", "；", "; ", "，", ", ", " ")


@dataclass(frozen=True)
class Chunk:
    id: str
    text: str
    source: str
    title: str
    heading: str
    position: int
    hash: str  # content hash of ``text`` alone

    @property
    def index_text(self) -> str:
        return index_text(self.title, self.heading, self.text)


def index_text(title: str, heading: str, text: str) -> str:
    """What we embed and BM25-index: the chunk with its title/heading path as context."""
    path = [title] if title else []
    for part in heading.split(HEADING_SEPARATOR) if heading else []:
        if part and part != title:
            path.append(part)
    return (HEADING_SEPARATOR.join(path) + "\n" + text) if path else text


def content_hash(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def chunk_id(source: str, text: str) -> str:
    return hashlib.sha256(f"{source}\x00{text}".encode()).hexdigest()[:32]


def split_sections(text: str) -> list[tuple[str, str]]:
    """Markdown → [(heading path, body)], ignoring '#' lines inside fenced code."""
    sections: list[tuple[str, str]] = []
    stack: list[tuple[int, str]] = []
    body: list[str] = []
    in_fence = False

    def flush() -> None:
        joined = "\n".join(body).strip()
        if joined:
            sections.append((HEADING_SEPARATOR.join(h for _, h in stack), joined))
        body.clear()

    for line in text.splitlines():
        if _FENCE.match(line):
            in_fence = not in_fence
        match = None if in_fence else _HEADING.match(line)
        if match:
            flush()
            level = len(match.group(1))
            while stack and stack[-1][0] >= level:
                stack.pop()
            stack.append((level, match.group(2).strip()))
        else:
            body.append(line)
    flush()
    return sections


@lru_cache(maxsize=1)
def _punkt() -> Callable[[str], list[str]]:
    from llama_index.core.node_parser.text.utils import split_by_sentence_tokenizer

    return split_by_sentence_tokenizer()


def split_sentences(text: str) -> list[str]:
    """Sentences for latin text (punkt) and CJK text (。！？；…), whitespace kept so joins are exact."""
    sentences: list[str] = []
    for part in split_after_cjk_ends(text):
        if _LATIN_END.search(part) is None:  # no . ! ? : nothing for punkt, which is slow on long runs
            sentences.append(part)
        else:
            sentences.extend(_punkt()(part))
    return sentences


def hard_split(text: str, max_chars: int = HARD_SPLIT_CHARS) -> list[str]:
    """Pieces of at most ``max_chars`` that concatenate back to ``text``."""
    pieces: list[str] = []
    start = 0
    while len(text) - start > max_chars:
        window = text[start : start + max_chars]
        cut = max_chars
        for mark in _BOUNDARIES:
            found = window.rfind(mark, max_chars * 3 // 4)
            if found != -1:
                cut = found + len(mark)
                break
        pieces.append(text[start : start + cut])
        start += cut
    pieces.append(text[start:])
    return pieces


def _backend(tokenizer: Any) -> Any | None:
    """The fast tokenizer's Rust backend without truncation or padding: the same ids, 2.9x faster
    per call than going through transformers (SentenceSplitter counts every sentence), or None."""
    backend = getattr(tokenizer, "backend_tokenizer", None)
    if backend is None:
        return None
    from tokenizers import Tokenizer

    fast = Tokenizer.from_str(backend.to_str())
    fast.no_truncation()
    fast.no_padding()
    return fast


class TokenChunker:
    """Sentence-aware packing with sizes measured by ``tokenizer`` (the embedder's)."""

    def __init__(self, tokenizer: Any, chunk_size: int, chunk_overlap: int) -> None:
        from llama_index.core.node_parser import SentenceSplitter

        self._tokenizer, self._size = tokenizer, chunk_size
        self._fast = _backend(tokenizer)
        fast = self._fast

        def count_tokens(text: str) -> list[int]:
            if fast is not None:
                return fast.encode(text, add_special_tokens=False).ids
            return tokenizer.encode(text, add_special_tokens=False, verbose=False)

        self._splitter = SentenceSplitter(
            chunk_size=chunk_size,
            chunk_overlap=chunk_overlap,
            tokenizer=count_tokens,
            chunking_tokenizer_fn=self._sentences,
            secondary_chunking_regex=r"[^,，、;；:：]+[,，、;；:：]?",
        )

    def _sentences(self, text: str) -> list[str]:
        """Sentences, with any sentence over ``chunk_size`` tokens cut at token boundaries first.

        SentenceSplitter would otherwise fall back to splitting it into single words or characters
        and tokenize each one (45 µs per character measured, so about 9 minutes for a 12 MB unpunctuated line).
        """
        return [piece for sentence in split_sentences(text) for piece in self._fit(sentence)]

    def _fit(self, sentence: str) -> list[str]:
        max_chars = self._size * MAX_CHARS_PER_TOKEN
        if len(sentence) <= self._size:
            return [sentence]
        if self._fast is not None:
            offsets = self._fast.encode(sentence, add_special_tokens=False).offsets
        else:  # a slow tokenizer has no offsets: cut by characters
            offsets = [(i, i + 1) for i in range(len(sentence))]
        cuts = [offsets[i][0] for i in range(self._size, len(offsets), self._size)]
        pieces, start = [], 0
        for cut in [*cuts, len(sentence)]:
            while cut - start > max_chars:
                pieces.append(sentence[start : start + max_chars])
                start += max_chars
            if cut > start:
                pieces.append(sentence[start:cut])
                start = cut
        return pieces

    def split(self, text: str) -> list[str]:
        chunks: list[str] = []
        max_chars = self._size * MAX_CHARS_PER_TOKEN
        for piece in hard_split(text):
            budget.check("chunking")
            for chunk in self._splitter.split_text(piece):
                chunks += [c.strip() for c in hard_split(chunk, max_chars) if c.strip()]
        return chunks

    def chunk(self, document: LoadedDocument, source: str) -> list[Chunk]:
        if document.sections is not None:
            sections = document.sections
        else:
            sections = split_sections(document.text) if document.markdown else [("", document.text.strip())]
        chunks: list[Chunk] = []
        seen: set[str] = set()
        for heading, body in sections:
            for text in self.split(body):
                cid = chunk_id(source, text)
                if cid in seen:  # the same passage twice in one file is stored once
                    continue
                seen.add(cid)
                chunks.append(Chunk(cid, text, source, document.title, heading, len(chunks), content_hash(text)))
        return chunks
