"""serving.min_grounding / serving.below_grounding in domain.yaml: defaults, validation, counseling's choice."""

from __future__ import annotations

import pytest


def test_defaults_and_counseling_choice(counseling_dir):
    from vertical.core.spec import ServingSpec, load_domain

    assert ServingSpec().min_grounding == 0.3 and ServingSpec().below_grounding == "flag"
    serving = load_domain(counseling_dir).serving
    assert (serving.min_grounding, serving.below_grounding) == (0.3, "extractive")


@pytest.mark.parametrize("bad", [{"below_grounding": "hide"}, {"min_grounding": 1.5}, {"min_grounding": -0.1}])
def test_invalid_policy_is_a_spec_error(bad):
    from pydantic import ValidationError

    from vertical.core.spec import ServingSpec

    with pytest.raises(ValidationError):
        ServingSpec(**bad)
