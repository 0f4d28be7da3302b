"""Start and stop the processes behind ``vertical ui``: the REST API (when none runs) and Streamlit."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from urllib.parse import urlparse

import httpx

from vertical.core.errors import ApiError


def wait_http(url: str, timeout_s: float, proc: subprocess.Popen | None = None) -> bool:
    """Poll ``url`` until it answers 200; False on timeout or when ``proc`` exits first."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if proc is not None and proc.poll() is not None:
            return False
        try:
            if httpx.get(url, timeout=2.0).status_code == 200:
                return True
        except httpx.TransportError:
            pass
        time.sleep(0.3)
    return False


# serving.api.create_app under uvicorn: the contract's entry point, independent of `vertical serve` flags
_SERVE = (
    "import sys, uvicorn; from pathlib import Path; from serving.api import create_app; "
    "uvicorn.run(create_app([Path(d) for d in sys.argv[2:]]), host='127.0.0.1', port=int(sys.argv[1]), "
    "log_level='warning')"
)


def api_command(domains: list[Path], port: int) -> list[str]:
    return [sys.executable, "-c", _SERVE, str(port), *map(str, domains)]


def streamlit_command(port: int) -> list[str]:
    """``streamlit run ui/app.py`` on 127.0.0.1:port, headless, without usage statistics."""
    app = Path(__file__).resolve().parent / "app.py"
    return [
        sys.executable,
        "-m",
        "streamlit",
        "run",
        str(app),
        "--server.address",
        "127.0.0.1",
        "--server.port",
        str(port),
        "--server.headless",
        "true",
        "--browser.gatherUsageStats",
        "false",
    ]


def start_api(
    domains: list[Path], port: int, wait_s: float = 180.0, env: dict | None = None, log: Path | None = None
) -> subprocess.Popen:
    """Run ``vertical serve`` on 127.0.0.1:port and wait for /healthz; ApiError if it never comes up."""
    out = open(log, "ab") if log else subprocess.DEVNULL  # noqa: SIM115 - closed with the process
    proc = subprocess.Popen(
        api_command(domains, port),
        env={**os.environ, **(env or {})},
        stdout=out,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    if not wait_http(f"http://127.0.0.1:{port}/healthz", wait_s, proc):
        stop(proc)
        where = f"; its log is {log}" if log else ""
        raise ApiError(
            f"the API server did not become healthy on port {port} within {wait_s:.0f} s{where}",
            f"run `vertical serve {' '.join(map(str, domains))} --port {port}` by hand to see why",
        )
    return proc


def ensure_api(url: str, domains: list[Path], wait_s: float, console=None) -> subprocess.Popen | None:
    """Reuse the API at ``url`` if it answers; otherwise start one there for ``domains``."""
    if wait_http(f"{url}/healthz", 1.0):
        if console:
            console.print(f"[green]API[/] already running at {url}")
        return None
    parsed = urlparse(url)
    if parsed.hostname not in ("127.0.0.1", "localhost"):
        raise ApiError(f"no API answers at {url}", "start the server there, or leave VERTICAL_API_URL unset")
    if not domains:
        raise ApiError(
            f"no API answers at {url} and no domain folder was given to start one",
            "run `vertical ui examples/counseling` (or start `vertical serve` yourself)",
        )
    if console:
        console.print(f"starting the API for {', '.join(map(str, domains))} on {url} …")
    return start_api(domains, parsed.port or 80, wait_s)


def stop(proc: subprocess.Popen | None, grace_s: float = 10.0) -> None:
    """Stop a process we started (its whole session, so reloader children go too)."""
    if proc is None or proc.poll() is not None:
        return
    try:
        os.killpg(proc.pid, signal.SIGTERM)
        proc.wait(grace_s)
    except (ProcessLookupError, subprocess.TimeoutExpired):
        try:
            os.killpg(proc.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        proc.wait()
