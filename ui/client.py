"""HTTP client for the vertical REST API: the only way the UI reaches models, knowledge and builds.

Every method returns plain JSON (dicts/lists) as the server sent it; failures become
:class:`vertical.core.errors.ApiError` with the server's message and a hint. ``stream_chat`` parses the
OpenAI-style server-sent events of ``POST /v1/chat/completions`` (``stream=true``) into
``("delta", text)`` and ``("meta", {...})`` events; ``meta`` carries ``sources``/``trace``/``path``
when the server attaches them to a chunk.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any
from urllib.parse import quote

import httpx

from vertical.core.errors import ApiError

META_KEYS = ("sources", "trace", "path", "grounding", "citations")


def _error_from(response: httpx.Response) -> ApiError:
    """Turn an error response into ApiError, keeping the server's message and hint."""
    message, hint = response.text.strip()[:300] or response.reason_phrase, None
    try:
        body = response.json()
    except ValueError:
        body = None
    if isinstance(body, dict):
        err = body.get("error", body)
        if isinstance(err, dict):
            message = str(err.get("message") or err.get("detail") or message)
            hint = err.get("hint")
        elif isinstance(body.get("detail"), str):
            message = body["detail"]
    return ApiError(
        f"{response.request.method} {response.request.url.path} → {response.status_code}: {message}",
        hint,
        status=response.status_code,
    )


def meta_of(chunk: dict) -> dict:
    """What the API's final stream chunk carries under ``vertical`` (the answer policy's sources, trace,
    path, grounding verdict and citations: the same an unstreamed answer returns)."""
    extra = chunk.get("vertical")
    return {k: extra[k] for k in META_KEYS if extra.get(k) is not None} if isinstance(extra, dict) else {}


class ApiClient:
    """Thin synchronous client; one instance per Streamlit session is enough."""

    def __init__(self, base_url: str, api_key: str | None = None, timeout: float = 180.0) -> None:
        self.base_url = base_url.rstrip("/")
        headers = {"Authorization": f"Bearer {api_key}"} if api_key else {}
        self._http = httpx.Client(base_url=self.base_url, headers=headers, timeout=httpx.Timeout(timeout, connect=5.0))

    def close(self) -> None:
        self._http.close()

    # ------------------------------------------------------------------ plumbing

    def _request(self, method: str, path: str, **kwargs: Any) -> Any:
        try:
            response = self._http.request(method, path, **kwargs)
        except httpx.TransportError as exc:
            raise ApiError(
                f"cannot reach the vertical API at {self.base_url} ({type(exc).__name__})",
                "start it with `vertical serve <domain folder>` or `vertical ui <domain folder>`, "
                "or point VERTICAL_API_URL at a running server",
            ) from exc
        if response.status_code >= 400:
            raise _error_from(response)
        return response.json() if response.content else None

    def get(self, path: str, **params: Any) -> Any:
        return self._request("GET", path, params={k: v for k, v in params.items() if v is not None})

    def post(self, path: str, body: dict | None = None) -> Any:
        return self._request("POST", path, json=body or {})

    # ------------------------------------------------------------------ health + models

    def healthy(self) -> bool:
        try:
            self._request("GET", "/healthz")
            return True
        except ApiError:
            return False

    def domains(self) -> list[str]:
        """Model ids from ``GET /v1/models`` (``<domain>`` or ``<domain>:<adapter>``)."""
        body = self.get("/v1/models")
        return [m["id"] for m in body.get("data", [])]

    # ------------------------------------------------------------------ chat

    def chat(self, domain: str, question: str, history: list[dict] | None = None) -> dict:
        """Non-streaming domain chat: ``{answer, sources, trace, path}``."""
        return self.post(f"/v1/domains/{domain}/chat", {"question": question, "history": history or []})

    def stream_chat(self, model: str, messages: list[dict]) -> Iterator[tuple[str, Any]]:
        """Yield ``("delta", text)`` as tokens arrive and ``("meta", dict)`` for sources/trace/path."""
        body = {"model": model, "messages": messages, "stream": True}
        try:
            with self._http.stream("POST", "/v1/chat/completions", json=body) as response:
                if response.status_code >= 400:
                    response.read()
                    raise _error_from(response)
                yield from self._parse_sse(response.iter_lines())
        except httpx.TransportError as exc:
            raise ApiError(
                f"the stream from {self.base_url} broke off ({type(exc).__name__})",
                "check that the API server is still running and try again",
            ) from exc

    @staticmethod
    def _parse_sse(lines: Iterator[str]) -> Iterator[tuple[str, Any]]:
        for line in lines:
            if not line.startswith("data:"):
                continue  # comments, event names, keep-alives
            data = line[5:].strip()
            if data == "[DONE]":
                return
            try:
                chunk = json.loads(data)
            except ValueError as exc:
                raise ApiError(
                    f"the server sent a malformed stream event: {data[:120]!r}", "the API and UI versions may not match"
                ) from exc
            if isinstance(chunk.get("error"), dict):
                err = chunk["error"]
                raise ApiError(f"generation failed: {err.get('message', err)}", err.get("hint"))
            for choice in chunk.get("choices") or []:
                text = (choice.get("delta") or {}).get("content")
                if text:
                    yield "delta", text
            meta = meta_of(chunk)
            if meta:
                yield "meta", meta

    # ------------------------------------------------------------------ knowledge

    def feedback(self, domain: str, body: dict) -> dict:
        """Store a rating/correction through the API (the only writer of feedback)."""
        return self.post(f"/v1/domains/{domain}/feedback", body)

    def upload_documents(self, domain: str, files: list[tuple[str, bytes]]) -> str:
        """Upload ``(filename, bytes)`` pairs; the server starts an ingestion job and returns its id."""
        if not files:
            raise ApiError("no files to upload", "choose one or more documents first")
        parts = [("files", (name, data, "application/octet-stream")) for name, data in files]
        return self._request("POST", f"/v1/domains/{domain}/documents", files=parts)["job_id"]

    def job(self, job_id: str) -> dict:
        return self.get(f"/v1/jobs/{job_id}")

    def cancel_job(self, job_id: str) -> dict:
        return self.post(f"/v1/jobs/{job_id}/cancel")

    def documents(self, domain: str) -> list[dict]:
        body = self.get(f"/v1/domains/{domain}/documents")
        return body.get("documents", []) if isinstance(body, dict) else body

    def delete_document(self, domain: str, source: str) -> dict:
        return self._request("DELETE", f"/v1/domains/{domain}/documents/{quote(source, safe='')}")

    def chunks(self, domain: str, query: str, k: int = 10) -> list[dict]:
        """Chunks of the domain's KB that best match ``query`` (hybrid search)."""
        if not query.strip():
            raise ApiError("the chunk search needs a query", "type a few words to search for")
        return self.get(f"/v1/domains/{domain}/chunks", q=query, k=k).get("hits", [])

    # ------------------------------------------------------------------ strategy layer

    def plan(self, domain: str) -> dict:
        return self.get(f"/v1/domains/{domain}/plan")

    def build(self, domain: str, strategy: str | None = None, tiny: bool = False) -> dict:
        body: dict = {"tiny": tiny}
        if strategy:
            body["strategy"] = strategy
        return self.post(f"/v1/domains/{domain}/build", body)

    def manifest(self, domain: str) -> dict:
        return self.get(f"/v1/domains/{domain}/manifest")

    def eval_report(self, domain: str) -> dict:
        return self.get(f"/v1/domains/{domain}/eval")

    def training_log(self, domain: str) -> dict:
        """Loss curve of the last training run: ``{"run": str, "log_history": [{"step", "loss"|"eval_loss"}]}``."""
        return self.get(f"/v1/domains/{domain}/training")

    # ------------------------------------------------------------------ domains + conversations (server-side)

    def domain_info(self) -> list[dict]:
        """``GET /v1/domains``: ``[{"name", "description", "models", "rag", "built", "language"}]``."""
        return self.get("/v1/domains").get("domains", [])

    def new_conversation(self, domain: str, title: str | None = None) -> dict:
        body = {"title": title} if title else {}
        return self.post(f"/v1/domains/{domain}/conversations", body)

    def conversations(self, domain: str) -> list[dict]:
        """The caller's conversations, newest first: ``[{"id", "title", "created", "updated", "turns"}]``."""
        return self.get(f"/v1/domains/{domain}/conversations").get("conversations", [])

    def conversation(self, domain: str, conversation_id: str) -> dict:
        """One conversation with its ``messages`` (``role``, ``content``, ``meta``, ``created``), oldest first."""
        return self.get(f"/v1/domains/{domain}/conversations/{quote(conversation_id, safe='')}")

    def add_message(self, domain: str, conversation_id: str, role: str, content: str, meta: dict | None = None) -> dict:
        body: dict = {"role": role, "content": content}
        if meta:
            body["meta"] = meta
        return self.post(f"/v1/domains/{domain}/conversations/{quote(conversation_id, safe='')}/messages", body)

    def rename_conversation(self, domain: str, conversation_id: str, title: str) -> dict:
        path = f"/v1/domains/{domain}/conversations/{quote(conversation_id, safe='')}"
        return self._request("PATCH", path, json={"title": title})

    def delete_conversation(self, domain: str, conversation_id: str) -> Any:
        return self._request("DELETE", f"/v1/domains/{domain}/conversations/{quote(conversation_id, safe='')}")

    def delete_conversations(self, domain: str) -> int:
        """Delete all the caller's conversations in ``domain``; returns how many went."""
        return int((self._request("DELETE", f"/v1/domains/{domain}/conversations") or {}).get("deleted", 0))

    # ------------------------------------------------------------------ knowledge curation + review

    def document_chunks(self, domain: str, source: str) -> dict:
        """``{"source", "title", "chunks": [{"id", "text", "heading", "position", "tokens", "disabled"}]}``."""
        return self.get(f"/v1/domains/{domain}/documents/{quote(source, safe='')}/chunks")

    def set_chunk_disabled(self, domain: str, chunk_id: str, disabled: bool) -> dict:
        action = "disable" if disabled else "enable"
        return self.post(f"/v1/domains/{domain}/chunks/{quote(chunk_id, safe='')}/{action}")

    def set_document_disabled(self, domain: str, source: str, disabled: bool) -> dict:
        """Every chunk of one document off (or on); ``{"source", "disabled": n, "changed"}``."""
        action = "disable" if disabled else "enable"
        return self.post(f"/v1/domains/{domain}/documents/{quote(source, safe='')}/{action}")

    def reingest(self, domain: str, source: str) -> str:
        """Ingest one document's file again; returns the job id."""
        return self.post(f"/v1/domains/{domain}/documents/{quote(source, safe='')}/reingest")["job_id"]

    def jobs(self, domain: str, limit: int = 50) -> list[dict]:
        """The domain's ingest jobs, newest first."""
        return self.get(f"/v1/domains/{domain}/jobs", limit=limit).get("jobs", [])

    def feedback_queue(self, domain: str, status: str = "pending", limit: int = 50) -> dict:
        """``{"items": [...], "counts": {"pending", "accepted_sft", ...}}`` of rated answers awaiting review."""
        return self.get(f"/v1/domains/{domain}/feedback", status=status, limit=limit)

    def review_feedback(self, domain: str, item_id: int, decision: str, note: str | None = None) -> dict:
        """Accept a rated answer into SFT or preference data, or reject it; returns the item."""
        body: dict = {"decision": decision}
        if note:
            body["note"] = note
        return self.post(f"/v1/domains/{domain}/feedback/{item_id}/review", body)
