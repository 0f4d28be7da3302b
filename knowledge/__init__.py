"""The shared knowledge store: ingestion (loaders, chunking, content-hash sync) and hybrid retrieval.

Entry points: ``knowledge.store.KnowledgeBase`` and ``knowledge.jobs.IngestJob`` (see docs/CONTRACTS.md).
"""
