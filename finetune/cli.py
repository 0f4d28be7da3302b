"""``vertical data inspect|convert|clean|mix|synth <domain>``: the training-data pipeline from the shell.

Module level imports only typer/pathlib; the pipeline loads inside each command.
"""

from __future__ import annotations

from pathlib import Path

import typer

data_app = typer.Typer(
    help="Training data: inspect, convert, clean, mix, synthesise from the KB.", no_args_is_help=True
)

DOMAIN = typer.Argument(..., help="Domain folder (holding domain.yaml).")


def register(app: typer.Typer) -> None:
    app.add_typer(data_app, name="data")


def _console():
    from rich.console import Console

    return Console()


def _progress():
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    return Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn())


def _reporter(progress):
    """Progress callback: a rich bar per stage on a terminal; plain "stage: done/total" lines in logs
    (rich draws nothing until the end when output is not a terminal)."""
    tasks: dict[str, int] = {}
    printed: dict[str, int] = {}
    interactive = progress.console.is_terminal

    def on_progress(stage: str, done: int, total: int) -> None:
        if stage not in tasks:
            tasks[stage] = progress.add_task(stage, total=total)
        progress.update(tasks[stage], completed=done, total=total)
        step = max(1, total // 10)
        if not interactive and (done == total or done - printed.get(stage, -step) >= step):
            printed[stage] = done
            progress.console.print(f"{stage}: {done}/{total}", highlight=False)

    return on_progress


def _summary(title: str, rows: dict) -> None:
    from rich.table import Table

    table = Table("item", "value", title=title)
    for key, value in rows.items():
        table.add_row(str(key), str(value))
    _console().print(table)


def _report_rows(report: dict) -> dict:
    rows = dict(report.get("counts", {}))
    mal = report.get("malformed", {})
    rows["malformed (skipped)"] = f"{mal.get('total', 0)} {mal.get('by_reason', {}) or ''}"
    for reason, n in report.get("dropped", {}).items():
        rows[f"dropped: {reason}"] = n
    for reason, n in report.get("warnings", {}).items():
        rows[f"warning: {reason}"] = n
    return rows


@data_app.command("inspect")
def inspect(domain: Path = DOMAIN, show: int = typer.Option(1, help="Conversations to print per dataset.")) -> None:
    """Read every dataset, list malformed records (file:line) and show token lengths and trained text."""
    from finetune.data.formats import read_dataset
    from finetune.data.split import split_conversation, window_stats
    from finetune.data.templates import encode_conversation, trained_text
    from vertical.core.loaders import load_tokenizer
    from vertical.core.spec import load_domain

    spec = load_domain(domain)
    spec.data.strict = False  # inspect shows every problem instead of stopping at the first file
    tokenizer = load_tokenizer(spec.base_model)
    console = _console()
    from rich.table import Table

    max_length = spec.data.max_length
    table = Table(
        "dataset",
        "format",
        "split",
        "ok",
        "malformed",
        "tokens p50",
        "tokens max",
        f"> {max_length}",
        "windows",
        "answers in → trained",
        "context turns/window mean (min)",
    )
    for ds in spec.data.datasets:
        convs, problems = read_dataset(spec, ds)
        chats = [c for c in convs if not c.meta.get("text")]
        lengths = sorted(len(encode_conversation(tokenizer, c)) for c in chats)
        over = sum(1 for n in lengths if n > max_length)
        per_conv = [split_conversation(tokenizer, c, max_length) for c in chats]
        stats = window_stats([w for ws in per_conv for w in ws])
        # context is carried by the windows of split conversations (after their first window): show those
        carried = window_stats([w for ws in per_conv if len(ws) > 1 for w in ws[1:]])
        context = f"{carried['context_turns_mean']} ({carried['context_turns_min']})" if carried["windows"] else "-"
        answers_in = sum(len(c.assistant_turns) for c in chats)
        table.add_row(
            ds.name,
            ds.format,
            ds.split,
            str(len(convs)),
            str(len(problems)),
            str(lengths[len(lengths) // 2]) if lengths else "-",
            str(lengths[-1]) if lengths else "-",
            str(over),
            str(stats["windows"]),
            f"{answers_in} → {stats.get('trained_turns', 0)}",
            context,
        )
        for p in problems[:10]:
            console.print(f"[yellow]{p}[/]")
        for conv in [c for c in convs if not c.meta.get("text")][:show]:
            console.rule(f"{ds.name}: {conv.source}")
            for turn in conv.turns:
                console.print(f"[bold]{turn.role}[/]: {turn.content[:300]}")
            console.print(
                f"[dim]trained text: {trained_text(tokenizer, encode_conversation(tokenizer, conv))[:300]!r}[/]"
            )
    console.print(table)


@data_app.command("convert")
def convert(
    domain: Path = DOMAIN,
    to: str = typer.Option(..., "--to", help="alpaca | sharegpt | openai | text | llamafactory"),
    out: Path = typer.Option(..., "--out", help="Output folder."),
) -> None:
    """Write every dataset in another format (or as a LLaMA-Factory data folder with dataset_info.json)."""
    from finetune.data.formats import read_file, write_dataset
    from finetune.data.llamafactory import export_llamafactory
    from vertical.core.spec import load_domain

    spec = load_domain(domain)
    if to == "llamafactory":
        info, problems = export_llamafactory(spec, out)
        _summary("converted", {"dataset_info.json": info, "malformed (skipped)": len(problems)})
        return
    rows = {}
    for ds in spec.data.datasets:
        convs, problems = read_file(spec.path(ds.file), ds.format, ds.columns, ds.tags, ds.name)
        path = write_dataset(convs, out / f"{ds.name}.{to}.jsonl", to)
        rows[ds.name] = f"{len(convs)} → {path} ({len(problems)} malformed skipped)"
    _summary(f"converted to {to}", rows)


@data_app.command("clean")
def clean(
    domain: Path = DOMAIN, out: Path = typer.Option(None, help="Write cleaned datasets here (openai format).")
) -> None:
    """Normalise, dedupe (exact + MinHash) and length-filter every dataset; write the stats report."""
    from finetune.data.clean import clean_conversations, tokenizer_counter
    from finetune.data.formats import write_dataset
    from finetune.data.pipeline import clean_options, read_domain
    from finetune.data.report import DataReport
    from vertical.core.loaders import load_tokenizer
    from vertical.core.settings import get_settings
    from vertical.core.spec import load_domain

    spec = load_domain(domain)
    report = DataReport()
    convs = read_domain(spec, report)
    with _progress() as progress:
        task = progress.add_task("cleaning", total=1)
        kept = clean_conversations(
            convs, report, clean_options(spec), tokenizer_counter(load_tokenizer(spec.base_model))
        )
        progress.update(task, completed=1)
    report.count("kept", len(kept))
    paths = report.write(get_settings().domain_dir(spec.name) / "data", "clean_report")
    if out:
        for name in dict.fromkeys(c.meta.get("dataset", "") for c in kept):
            write_dataset([c for c in kept if c.meta.get("dataset", "") == name], out / f"{name}.clean.jsonl", "openai")
    _summary("clean", {**_report_rows(report.to_dict()), "report": paths["json"]})


@data_app.command("mix")
def mix(
    domain: Path = DOMAIN,
    cpt: bool = typer.Option(False, "--cpt", help="Build the continued-pretraining corpus instead of SFT windows."),
    force: bool = typer.Option(False, "--force", help="CPT: allow a domain share above data.cpt_max_domain_share."),
    seed: int = typer.Option(42),
    max_length: int = typer.Option(None, help="Tokens per window/block (default data.max_length)."),
    tiny: bool = typer.Option(False, "--tiny", help="Smoke-test size: self-replay answers for 8 general prompts only."),
) -> None:
    """Prepare the final training mix (SFT windows, or CPT blocks) and write report + manifest."""
    from finetune.data.pipeline import TINY_GENERAL_LIMIT, prepare_cpt, prepare_sft
    from vertical.core.loaders import load_tokenizer
    from vertical.core.spec import load_domain

    spec = load_domain(domain)
    tokenizer = load_tokenizer(spec.base_model)
    with _progress() as progress:
        on_progress = _reporter(progress)
        if cpt:
            data = prepare_cpt(spec, tokenizer, block_size=max_length, force=force, seed=seed, on_progress=on_progress)
        else:
            data = prepare_sft(
                spec,
                tokenizer,
                max_length=max_length,
                seed=seed,
                on_progress=on_progress,
                general_limit=TINY_GENERAL_LIMIT if tiny else None,
            )
    rows = _report_rows(data.report)
    rows.update({f"mix: {k}": v for k, v in data.report.get("mix", {}).items()})
    rows.update({f"windows: {k}": v for k, v in (data.report.get("windows") or {}).items()})
    rows.update({k: v for k, v in data.paths.items()})
    _summary("cpt mix" if cpt else "sft mix", rows)


@data_app.command("synth")
def synth(
    domain: Path = DOMAIN,
    n: int = typer.Option(None, "--n", help="Q/A pairs (default data.synth_pairs, else 20)."),
    k: int = typer.Option(2, "--k", help="Distractor chunks per example."),
    out: Path = typer.Option(None, help="Also write the pairs here (openai format JSONL)."),
) -> None:
    """Synthesise grounded Q/A pairs from the domain's knowledge base (RAFT-style)."""
    from finetune.data.formats import write_dataset
    from finetune.data.report import DataReport
    from finetune.data.synth import require_pairs, synthesize_for_spec
    from vertical.core.spec import load_domain

    spec = load_domain(domain)
    report = DataReport()
    with _progress() as progress:
        convs = synthesize_for_spec(
            spec,
            n_pairs=n or spec.data.synth_pairs or 20,
            k_distractors=k,
            report=report,
            on_progress=_reporter(progress),
        )
    if not convs:
        _summary("synth", _report_rows(report.to_dict()))
        require_pairs(convs, report)  # says why, exit code 2
    if out:
        write_dataset(convs, out, "openai")
    rows = _report_rows(report.to_dict())
    rows["chunks cited"] = len({c.meta["chunk_id"] for c in convs})
    _summary("synth", rows)
