"""Embeddings computed by us with the domain's sentence-transformers model (batched, unit-length).

On a CPU with native bf16 instructions (AVX512-BF16 or AMX) the encoder runs under bf16 autocast:
measured on the counseling docs, 2.5x faster than fp32 with every vector within cosine 0.99995 of
its fp32 twin, so stored fp32-era vectors and new queries still match. Elsewhere bf16 is emulated
and slower, so fp32 stays. ``VERTICAL_EMBED_PRECISION`` forces either.
"""

from __future__ import annotations

import contextlib
from functools import lru_cache

import numpy as np

from vertical.core.loaders import load_embedder
from vertical.core.settings import get_settings

# small batches are faster on CPU (activations stay in cache): 256 chunks took 8.0 s at 8,
# 8.5 s at 16 and 9.6 s at 64 in one measurement; 16 keeps per-call overhead low as well
EMBED_BATCH = 16


@lru_cache(maxsize=1)
def cpu_has_native_bf16() -> bool:
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as f:
            flags = next((line for line in f if line.startswith("flags")), "").split()
    except OSError:
        return False
    return "avx512_bf16" in flags or "amx_bf16" in flags


def _uses_bf16(model) -> bool:
    wanted = get_settings().embed_precision
    on_cpu = str(getattr(model, "device", "cpu")).startswith("cpu")
    return on_cpu and (wanted == "bf16" or (wanted == "auto" and cpu_has_native_bf16()))


def _precision(model) -> contextlib.AbstractContextManager:
    import torch

    return torch.autocast("cpu", dtype=torch.bfloat16) if _uses_bf16(model) else contextlib.nullcontext()


@lru_cache(maxsize=4)
def _bf16_linear_twin(embedder_name: str):
    """The embedder with its Linear weights stored in bf16, every other tensor shared (+~21 MB for MiniLM).

    Autocast casts each fp32 Linear weight to bf16 on every call; for a one-query forward pass that cast
    is ~1 ms of ~7. Casting once gives the same bf16 values, so the vectors are bit-identical."""
    import copy
    import itertools

    import torch

    model = load_embedder(embedder_name)
    linear = [mod for mod in model.modules() if isinstance(mod, torch.nn.Linear)]
    cast = {id(p) for mod in linear for p in mod.parameters(recurse=False)}
    shared = {id(t): t for t in itertools.chain(model.parameters(), model.buffers()) if id(t) not in cast}
    twin = copy.deepcopy(model, shared)  # deepcopy returns memo entries as they are: shared, not copied
    for mod in twin.modules():
        if isinstance(mod, torch.nn.Linear):
            mod.to(torch.bfloat16)
    return twin.eval()


def embed_texts(embedder_name: str, texts: list[str], batch_size: int = EMBED_BATCH) -> np.ndarray:
    """Unit vectors for ``texts`` (cosine = dot product). Identical texts are embedded once."""
    if not texts:
        return np.zeros((0, 0), dtype=np.float32)
    unique = list(dict.fromkeys(texts))
    model = load_embedder(embedder_name)
    with _precision(model):
        vectors = model.encode(
            unique, batch_size=batch_size, normalize_embeddings=True, convert_to_numpy=True, show_progress_bar=False
        )
    vectors = vectors.astype(np.float32)
    vectors /= np.maximum(np.linalg.norm(vectors, axis=1, keepdims=True), 1e-12)  # unit length in fp32
    row = {text: i for i, text in enumerate(unique)}
    return vectors[[row[t] for t in texts]]


def embed_query(embedder_name: str, query: str) -> np.ndarray:
    """One query's unit vector: the model's own modules (tokenize, transformer, pooling) called directly.

    ``encode`` re-checks the device over every parameter and switches the model to eval mode on each
    call, about 1.5 ms of a ~8 ms query embedding on 2 cores; the vector is the same (within fp32
    rounding, tests/knowledge/test_kb_embedding.py)."""
    import torch
    from sentence_transformers.util import batch_to_device

    model = load_embedder(embedder_name)
    if model.training:  # a model fresh from a folder is in eval mode; encode would switch it, so do we
        model.eval()
    if _uses_bf16(model):
        model = _bf16_linear_twin(embedder_name)

    with torch.inference_mode(), _precision(model):
        features = batch_to_device(model.preprocess([query]), model.device)
        vector = model(features)["sentence_embedding"][0].float().cpu().numpy()
    return vector / max(float(np.linalg.norm(vector)), 1e-12)
