"""Knowledge-base endpoints: upload → queued ingest job, job status/list/cancel, documents, chunk search."""

from __future__ import annotations

from fastapi import APIRouter, File, Query, Request, UploadFile

from serving.api.auth import check_domain
from serving.api.deps import app_state, domain_runtime
from vertical.core.errors import DocumentNotFoundError

router = APIRouter(prefix="/v1", tags=["knowledge"])


@router.post("/domains/{domain}/documents")
async def upload_documents(
    domain: str,
    request: Request,
    files: list[UploadFile] = File(...),
    overwrite: bool = Query(False, description="replace earlier uploads of the same names"),
) -> dict:
    """Store the files in the domain's uploads folder and queue their ingestion (all or nothing:
    409 for a taken name, 415 for a type no loader reads, and then no file is written)."""
    from knowledge.uploads import plan_uploads, write_uploads

    runtime = domain_runtime(request, domain)
    batch = [(upload.filename or "", await upload.read()) for upload in files]
    # from here on no await: two uploads in this process cannot interleave between check and write
    kb = runtime.kb()
    known = {d["source"] for d in kb.list_documents()} if kb is not None else set()
    uploads = plan_uploads(runtime.spec, batch, known, overwrite=overwrite)
    write_uploads(uploads)
    job = app_state(request).queue.submit(runtime.spec, {u.source: u.path for u in uploads})
    return {"job_id": job.id, "files": [u.source for u in uploads]}


@router.get("/domains/{domain}/jobs")
def list_jobs(domain: str, request: Request, limit: int = Query(50, ge=1, le=500)) -> dict:
    """The domain's ingest jobs, newest first (queued, running and finished)."""
    runtime = domain_runtime(request, domain)
    return {"jobs": [_public(job.to_dict()) for job in app_state(request).queue.jobs(runtime.name, limit)]}


@router.get("/jobs/{job_id}")
def job_status(job_id: str, request: Request) -> dict:
    job = app_state(request).job(job_id)
    check_domain(request, job.domain)
    return _public(job.to_dict())


@router.post("/jobs/{job_id}/cancel")
def cancel_job(job_id: str, request: Request) -> dict:
    state = app_state(request)
    check_domain(request, state.job(job_id).domain)
    return _public(state.cancel_job(job_id))


def _public(job: dict) -> dict:
    """A job without server paths: errors and per-file reasons (parser, OS texts) may carry them."""
    from serving.api.errors import scrub_json

    return scrub_json(job)


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
    from knowledge.sources import UPLOADS, uploads_dir

    removed = kb.delete_document(source)  # 404 unless the KB has it: only known names reach the unlink
    name = source.removeprefix(f"{UPLOADS}/")
    if name != source and "/" not in name:  # an upload's file goes too, so its name can be used again
        (uploads_dir(runtime.spec) / name).unlink(missing_ok=True)
    return {"source": source, "deleted_chunks": removed}


@router.get("/domains/{domain}/chunks")
def search_chunks(
    domain: str, request: Request, q: str = Query(..., min_length=1, max_length=2000), k: int = Query(5, ge=1, le=50)
) -> dict:
    runtime = domain_runtime(request, domain)
    kb = runtime.kb()
    if kb is None or not q.strip():
        return {"hits": []}
    return {"hits": [h.to_dict() for h in kb.search(q, k=k)]}
