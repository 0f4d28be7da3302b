"""Knowledge-base endpoints: upload → ingestion job, job status/cancel, documents, chunk search."""

from __future__ import annotations

import re
from pathlib import Path

from fastapi import APIRouter, File, Query, Request, UploadFile

from serving.api.auth import check_domain
from serving.api.deps import app_state, domain_runtime
from vertical.core.errors import DocumentNotFoundError, KnowledgeError
from vertical.core.fsutil import atomic_write_bytes

router = APIRouter(prefix="/v1", tags=["knowledge"])
_UNSAFE = re.compile(r"[^A-Za-z0-9._-]+")


def safe_filename(name: str) -> str:
    """Basename only, unusual characters → '_', no leading dots: nothing can escape the folder."""
    base = Path(name.replace("\\", "/")).name
    cleaned = _UNSAFE.sub("_", base).lstrip(".")[:120]
    if not cleaned or cleaned in {"_"}:
        raise KnowledgeError(f"unusable file name {name!r}", hint="upload files with a normal name like notes.md")
    return cleaned


@router.post("/domains/{domain}/documents")
async def upload_documents(domain: str, request: Request, files: list[UploadFile] = File(...)) -> dict:
    runtime = domain_runtime(request, domain)
    folder = runtime.spec.source_paths[0]
    saved: list[Path] = []
    for upload in files:
        target = folder / safe_filename(upload.filename or "")
        atomic_write_bytes(target, await upload.read())
        saved.append(target)
    record = app_state(request).start_ingest(runtime, saved)
    return {"job_id": record.id, "files": [p.name for p in saved], "folder": str(folder)}


@router.get("/jobs/{job_id}")
def job_status(job_id: str, request: Request) -> dict:
    record = app_state(request).job(job_id)
    check_domain(request, record.domain)
    return record.to_dict()


@router.post("/jobs/{job_id}/cancel")
def cancel_job(job_id: str, request: Request) -> dict:
    record = app_state(request).job(job_id)
    check_domain(request, record.domain)
    record.job.cancel()
    return record.to_dict()


@router.get("/domains/{domain}/documents")
def list_documents(domain: str, request: Request) -> dict:
    runtime = domain_runtime(request, domain)
    kb = runtime.kb()
    return {"documents": kb.list_documents() if kb is not None else []}


@router.delete("/domains/{domain}/documents/{source:path}")
def delete_document(domain: str, source: str, request: Request) -> dict:
    runtime = domain_runtime(request, domain)
    kb = runtime.kb()
    if kb is None:
        raise DocumentNotFoundError(f"no document {source!r}", hint="the knowledge package is not installed")
    return {"source": source, "deleted_chunks": kb.delete_document(source)}


@router.get("/domains/{domain}/chunks")
def search_chunks(
    domain: str, request: Request, q: str = Query(..., min_length=1, max_length=2000), k: int = Query(5, ge=1, le=50)
) -> dict:
    runtime = domain_runtime(request, domain)
    kb = runtime.kb()
    if kb is None or not q.strip():
        return {"hits": []}
    return {"hits": [h.to_dict() for h in kb.search(q, k=k)]}
