"""Server settings (``VERTICAL_*`` env): API keys, body and request size, queue bound, per-request timeout."""

from __future__ import annotations

import json
from pathlib import Path

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

from vertical.core.errors import SpecError


class ServeSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="VERTICAL_", extra="ignore")

    engine: str | None = Field(None, description="Override every domain's serving.engine.")
    api_keys: str = Field("", description="key=domain1,domain2;key2=* (VERTICAL_API_KEYS)")
    api_keys_file: Path | None = Field(None, description="JSON {key: [domains] | '*'} (VERTICAL_API_KEYS_FILE)")
    max_body_bytes: int = Field(10 * 1024 * 1024, description="Larger request bodies get 413.")
    max_request_chars: int = Field(200_000, ge=1, description="Total message characters per request; more: 413.")
    max_n: int = Field(8, ge=1, description="Most choices (n) one request may ask for.")
    disconnect_poll_s: float = Field(0.25, gt=0, description="How often a waiting request checks its client.")
    queue_limit: int = Field(32, ge=1, description="Generations in flight or queued before 429.")
    request_timeout_s: float = Field(120.0, gt=0, description="Generation time limit per request (504).")
    max_batch: int = Field(8, ge=1)
    batch_window_ms: float = Field(20.0, ge=0)
    host: str = "127.0.0.1"

    def keys(self) -> dict[str, set[str]]:
        """API key → allowed domains ({"*"} = all). Empty = no auth (only allowed on 127.0.0.1)."""
        table: dict[str, set[str]] = {}
        for entry in filter(None, (e.strip() for e in self.api_keys.split(";"))):
            key, _, domains = entry.partition("=")
            table[key.strip()] = {d.strip() for d in (domains or "*").split(",") if d.strip()}
        if self.api_keys_file:
            try:
                raw = json.loads(Path(self.api_keys_file).read_text(encoding="utf-8"))
            except (OSError, ValueError) as exc:
                raise SpecError(
                    f"cannot read API keys file {self.api_keys_file}: {exc}",
                    hint='write JSON like {"key": ["counseling"], "admin-key": "*"}',
                ) from exc
            for key, domains in raw.items():
                table[key] = {"*"} if domains == "*" else set(domains)
        return table
