"""Bootstrap intervals against known values: constants, a normal sample of known mean and spread, pairing, scipy."""

import numpy as np
import pytest

from vertical.strategy.evaluation.stats import (
    bootstrap_ci,
    paired_bootstrap_ci,
    resample_indices,
    unpaired_bootstrap_ci,
)


def test_constant_vector_has_zero_width_interval():
    ci = bootstrap_ci([0.7] * 30)
    assert ci.estimate == ci.low == ci.high == pytest.approx(0.7)
    assert ci.width == 0.0
    diff = paired_bootstrap_ci([0.7] * 30, [0.7] * 30)
    assert diff.low == diff.high == 0.0 and not diff.excludes_zero()


def test_normal_sample_interval_covers_mean_with_textbook_width():
    rng = np.random.default_rng(1)
    sigma, n = 2.0, 400
    x = rng.normal(5.0, sigma, n)
    ci = bootstrap_ci(x)
    assert ci.low < 5.0 < ci.high
    assert ci.estimate == pytest.approx(x.mean())
    assert ci.width == pytest.approx(2 * 1.96 * sigma / np.sqrt(n), rel=0.12)


def test_same_seed_same_interval_and_draws_are_fixed():
    x = np.arange(20.0)
    assert bootstrap_ci(x).to_list() == bootstrap_ci(x).to_list()
    assert (resample_indices(5, 3) == resample_indices(5, 3)).all()
    assert bootstrap_ci(x, seed=1).to_list() != bootstrap_ci(x, seed=2).to_list()


def test_paired_interval_is_narrower_than_unpaired_on_correlated_data():
    rng = np.random.default_rng(2)
    difficulty = rng.uniform(0, 1, 40)  # per-question difficulty shared by both candidates
    a = np.clip(difficulty + 0.05 + rng.normal(0, 0.02, 40), 0, 1)
    b = np.clip(difficulty + rng.normal(0, 0.02, 40), 0, 1)
    paired, unpaired = paired_bootstrap_ci(a, b), unpaired_bootstrap_ci(a, b)
    assert paired.estimate == pytest.approx(unpaired.estimate)
    assert paired.excludes_zero() and paired.low > 0  # a is better, and pairing shows it
    assert not unpaired.excludes_zero()  # two separate intervals overlap: the shared difficulty hides it
    assert paired.width < unpaired.width / 4


def test_paired_needs_the_same_items():
    with pytest.raises(ValueError, match="same items"):
        paired_bootstrap_ci([1.0, 2.0], [1.0])


def test_nan_items_are_left_out_of_the_mean():
    ci = bootstrap_ci([1.0, np.nan, 1.0, np.nan])
    assert ci.estimate == ci.low == ci.high == 1.0


def test_matches_scipy_percentile_bootstrap():
    stats = pytest.importorskip("scipy.stats")
    rng = np.random.default_rng(3)
    x = rng.exponential(1.0, 200)
    ours = bootstrap_ci(x, n_resamples=4000)
    ref = stats.bootstrap(
        (x,),
        np.mean,
        n_resamples=4000,
        method="percentile",
        confidence_level=0.95,
        random_state=np.random.default_rng(4),
    ).confidence_interval
    assert ours.low == pytest.approx(ref.low, abs=0.03) and ours.high == pytest.approx(ref.high, abs=0.03)
