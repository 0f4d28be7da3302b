"""Render a report document (sections of paragraphs, tables and charts) as Markdown and as HTML.

Both renderers walk the same :class:`Doc`, so the two files always hold the same content; charts are
PNG files next to the Markdown and inlined (base64) in the HTML so it can be mailed as one file.
"""

from __future__ import annotations

import base64
import html
import io
from dataclasses import dataclass, field
from typing import Any


@dataclass
class Table:
    headers: list[str]
    rows: list[list[str]]


@dataclass
class Chart:
    name: str  # file stem: chart_<name>.png
    title: str
    png: bytes


@dataclass
class Section:
    title: str
    blocks: list[str | Table | Chart] = field(default_factory=list)  # str = a paragraph (inline `code` and **bold**)


@dataclass
class Doc:
    title: str
    sections: list[Section] = field(default_factory=list)

    def charts(self) -> list[Chart]:
        return [b for s in self.sections for b in s.blocks if isinstance(b, Chart)]


def metric_chart(
    name: str,
    title: str,
    strategies: list[str],
    metrics: list[str],
    values: dict[str, dict[str, float | None]],
    intervals: dict[str, dict[str, list[float]]],
) -> Chart:
    """Grouped bars (one group per metric, one bar per strategy) with 95% whiskers on a fixed 0–1 axis."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(max(5.0, 1.3 * len(metrics) + 1.5), 3.4), dpi=100)
    width = 0.8 / max(1, len(strategies))
    for n, strategy in enumerate(strategies):
        xs, ys, lows, highs = [], [], [], []
        for i, metric in enumerate(metrics):
            v = values.get(strategy, {}).get(metric)
            if v is None:
                continue
            lo, hi = intervals.get(strategy, {}).get(metric) or [v, v]
            xs.append(i + n * width)
            ys.append(v)
            lows.append(max(0.0, v - lo))
            highs.append(max(0.0, hi - v))
        ax.bar(xs, ys, width, label=strategy, yerr=[lows, highs], capsize=3, error_kw={"elinewidth": 1})
    ax.set_xticks([i + width * (len(strategies) - 1) / 2 for i in range(len(metrics))], metrics, fontsize=8)
    ax.set_ylim(0, 1.04)  # fixed 0–1 (a sliver above for the whisker caps): 0.16 must look like 0.16
    ax.set_yticks([0, 0.25, 0.5, 0.75, 1.0])
    ax.grid(axis="y", alpha=0.3)
    ax.set_title(title + " (whiskers: 95% bootstrap interval)", fontsize=10)
    ax.legend(fontsize=8, loc="upper center", bbox_to_anchor=(0.5, -0.12), ncol=max(1, len(strategies)), frameon=False)
    fig.tight_layout()
    buf = io.BytesIO()
    fig.savefig(buf, format="png")
    plt.close(fig)
    return Chart(name, title, buf.getvalue())


def _md_cell(text: Any) -> str:
    return " ".join(str(text).split()).replace("|", "\\|")


def to_markdown(doc: Doc) -> str:
    lines = [f"# {doc.title}", ""]
    for section in doc.sections:
        lines += [f"## {section.title}", ""]
        for block in section.blocks:
            if isinstance(block, Table):
                lines.append("| " + " | ".join(_md_cell(h) for h in block.headers) + " |")
                lines.append("|" + "---|" * len(block.headers))
                lines += ["| " + " | ".join(_md_cell(c) for c in row) + " |" for row in block.rows]
            elif isinstance(block, Chart):
                lines.append(f"![{block.title}](chart_{block.name}.png)")
            else:
                lines.append(block)
            lines.append("")
    return "\n".join(lines)


def _html_cell(text: Any) -> str:
    return html.escape(" ".join(str(text).split()))


def _inline_html(text: str) -> str:
    """The paragraph mark-up both formats share: `code` and **bold**."""
    out, code, bold = [], False, False
    parts = html.escape(text).split("`")
    for n, part in enumerate(parts):
        if n:
            code = not code
            out.append("<code>" if code else "</code>")
        pieces = part.split("**") if not code else [part]
        for m, piece in enumerate(pieces):
            if m:
                bold = not bold
                out.append("<b>" if bold else "</b>")
            out.append(piece)
    return "".join(out)


STYLE = (
    "<style>body{font-family:sans-serif;max-width:1200px;margin:auto;padding:0 1em}"
    "table{border-collapse:collapse;margin:.5em 0}td,th{border:1px solid #ccc;padding:3px 8px;vertical-align:top;"
    "text-align:left}th{background:#f4f4f4}td{max-width:420px}</style>"
)


def to_html(doc: Doc) -> str:
    body = [f"<h1>{html.escape(doc.title)}</h1>"]
    for section in doc.sections:
        body.append(f"<h2>{html.escape(section.title)}</h2>")
        for block in section.blocks:
            if isinstance(block, Table):
                head = "".join(f"<th>{html.escape(h)}</th>" for h in block.headers)
                cells = ("".join(f"<td>{_html_cell(c)}</td>" for c in row) for row in block.rows)
                rows = "".join(f"<tr>{c}</tr>" for c in cells)
                body.append(f"<table><tr>{head}</tr>{rows}</table>")
            elif isinstance(block, Chart):
                data = base64.b64encode(block.png).decode()
                body.append(f'<p><img alt="{html.escape(block.title)}" src="data:image/png;base64,{data}"></p>')
            else:
                body.append(f"<p>{_inline_html(block)}</p>")
    return (
        f"<!doctype html><html><head><meta charset='utf-8'><title>{html.escape(doc.title)}</title>{STYLE}</head>"
        f"<body>{''.join(body)}</body></html>"
    )
