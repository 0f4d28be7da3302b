"""The CLI as a user meets it: help, doctor, init, and one-line errors with exit code 2."""

import subprocess
import sys

import pytest

VERTICAL = [sys.executable, "-m", "vertical.cli"]


def run(*args, cwd=None):
    return subprocess.run([*VERTICAL, *args], capture_output=True, text=True, cwd=cwd, timeout=300)


def test_help_lists_the_commands():
    out = run("--help")
    assert out.returncode == 0
    for command in ("doctor", "init", "ask", "models"):
        assert command in out.stdout


def test_missing_domain_is_one_clear_error(tmp_path):
    out = run("ask", str(tmp_path / "nowhere"), "hello")
    assert out.returncode == 2
    assert "no domain.yaml" in out.stderr
    assert "vertical init" in out.stderr
    assert "Traceback" not in out.stderr


def test_init_then_doctor(tmp_path, generator_name):
    out = run("init", str(tmp_path / "legal"))
    assert out.returncode == 0, out.stderr
    assert (tmp_path / "legal" / "domain.yaml").is_file()
    again = run("init", str(tmp_path / "legal"))
    assert again.returncode == 2 and "--force" in again.stderr
    doctor = run("doctor")
    assert doctor.returncode == 0, doctor.stdout
    assert "smollm2-135m-instruct" in doctor.stdout


@pytest.mark.parametrize(
    "args, says",
    [
        ((), "Usage"),
        (("ask",), "Missing argument 'domain'"),
        (("frobnicate",), "No such command 'frobnicate'"),
        (("kb", "search", "examples/counseling", "q", "--k", "abc"), "Invalid value for '--k'"),
        (("build", "--strategy"), "requires an argument"),
    ],
)
def test_cli_misuse_is_one_line_and_exit_2(args, says):
    out = run(*args)
    assert out.returncode == 2, out.stderr
    assert says in out.stderr + out.stdout
    assert "Traceback" not in out.stderr + out.stdout
    if args:  # a usage error is one line and a hint, not a screenful
        lines = [line for line in out.stderr.splitlines() if line.strip()]
        assert len(lines) == 2 and lines[0].startswith("error:") and lines[1].startswith("hint:"), out.stderr
