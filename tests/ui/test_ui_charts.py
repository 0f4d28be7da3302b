"""The build page's chart data and specs: intervals on a fixed 0–1 axis, train and eval loss told apart."""

from __future__ import annotations

from ui.charts import candidate_results, comparison_chart, interval_rows, loss_chart, loss_points


def test_interval_rows_keep_whiskers_and_skip_metrics_off_the_unit_scale():
    results = [
        {
            "strategy": "rag",
            "scores": {"composite": 0.62, "general_perplexity": 16.5},
            "intervals": {"composite": [0.5, 0.7]},
        },
        {"strategy": "prompt", "scores": {"composite": 0.31}},  # no interval: the whisker collapses onto the value
    ]
    rows = interval_rows(results, ["composite", "general_perplexity", "faithfulness"])
    assert rows == [
        {"strategy": "rag", "metric": "composite", "value": 0.62, "low": 0.5, "high": 0.7},
        {"strategy": "prompt", "metric": "composite", "value": 0.31, "low": 0.31, "high": 0.31},
    ]
    bars, whiskers = comparison_chart(rows).to_dict()["layer"]
    assert whiskers["mark"]["type"] == "errorbar" and whiskers["encoding"]["y2"]["field"] == "high"
    assert bars["encoding"]["y"]["scale"]["domain"] == [0, 1] == whiskers["encoding"]["y"]["scale"]["domain"]


def test_candidate_results_fall_back_to_the_manifests_candidates():
    report = {"candidates": [{"strategy": "rag", "composite": 0.6, "interval": [0.4, 0.8], "scores": {"safety": 1.0}}]}
    assert candidate_results(report) == [
        {"strategy": "rag", "scores": {"safety": 1.0, "composite": 0.6}, "intervals": {"composite": [0.4, 0.8]}}
    ]
    assert candidate_results({}) == []


def test_loss_chart_draws_train_and_sparse_eval_loss_in_two_colours_with_eval_markers():
    log = {"loss_curve": {"train": [[1, 2.0], [2, 1.8], [3, 1.6], [4, 1.5]], "eval": [[2, 1.9], [4, 1.7]]}}
    points = loss_points(log)
    spec = loss_chart(points).to_dict()
    train, evals = spec["layer"]
    scale = train["encoding"]["color"]["scale"]
    assert scale["domain"] == ["train loss", "eval loss"] and len(set(scale["range"])) == 2
    assert train["mark"] == {"type": "line"} and evals["mark"]["point"]["filled"] is True
    values = spec["datasets"][next(iter(spec["datasets"]))] if "datasets" in spec else spec["data"]["values"]
    assert sorted((v["series"], v["step"]) for v in values if v["series"] == "eval loss") == [
        ("eval loss", 2),
        ("eval loss", 4),
    ]
