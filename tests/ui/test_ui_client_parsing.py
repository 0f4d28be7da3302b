"""API client pieces that need no server: SSE parsing, unreachable server, chart tables."""

from __future__ import annotations

import json

import pytest

from ui.charts import eval_rows, loss_points, metric_names
from ui.client import ApiClient
from vertical.core.errors import ApiError
from vertical.core.net import free_port


def _sse(*chunks: dict) -> list[str]:
    lines = []
    for chunk in chunks:
        lines += [f"data: {json.dumps(chunk)}", ""]
    return [": keep-alive", *lines, "data: [DONE]", 'data: {"choices": [{"delta": {"content": "late"}}]}']


def test_stream_events_yield_tokens_then_sources_and_stop_at_done():
    lines = _sse(
        {"choices": [{"delta": {"role": "assistant"}}]},
        {"choices": [{"delta": {"content": "Keep a "}}]},
        {"choices": [{"delta": {"content": "regular wake time [1]."}}]},
        {
            "choices": [{"delta": {}, "finish_reason": "stop"}],
            "vertical": {
                "sources": [{"source": "sleep-hygiene.md", "text": "Wake at the same time."}],
                "trace": ["retrieve", "generate"],
                "grounding": {"score": 0.2, "verdict": "low", "action": "flagged", "min": 0.3},
            },
        },
    )
    events = list(ApiClient._parse_sse(iter(lines)))
    assert events == [
        ("delta", "Keep a "),
        ("delta", "regular wake time [1]."),
        (
            "meta",
            {
                "sources": [{"source": "sleep-hygiene.md", "text": "Wake at the same time."}],
                "trace": ["retrieve", "generate"],
                "grounding": {"score": 0.2, "verdict": "low", "action": "flagged", "min": 0.3},
            },
        ),
    ]


def test_stream_error_event_and_garbage_become_clear_errors():
    with pytest.raises(ApiError, match="generation failed: engine down"):
        list(ApiClient._parse_sse(iter(['data: {"error": {"message": "engine down", "hint": "retry"}}'])))
    with pytest.raises(ApiError, match="malformed stream event"):
        list(ApiClient._parse_sse(iter(["data: {not json"])))


def test_unreachable_server_says_how_to_start_one():
    client = ApiClient(f"http://127.0.0.1:{free_port()}")
    with pytest.raises(ApiError) as err:
        client.domains()
    assert err.value.status is None and "cannot reach the vertical API" in err.value.message
    assert "vertical serve" in err.value.hint
    assert client.healthy() is False


def test_eval_report_shapes_become_one_row_per_strategy():
    single = {"strategy": "sft+rag", "scores": {"composite": 0.61, "hit_at_k": 0.9, "judge": None}, "items": [{"q": 1}]}
    auto = {
        "strategy": "rag",
        "scores": {"composite": 0.7},
        "candidates": [
            {"strategy": "rag", "composite": 0.7, "scores": {"hit_at_k": 0.8, "note": "x"}},
            {"strategy": "prompt", "composite": 0.4, "scores": {"hit_at_k": 0.0}},
        ],
    }
    by_name = {"strategies": {"rag": {"f1": 0.41}, "sft": {"f1": 0.3}}}
    assert eval_rows(single) == [{"strategy": "sft+rag", "composite": 0.61, "hit_at_k": 0.9}]
    assert eval_rows(auto) == [
        {"strategy": "rag", "composite": 0.7, "hit_at_k": 0.8},
        {"strategy": "prompt", "composite": 0.4, "hit_at_k": 0.0},
    ]
    assert eval_rows(by_name) == [{"strategy": "rag", "f1": 0.41}, {"strategy": "sft", "f1": 0.3}]
    assert metric_names(eval_rows(auto)) == ["composite", "hit_at_k"]
    assert eval_rows({"nothing": 1}) == []


def test_loss_points_from_finetune_log_json_and_trainer_history():
    log_json = {
        "loss_curve": {"train": [[10, 2.5], [20, 2.1]], "eval": [[0, 2.9], [20, 1.9]]},
        "log_history": [{"step": 99, "loss": 0.1}],
    }
    assert loss_points(log_json) == [
        {"step": 0, "eval_loss": 2.9},
        {"step": 10, "loss": 2.5},
        {"step": 20, "loss": 2.1},
        {"step": 20, "eval_loss": 1.9},
    ]
    history = {
        "log_history": [
            {"step": 20, "eval_loss": 1.9},
            {"step": 10, "loss": 2.5, "learning_rate": 1e-4},
            {"step": 40, "train_runtime": 12.0},
            {"epoch": 1},
        ]
    }
    assert loss_points(history) == [{"step": 10, "loss": 2.5}, {"step": 20, "eval_loss": 1.9}]
