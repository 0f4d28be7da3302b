"""``vertical ui`` (Streamlit assistant, starting the API if none runs) and
``vertical data export-feedback`` (chat feedback → SFT + preference JSONL)."""

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
    console.print(f"[green]UI[/] http://127.0.0.1:{port}  (API {url}) — Ctrl+C stops "
                  + ("both" if api_proc else "the UI"))
    try:
        subprocess.run(cmd, env={**os.environ, "VERTICAL_API_URL": url}, check=False)
    except KeyboardInterrupt:
        pass
    finally:
        stop(api_proc)


def export_feedback(
    domain: str = typer.Argument(..., help="Domain name, or domain folder (holding domain.yaml)."),
    out: Path = typer.Option(None, help="Output folder (default: <workspace>/<domain>/data/feedback)."),
    include_liked: bool = typer.Option(False, help="Also use thumbs-up answers as SFT examples."),
    db: Path = typer.Option(None, help="Feedback database (default: <workspace>/feedback.sqlite)."),
) -> None:
    """Write chat feedback as SFT (ShareGPT) and preference (chosen/rejected) JSONL for LLaMA-Factory."""
    from rich.console import Console
    from rich.table import Table

    from ui.feedback import FeedbackStore
    from ui.feedback_export import export_feedback as run_export
    from vertical.core.errors import DataFormatError
    from vertical.core.settings import get_settings

    name, system = domain, None
    if (Path(domain) / "domain.yaml").is_file():
        from vertical.core.spec import load_domain

        spec = load_domain(domain)
        name, system = spec.name, spec.system_prompt
    if db is not None and not db.is_file():
        raise DataFormatError(f"feedback database {db} does not exist", "rate some answers in `vertical ui` first")
    store = FeedbackStore(db)
    summary = run_export(name, out or get_settings().domain_dir(name) / "data" / "feedback", store=store,
                         include_liked=include_liked, system=system)
    console = Console()
    table = Table("feedback rows", "SFT examples", "preference pairs", "skipped")
    skipped = ", ".join(f"{n} {r}" for r, n in summary.skipped.items()) or "0"
    table.add_row(str(summary.rows), str(summary.sft), str(summary.preference), skipped)
    console.print(table)
    for path in summary.files:
        console.print(f"[green]wrote[/] {path}")
    if summary.rows == 0:
        console.print(f"[yellow]no feedback stored for domain {name!r} in {store.path}[/]")


def register(app: typer.Typer) -> None:
    app.command("ui")(ui)
    # `data` belongs to finetune.cli; join its group when it is there, else open one.
    group = next((g.typer_instance for g in app.registered_groups if g.name == "data"), None)
    if group is None:
        group = typer.Typer(help="Training data commands.", no_args_is_help=True)
        app.add_typer(group, name="data")
    group.command("export-feedback")(export_feedback)
