"""``vertical ingest`` and ``vertical kb search|docs|delete|worker`` (heavy imports inside the commands)."""

from __future__ import annotations

from pathlib import Path

import typer


def _ingest(
    domain: Path = typer.Argument(..., help="Domain folder (holding domain.yaml)."),
    paths: list[Path] = typer.Argument(None, help="Files/folders to ingest (default: knowledge.sources)."),
    sync: bool = typer.Option(False, "--sync", help="Also remove chunks of files deleted from the scanned folders."),
) -> None:
    """Ingest documents into the domain's knowledge base (incremental: unchanged files are skipped)."""
    from rich.console import Console
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    from knowledge.jobs import IngestJob
    from knowledge.report_view import report_table
    from vertical.core.spec import load_domain

    console = Console()
    spec = load_domain(domain)
    job = IngestJob(spec, paths=paths or None, sync=sync)
    columns = (
        TextColumn("[bold]{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        TextColumn("{task.fields[chunks]} chunks · {task.fields[rate]} chunks/s · {task.fields[current]}"),
    )
    with Progress(*columns, console=console, transient=False) as bar:
        task = bar.add_task(f"ingest {spec.name}", total=None, chunks=0, rate=0, current="")

        def show(p: dict) -> None:
            bar.update(
                task,
                total=p["files_total"] or None,
                completed=p["files_done"],
                chunks=p["chunks"],
                rate=p["embed_rate"],
                current=str(p.get("current", ""))[-40:],
            )

        try:
            report = job.run(on_progress=show)
        except KeyboardInterrupt:  # files committed so far are kept; a re-run continues
            job.cancel()
            raise
    console.print(report_table(report))


def _kb_search(
    domain: Path = typer.Argument(..., help="Domain folder."),
    query: str = typer.Argument(..., help="What to search for."),
    k: int = typer.Option(None, "--k", help="Number of hits (default: retrieval.top_k)."),
    where: str = typer.Option(None, help='Chroma metadata filter as JSON, e.g. \'{"source": "sleep-hygiene.md"}\'.'),
) -> None:
    """Hybrid search (dense + BM25, RRF) over the domain's knowledge base."""
    import json

    from rich.console import Console
    from rich.table import Table

    from knowledge.store import KnowledgeBase
    from vertical.core.errors import KnowledgeError
    from vertical.core.spec import load_domain

    try:
        filt = json.loads(where) if where else None
    except json.JSONDecodeError as exc:
        raise KnowledgeError(
            f"--where is not valid JSON: {exc.msg}", hint='e.g. --where \'{"source": "a.md"}\''
        ) from exc
    kb = KnowledgeBase.for_domain(load_domain(domain))
    hits = kb.search(query, k=k, where=filt)
    table = Table("#", "score", "dense", "bm25", "source", "heading", "text")
    for i, h in enumerate(hits, 1):
        table.add_row(
            str(i),
            f"{h.score:.4f}",
            "-" if h.dense_score is None else f"{h.dense_score:.2f}",
            "-" if h.bm25_score is None else f"{h.bm25_score:.2f}",
            h.source,
            h.heading[-40:],
            h.text[:120].replace("\n", " "),
        )
    Console().print(table)
    for note in kb.retrieval_notes():
        Console().print(f"[dim]{note}[/]")
    confidence = kb.confidence(hits)
    Console().print(f"[yellow]{confidence.reason}[/]" if confidence.low else confidence.reason)


def _kb_docs(domain: Path = typer.Argument(..., help="Domain folder.")) -> None:
    """List the documents in the domain's knowledge base."""
    from rich.console import Console
    from rich.table import Table

    from knowledge.store import KnowledgeBase
    from vertical.core.spec import load_domain

    kb = KnowledgeBase.for_domain(load_domain(domain))
    table = Table("source", "title", "chunks", "ingested_at")
    docs = kb.list_documents()
    for d in docs:
        table.add_row(d["source"], d["title"][:60], str(d["chunks"]), d["ingested_at"])
    console = Console()
    console.print(table)
    console.print(
        f"{len(docs)} documents, {sum(d['chunks'] for d in docs)} chunks, content hash {kb.content_hash()[:12]}"
    )


def _kb_delete(
    domain: Path = typer.Argument(..., help="Domain folder."),
    source: str = typer.Argument(..., help="Document source as listed by `vertical kb docs`."),
) -> None:
    """Remove one document's chunks from the knowledge base."""
    from rich.console import Console

    from knowledge.store import KnowledgeBase
    from vertical.core.spec import load_domain

    removed = KnowledgeBase.for_domain(load_domain(domain)).delete_document(source)
    Console().print(f"deleted {source}: {removed} chunks")


def _kb_worker(
    domains: list[Path] = typer.Argument(..., help="Domain folders whose queued ingest jobs this worker runs."),
    workers: int = typer.Option(None, "--workers", min=1, help="Worker threads (default VERTICAL_QUEUE_WORKERS or 1)."),
) -> None:
    """Run queued ingest jobs in the foreground (e.g. on another machine sharing the queue and Chroma)."""
    import signal
    import threading

    from rich.console import Console

    from knowledge.queue import IngestQueue
    from vertical.core.settings import get_settings
    from vertical.core.spec import load_domain

    specs = [load_domain(d) for d in domains]
    queue = IngestQueue({s.name: s.root for s in specs})
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())  # docker/systemd stop: finish the file, re-queue the job
    settings = get_settings()
    where = "Redis (VERTICAL_QUEUE_URL)" if settings.queue_url else str(settings.workspace.resolve() / "queue.sqlite")
    console = Console()
    console.print(f"ingest worker for {', '.join(s.name for s in specs)} on {where}; Ctrl-C stops")
    queue.start(workers or settings.queue_workers or 1)
    try:
        while not stop.wait(1.0):
            pass
    except KeyboardInterrupt:
        pass
    finally:
        console.print("stopping: a running job stops after its current file and is queued again")
        queue.stop()


def register(app: typer.Typer) -> None:
    app.command("ingest")(_ingest)
    kb_app = typer.Typer(help="Inspect and edit a domain's knowledge base.", no_args_is_help=True)
    kb_app.command("search")(_kb_search)
    kb_app.command("docs")(_kb_docs)
    kb_app.command("delete")(_kb_delete)
    kb_app.command("worker")(_kb_worker)
    app.add_typer(kb_app, name="kb")
