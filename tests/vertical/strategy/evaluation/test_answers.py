"""Answering for eval: the shared engine cache, and whole batches while an eval runs (settings restored after)."""

import pytest

from vertical.strategy.evaluation.answers import whole_batches


def test_whole_batches_widens_the_window_and_restores_it(generator_name):
    from serving.engines.transformers_engine import TransformersEngine

    engine = TransformersEngine(generator_name)
    try:
        before = engine.window_s, engine.max_wait_s
        with whole_batches(engine):
            assert engine.window_s >= 0.3 and engine.max_wait_s >= 2.0
        assert (engine.window_s, engine.max_wait_s) == before
        with pytest.raises(RuntimeError), whole_batches(engine):
            raise RuntimeError("an eval that fails still restores the engine")
        assert (engine.window_s, engine.max_wait_s) == before
    finally:
        engine.close()


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
