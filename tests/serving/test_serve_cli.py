"""`vertical serve`: options and the refusal to expose an unauthenticated server."""

from __future__ import annotations

from typer.testing import CliRunner


def test_serve_help_lists_engines_and_address():
    from vertical.cli import app

    result = CliRunner().invoke(app, ["serve", "--help"])
    assert result.exit_code == 0
    assert "--engine" in result.output and "--port" in result.output


def test_serve_refuses_public_host_without_keys(counseling_dir, monkeypatch):
    from vertical.cli import app

    monkeypatch.delenv("VERTICAL_API_KEYS", raising=False)
    result = CliRunner().invoke(app, ["serve", str(counseling_dir), "--host", "0.0.0.0"])
    assert result.exit_code != 0
    assert "without API keys" in str(result.exception)  # vertical.cli.main prints it and exits 2


def test_serve_rejects_unknown_engine(counseling_dir):
    from vertical.cli import app

    result = CliRunner().invoke(app, ["serve", str(counseling_dir), "--engine", "llamacpp"])
    assert result.exit_code != 0 and "unknown engine" in str(result.exception)
