"""vLLM engine: command construction (the GPU server itself is not available in CI)."""

from __future__ import annotations

import pytest

from vertical.errors import EngineUnavailableError


def test_cpu_command_forces_float32_and_names_lora_modules(tmp_path):
    from serving.engines.vllm_engine import vllm_command

    cmd = vllm_command("/models/smol", "smol", {"counseling--sft": str(tmp_path / "a")}, port=9001, device="cpu")
    assert cmd[:3] == ["vllm", "serve", "/models/smol"]
    assert cmd[cmd.index("--dtype") + 1] == "float32"
    assert "--enable-lora" in cmd
    assert cmd[cmd.index("--lora-modules") + 1] == f"counseling--sft={tmp_path / 'a'}"
    assert cmd[cmd.index("--port") + 1] == "9001"


def test_gpu_command_keeps_default_dtype_and_no_lora_without_adapters():
    from serving.engines.vllm_engine import vllm_command

    cmd = vllm_command("/m", "m", None, device="cuda")
    assert "--dtype" not in cmd and "--enable-lora" not in cmd


def test_missing_vllm_binary_is_a_clear_error():
    from serving.engines.vllm_engine import VLLMEngine

    with pytest.raises(EngineUnavailableError, match="not installed"):
        VLLMEngine("m", "/m", executable="/nonexistent/vllm")
