"""Ingest throughput: ours (IngestJob → Chroma + BM25) vs a LlamaIndex IngestionPipeline + VectorStoreIndex.

    HF_HUB_OFFLINE=1 .venv/bin/python bench/ingest.py [--public-docs 120] [--long-docs 4]

Corpus: the counseling docs (md/txt/html/pdf/docx) plus news articles from gensim's test corpus
``lee_background.cor`` plus long documents (~150 KB each: consecutive articles of gensim's shortened
enwiki dump, wiki markup stripped to markdown), read straight from the gensim wheel fetched with
``pip download --no-deps`` (gensim itself is not installed). Both arms use the same SentenceTransformer
object, the same token chunk size/overlap and start with the model warm; ours runs at the default
precision and at fp32, LlamaIndex at fp32 and under the same bf16 autocast, so each precision has a
like-for-like pair. Writes bench/out/knowledge_ingest.json.
"""

from __future__ import annotations

import argparse
import bz2
import html
import io
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
import zipfile
from pathlib import Path
from xml.etree import ElementTree

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("ANONYMIZED_TELEMETRY", "False")
REPO = Path(__file__).resolve().parents[1]
OUT = REPO / "bench" / "out"
COUNSELING = REPO / "examples" / "counseling"
WIKI_DUMP = "enwiki-latest-pages-articles1.xml-p000000010p000030302-shortened.bz2"


def gensim_bytes(name: str) -> bytes:
    """Bytes of ``gensim/test/test_data/<name>`` from the gensim wheel (downloaded once, not installed)."""
    cache = OUT / "wheels"
    wheels = sorted(cache.glob("gensim-*.whl"))
    if not wheels:
        cache.mkdir(parents=True, exist_ok=True)
        subprocess.run(
            [
                sys.executable,
                "-m",
                "pip",
                "download",
                "-q",
                "--no-deps",
                "--only-binary=:all:",
                "gensim",
                "-d",
                str(cache),
            ],
            check=True,
        )
        wheels = sorted(cache.glob("gensim-*.whl"))
    with zipfile.ZipFile(wheels[-1]) as zf:
        return zf.read(f"gensim/test/test_data/{name}")


def gensim_file(name: str) -> str:
    return gensim_bytes(name).decode("utf-8", errors="replace")


_TEMPLATE = re.compile(r"\{\{[^{}]*\}\}")
_TABLE = re.compile(r"\{\|.*?\|\}", re.S)
_REF = re.compile(r"<ref[^>/]*/>|<ref[^>]*>.*?</ref>", re.S)
_TAG = re.compile(r"<[^>]+>")
_FILE_LINK = re.compile(r"\[\[(?:File|Image|Category):[^\[\]]*(?:\[\[[^\]]*\]\][^\[\]]*)*\]\]")
_LINK = re.compile(r"\[\[(?:[^|\]]*\|)?([^\]]*)\]\]")
_EXTERNAL = re.compile(r"\[https?://\S+\s*([^\]]*)\]")
_HEADING = re.compile(r"^(={2,6})\s*(.*?)\s*\1\s*$", re.M)


def wiki_articles(min_chars: int = 0) -> list[tuple[str, str]]:
    """(title, markdown text) of the non-redirect articles in gensim's shortened enwiki dump: wiki
    markup stripped to prose, ``== Section ==`` turned into markdown headings."""
    raw = bz2.decompress(gensim_bytes(WIKI_DUMP)).decode("utf-8")
    articles = []
    for _, el in ElementTree.iterparse(io.StringIO(raw)):
        if not el.tag.endswith("}page"):
            continue
        title = next(c.text for c in el.iter() if c.tag.endswith("}title")) or ""
        text = next(c.text for c in el.iter() if c.tag.endswith("}text")) or ""
        el.clear()
        if text.lower().startswith("#redirect"):
            continue
        text = html.unescape(_REF.sub("", text))
        text = _REF.sub("", text)
        while True:  # templates nest: strip innermost first
            stripped = _TEMPLATE.sub("", text)
            if stripped == text:
                break
            text = stripped
        text = _TABLE.sub("", _FILE_LINK.sub("", text))
        text = _EXTERNAL.sub(r"\1", _LINK.sub(r"\1", text))
        text = _TAG.sub("", text).replace("'''", "").replace("''", "")
        text = _HEADING.sub(lambda m: "#" * (len(m.group(1))) + " " + m.group(2), text)
        text = re.sub(r"\n{3,}", "\n\n", text).strip()
        if len(text) >= min_chars:
            articles.append((title, f"# {title}\n\n{text}\n"))
    return articles


def lee_documents(limit: int | None = None) -> list[str]:
    docs = [line.strip() for line in gensim_file("lee_background.cor").splitlines() if line.strip()]
    return docs[:limit] if limit else docs


def long_documents(n: int, target_chars: int = 150_000) -> list[str]:
    """``n`` long markdown documents (~50-200 KB): consecutive enwiki articles joined until ``target_chars``."""
    docs: list[str] = []
    current = ""
    for _, text in wiki_articles(min_chars=2000):
        current += text + "\n"
        if len(current) >= target_chars:
            docs.append(current[:200_000])
            current = ""
            if len(docs) == n:
                break
    return docs


def build_corpus(folder: Path, public_docs: int, long_docs: int = 0) -> Path:
    """domain.yaml + docs/: counseling docs, ``public_docs`` lee_background articles as .txt and
    ``long_docs`` long wiki documents as .md."""
    shutil.copytree(COUNSELING / "docs", folder / "docs")
    shutil.copy(COUNSELING / "domain.yaml", folder / "domain.yaml")
    for i, text in enumerate(lee_documents(public_docs)):
        (folder / "docs" / f"lee-{i:03d}.txt").write_text(text + "\n", encoding="utf-8")
    for i, text in enumerate(long_documents(long_docs) if long_docs else []):
        (folder / "docs" / f"wiki-long-{i}.md").write_text(text, encoding="utf-8")
    return folder


def run_ours(domain: Path, workspace: Path, precision: str = "auto") -> dict:
    from knowledge.jobs import IngestJob
    from knowledge.store import KnowledgeBase
    from vertical.core.settings import reset_settings
    from vertical.core.spec import load_domain

    os.environ["VERTICAL_WORKSPACE"] = str(workspace)
    os.environ["VERTICAL_EMBED_PRECISION"] = precision
    reset_settings()
    spec = load_domain(domain)
    started = time.perf_counter()
    first = IngestJob(spec).run()
    first_s = time.perf_counter() - started
    started = time.perf_counter()
    again = IngestJob(spec).run()
    again_s = time.perf_counter() - started
    files = len(first.added)
    return {
        "files": files,
        "chunks": KnowledgeBase.for_domain(spec).count(),
        "first_s": first_s,
        "docs_per_s": files / first_s,
        "reingest_s": again_s,
        "reingest_written": again.chunks_written,
        "reingest_share": again_s / first_s,
        "skipped": first.skipped,
    }


def run_llamaindex(domain: Path, chunk_size: int, chunk_overlap: int, embedder_name: str, bf16: bool = False) -> dict:
    """LlamaIndex's pipeline on the same model object; ``bf16`` runs it under the same bf16 autocast
    our arm uses on CPUs with native bf16, to show how much of the gap is precision alone."""
    import contextlib
    from typing import Any

    import torch
    from llama_index.core import Settings, SimpleDirectoryReader, VectorStoreIndex
    from llama_index.core.embeddings import BaseEmbedding
    from llama_index.core.ingestion import IngestionPipeline
    from llama_index.core.node_parser import SentenceSplitter

    from vertical.core.loaders import load_embedder, load_tokenizer

    model = load_embedder(embedder_name)

    class SameSentenceTransformer(BaseEmbedding):  # the identical model object our arm uses
        def _get_query_embedding(self, query: str) -> list[float]:
            return model.encode(query, normalize_embeddings=True).tolist()

        def _get_text_embedding(self, text: str) -> list[float]:
            return model.encode(text, normalize_embeddings=True).tolist()

        def _get_text_embeddings(self, texts: list[str]) -> list[list[float]]:
            return model.encode(texts, normalize_embeddings=True).tolist()

        async def _aget_query_embedding(self, query: str) -> Any:
            return self._get_query_embedding(query)

    embed = SameSentenceTransformer(model_name=embedder_name)
    Settings.embed_model, Settings.llm = embed, None
    tokenizer = load_tokenizer(embedder_name)
    splitter = SentenceSplitter(
        chunk_size=chunk_size,
        chunk_overlap=chunk_overlap,
        tokenizer=lambda t: tokenizer.encode(t, add_special_tokens=False, verbose=False),
    )
    text_files = [p for p in sorted((domain / "docs").iterdir()) if p.suffix in (".md", ".txt")]
    precision = torch.autocast("cpu", dtype=torch.bfloat16) if bf16 else contextlib.nullcontext()
    started = time.perf_counter()
    with precision:
        documents = SimpleDirectoryReader(input_files=[str(p) for p in text_files]).load_data()
        nodes = IngestionPipeline(transformations=[splitter, embed]).run(documents=documents)
        index = VectorStoreIndex(nodes, embed_model=embed)
    seconds = time.perf_counter() - started
    return {
        "files": len(text_files),
        "chunks": len(index.docstore.docs),
        "first_s": seconds,
        "docs_per_s": len(text_files) / seconds,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--public-docs", type=int, default=120, help="lee_background articles to add")
    parser.add_argument("--long-docs", type=int, default=4, help="~150 KB wiki documents to add")
    parser.add_argument("--threads", type=int, default=0, help="torch threads (0: torch's default)")
    args = parser.parse_args()
    if args.threads:
        import torch

        torch.set_num_threads(args.threads)
    sys.path.insert(0, str(REPO))
    from vertical.core.loaders import load_embedder, load_tokenizer
    from vertical.core.settings import get_settings
    from vertical.core.spec import load_domain

    with tempfile.TemporaryDirectory() as tmp:
        domain = build_corpus(Path(tmp) / "corpus", args.public_docs, args.long_docs)
        spec = load_domain(domain)
        load_embedder(spec.embedder).encode(["warm up"])  # both arms start with the model loaded
        load_tokenizer(spec.embedder)
        # LlamaIndex reads only text formats without extra reader packages: give it md/txt only, and
        # report ours on the same md/txt subset too (a second folder) so docs/s compare like for like.
        text_only = Path(tmp) / "text-only"
        shutil.copytree(domain, text_only)
        for p in (text_only / "docs").iterdir():
            if p.suffix not in (".md", ".txt"):
                p.unlink()
        llama = run_llamaindex(text_only, spec.knowledge.chunk_size, spec.knowledge.chunk_overlap, spec.embedder)
        llama_bf16 = run_llamaindex(
            text_only, spec.knowledge.chunk_size, spec.knowledge.chunk_overlap, spec.embedder, bf16=True
        )
        ours_text = run_ours(text_only, Path(tmp) / "ws-text")
        ours_text_fp32 = run_ours(text_only, Path(tmp) / "ws-text-fp32", precision="fp32")
        ours_all = run_ours(domain, Path(tmp) / "ws-all")
    from knowledge.embedding import cpu_has_native_bf16

    result = {
        "ours_text_only": ours_text,
        "ours_text_only_fp32": ours_text_fp32,
        "ours_all_formats": ours_all,
        "llamaindex_text_only": llama,
        "llamaindex_text_only_bf16": llama_bf16,
        "ours_embed_precision": get_settings().embed_precision,
        "cpu_native_bf16": cpu_has_native_bf16(),
        "speedup_docs_per_s": ours_text["docs_per_s"] / llama["docs_per_s"],
        "speedup_vs_llamaindex_bf16": ours_text["docs_per_s"] / llama_bf16["docs_per_s"],
        "speedup_fp32_vs_llamaindex_fp32": ours_text_fp32["docs_per_s"] / llama["docs_per_s"],
        "public_docs": args.public_docs,
        "long_docs": args.long_docs,
        "load_average": os.getloadavg(),
        "torch_threads": __import__("torch").get_num_threads(),
    }
    OUT.mkdir(parents=True, exist_ok=True)
    (OUT / "knowledge_ingest.json").write_text(json.dumps(result, indent=2))
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
