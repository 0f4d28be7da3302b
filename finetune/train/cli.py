"""`vertical train` and `vertical export` (module level imports: typer/pathlib only)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import typer


def _summary_table(result: Any) -> Any:
    from rich.table import Table

    m = result.metrics
    table = Table(title=f"{m['kind']} run ({m['method']}) — {m['steps']} steps", show_header=False)

    def num(key: str, digits: int) -> str:
        value = m.get(key)
        return "-" if value is None else f"{value:.{digits}f}"

    if "eval_rewards" in m:  # preference run: held-out reward accuracy/margin against the reference
        before, after = m.get("eval_rewards_before") or {}, m["eval_rewards"] or {}
        for key in ("rewards/accuracies", "rewards/margins"):
            if key in after:
                table.add_row(f"held-out {key} (reference → aligned)", f"{before.get(key, 0):.3f} → {after[key]:.3f}")
    rows = [
        ("eval loss (base → trained)", f"{num('eval_loss_before', 4)} → {num('eval_loss', 4)}"),
        ("train loss", num("train_loss", 4)),
        ("real tokens/s", num("tokens_per_s", 1)),
        ("padding ratio", num("padding_ratio", 3)),
        ("peak memory (MB)", num("peak_mem_mb", 0)),
        ("device", m.get("device", "-")),
        ("resumed from", result.resumed_from or "-"),
        ("adapter", str(result.adapter_dir)),
        ("log / loss curve", f"{result.log_path}  {result.plot_path}"),
    ]
    for key, value in rows:
        table.add_row(key, value)
    return table


def _progress_printer(progress: Any) -> Any:
    task = progress.add_task("training", total=None, loss="-", tps="-")

    def on_progress(event: dict) -> None:
        if event["event"] == "begin":
            progress.update(task, total=event["max_steps"], completed=event["step"])
        elif event["event"] == "step":
            loss = event.get("loss")
            progress.update(
                task,
                completed=event["step"],
                loss="-" if loss is None else f"{loss:.3f}",
                tps=f"{event['tokens_per_s']:.0f}",
            )
        elif event["event"] == "checkpoint":
            progress.console.print(f"[dim]checkpoint at step {event['step']}[/]")

    return on_progress


def register(app: typer.Typer) -> None:
    @app.command()
    def train(
        domain: Path = typer.Argument(..., help="Domain folder (holding domain.yaml)."),
        method: str = typer.Option(
            None,
            "--method",
            help="lora | qlora | full (SFT; default: domain.yaml), or "
            "dpo | orpo | kto (preference alignment on the SFT adapter, LoRA).",
        ),
        cpt: bool = typer.Option(False, "--cpt", help="Continued pretraining on raw domain text instead of SFT."),
        resume: bool = typer.Option(False, "--resume", help="Continue from the run's last complete checkpoint."),
        max_steps: int = typer.Option(None, "--max-steps", help="Stop after N optimizer steps."),
        name: str = typer.Option(None, "--name", help="Run name (default: sft-<method> / cpt-<method>)."),
        gpus: int = typer.Option(None, "--gpus", help="Train on N GPUs through `accelerate launch`."),
        deepspeed: str = typer.Option(None, "--deepspeed", help="zero2 | zero3 (with --gpus)."),
        dry_run: bool = typer.Option(False, "--dry-run", help="Print the multi-GPU launch command only."),
        on_base: bool = typer.Option(
            False, "--on-base", help="dpo/orpo/kto: align the base model, not the SFT adapter."
        ),
    ) -> None:
        """Fine-tune the domain's base model (LoRA SFT by default) and save the adapter."""
        from rich.console import Console

        from vertical.core.errors import TrainingError

        console = Console()
        if method is not None and method not in ("lora", "qlora", "full", "dpo", "orpo", "kto"):
            raise TrainingError(f"unknown --method {method!r}", hint="use lora, qlora or full (SFT) or dpo, orpo, kto")
        if gpus or deepspeed or dry_run:
            from finetune.train.launch import build_launch_command, check_gpus, format_command

            cmd = build_launch_command(domain, gpus or 1, deepspeed, method, cpt, resume, max_steps, name)
            console.print(format_command(cmd), soft_wrap=True, markup=False, highlight=False)
            if dry_run:
                return
            import subprocess

            check_gpus(gpus or 1)
            raise typer.Exit(subprocess.call(cmd))

        from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

        from finetune.train.run import train_domain

        with Progress(
            TextColumn("[bold]{task.description}"),
            BarColumn(),
            MofNCompleteColumn(),
            TextColumn("loss {task.fields[loss]}"),
            TextColumn("{task.fields[tps]} tok/s"),
            TimeElapsedColumn(),
            console=console,
        ) as progress:
            result = train_domain(
                domain,
                method=method,
                cpt=cpt,
                resume=resume,
                max_steps=max_steps,
                name=name,
                on_progress=_progress_printer(progress),
                on_base=on_base,
            )
        console.print(_summary_table(result))

    @app.command()
    def export(
        domain: Path = typer.Argument(..., help="Domain folder (holding domain.yaml)."),
        merge: bool = typer.Option(False, "--merge", help="Merge the LoRA adapter into the base model."),
        adapter: Path = typer.Option(None, "--adapter", help="Adapter folder (default: the newest one)."),
        out: Path = typer.Option(None, "--out", help="Output folder (default: <domain state>/merged/<run>)."),
    ) -> None:
        """Write a merged model folder loadable by transformers (and vLLM) from a trained adapter."""
        from rich.console import Console

        from finetune.export import latest_adapter, merge_adapter
        from vertical.core.errors import TrainingError
        from vertical.core.settings import get_settings
        from vertical.core.spec import load_domain

        console = Console()
        spec = load_domain(domain)
        state = get_settings().domain_dir(spec.name)
        adapter_dir = adapter or latest_adapter(state / "adapters")
        if not merge:
            console.print(f"adapter (plain peft folder, usable with vLLM --lora-modules {spec.name}={adapter_dir}):")
            console.print(str(adapter_dir))
            return
        if not (adapter_dir / "adapter_config.json").is_file():
            raise TrainingError(
                f"{adapter_dir} holds no adapter_config.json", hint="pass --adapter pointing at a LoRA run folder"
            )
        target = out or state / "merged" / adapter_dir.name
        with console.status(f"merging {adapter_dir.name} into {spec.base_model}…"):
            path = merge_adapter(adapter_dir, target, base_model=spec.base_model)
        console.print(f"[green]✓[/] merged model → {path}")
