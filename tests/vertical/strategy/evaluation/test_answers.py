"""Answering for eval: the shared engine cache, and whole batches while an eval runs (settings restored after)."""

import pytest

from vertical.strategy.evaluation.answers import whole_batches


def test_whole_batches_widens_the_window_and_restores_it(generator_name):
    from serving.engines.transformers_engine import TransformersEngine

    engine = TransformersEngine(generator_name)
    try:
        before = engine.window_s, engine.max_wait_s, engine.max_batch
        with whole_batches(engine, max_batch=24):
            assert engine.window_s >= 0.3 and engine.max_wait_s >= 2.0 and engine.max_batch == 24
        assert (engine.window_s, engine.max_wait_s, engine.max_batch) == before
        with pytest.raises(RuntimeError), whole_batches(engine):
            raise RuntimeError("an eval that fails still restores the engine")
        assert (engine.window_s, engine.max_wait_s, engine.max_batch) == before
    finally:
        engine.close()


def test_an_eval_batch_is_wider_than_a_serving_batch(monkeypatch, generator_name):
    """Twelve questions queued during an eval run as one batch (the eval batch, from settings), where
    serving's max_batch of 8 would have split them; the answers are the ones each question gets alone."""
    from serving.engines.base import GenerationParams
    from serving.engines.transformers_engine import TransformersEngine
    from vertical.core.settings import reset_settings

    monkeypatch.setenv("VERTICAL_EVAL_BATCH", "12")
    reset_settings()
    engine = TransformersEngine(generator_name, max_batch=8)
    params = GenerationParams(max_new_tokens=3)
    questions = [[{"role": "user", "content": f"Name a calm activity number {n}."}] for n in range(12)]
    try:
        alone = [engine.generate(q, params).text for q in questions[:2]]
        runs = engine.batches_run
        with whole_batches(engine):
            futures = [engine.submit(q, params) for q in questions]
            together = [f.result(timeout=120).text for f in futures]
        assert engine.batches_run - runs == 1 and engine.max_batch_seen == 12
        assert together[:2] == alone
        assert engine.max_batch == 8
    finally:
        engine.close()
        monkeypatch.delenv("VERTICAL_EVAL_BATCH")
        reset_settings()


def test_engines_without_a_window_are_left_alone():
    class Remote:
        kind = "openai"

    with whole_batches(Remote()):
        pass


def test_eval_runtimes_share_serving_engine_cache(tmp_path, generator_name):
    import yaml

    from serving.engines import shared_engine
    from vertical.core.manifest import Manifest
    from vertical.core.spec import load_domain
    from vertical.strategy.evaluation.answers import runtime_for

    (tmp_path / "domain.yaml").write_text(yaml.safe_dump({"name": "cache", "knowledge": {"sources": []}}))
    spec = load_domain(tmp_path)
    manifest = Manifest(
        domain="cache", domain_root=str(tmp_path), strategy="prompt", base_model=spec.base_model, embedder=spec.embedder
    )
    first, second = runtime_for(spec, manifest), runtime_for(spec, manifest.model_copy(update={"strategy": "prompt"}))
    assert first.engine is second.engine is shared_engine(spec, {})
