"""The one-screen summary of an ingest job (rich table)."""

from __future__ import annotations

from rich.table import Table

from knowledge.jobs import IngestReport


def report_table(report: IngestReport) -> Table:
    state = "cancelled" if report.cancelled else "done"
    table = Table(
        "files",
        "count",
        "details",
        title=f"ingest {state} in {report.seconds:.1f} s — "
        f"{report.chunks_written} chunks written, {report.chunks_removed} removed, "
        f"{report.chunks_total} in the KB",
    )
    table.add_row(
        "added", str(len(report.added)), ", ".join(report.added[:5]) + (" …" if len(report.added) > 5 else "")
    )
    table.add_row("updated", str(len(report.updated)), ", ".join(report.updated[:5]))
    table.add_row("unchanged", str(len(report.unchanged)), "")
    table.add_row("deleted", str(len(report.deleted)), ", ".join(report.deleted[:5]))
    table.add_row("[yellow]skipped[/]", str(len(report.skipped)), "")
    for item in report.skipped[:10]:
        table.add_row("", "", f"{item['path']}: {item['reason']}")
    table.add_row("[red]failed[/]", str(len(report.failed)), "")
    for item in report.failed[:10]:
        table.add_row("", "", f"{item['path']}: {item['reason']}")
    if report.recovered:
        table.add_row("recovered", str(len(report.recovered)), ", ".join(report.recovered[:5]))
    for note in report.notes[:5]:
        table.add_row("note", "", f"{note['path']}: {note['note']}" if note["path"] else note["note"])
    coverage = (report.retrieval or {}).get("coverage")
    calibration = (report.retrieval or {}).get("calibration")
    if coverage:
        table.add_row(
            "embedder", "", f"{coverage['unk_rate']:.0%} unknown tokens; dense weight x{coverage['dense_factor']:.2f}"
        )
    if calibration:
        table.add_row("confidence", "", f"lexical threshold {calibration['threshold']:.2f} ({calibration['note']})")
    return table
