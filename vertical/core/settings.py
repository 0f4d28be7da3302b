"""Process-wide settings, overridable with ``VERTICAL_*`` environment variables."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Literal

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="VERTICAL_", extra="ignore")

    home: Path = Field(
        default=Path.home() / ".cache" / "vertical",
        description="Where provisioned models live (VERTICAL_HOME).",
    )
    workspace: Path = Field(
        default=Path(".vertical"),
        description="Where builds write per-domain state: KB, adapters, manifest (VERTICAL_WORKSPACE).",
    )
    chroma_url: str | None = Field(
        default=None, description="Use a Chroma server (HttpClient) instead of the local store."
    )
    device: str = Field(default="auto", description="auto | cpu | cuda")
    embed_precision: Literal["auto", "fp32", "bf16"] = Field(
        default="auto",
        description="Embedding math on CPU: auto = bf16 where the CPU has native bf16 instructions "
        "(same vectors within cosine 0.9999, ~2.5x faster), else fp32 (VERTICAL_EMBED_PRECISION).",
    )
    api_url: str = Field(default="http://127.0.0.1:8000", description="Where the UI finds the REST API.")
    database_url: str | None = Field(
        default=None,
        description="SQLAlchemy URL of the database for feedback (and conversations): default SQLite in the "
        "workspace; a PostgreSQL URL when several API replicas serve one team (VERTICAL_DATABASE_URL).",
    )
    queue_url: str | None = Field(
        default=None,
        description="Task queue for ingest jobs: default SQLite at <workspace>/queue.sqlite (no broker process); "
        "redis://host:6379/0 when workers on several machines share it (VERTICAL_QUEUE_URL).",
    )
    queue_workers: int = Field(
        default=1,
        ge=0,
        description="Ingest worker threads the API server runs in-process; 0 = none (run `vertical kb worker` "
        "elsewhere) (VERTICAL_QUEUE_WORKERS).",
    )
    eval_batch: int = Field(
        default=32,
        ge=1,
        description="Rows per batch when an eval answers its questions on the local transformers engine "
        "(serving keeps its own max_batch). 32 answered 32 counseling questions 1.43x faster than 8 on 2 CPU "
        "cores; lower it for a large model on little memory (VERTICAL_EVAL_BATCH).",
    )
    conversation_retention_days: float = Field(
        default=90,
        ge=0,
        description="Server-side conversations not updated for this many days are deleted (counseling "
        "conversations are sensitive: keep them no longer than needed); 0 keeps them forever "
        "(VERTICAL_CONVERSATION_RETENTION_DAYS).",
    )

    @property
    def models_dir(self) -> Path:
        return self.home / "models"

    @property
    def database(self) -> str:
        return self.database_url or f"sqlite:///{(self.workspace / 'vertical.sqlite').resolve()}"

    def domain_dir(self, domain: str) -> Path:
        """Per-domain build state: ``<workspace>/<domain>/``."""
        return self.workspace / domain


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    from pydantic import ValidationError

    from vertical.core.errors import SpecError

    try:
        return Settings()
    except ValidationError as exc:  # a bad VERTICAL_* variable: name it instead of a traceback
        first = exc.errors()[0]
        var = "VERTICAL_" + str(first["loc"][0]).upper() if first.get("loc") else "a VERTICAL_* variable"
        raise SpecError(
            f"{var} is invalid: {first['msg']} (got {first.get('input')!r})", hint=f"fix or unset {var}"
        ) from exc


def reset_settings() -> None:
    """Forget cached settings (tests change VERTICAL_* variables between cases)."""
    get_settings.cache_clear()
