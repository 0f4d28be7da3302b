"""`vertical ui`: reuses a running API, starts Streamlit on 127.0.0.1, and says what to do without one."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from ui.launch import ensure_api, stop, wait_http
from vertical.core.errors import ApiError
from vertical.core.net import free_port


@pytest.mark.slow  # needs the live API fixture (a model and an ingest): the full suite runs it
def test_vertical_ui_starts_streamlit_against_the_running_api(ui_api: dict, tmp_path: Path):
    port = free_port()
    log = open(tmp_path / "ui.log", "wb")  # noqa: SIM115 - closed below
    proc = subprocess.Popen(
        [sys.executable, "-m", "vertical.cli", "ui", "--port", str(port), "--api-url", ui_api["url"]],
        env={**os.environ},
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    try:
        assert wait_http(f"http://127.0.0.1:{port}/_stcore/health", 90, proc), (tmp_path / "ui.log").read_text()
    finally:
        stop(proc)
        log.close()
    output = (tmp_path / "ui.log").read_text()
    assert "already running" in output and f"http://127.0.0.1:{port}" in output
    assert proc.returncode is not None


def test_no_api_and_no_domain_folder_is_a_clear_error():
    with pytest.raises(ApiError) as err:
        ensure_api(f"http://127.0.0.1:{free_port()}", [], wait_s=5)
    assert "no domain folder was given" in err.value.message and "vertical ui examples/counseling" in err.value.hint
    with pytest.raises(ApiError, match="no API answers at http://10.255.255.1:9"):
        ensure_api("http://10.255.255.1:9", [Path("examples/counseling")], wait_s=5)
