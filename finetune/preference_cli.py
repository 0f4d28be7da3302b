"""``vertical data prefs`` (inspect preference data) and ``vertical data export-feedback``.

Module level imports: typer/pathlib only. Joins the ``data`` group that finetune.cli opens.
"""

from __future__ import annotations

from pathlib import Path

import typer


def prefs(
    domain: Path = typer.Argument(..., help="Domain folder (holding domain.yaml)."),
    method: str = typer.Option("dpo", "--method", help="dpo | orpo | kto: pairs, or single judged answers for kto."),
    references: bool = typer.Option(
        None, "--references/--no-references", help="Reference answers over the base model's own (default: domain.yaml)."
    ),
    limit: int = typer.Option(None, "--limit", help="Reference prompts to use (generating answers takes time)."),
    show: int = typer.Option(2, "--show", help="Example rows to print."),
) -> None:
    """Inspect the domain's preference data: sources, counts, what was dropped and why, examples."""
    import json

    from rich.console import Console
    from rich.table import Table

    from finetune.train.preference import preference_data
    from vertical.core.spec import load_domain

    console = Console()
    spec = load_domain(domain)
    with console.status("collecting preference data (reference answers are generated once and cached)…"):
        data = preference_data(spec, method, references=references, limit=limit)
    table = Table("item", "count", title=f"{spec.name}: preference data for {method}")
    for key, n in sorted(data.manifest["counts"].items()):
        table.add_row(key, str(n))
    table.add_row("rows (train / held out)", f"{data.manifest['rows']} ({len(data.train)} / {len(data.eval)})")
    console.print(table)
    for row in data.train[:show]:
        console.print_json(json.dumps(row, ensure_ascii=False))


def export_feedback(
    domain: str = typer.Argument(..., help="Domain name, or domain folder (holding domain.yaml)."),
    out: Path = typer.Option(None, help="Output folder (default: <workspace>/<domain>/data/feedback)."),
    include_liked: bool = typer.Option(False, help="Also use thumbs-up answers as SFT examples."),
    database_url: str = typer.Option(
        None, "--database-url", help="SQLAlchemy URL (default: VERTICAL_DATABASE_URL or the workspace SQLite file)."
    ),
) -> None:
    """Write chat feedback as SFT (ShareGPT) and preference (chosen/rejected) JSONL for LLaMA-Factory."""
    from rich.console import Console
    from rich.table import Table

    from finetune.data.feedback import FeedbackStore
    from finetune.data.feedback_export import export_feedback as run_export
    from vertical.core.settings import get_settings

    name, system = domain, None
    if (Path(domain) / "domain.yaml").is_file():
        from vertical.core.spec import load_domain

        spec = load_domain(domain)
        name, system = spec.name, spec.system_prompt
    store = FeedbackStore(database_url)
    summary = run_export(
        name,
        out or get_settings().domain_dir(name) / "data" / "feedback",
        store=store,
        include_liked=include_liked,
        system=system,
    )
    console = Console()
    table = Table("feedback rows", "SFT examples", "preference pairs", "skipped")
    skipped = ", ".join(f"{n} {r}" for r, n in summary.skipped.items()) or "0"
    table.add_row(str(summary.rows), str(summary.sft), str(summary.preference), skipped)
    console.print(table)
    for path in summary.files:
        console.print(f"[green]wrote[/] {path}")
    if summary.rows == 0:
        console.print(f"[yellow]no feedback stored for domain {name!r}[/]")


def register(app: typer.Typer) -> None:
    from finetune.cli import data_app

    data_app.command("prefs")(prefs)
    data_app.command("export-feedback")(export_feedback)
