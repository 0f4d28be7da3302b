"""The optional classifier: a real local HF folder and real HTTP endpoints; it can add risk, never remove it."""

from __future__ import annotations

import socket
import threading
import time
from pathlib import Path

import pytest

from vertical.core.safety import assess
from vertical.core.spec import load_domain

MINILM = Path.home() / ".cache" / "vertical" / "models" / "all-minilm-l6-v2"


def _domain(tmp_path: Path, classifier: str) -> object:
    (tmp_path / "domain.yaml").write_text(f"name: law\nsafety:\n  classifier:\n{classifier}", encoding="utf-8")
    return load_domain(tmp_path)


@pytest.fixture(scope="module")
def tiny_classifier(tmp_path_factory) -> Path:
    """An untrained 1-layer BERT with the MiniLM tokenizer whose head always says crisis with p≈0.88."""
    import torch
    from transformers import AutoTokenizer, BertConfig, BertForSequenceClassification

    if not (MINILM / "tokenizer.json").is_file():
        pytest.fail("all-minilm-l6-v2 is not provisioned: run `make setup`")
    folder = tmp_path_factory.mktemp("clf")
    tokenizer = AutoTokenizer.from_pretrained(MINILM)
    config = BertConfig(
        vocab_size=tokenizer.vocab_size,
        hidden_size=32,
        num_hidden_layers=1,
        num_attention_heads=2,
        intermediate_size=64,
        num_labels=2,
        id2label={0: "safe", 1: "crisis"},
        label2id={"safe": 0, "crisis": 1},
    )
    model = BertForSequenceClassification(config)
    with torch.no_grad():  # logits = bias: softmax([0, 2]) → crisis 0.881 for every input
        model.classifier.weight.zero_()
        model.classifier.bias.copy_(torch.tensor([0.0, 2.0]))
    model.save_pretrained(folder)
    tokenizer.save_pretrained(folder)
    return folder


def test_hf_folder_adds_risk_above_its_threshold(tmp_path, tiny_classifier):
    spec = _domain(tmp_path, f"    kind: hf\n    model: {tiny_classifier}\n    labels: [crisis]\n    threshold: 0.8\n")
    v = assess(["how do I sleep better?"], spec)
    assert v.risk and v.source == "classifier" and v.matched == ("classifier:crisis",)
    assert v.score == pytest.approx(0.881, abs=0.01)


def test_hf_classifier_below_threshold_cannot_veto_a_rule(tmp_path, tiny_classifier):
    spec = _domain(tmp_path, f"    kind: hf\n    model: {tiny_classifier}\n    labels: [crisis]\n    threshold: 0.95\n")
    assert not assess(["how do I sleep better?"], spec).risk
    v = assess(["I want to die"], spec)
    assert v.risk and v.source == "rules" and v.score == pytest.approx(0.881, abs=0.01)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def endpoint() -> str:
    """A tiny OpenAI-compatible server: moderation and chat both flag messages that mention 'bridge'."""
    import uvicorn
    from fastapi import FastAPI

    app = FastAPI()
    calls = {"n": 0}

    @app.post("/v1/moderations")
    def moderations(body: dict) -> dict:
        calls["n"] += 1
        texts = body["input"] if isinstance(body["input"], list) else [body["input"]]
        return {
            "results": [
                {
                    "flagged": "bridge" in t,
                    "categories": {"self-harm": "bridge" in t},
                    "category_scores": {"self-harm": 0.9 if "bridge" in t else 0.01, "violence": 0.2},
                }
                for t in texts
            ]
        }

    @app.post("/v1/chat/completions")
    def chat(body: dict) -> dict:
        text = body["messages"][-1]["content"]
        return {"choices": [{"message": {"role": "assistant", "content": "YES" if "bridge" in text else "NO"}}]}

    port = _free_port()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="error"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    while not server.started:
        time.sleep(0.02)
    yield f"http://127.0.0.1:{port}/v1", calls
    server.should_exit = True
    thread.join(5)


def test_moderation_endpoint_flags_and_caches_per_message(tmp_path, endpoint):
    url, calls = endpoint
    spec = _domain(tmp_path, f"    kind: moderation\n    base_url: {url}\n")
    history = ["I keep thinking about the bridge", "ok", "what time is it?"]
    v = assess(history, spec)
    assert v.risk and v.action == "answer_with_resources" and v.message_index == 0 and v.source == "classifier"
    before = calls["n"]
    assess(history, spec)
    assert calls["n"] == before  # every turn was scored once


def test_chat_endpoint_yes_no(tmp_path, endpoint):
    url, _ = endpoint
    spec = _domain(tmp_path, f"    kind: chat\n    base_url: {url}\n    model: judge\n")
    assert assess(["the bridge near my house looks peaceful tonight"], spec).risk
    assert not assess(["what is CBT?"], spec).risk


def test_unreachable_endpoint_leaves_the_rules_in_charge_and_says_so(tmp_path):
    spec = _domain(
        tmp_path, f"    kind: moderation\n    base_url: http://127.0.0.1:{_free_port()}/v1\n    timeout_s: 0.5\n"
    )
    v = assess(["kms"], spec)
    assert v.risk and v.source == "rules" and "classifier unavailable" in v.reason
    assert not assess(["hello"], spec).risk
