"""Localised crisis responses, filled placeholders, and doctor/build/serve refusing unfilled ones."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from vertical.core.errors import SpecError
from vertical.core.safety import (
    placeholder_warning,
    require_filled_placeholders,
    resources_note,
    safety_response,
    unfilled_placeholders,
)
from vertical.core.safety.rules import shipped_languages
from vertical.core.spec import load_domain

REPO = Path(__file__).resolve().parents[3]


def domain(tmp_path: Path, safety: str) -> Path:
    (tmp_path / "domain.yaml").write_text(f"name: law\nsafety:\n{safety}", encoding="utf-8")
    return tmp_path


def test_examples_have_no_unfilled_placeholders_and_answer_in_the_message_language(counseling_dir):
    counseling, xinli = load_domain(counseling_dir), load_domain(REPO / "examples" / "xinli")
    assert unfilled_placeholders(counseling) == [] and unfilled_placeholders(xinli) == []
    assert "988" in safety_response(counseling, "en") and "911" in safety_response(counseling, "en")
    zh = safety_response(xinli, "zh")
    assert "12356" in zh and "120" in zh and "{{" not in zh
    assert "988" in safety_response(counseling, "zh") and "请" in safety_response(counseling, "zh")  # shipped zh text


def test_shipped_texts_never_show_a_raw_placeholder_even_unconfigured():
    for lang in [*shipped_languages(), "ja", "und"]:
        for text in (safety_response(None, lang), resources_note(None, lang)):
            assert text and "{{" not in text, lang


def test_domain_response_per_language_wins_and_resources_fill_per_language(tmp_path):
    spec = load_domain(
        domain(
            tmp_path,
            "  responses:\n    en: 'Call {{LINE}} now.'\n    zh: '请拨打{{LINE}}。'\n"
            "  resources:\n    LINE: {zh: '12356', default: '988'}\n",
        )
    )
    assert safety_response(spec, "en") == "Call 988 now."
    assert safety_response(spec, "zh") == "请拨打12356。"
    assert safety_response(spec, "zh-TW") == "请拨打12356。"
    assert "Krisen" in safety_response(spec, "de")  # no German text in the domain: the shipped one


def test_legacy_response_is_used_for_its_language(tmp_path):
    spec = load_domain(domain(tmp_path, "  response: 'Please call {{CRISIS_LINE_NUMBER}}.'\n"))
    assert unfilled_placeholders(spec) == ["CRISIS_LINE_NUMBER"]
    text = safety_response(spec, "en")
    assert text.startswith("Please call ") and "{{" not in text  # generic phrase until filled


def test_unfilled_placeholders_warn_and_block_public_serving(tmp_path):
    spec = load_domain(
        domain(
            tmp_path,
            "  responses:\n    en: 'Call {{CRISIS_LINE_NUMBER}} or {{EMERGENCY_NUMBER}}.'\n"
            "  resources:\n    EMERGENCY_NUMBER: '911'\n",
        )
    )
    assert unfilled_placeholders(spec) == ["CRISIS_LINE_NUMBER"]
    assert "{{CRISIS_LINE_NUMBER}}" in placeholder_warning(spec)
    with pytest.raises(SpecError, match="unfilled") as err:
        require_filled_placeholders(spec)
    assert "safety.resources" in err.value.hint


def test_serve_refuses_a_public_host_until_placeholders_are_filled(tmp_path, monkeypatch):
    from vertical.cli import app

    folder = domain(tmp_path, "  responses:\n    en: 'Call {{CRISIS_LINE_NUMBER}}.'\n")
    monkeypatch.setenv("VERTICAL_API_KEYS", "k1=*")
    result = CliRunner().invoke(app, ["serve", str(folder), "--host", "0.0.0.0"])
    assert result.exit_code != 0 and "CRISIS_LINE_NUMBER" in str(result.exception)


def test_doctor_reports_a_domains_unfilled_placeholders(tmp_path):
    from vertical.strategy.doctor import run_checks

    folder = domain(tmp_path, "  responses:\n    en: 'Call {{CRISIS_LINE_NUMBER}}.'\n")
    rows = {c.name: c for c in run_checks(folder)}
    assert not rows["safety placeholders"].ok and "CRISIS_LINE_NUMBER" in rows["safety placeholders"].detail
