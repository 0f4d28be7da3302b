"""Environment checks for `vertical doctor`."""

from __future__ import annotations

import platform
import shutil
import sys
from dataclasses import dataclass
from pathlib import Path

from vertical.core.settings import get_settings


@dataclass
class Check:
    name: str
    ok: bool
    detail: str
    required: bool = True


def run_checks(domain: Path | None = None) -> list[Check]:
    from vertical.core import provisioning as models

    settings = get_settings()
    checks = [
        Check("python", sys.version_info >= (3, 10), f"{platform.python_version()} ({sys.executable})"),
    ]
    try:
        import torch

        checks.append(Check("torch", True, f"{torch.__version__}, {torch.get_num_threads()} threads"))
        if torch.cuda.is_available():
            props = torch.cuda.get_device_properties(0)
            gpu = f"{torch.cuda.device_count()}× {props.name}, {props.total_memory / 2**30:.0f} GiB"
            checks.append(Check("gpu", True, gpu, required=False))
        else:
            checks.append(Check("gpu", False, "none: CPU engine and LoRA on CPU; QLoRA/vLLM need CUDA", required=False))
    except ImportError:
        checks.append(Check("torch", False, "not installed: pip install torch==2.13.0 (CPU) or a CUDA build"))
    for row in models.list_models():
        checks.append(Check(f"model {row['name']}", row["status"] == "ready", f"{row['status']} {row['path']}"))
    settings.home.mkdir(parents=True, exist_ok=True)
    free_gb = shutil.disk_usage(settings.home).free / 2**30
    checks.append(Check("disk", free_gb > 2, f"{free_gb:.1f} GiB free at {settings.home}"))
    checks.append(Check("workspace", True, str(settings.workspace.resolve()), required=False))
    store = settings.chroma_url or "local PersistentClient per domain"
    checks.append(Check("chroma", True, store, required=False))
    if domain is not None:  # the domain's own deployment checks (safety placeholders, classifier)
        from vertical.core.safety import safety_checks
        from vertical.core.spec import load_domain

        checks += [Check(*row) for row in safety_checks(load_domain(domain))]
        from knowledge.coverage import for_domain  # can the embedder read the docs' language?

        coverage = for_domain(load_domain(domain))
        if coverage is not None:
            detail = coverage.warning() or f"{coverage.unk_rate:.0%} unknown tokens ([UNK]) for {coverage.embedder}"
            checks.append(Check("embedder coverage", not coverage.poor, detail, required=False))
    return checks
