"""CLI commands of the strategy layer: `vertical plan`, `vertical build`, `vertical eval`.

Module level imports only typer/pathlib (``vertical --help`` stays fast); the work is imported lazily.
"""

from __future__ import annotations

from pathlib import Path

import typer

from vertical.core.spec import STRATEGY_CHOICES


def _console():
    from rich.console import Console

    return Console()


def register(app: typer.Typer) -> None:
    @app.command("plan")
    def plan_command(
        domain: Path = typer.Argument(..., help="Domain folder (holding domain.yaml)."),
        time_budget: float = typer.Option(None, "--time-budget", help="Minutes you can spend on building."),
        as_json: bool = typer.Option(False, "--json", help="Print the plan as JSON."),
    ) -> None:
        """Profile the domain's assets and this machine, and recommend a strategy (with the rules that fired)."""
        import json

        from rich.table import Table

        from vertical.core.spec import load_domain
        from vertical.strategy.planner import plan

        result = plan(load_domain(domain), time_budget)
        console = _console()
        if as_json:
            console.print_json(json.dumps(result.to_dict()))
            return
        profile = Table("asset", "value", title=f"profile of {domain}")
        for key, value in result.profile.fields().items():
            profile.add_row(key, str(value))
        console.print(profile)
        rules = Table("rule", "effect", "why", title="rules that fired")
        for fired in result.fired:
            rules.add_row(fired.name, fired.effect, fired.explanation)
        console.print(rules)
        for warning in result.warnings:
            console.print(f"[yellow]warning:[/] {warning}")
        console.print(f"recommended strategy: [bold green]{result.strategy}[/]")
        console.print(f"auto would build and compare: {', '.join(result.candidates)}")
        built = result.last_build
        if built:
            console.print(
                f"last build: [bold]{built['strategy']}[/] ({built['built_at']}), composite "
                f"{_with_interval(built.get('composite'), built.get('interval'))}"
            )
            for row in built["candidates"]:
                console.print(
                    f"  candidate {row['strategy']}: {_with_interval(row.get('composite'), row.get('interval'))}"
                )
            if built.get("verdict"):
                console.print(f"  verdict: {built['verdict']['reason']}")

    @app.command("build")
    def build_command(
        domain: Path = typer.Argument(..., help="Domain folder (holding domain.yaml)."),
        strategy: str = typer.Option(None, "--strategy", help=STRATEGY_CHOICES + " (default: domain.yaml)."),
        tiny: bool = typer.Option(
            False, "--tiny", help="CPU-friendly: few training steps, short windows, eval on a subset."
        ),
        no_eval: bool = typer.Option(False, "--no-eval", help="Skip the eval step (auto still evaluates)."),
        limit: int = typer.Option(None, "--limit", help="Eval questions to use (default: all; --tiny: 12)."),
        time_budget: float = typer.Option(
            None, "--time-budget", help="Minutes; the planner drops strategies that need longer."
        ),
    ) -> None:
        """Build the domain's assistant: ingest → data → train → eval, skipping unchanged steps."""
        from rich.progress import BarColumn, Progress, SpinnerColumn, TextColumn, TimeElapsedColumn, TimeRemainingColumn
        from rich.table import Table

        from vertical.core.manifest import manifest_path
        from vertical.core.spec import load_domain
        from vertical.strategy.build import build, summarize

        spec = load_domain(domain)
        console = _console()
        from vertical.core.safety import placeholder_warning

        if warning := placeholder_warning(spec):
            console.print(f"[yellow]warning:[/] {warning}")
        # a count only when the step knows its total: "0/None" told the user nothing
        columns = (
            SpinnerColumn(),
            TextColumn("{task.description}"),
            BarColumn(),
            TextColumn("{task.fields[count]}"),
            TimeElapsedColumn(),
            TimeRemainingColumn(),
        )  # time left: rich's estimate from the count's rate
        with Progress(*columns, console=console, transient=False) as progress:
            task = progress.add_task(f"build {spec.name}", total=None, count="")

            def on_step(name: str, status: str) -> None:
                progress.console.print(f"[bold]{name}[/]: {status}")

            def report(text: str, done: float | None, total: float | None) -> None:
                count = f"{done:.0f}/{total:.0f}" if total else ""
                progress.update(task, description=text, completed=done or 0, total=total, count=count)

            manifest = build(
                spec,
                strategy,
                tiny=tiny,
                evaluate=not no_eval,
                eval_limit=limit,
                time_budget_min=time_budget,
                report=report,
                on_step=on_step,
            )
            progress.update(task, description="done", completed=1, total=1, count="")
        info = summarize(manifest)
        table = Table("field", "value", title=f"built {spec.name}")
        table.add_row("strategy", info["strategy"])
        table.add_row("adapter", str(info["adapter"]))
        table.add_row(
            "knowledge base", "-" if not info["kb"] else f"{info['kb']['collection']} ({info['kb']['chunks']} chunks)"
        )
        table.add_row("steps", ", ".join(f"{n} {t}" for n, t in info["steps"]))
        for key, value in info["scores"].items():
            table.add_row(key, f"{value:.3f}" if isinstance(value, float) else str(value))
        for row in manifest.candidates:
            table.add_row(f"candidate {row['strategy']}", _with_interval(row.get("composite"), row.get("interval")))
        if info.get("verdict"):
            table.add_row("verdict", info["verdict"])
        console.print(table)
        console.print(f"manifest: {manifest_path(spec.name)}")
        if manifest.eval.get("report"):
            console.print(f"report: {manifest.eval['report'].get('markdown')}")

    @app.command("eval")
    def eval_command(
        domain: Path = typer.Argument(..., help="Domain folder (holding domain.yaml)."),
        limit: int = typer.Option(None, "--limit", help="Eval questions to use (default: all; --tiny: 12)."),
        tiny: bool = typer.Option(False, "--tiny", help="Subset of questions, short answers, small retention set."),
        baseline: str = typer.Option(
            "prompt", "--baseline", help="Also evaluate this strategy for comparison ('none' to skip)."
        ),
        max_new_tokens: int = typer.Option(
            None, "--max-new-tokens", help="Answer length (default: serving.max_new_tokens; --tiny: 48)."
        ),
        judge_url: str = typer.Option(
            None, "--judge-url", help="OpenAI-compatible endpoint for LLM-as-judge (or VERTICAL_JUDGE_URL)."
        ),
        judge_model: str = typer.Option(None, "--judge-model", help="Judge model name (or VERTICAL_JUDGE_MODEL)."),
        compare: tuple[Path, Path] | None = typer.Option(
            None,
            "--compare",
            metavar="A B",
            help="Compare two eval reports or manifests (before/after): paired "
            "B − A per metric with 95% intervals; nothing is re-run.",
        ),
    ) -> None:
        """Evaluate the built assistant on the held-out set; writes JSON, Markdown and HTML reports."""
        from rich.progress import (
            BarColumn,
            MofNCompleteColumn,
            Progress,
            TextColumn,
            TimeElapsedColumn,
            TimeRemainingColumn,
        )
        from rich.table import Table

        from vertical.core.spec import load_domain
        from vertical.strategy.evaluation.composite import FORMULA
        from vertical.strategy.evaluation.judge import JudgeConfig
        from vertical.strategy.evaluation.session import evaluate_built

        spec = load_domain(domain)
        console = _console()
        if compare:
            _print_compare(console, spec, compare[0], compare[1])
            return
        columns = (
            TextColumn("{task.description}"),
            BarColumn(),
            MofNCompleteColumn(),
            TimeElapsedColumn(),
            TextColumn("ETA"),
            TimeRemainingColumn(),
        )
        with Progress(*columns, console=console) as progress:
            tasks: dict[str, int] = {}
            stage_task = progress.add_task("evaluating", total=None)

            def on_progress(strategy: str, done: int, total: int, _left: float | None) -> None:
                if strategy not in tasks:
                    tasks[strategy] = progress.add_task(f"answering ({strategy})", total=total)
                progress.update(tasks[strategy], completed=done, total=total)

            results, paths, verdict = evaluate_built(
                spec,
                limit=limit,
                tiny=tiny,
                baseline=None if baseline == "none" else baseline,
                max_new_tokens=max_new_tokens,
                judge=JudgeConfig.from_env(judge_url, judge_model),
                on_stage=lambda text: progress.update(stage_task, description=text),
                on_progress=on_progress,
            )
            progress.update(stage_task, description="done", total=1, completed=1)
        keys = (
            "composite",
            "correctness",
            "faithfulness",
            "safety",
            "retention",
            "keyword_recall",
            "answer_similarity",
            "rouge_l",
            "hit_at_k",
            "mrr",
            "citation",
        )
        table = Table(
            "strategy",
            *keys,
            title=f"eval of {spec.name} ({results[0]['n_items']} questions; composite "
            "with its 95% interval; hit_at_k, mrr, citation: diagnostics)",
        )
        for r in results:
            composite = _with_interval(r["scores"].get("composite"), (r.get("intervals") or {}).get("composite"))
            table.add_row(
                r["strategy"],
                composite,
                *("-" if r["scores"].get(k) is None else f"{r['scores'][k]:.3f}" for k in keys[1:]),
            )
        console.print(table)
        console.print(FORMULA)
        if verdict:
            console.print(f"[bold]{verdict['reason']}[/]")
        console.print(f"report: {paths['markdown']}  {paths['html']}  {paths['json']}")


def _with_interval(value: float | None, interval: list[float] | None) -> str:
    if value is None:
        return "-"
    return f"{value:.3f} [{interval[0]:.3f}, {interval[1]:.3f}]" if interval else f"{value:.3f}"


def _print_compare(console, spec, path_a: Path, path_b: Path) -> None:  # noqa: ANN001 - rich Console, DomainSpec
    from rich.table import Table

    from vertical.core.fsutil import atomic_write_json, atomic_write_text
    from vertical.core.settings import get_settings
    from vertical.strategy.evaluation.compare import compare_markdown, compare_reports

    result = compare_reports(path_a, path_b)
    table = Table(
        "metric",
        "A",
        "B",
        "B − A",
        "95% CI",
        "significant",
        title=f"{spec.name}: B ({result['b']['strategy']}) − A ({result['a']['strategy']}), "
        f"{result['shared_items']} shared questions, paired bootstrap",
    )
    for m, v in result["metrics"].items():
        table.add_row(
            m,
            f"{v['a']:.3f}",
            f"{v['b']:.3f}",
            f"{v['estimate']:+.3f}",
            f"[{v['low']:+.3f}, {v['high']:+.3f}]",
            "[green]yes[/]" if v["significant"] else "no",
        )
    console.print(table)
    out = get_settings().domain_dir(spec.name) / "eval"
    atomic_write_json(out / "compare.json", result)
    markdown = atomic_write_text(out / "compare.md", compare_markdown(result))
    console.print(f"comparison: {markdown}  {out / 'compare.json'}")
