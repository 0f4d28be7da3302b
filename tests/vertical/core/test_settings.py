"""VERTICAL_* settings: a bad value is a clear error naming the variable, not a traceback."""

from __future__ import annotations

import pytest

from vertical.core.errors import SpecError
from vertical.core.settings import get_settings, reset_settings


def test_a_bad_variable_is_named_in_the_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("VERTICAL_EMBED_PRECISION", "fp8")
    reset_settings()
    with pytest.raises(SpecError, match="VERTICAL_EMBED_PRECISION is invalid") as err:
        get_settings()
    assert "'fp8'" in str(err.value) and "VERTICAL_EMBED_PRECISION" in err.value.hint
    monkeypatch.delenv("VERTICAL_EMBED_PRECISION")
    reset_settings()
    assert get_settings().embed_precision == "auto"
