"""``vertical ui``: the Streamlit assistant, starting the API if none runs."""

from __future__ import annotations

from pathlib import Path

import typer


def ui(
    domains: list[Path] = typer.Argument(None, help="Domain folders to serve if no API is running yet."),
    port: int = typer.Option(8501, help="Port of the Streamlit app (bound to 127.0.0.1)."),
    api_url: str = typer.Option(None, help="REST API to use (default: settings.api_url / VERTICAL_API_URL)."),
    wait: float = typer.Option(180.0, help="Seconds to wait for a freshly started API to become healthy."),
) -> None:
    """Start the Streamlit domain assistant on 127.0.0.1 (and the API, if none is running)."""
    import os
    import subprocess

    from rich.console import Console

    from ui.launch import ensure_api, stop, streamlit_command
    from vertical.core.settings import get_settings

    console = Console()
    url = (api_url or get_settings().api_url).rstrip("/")
    api_proc = ensure_api(url, domains or [], wait_s=wait, console=console)
    cmd = streamlit_command(port)
    console.print(
        f"[green]UI[/] http://127.0.0.1:{port}  (API {url}) — Ctrl+C stops " + ("both" if api_proc else "the UI")
    )
    try:
        subprocess.run(cmd, env={**os.environ, "VERTICAL_API_URL": url}, check=False)
    except KeyboardInterrupt:
        pass
    finally:
        stop(api_proc)


def register(app: typer.Typer) -> None:
    app.command("ui")(ui)
