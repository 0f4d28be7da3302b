"""Split a loaded document into sentence-aware chunks sized in embedder tokens.

LlamaIndex's ``SentenceSplitter`` does the packing (size/overlap in tokens of the tokenizer we give
it); we feed it one markdown section at a time so each chunk knows its heading path, and a sentence
splitter that also ends sentences at CJK punctuation (。！？；), which punkt does not know.
Chunk ids hash (source, content): re-ingesting the same text yields the same ids.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from functools import lru_cache
from typing import Any, Callable

from knowledge.loaders import LoadedDocument

_HEADING = re.compile(r"^(#{1,6})\s+(.+?)\s*#*\s*$")
_FENCE = re.compile(r"^\s*(```|~~~)")
_CJK_SENTENCE_END = re.compile(r"(?<=[。！？；])")
HEADING_SEPARATOR = " > "


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
    return hashlib.sha256(f"{source}\x00{text}".encode("utf-8")).hexdigest()[:32]


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
    """Sentences for latin text (punkt) and CJK text (。！？；), whitespace kept so joins are exact."""
    sentences: list[str] = []
    for part in _CJK_SENTENCE_END.split(text):
        if part:
            sentences.extend(_punkt()(part))
    return sentences


class TokenChunker:
    """Sentence-aware packing with sizes measured by ``tokenizer`` (the embedder's)."""

    def __init__(self, tokenizer: Any, chunk_size: int, chunk_overlap: int) -> None:
        from llama_index.core.node_parser import SentenceSplitter

        def count_tokens(text: str) -> list[int]:
            return tokenizer.encode(text, add_special_tokens=False, verbose=False)

        self._splitter = SentenceSplitter(
            chunk_size=chunk_size,
            chunk_overlap=chunk_overlap,
            tokenizer=count_tokens,
            chunking_tokenizer_fn=split_sentences,
            secondary_chunking_regex=r"[^,，、;；:：]+[,，、;；:：]?",
        )

    def split(self, text: str) -> list[str]:
        return [c.strip() for c in self._splitter.split_text(text) if c.strip()]

    def chunk(self, document: LoadedDocument, source: str) -> list[Chunk]:
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
