"""Feedback endpoints: ``POST /v1/domains/{d}/feedback`` (thumbs, corrections), ``GET …/feedback/counts``,
and the review queue: ``GET …/feedback?status=pending`` and ``POST …/feedback/{id}/review``.

The API is the only writer of feedback in a deployment (the UI posts here); rows land in the durable
store (:mod:`finetune.data.feedback`, SQLAlchemy) that preference training and `data export-feedback` read.
"""

from __future__ import annotations

from typing import Literal

from fastapi import APIRouter, Query, Request
from pydantic import BaseModel, ConfigDict, Field

from finetune.data.feedback import Feedback, store_for
from serving.api.deps import domain_runtime

router = APIRouter(prefix="/v1/domains", tags=["feedback"])


class HistoryTurn(BaseModel):
    role: Literal["system", "user", "assistant"]
    content: str = Field(max_length=32_000)


class FeedbackRequest(BaseModel):
    question: str = Field(min_length=1, max_length=32_000)
    answer: str = Field(min_length=1, max_length=32_000)
    rating: Literal[-1, 0, 1] = Field(description="+1 thumbs up, -1 thumbs down, 0 a correction only")
    correction: str | None = Field(None, max_length=32_000)
    model: str = Field("", max_length=200)
    history: list[HistoryTurn] = Field(default_factory=list, max_length=500)
    sources: list[str] = Field(default_factory=list, max_length=50)
    trace: list[str] = Field(default_factory=list, max_length=200)


@router.post("/{domain}/feedback", status_code=201)
def add_feedback(domain: str, body: FeedbackRequest, request: Request) -> dict:
    runtime = domain_runtime(request, domain)
    item = Feedback(
        domain=runtime.name,
        question=body.question,
        answer=body.answer,
        rating=body.rating,
        correction=body.correction,
        model=body.model or runtime.name,
        history=[t.model_dump() for t in body.history],
        sources=body.sources,
        trace=body.trace,
    )
    store = store_for()
    return {"id": store.add(item), "counts": store.counts(runtime.name)}


@router.get("/{domain}/feedback/counts")
def feedback_counts(domain: str, request: Request) -> dict:
    runtime = domain_runtime(request, domain)
    return store_for().counts(runtime.name)


class ReviewRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")
    decision: Literal["sft", "preference", "reject"] = Field(
        description="sft: the correction becomes an SFT target; preference: correction over answer; reject"
    )
    note: str | None = Field(None, max_length=2000)


@router.get("/{domain}/feedback")
def review_queue(
    domain: str,
    request: Request,
    status: Literal["pending", "accepted", "rejected", "all"] = "pending",
    limit: int = Query(50, ge=1, le=500),
) -> dict:
    """Thumbs-down and corrected answers with this status, newest first; thumbs-up rows are only counted."""
    runtime = domain_runtime(request, domain)
    store = store_for()
    items = store.queue(runtime.name, status=status, limit=limit)
    return {"items": [item.to_dict() for item in items], "counts": store.review_counts(runtime.name)}


@router.post("/{domain}/feedback/{item_id}/review")
def review_feedback(domain: str, item_id: int, body: ReviewRequest, request: Request) -> dict:
    runtime = domain_runtime(request, domain)
    return store_for().review(runtime.name, item_id, body.decision, body.note).to_dict()
