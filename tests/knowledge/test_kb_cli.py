"""`vertical ingest` and `vertical kb search|docs|delete` on a tiny domain."""

from __future__ import annotations

from typer.testing import CliRunner

from vertical.cli import app
from vertical.core.errors import DocumentNotFoundError, IngestError


def test_ingest_then_kb_commands(make_domain) -> None:
    spec = make_domain(
        "cli",
        {
            "sleep.md": "# Sleep\n\nKeep the same wake time every day.",
            "anger.md": "# Anger\n\nPause and breathe before replying.",
            "junk.bin.txt": b"\x00\x00\x00binary",
        },
    )
    runner = CliRunner()
    result = runner.invoke(app, ["ingest", str(spec.root)])
    assert result.exit_code == 0, result.output
    assert "added" in result.output and "binary content" in result.output

    again = runner.invoke(app, ["ingest", str(spec.root), "--sync"], env={"COLUMNS": "200"})
    assert again.exit_code == 0 and "0 chunks written, 0 removed" in again.output

    docs = runner.invoke(app, ["kb", "docs", str(spec.root)])
    assert "sleep.md" in docs.output and "2 documents" in docs.output

    found = runner.invoke(app, ["kb", "search", str(spec.root), "what time should I wake up", "--k", "1"])
    assert found.exit_code == 0 and "sleep.md" in found.output and "anger.md" not in found.output

    deleted = runner.invoke(app, ["kb", "delete", str(spec.root), "anger.md"])
    assert deleted.exit_code == 0 and "deleted anger.md" in deleted.output
    missing = runner.invoke(app, ["kb", "delete", str(spec.root), "anger.md"])
    assert isinstance(missing.exception, DocumentNotFoundError)


def test_ingest_missing_path_is_a_clear_error(make_domain, tmp_path) -> None:
    spec = make_domain("cli-missing", {"a.md": "# A\n\ntext"})
    result = CliRunner().invoke(app, ["ingest", str(spec.root), str(tmp_path / "nope")])
    assert isinstance(result.exception, IngestError) and "does not exist" in result.exception.message
