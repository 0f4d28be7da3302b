"""Exception classes shared by every package.

Each error carries a message that says what went wrong and a ``hint`` that says what to do.
The CLI prints ``message`` + ``hint`` on one screen and exits with code 2; the REST API maps
``http_status`` to the response status.
"""

from __future__ import annotations


class VerticalError(Exception):
    """Base class: a user-facing error with a remedy."""

    http_status: int = 400

    def __init__(self, message: str, hint: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint

    def __str__(self) -> str:
        return f"{self.message} ({self.hint})" if self.hint else self.message


class SpecError(VerticalError):
    """domain.yaml is missing or invalid."""

    http_status = 422


class DomainNotFoundError(VerticalError):
    http_status = 404


class ModelNotFoundError(VerticalError):
    """A model named in a spec is neither provisioned nor a readable path/hub id."""

    http_status = 503


class ProvisioningError(VerticalError):
    """`vertical models pull` could not fetch or convert a model."""


class KnowledgeError(VerticalError):
    """Knowledge store / retrieval failures."""


class IngestError(KnowledgeError):
    """An ingestion job could not run (not a single bad file: those go to the report)."""


class LowConfidenceError(KnowledgeError):
    """Retrieval found nothing above the confidence threshold; fallback chains catch this."""


class DataFormatError(VerticalError):
    """A training data file or record is malformed."""

    http_status = 422


class DataPolicyError(VerticalError):
    """A data mix violates a guard (e.g. continued-pretraining domain share > 15%)."""


class TrainingError(VerticalError):
    """Training could not start or continue."""


class HardwareError(VerticalError):
    """The requested feature needs hardware this machine lacks (e.g. QLoRA without CUDA)."""


class ServingError(VerticalError):
    http_status = 503


class ContextBudgetError(ServingError):
    """The request cannot fit the model's context even after trimming history."""

    http_status = 413


class EngineUnavailableError(ServingError):
    """The generation engine is unreachable or failed; fallback chains catch this."""


class ManifestError(VerticalError):
    """No build manifest, or one that does not match the domain."""

    http_status = 409


class BuildError(VerticalError):
    """A build step failed; the previous manifest is left intact."""


class DocumentNotFoundError(KnowledgeError):
    """A document named by source is not in the domain's knowledge base."""

    http_status = 404


class UploadConflictError(KnowledgeError):
    """An uploaded file's name is already taken (an earlier upload, a curated document or a KB source)."""

    http_status = 409


class UnsupportedFileTypeError(KnowledgeError):
    """An upload whose extension no loader reads (knowledge.loaders.is_supported); nothing is written."""

    http_status = 415


class IngestBusyError(IngestError):
    """Another ingest of the same domain holds the domain lock; the queue retries after it."""

    http_status = 409


class ChunkNotFoundError(DocumentNotFoundError):
    """A chunk id is not in the domain's knowledge base (never stored, or replaced by a re-ingest)."""


class ServerBusyError(ServingError):
    """The generation queue is full; the client should retry after a short wait."""

    http_status = 429


class GenerationTimeoutError(ServingError):
    """A generation request ran past the server's per-request time limit."""

    http_status = 504


class GenerationCancelledError(ServingError):
    """A generation was cancelled (its request timed out or its client went away); nothing to deliver."""

    http_status = 499


class ApiError(ServingError):
    """The REST API answered with an error, or could not be reached (used by the UI client)."""

    def __init__(self, message: str, hint: str | None = None, status: int | None = None) -> None:
        super().__init__(message, hint)
        self.status = status  # HTTP status, or None when the server could not be reached


class AuthError(VerticalError):
    """Missing or unknown API key."""

    http_status = 401


class ForbiddenError(VerticalError):
    """The API key (or client address) may not use this domain."""

    http_status = 403


class BuildConflictError(BuildError):
    """A build request that conflicts with a running build (or a cancel a build cannot honour)."""

    http_status = 409


class NotBuiltError(DomainNotFoundError):
    """The domain exists but has no build, eval report or training run yet."""


class JobNotFoundError(VerticalError):
    """No job with that id (ingest or build)."""

    http_status = 404


class UnsupportedParameterError(VerticalError):
    """An OpenAI request parameter this server or engine cannot honour (400 naming it, never ignored)."""

    def __init__(self, message: str, hint: str | None = None, param: str | None = None) -> None:
        super().__init__(message, hint)
        self.param = param  # the request field, for the OpenAI error's ``param``


class RequestTooLargeError(VerticalError):
    """A request over the server's size limit (body bytes or message characters), before any tokenization."""

    http_status = 413

    def __init__(self, message: str, hint: str | None = None, param: str | None = None) -> None:
        super().__init__(message, hint)
        self.param = param


class ModelNotServedError(DomainNotFoundError):
    """An OpenAI ``model`` id this server does not serve (404)."""

    param = "model"


class ConversationNotFoundError(VerticalError):
    """No conversation with that id for this caller and domain (another key's looks the same: 404)."""

    http_status = 404


class ConversationLimitError(VerticalError):
    """A conversation write over a bound (message length, messages per conversation, title length)."""

    def __init__(self, message: str, hint: str | None = None, param: str | None = None) -> None:
        super().__init__(message, hint)
        self.param = param


class FeedbackNotFoundError(VerticalError):
    """No feedback row with that id in this domain."""

    http_status = 404


class FeedbackReviewError(VerticalError):
    """A review decision the row cannot take (e.g. ``sft`` for an answer nobody corrected)."""


class ConfigError(VerticalError):
    """A server setting (``VERTICAL_*`` env or a file it names) is invalid; found at start-up, never per request."""

    http_status = 500
