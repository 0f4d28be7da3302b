"""Server settings (``VERTICAL_*`` env): API keys, body and request size, queue bound, per-request timeout."""

from __future__ import annotations

import json
import logging
from collections.abc import Iterable
from pathlib import Path

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

from vertical.core.errors import ConfigError

log = logging.getLogger(__name__)


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

    def keys(self, served: Iterable[str] | None = None) -> dict[str, set[str]]:
        """API key → allowed domains ({"*"} = all). Empty = no auth (only allowed on loopback).

        Any entry that could widen access by accident is a ConfigError (never a silent "*"): an empty
        key or scope, one key given two scopes. A domain not served here (``served``) is only logged: such a
        scope grants nothing on this server."""
        table: dict[str, set[str]] = {}
        for n, entry in enumerate((e.strip() for e in self.api_keys.split(";")), 1):
            if entry:
                key, _, domains = entry.partition("=")
                _add(table, key.strip(), [d.strip() for d in domains.split(",")], f"VERTICAL_API_KEYS entry {n}")
        if self.api_keys_file:
            for n, (key, domains) in enumerate(_read_keys_file(Path(self.api_keys_file)).items(), 1):
                scope = [domains] if isinstance(domains, str) else domains
                if not isinstance(scope, list) or not all(isinstance(d, str) for d in scope):
                    where = f"VERTICAL_API_KEYS_FILE entry {n} (key {mask(key)})"
                    raise _bad(where, "has a value that is not a list of domain names")
                _add(table, key.strip(), [d.strip() for d in scope], f"VERTICAL_API_KEYS_FILE entry {n}")
        if served is not None:
            served = set(served)
            for key, scope in table.items():
                unknown = sorted(scope - served - {"*"})
                if unknown:  # fails closed (403), and a keys file shared by replicas names their domains too
                    log.warning(
                        "API key %s is scoped to domains this server does not serve: %s (served: %s)",
                        mask(key),
                        ", ".join(unknown),
                        ", ".join(sorted(served)) or "none",
                    )
        return table


KEYS_SYNTAX = (
    'VERTICAL_API_KEYS=\'key1=domain1,domain2;key2=*\' or a JSON file {"key1": ["domain1", "domain2"], "key2": "*"}'
)


def mask(key: str) -> str:
    """Enough of a key to tell which one is meant in a log, never the key itself."""
    return repr(key[:3] + "…") if len(key) >= 8 else repr("…")


def _bad(where: str, problem: str) -> ConfigError:
    return ConfigError(f"invalid API key configuration: {where} {problem}", hint=f"use {KEYS_SYNTAX}")


def _add(table: dict[str, set[str]], key: str, domains: list[str], where: str) -> None:
    if not key:
        raise _bad(where, "has an empty key")
    if not domains or not all(domains):
        raise _bad(f"{where} (key {mask(key)})", "has an empty domain scope; name the domains or use *")
    scope = {"*"} if "*" in domains else set(domains)
    if key in table and table[key] != scope:
        raise _bad(f"{where} (key {mask(key)})", "repeats a key with a different scope")
    table[key] = scope


def _read_keys_file(path: Path) -> dict:
    try:
        raw = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise ConfigError(f"cannot read API keys file {path}: {exc}", hint=f"write {KEYS_SYNTAX}") from exc
    if not isinstance(raw, dict):
        raise ConfigError(f"API keys file {path} is not a JSON object", hint=f"write {KEYS_SYNTAX}")
    return raw
