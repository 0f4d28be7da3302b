"""The knowledge base as a LangChain or LlamaIndex retriever (each framework imported only when asked for).

from knowledge.interop import langchain_retriever, llamaindex_retriever
docs = langchain_retriever(kb, k=4).invoke("how do I sleep better?")      # list[Document]
nodes = llamaindex_retriever(kb, k=4).retrieve("how do I sleep better?")  # list[NodeWithScore]
"""

from __future__ import annotations

from functools import lru_cache
from typing import Any

from knowledge.store import Hit, KnowledgeBase


def _metadata(hit: Hit) -> dict[str, Any]:
    return {
        "chunk_id": hit.chunk_id,
        "source": hit.source,
        "title": hit.title,
        "heading": hit.heading,
        "position": hit.position,
        "score": hit.score,
        "dense_score": hit.dense_score,
        "bm25_score": hit.bm25_score,
    }


@lru_cache(maxsize=1)
def _langchain_class() -> type:
    from langchain_core.callbacks import CallbackManagerForRetrieverRun
    from langchain_core.documents import Document
    from langchain_core.retrievers import BaseRetriever
    from pydantic import ConfigDict

    class VerticalLangChainRetriever(BaseRetriever):
        model_config = ConfigDict(arbitrary_types_allowed=True)
        kb: Any
        k: int | None = None
        where: dict | None = None

        def _get_relevant_documents(self, query: str, *, run_manager: CallbackManagerForRetrieverRun) -> list:
            return [
                Document(page_content=h.text, metadata=_metadata(h), id=h.chunk_id)
                for h in self.kb.search(query, k=self.k, where=self.where)
            ]

    return VerticalLangChainRetriever


@lru_cache(maxsize=1)
def _llamaindex_class() -> type:
    from llama_index.core.retrievers import BaseRetriever
    from llama_index.core.schema import NodeWithScore, QueryBundle, TextNode

    class VerticalLlamaIndexRetriever(BaseRetriever):
        def __init__(self, kb: KnowledgeBase, k: int | None = None, where: dict | None = None) -> None:
            super().__init__()
            self._kb, self._k, self._where = kb, k, where

        def _retrieve(self, query_bundle: QueryBundle) -> list:
            hits = self._kb.search(query_bundle.query_str, k=self._k, where=self._where)
            return [
                NodeWithScore(node=TextNode(id_=h.chunk_id, text=h.text, metadata=_metadata(h)), score=h.score)
                for h in hits
            ]

    return VerticalLlamaIndexRetriever


def langchain_retriever(kb: KnowledgeBase, k: int | None = None, where: dict | None = None) -> Any:
    """A ``langchain_core.retrievers.BaseRetriever`` over ``kb``."""
    return _langchain_class()(kb=kb, k=k, where=where)


def llamaindex_retriever(kb: KnowledgeBase, k: int | None = None, where: dict | None = None) -> Any:
    """A ``llama_index.core.retrievers.BaseRetriever`` over ``kb``."""
    return _llamaindex_class()(kb, k=k, where=where)
