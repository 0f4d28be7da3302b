"""`vertical serve <domain folders...>`: the REST API (OpenAI-compatible + domain + KB endpoints)."""

from __future__ import annotations

from pathlib import Path

import typer


def serve(
    domains: list[Path] = typer.Argument(..., help="Domain folders (each holding domain.yaml)."),
    engine: str = typer.Option(None, "--engine", help="transformers | vllm | openai (default: each spec's)."),
    host: str = typer.Option("127.0.0.1", "--host"),
    port: int = typer.Option(8000, "--port"),
) -> None:
    """Serve domain assistants over HTTP (OpenAI-compatible /v1/chat/completions and more)."""
    import uvicorn
    from rich.console import Console

    from serving.api import create_app
    from serving.api.auth import LOOPBACK
    from serving.api.config import ServeSettings
    from serving.engines import ENGINES
    from vertical.core.errors import ServingError

    if engine and engine not in ENGINES:
        raise ServingError(f"unknown engine {engine!r}", hint=f"use one of {', '.join(ENGINES)}")
    settings = ServeSettings(host=host, **({"engine": engine} if engine else {}))
    if host not in LOOPBACK and not settings.keys():
        raise ServingError(
            f"refusing to serve on {host} without API keys",
            hint="set VERTICAL_API_KEYS='key=domain' (or '*' for all domains), or use 127.0.0.1",
        )
    if host not in LOOPBACK:  # a public crisis reply must carry real phone numbers, never {{…}}
        from vertical.core.safety import require_filled_placeholders
        from vertical.core.spec import load_domain

        for folder in domains:
            require_filled_placeholders(load_domain(folder))
    app = create_app(domains, settings)
    console = Console()
    for name, rt in app.state.vertical.runtimes.items():
        console.print(f"[green]{name}[/]: models {', '.join(rt.model_ids)} — {'; '.join(rt.notes)}")
    console.print(f"OpenAI base URL: http://{host}:{port}/v1   docs: http://{host}:{port}/docs")
    uvicorn.run(app, host=host, port=port, log_level="warning")


def register(app: typer.Typer) -> None:
    app.command("serve")(serve)
