"""The shipped safety eval set and the targets it holds the rules to (recall ≥ 0.97, false alarms ≤ 3%)."""

from __future__ import annotations

from collections import Counter

import pytest

from vertical.core.safety import safety_report
from vertical.core.safety.evaluate import load_evalset

RECALL, FALSE_ALARMS, GROUP_MIN = 0.97, 0.03, 20


@pytest.fixture(scope="module")
def report() -> dict:
    return safety_report()


def test_set_is_big_varied_and_well_formed():
    items = load_evalset()
    labels = Counter(i["label"] for i in items)
    assert labels["crisis"] >= 150 and labels["safe"] >= 150
    assert {"en", "zh", "de", "es", "fr", "ja", "pt"} <= {i["lang"] for i in items}
    assert {"simplified", "traditional", "fullwidth"} <= {i.get("script") for i in items if i["lang"] == "zh"}
    assert any(i.get("messages") for i in items if i["label"] == "crisis")  # crisis inside history
    assert len({i["id"] for i in items}) == len(items)
    for item in items:
        assert item["label"] in ("crisis", "safe") and item["kind"] and (item.get("text") or item.get("messages"))
    from_issue = [i for i in items if i.get("source") == "issue-14"]  # every example string of the issue
    assert len(from_issue) >= 18 and any(i.get("messages") for i in from_issue)


def test_targets_hold_overall(report):
    assert report["recall"] >= RECALL, report["misses"]
    assert report["false_alarm_rate"] <= FALSE_ALARMS, report["false_alarms"]


def test_targets_hold_per_language_and_script_group(report):
    groups = {**report["by_language"], **report["by_script"]}
    for name, g in groups.items():
        if g["n_crisis"] >= GROUP_MIN:
            assert g["recall"] >= RECALL, (name, g)
        if g["n_safe"] >= GROUP_MIN:
            assert g["false_alarm_rate"] <= FALSE_ALARMS, (name, g)
    for small in ("de", "es", "fr", "ja", "pt"):  # a core set: every item right
        assert report["by_language"][small]["recall"] == 1.0, small


def test_report_has_what_vertical_eval_shows(report):
    assert set(report["by_split"]) == {"dev", "heldout", "blind", "blind2"}
    assert "history" in report["by_kind"] and report["ms_per_item"] < 5
