"""Knowledge curation endpoints: preview a document's chunks, disable/enable chunks or documents, re-ingest one.

The work is in :mod:`knowledge.curation`; these routes only find the domain's KB and start jobs.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from fastapi import APIRouter, Request

from serving.api.deps import app_state, domain_runtime
from serving.domains import DomainRuntime
from vertical.core.errors import DocumentNotFoundError, IngestError

router = APIRouter(prefix="/v1/domains", tags=["knowledge"])


def _kb(request: Request, domain: str) -> Any:
    kb = domain_runtime(request, domain).kb()
    if kb is None:
        raise DocumentNotFoundError("this server has no knowledge base", hint="install the knowledge package")
    return kb


def start_ingest(request: Request, runtime: DomainRuntime, paths: list[Path]) -> dict:
    """The one place this router starts an ingest job: on the ingest queue, as uploads are."""
    from knowledge.sources import source_name

    files = {source_name(p, runtime.spec): p for p in paths}
    job = app_state(request).queue.submit(runtime.spec, files)
    return {"job_id": job.id, "files": list(files)}


@router.get("/{domain}/documents/{source:path}/chunks")
def document_chunks(domain: str, source: str, request: Request) -> dict:
    from knowledge.curation import document_chunks as chunks_of

    return chunks_of(_kb(request, domain), source)


@router.post("/{domain}/documents/{source:path}/disable")
def disable_document(domain: str, source: str, request: Request) -> dict:
    from knowledge.curation import set_document_disabled

    return set_document_disabled(_kb(request, domain), source, True)


@router.post("/{domain}/documents/{source:path}/enable")
def enable_document(domain: str, source: str, request: Request) -> dict:
    from knowledge.curation import set_document_disabled

    return set_document_disabled(_kb(request, domain), source, False)


@router.post("/{domain}/chunks/{chunk_id}/disable")
def disable_chunk(domain: str, chunk_id: str, request: Request) -> dict:
    from knowledge.curation import set_chunk_disabled

    return set_chunk_disabled(_kb(request, domain), chunk_id, True)


@router.post("/{domain}/chunks/{chunk_id}/enable")
def enable_chunk(domain: str, chunk_id: str, request: Request) -> dict:
    from knowledge.curation import set_chunk_disabled

    return set_chunk_disabled(_kb(request, domain), chunk_id, False)


@router.post("/{domain}/documents/{source:path}/reingest")
def reingest_document(domain: str, source: str, request: Request) -> dict:
    """Ingest one document's file again (a changed file is re-chunked; an unchanged one reports "unchanged")."""
    runtime = domain_runtime(request, domain)
    record = _kb(request, domain).records.get(source)
    if record is None:
        raise DocumentNotFoundError(
            f"no document {source!r} in the {domain!r} knowledge base",
            hint="list documents with GET /v1/domains/{domain}/documents",
        )
    path = Path(record.origin)
    if not path.is_file():
        raise IngestError(
            f"the file {source!r} was ingested from is gone ({path})",
            hint="upload the document again, or delete it from the knowledge base",
        )
    return start_ingest(request, runtime, [path])
